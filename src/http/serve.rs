//! The gateway's listener: actix-server and actix-http assembled by hand (what
//! `actix_web::HttpServer` does) so that every connection's bytes pass through [`Wire`], which
//! gives the errors actix-http answers by itself a Graph body. TLS (rustls, HTTP/2 by ALPN),
//! the head and keep-alive timeouts, the per-worker connection cap, the worker count and the
//! graceful shutdown (SIGTERM, Ctrl-C: stop accepting, drain) are as `HttpServer` had them.

use std::any::Any;
use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_http::error::DispatchError;
use actix_http::{HttpService, Protocol, Request, Response};
use actix_server::{GracefulShutdownSignal, Server};
use actix_service::{
    IntoServiceFactory, Service, ServiceFactory, ServiceFactoryExt, fn_service, map_config,
};
use actix_tls::accept::TlsError;
use actix_tls::accept::rustls_0_23::{Acceptor, TlsStream};
use actix_web::body::MessageBody;
use actix_web::dev::{AppConfig, Extensions};
use actix_web::error::Error;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::wire::Wire;

/// How the listener serves.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Time for a new connection's first request head (408 after it).
    pub head_timeout: Duration,
    /// Idle time after a response before the connection is closed.
    pub keep_alive: Duration,
    /// Connections each worker holds at most (actix-server stops accepting beyond it).
    pub max_connections_per_worker: usize,
    /// Worker threads; the number of CPUs when `None`.
    pub workers: Option<usize>,
    /// Longest drain of in-flight requests on a graceful shutdown.
    pub shutdown_timeout_secs: u64,
}

/// A connection callback, given the connection's stream (as `Any`) and its extensions.
pub type OnConnect = dyn Fn(&dyn Any, &mut Extensions) + Send + Sync;

/// Serves the apps `factory` builds (one per worker) on `listener`, over TLS when `tls` is
/// given; the returned server runs when polled.
pub fn serve<F, I, S, B>(
    factory: F,
    listener: TcpListener,
    tls: Option<rustls::ServerConfig>,
    options: &ServeOptions,
    on_connect: Arc<OnConnect>,
) -> std::io::Result<Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<Error> + 'static,
    S::InitError: fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    <S::Service as Service<Request>>::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let mut builder = Server::build()
        .max_concurrent_connections(options.max_connections_per_worker)
        .shutdown_timeout(options.shutdown_timeout_secs);
    if let Some(workers) = options.workers {
        builder = builder.workers(workers);
    }
    let addr = listener.local_addr()?;
    let http = Http {
        factory,
        options: options.clone(),
        addr,
        shutdown: builder.graceful_shutdown_signal(),
        on_connect,
    };
    let name = format!("dep-gateway-{addr}");
    builder = match tls {
        None => builder.listen(name, listener, move || {
            fn_service(|io: TcpStream| async move {
                let peer = io.peer_addr().ok();
                Ok::<_, DispatchError>((Wire::http1(io), Protocol::Http1, peer))
            })
            .and_then(http.service())
        })?,
        Some(config) => {
            let config = alpn(config);
            builder.listen(name, listener, move || {
                Acceptor::new(config.clone())
                    .map_init_err(|()| ())
                    .map_err(TlsError::into_service_error)
                    .and_then(|io: TlsStream<TcpStream>| async move {
                        let h2 = io.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
                        let peer = io.get_ref().0.peer_addr().ok();
                        Ok(if h2 {
                            (Wire::http2(io), Protocol::Http2, peer)
                        } else {
                            (Wire::http1(io), Protocol::Http1, peer)
                        })
                    })
                    .and_then(http.service().map_err(TlsError::Service))
            })?
        }
    };
    Ok(builder.run())
}

/// What each worker needs to build its HTTP service.
#[derive(Clone)]
struct Http<F> {
    factory: F,
    options: ServeOptions,
    addr: SocketAddr,
    shutdown: GracefulShutdownSignal,
    on_connect: Arc<OnConnect>,
}

impl<F> Http<F> {
    /// actix-http's service over connections of type `T`, with the app `factory` builds.
    fn service<T, I, S, B>(
        &self,
    ) -> impl ServiceFactory<
        (T, Protocol, Option<SocketAddr>),
        Config = (),
        Response = (),
        Error = DispatchError,
        InitError = (),
    > + use<T, F, I, S, B>
    where
        T: AsyncRead + AsyncWrite + Unpin + 'static,
        F: Fn() -> I,
        I: IntoServiceFactory<S, Request>,
        S: ServiceFactory<Request, Config = AppConfig> + 'static,
        S::Error: Into<Error> + 'static,
        S::InitError: fmt::Debug,
        S::Response: Into<Response<B>> + 'static,
        <S::Service as Service<Request>>::Future: 'static,
        S::Service: 'static,
        B: MessageBody + 'static,
    {
        let shutdown = self.shutdown.clone();
        let on_connect = self.on_connect.clone();
        let app = (self.factory)()
            .into_factory()
            .map_err(|err| err.into().error_response());
        HttpService::build()
            .graceful_shutdown_signal(move || {
                let shutdown = shutdown.clone();
                async move { shutdown.notified().await }
            })
            .keep_alive(self.options.keep_alive)
            .client_request_timeout(self.options.head_timeout)
            .client_disconnect_timeout(Duration::from_secs(1))
            .h1_allow_half_closed(true)
            .local_addr(self.addr)
            .on_connect_ext(move |io: &T, ext: &mut Extensions| on_connect(io as &dyn Any, ext))
            // `AppConfig` only feeds `ConnectionInfo`'s fallbacks, which the gateway does not
            // read (its URLs come from `public_url`).
            .finish(map_config(app, |()| AppConfig::default()))
    }
}

/// HTTP/2 and HTTP/1.1 offered by ALPN, before any protocols the configuration lists.
fn alpn(mut config: rustls::ServerConfig) -> rustls::ServerConfig {
    let mut protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    protocols.append(&mut config.alpn_protocols);
    config.alpn_protocols = protocols;
    config
}

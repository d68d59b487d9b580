//! The receiver side of change notifications: which URLs may receive them (HTTPS unless
//! allowed; no loopback, private or link-local address unless allowed: the SSRF guard, checked
//! on the resolved addresses, which the request is then pinned to), the validation handshake,
//! and the bounded POST of a notification batch with the optional signature header.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use super::SubscribeError;
use crate::config::NotificationSettings;
use crate::domain::ValidationError;

/// The gateway's signature header (an extension beyond Graph): `sha256=<hex HMAC of the body>`.
pub const SIGNATURE_HEADER: &str = "X-DepGateway-Signature";

/// GRAPH-COMPAT: Graph's message when the receiver does not echo the token
/// (change-notifications.md §3).
const VALIDATION_FAILED: &str = "Subscription validation request failed. Notification endpoint \
                                 must respond with 200 OK to validation request.";
/// GRAPH-COMPAT: the message reported when the receiver does not answer in time.
const VALIDATION_TIMED_OUT: &str = "Subscription validation request timed out.";

/// Which receivers are allowed.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    allow_http: bool,
    allow_loopback: bool,
    allow_private: bool,
}

impl From<&NotificationSettings> for Policy {
    fn from(s: &NotificationSettings) -> Self {
        Self {
            allow_http: s.allow_http,
            allow_loopback: s.allow_loopback,
            allow_private: s.allow_private,
        }
    }
}

/// Why a receiver URL is refused.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Private, link-local, shared (CGNAT), unique-local, unspecified, broadcast or multicast.
fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

impl Policy {
    /// The addresses `url` resolves to, all allowed; else why not.
    pub async fn resolve(&self, url: &url::Url) -> Result<Vec<SocketAddr>, Refused> {
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            _ => {
                return Err(Refused("The notification URL must use https.".to_owned()));
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refused(
                "The notification URL must not hold credentials.".to_owned(),
            ));
        }
        let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| {
                Refused(format!(
                    "The notification URL's host '{host}' does not resolve."
                ))
            })?
            .collect();
        if addrs.is_empty() {
            return Err(Refused(format!(
                "The notification URL's host '{host}' does not resolve."
            )));
        }
        for a in &addrs {
            let ip = a.ip();
            let allowed = if is_loopback(ip) {
                self.allow_loopback
            } else {
                !is_internal(ip) || self.allow_private
            };
            if !allowed {
                return Err(Refused(format!(
                    "The notification URL's host '{host}' resolves to an internal address, which \
                     this gateway does not send to."
                )));
            }
        }
        Ok(addrs)
    }
}

/// A receiver's client: its host, the addresses it is pinned to, the request timeout.
type ClientKey = (String, Vec<SocketAddr>, Duration);

/// Clients kept per receiver, so that its deliveries reuse connections and the TLS roots are
/// loaded once, not per POST (a new client per POST cost ~55 ms: 100,000 changes took 55 s to
/// deliver after a sync). Emptied when it holds [`MAX_CLIENTS`].
static CLIENTS: LazyLock<Mutex<HashMap<ClientKey, reqwest::Client>>> =
    LazyLock::new(Mutex::default);
const MAX_CLIENTS: usize = 256;

/// The client for `url`, pinned to the checked addresses (no second lookup that a rebinding DNS
/// could answer differently: other addresses are another client) and without redirects.
fn client(
    url: &url::Url,
    addrs: &[SocketAddr],
    timeout: Duration,
) -> reqwest::Result<reqwest::Client> {
    let key = (
        url.host_str().unwrap_or_default().to_owned(),
        addrs.to_vec(),
        timeout,
    );
    let mut clients = CLIENTS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(client) = clients.get(&key) {
        return Ok(client.clone());
    }
    let client = new_client(url, addrs, timeout)?;
    if clients.len() >= MAX_CLIENTS {
        clients.clear();
    }
    clients.insert(key, client.clone());
    Ok(client)
}

fn new_client(
    url: &url::Url,
    addrs: &[SocketAddr],
    timeout: Duration,
) -> reqwest::Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!(
            "dep-gateway/",
            env!("CARGO_PKG_VERSION"),
            " change-notifications"
        ));
    if let Some(host) = url.host_str().filter(|_| url.domain().is_some()) {
        b = b.resolve_to_addrs(host, addrs);
    }
    b.build()
}

/// Graph's handshake: POSTs `?validationToken=…` to `url` and requires the token echoed as
/// `text/plain` with `200` within the validation timeout.
pub async fn validate(
    cfg: &NotificationSettings,
    policy: &Policy,
    url: &str,
) -> Result<(), SubscribeError> {
    let refused = |r: Refused| SubscribeError::Service(ValidationError::new(r.0).into());
    let mut target = url::Url::parse(url)
        .map_err(|_| refused(Refused("The notification URL is not a URL.".into())))?;
    let addrs = policy.resolve(&target).await.map_err(refused)?;
    let token = format!(
        "Validation: Testing client application reachability for subscription Request-Id: {}",
        Uuid::new_v4()
    );
    target
        .query_pairs_mut()
        .append_pair("validationToken", &token);
    let timeout = Duration::from_secs(cfg.validation_timeout_secs.max(1));
    let failed = || SubscribeError::Handshake(VALIDATION_FAILED.to_owned());
    let http = client(&target, &addrs, timeout).map_err(|_| failed())?;
    let sent = http
        .post(target)
        .header("Content-Type", "text/plain; charset=utf-8")
        .send()
        .await;
    let resp = match sent {
        Ok(r) => r,
        Err(e) if e.is_timeout() => {
            return Err(SubscribeError::Handshake(VALIDATION_TIMED_OUT.into()));
        }
        Err(_) => return Err(failed()),
    };
    let plain = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("text/plain")
        });
    if resp.status() != reqwest::StatusCode::OK || !plain {
        return Err(failed());
    }
    match resp.text().await {
        Ok(body) if body == token => Ok(()),
        Err(e) if e.is_timeout() => Err(SubscribeError::Handshake(VALIDATION_TIMED_OUT.into())),
        _ => Err(failed()),
    }
}

/// `sha256=<hex>` of `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    // An HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let hex = bytes.iter().fold(String::with_capacity(64), |mut out, b| {
        use std::fmt::Write;
        let _ = write!(out, "{b:02x}");
        out
    });
    format!("sha256={hex}")
}

/// POSTs one batch; `Ok` when the receiver answered 2xx within the delivery timeout.
pub async fn post(
    cfg: &NotificationSettings,
    policy: &Policy,
    url: &str,
    body: Vec<u8>,
    secret: Option<&[u8]>,
) -> Result<(), String> {
    let target = url::Url::parse(url).map_err(|e| e.to_string())?;
    let addrs = policy.resolve(&target).await.map_err(|r| r.0)?;
    let timeout = Duration::from_secs(cfg.delivery_timeout_secs.max(1));
    let http = client(&target, &addrs, timeout).map_err(|e| e.to_string())?;
    let mut req = http
        .post(target)
        .header("Content-Type", "application/json; charset=utf-8");
    if let Some(secret) = secret {
        req = req.header(SIGNATURE_HEADER, signature(secret, &body));
    }
    let resp = req.body(body).send().await.map_err(|e| {
        if e.is_timeout() {
            "timed out".to_owned()
        } else {
            "unreachable".to_owned()
        }
    })?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(format!("answered {}", resp.status().as_u16()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "2606:4700::1111"] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
        assert!(is_loopback("127.0.0.1".parse().unwrap()));
        assert!(is_loopback("::1".parse().unwrap()));
    }

    #[tokio::test]
    async fn receivers_are_refused_unless_allowed() {
        let strict = Policy {
            allow_http: false,
            allow_loopback: false,
            allow_private: false,
        };
        let url = |s: &str| url::Url::parse(s).unwrap();
        assert!(
            strict.resolve(&url("http://8.8.8.8/hook")).await.is_err(),
            "http"
        );
        assert!(
            strict
                .resolve(&url("https://127.0.0.1/hook"))
                .await
                .is_err(),
            "loopback"
        );
        assert!(
            strict
                .resolve(&url("https://169.254.169.254/latest"))
                .await
                .is_err(),
            "metadata"
        );
        assert!(
            strict.resolve(&url("https://10.0.0.1/")).await.is_err(),
            "private"
        );
        assert!(
            strict
                .resolve(&url("https://user:pw@8.8.8.8/"))
                .await
                .is_err(),
            "credentials"
        );
        assert!(strict.resolve(&url("https://8.8.8.8/hook")).await.is_ok());
        let loopback = Policy {
            allow_http: true,
            allow_loopback: true,
            allow_private: false,
        };
        assert!(loopback.resolve(&url("http://127.0.0.1:9/")).await.is_ok());
        assert!(loopback.resolve(&url("http://10.0.0.1/")).await.is_err());
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}

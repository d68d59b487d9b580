//! A TCP proxy between the gateway and the shared PostgreSQL server that a test can pause (bytes
//! stop flowing both ways, as with a frozen server) or make refuse (every connection closed, new
//! ones dropped, as with a server that is gone) — never by stopping the shared server itself.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const FORWARD: u8 = 0;
const PAUSE: u8 = 1;
const REFUSE: u8 = 2;
const STOP: u8 = 3;

/// How often an idle pump looks at the proxy's state again.
const POLL: Duration = Duration::from_millis(50);

/// A running proxy; dropping it stops it and closes its connections.
pub struct PausableProxy {
    addr: SocketAddr,
    state: Arc<AtomicU8>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
}

impl PausableProxy {
    /// Starts forwarding from a free local port to `upstream`.
    pub fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy bind");
        let addr = listener.local_addr().expect("proxy address");
        let state = Arc::new(AtomicU8::new(FORWARD));
        let streams = Arc::new(Mutex::new(Vec::new()));
        let (accept_state, accept_streams) = (state.clone(), streams.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                match accept_state.load(Ordering::SeqCst) {
                    STOP => return,
                    REFUSE => drop(client),
                    _ => {
                        let Ok(server) = TcpStream::connect(upstream) else {
                            continue;
                        };
                        let mut held = accept_streams.lock().unwrap();
                        held.push(client.try_clone().unwrap());
                        held.push(server.try_clone().unwrap());
                        drop(held);
                        spawn_pump(&client, &server, &accept_state);
                        spawn_pump(&server, &client, &accept_state);
                    }
                }
            }
        });
        Self {
            addr,
            state,
            streams,
        }
    }

    /// The address to give the gateway instead of the server's.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops moving bytes; connections stay open and new ones are accepted but get no answer.
    pub fn pause(&self) {
        self.state.store(PAUSE, Ordering::SeqCst);
    }

    /// Forwards again.
    pub fn resume(&self) {
        self.state.store(FORWARD, Ordering::SeqCst);
    }

    /// Closes every open connection and drops new ones until [`resume`](Self::resume).
    pub fn refuse(&self) {
        self.state.store(REFUSE, Ordering::SeqCst);
        for stream in self.streams.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for PausableProxy {
    fn drop(&mut self) {
        self.refuse();
        self.state.store(STOP, Ordering::SeqCst);
        // Wakes the accept loop so that it sees STOP.
        let _ = TcpStream::connect(self.addr);
    }
}

fn spawn_pump(from: &TcpStream, to: &TcpStream, state: &Arc<AtomicU8>) {
    let (mut from, mut to, state) = (
        from.try_clone().unwrap(),
        to.try_clone().unwrap(),
        state.clone(),
    );
    from.set_read_timeout(Some(POLL)).unwrap();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match state.load(Ordering::SeqCst) {
                FORWARD => {}
                PAUSE => {
                    std::thread::sleep(POLL);
                    continue;
                }
                _ => break,
            }
            match from.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => break,
            }
        }
        let _ = from.shutdown(Shutdown::Both);
        let _ = to.shutdown(Shutdown::Both);
    });
}

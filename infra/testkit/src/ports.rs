//! Ports for servers that tests start as child processes (moto, `wrangler
//! dev`, `wasmtime serve`), which must be told a port before they bind it.
//!
//! Binding port 0 and closing the listener finds a port that is free only
//! until someone binds it, and the kernel may hand the same port to the next
//! caller. Tests in one binary run concurrently, so two of them could be given
//! one port: one server then fails to bind, and before that test notices, its
//! readiness probe is answered by the *other* test's server, so the test
//! talks to someone else's edge and origins (seen as an edge suite case whose
//! origins received no request at all). Within a test process a port is
//! therefore handed out once only; ports bound in-process and then released
//! for a restart on the same address are claimed too.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

fn claimed() -> &'static Mutex<HashSet<u16>> {
    static CLAIMED: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    CLAIMED.get_or_init(|| Mutex::new(HashSet::new()))
}

/// A TCP port on 127.0.0.1 that was free a moment ago and that no other
/// caller in this process has been given.
pub fn free_port() -> u16 {
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("the loopback interface accepts a listener")
            .port();
        if claim_port(port) {
            return port;
        }
    }
}

/// Claims `port` (one this process bound itself, and will bind again) so
/// that [`free_port`] never hands it out; `false` if it was claimed already.
pub fn claim_port(port: u16) -> bool {
    claimed()
        .lock()
        .unwrap_or_else(|poison| poison.into_inner())
        .insert(port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_is_handed_out_once() {
        // Far more draws than the kernel's ephemeral range makes distinct by
        // chance (about 28,000 ports: a repeat is all but certain by 2,000).
        let ports: Vec<u16> = (0..2_000).map(|_| free_port()).collect();
        let distinct: HashSet<u16> = ports.iter().copied().collect();
        assert_eq!(distinct.len(), ports.len());
    }

    #[test]
    fn a_claimed_port_is_not_handed_out() {
        // The other test hands ports out meanwhile: take one it has not.
        let (listener, port) = loop {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            if claim_port(port) {
                break (listener, port);
            }
        };
        drop(listener);
        assert!(!claim_port(port), "a second claim is refused");
        assert!((0..500).all(|_| free_port() != port));
    }
}

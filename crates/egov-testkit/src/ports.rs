//! Free loopback ports and listeners for services under test.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};

/// Returns a loopback port that was free a moment ago.
///
/// The port is released before returning, so another process may take it first;
/// prefer [`free_listener`] when the code under test accepts a bound listener.
///
/// # Panics
/// Panics if the loopback interface cannot bind port 0, which means the machine
/// cannot run any of these tests.
pub fn free_port() -> u16 {
    free_listener()
        .local_addr()
        .map(|addr| addr.port())
        .unwrap_or_else(|error| panic!("cannot read the address of a loopback listener: {error}"))
}

/// Returns a non-blocking listener bound to `127.0.0.1:0`.
///
/// Non-blocking so `tokio::net::TcpListener::from_std` accepts it as is.
///
/// # Panics
/// Panics if the loopback interface cannot bind port 0 (see [`free_port`]).
pub fn free_listener() -> TcpListener {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .unwrap_or_else(|error| panic!("cannot bind a loopback port: {error}"));
    listener
        .set_nonblocking(true)
        .unwrap_or_else(|error| panic!("cannot make a loopback listener non-blocking: {error}"));
    listener
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_nonzero_and_bindable() {
        let port = free_port();
        assert_ne!(port, 0);
        assert!(TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok());
    }

    #[test]
    fn free_listeners_are_loopback_and_non_blocking() {
        let listener = free_listener();
        let addr = listener.local_addr().ok();
        assert!(addr.is_some_and(|a| a.ip().is_loopback() && a.port() != 0));
        // A blocking accept would hang here; a non-blocking one says WouldBlock.
        let accepted = listener.accept().err().map(|e| e.kind());
        assert_eq!(accepted, Some(std::io::ErrorKind::WouldBlock));
    }
}

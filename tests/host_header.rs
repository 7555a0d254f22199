//! `Host` values over real sockets (RFC 9112 §3.2): `uri-host [":" port]`
//! is served, anything else gets `400` and a close, counted under its route.

mod common;

use common::{expect_error_and_close, TestServer};
use custom_metrics_app::internals::http::Status;

#[test]
fn valid_hosts_are_served() {
    let s = TestServer::start(1);
    let mut c = s.connect();
    for host in [
        "custom-metrics-app",
        "custom-metrics-app:3000",
        "10.0.0.7",
        "10.0.0.7:80",
        "[::1]:3000",
        "[::1]",
    ] {
        c.send(format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes());
        assert_eq!(c.read_response(false).status, 200, "{host}");
    }
}

#[test]
fn invalid_hosts_get_400_and_close() {
    let s = TestServer::start(1);
    let cases = [
        ("userinfo", "GET /healthz HTTP/1.1\r\nHost: u@t\r\n\r\n"),
        ("bad port", "GET /healthz HTTP/1.1\r\nHost: t:8x\r\n\r\n"),
        ("space", "GET /healthz HTTP/1.1\r\nHost: t t\r\n\r\n"),
        ("path", "GET /healthz HTTP/1.1\r\nHost: t/path\r\n\r\n"),
        ("empty on 1.1", "GET /healthz HTTP/1.1\r\nHost:\r\n\r\n"),
        ("unclosed IPv6", "GET /healthz HTTP/1.1\r\nHost: [::1\r\n\r\n"),
        ("bad on 1.0 too", "GET /healthz HTTP/1.0\r\nHost: a/b\r\n\r\n"),
    ];
    for (_, raw) in cases {
        expect_error_and_close(&s, raw.as_bytes(), 400);
    }
    assert_eq!(s.app.requests().get("healthz", Status::BadRequest), cases.len() as u64);
    assert_eq!(s.app.requests().total(), cases.len() as u64);
}

//! `Expect: 100-continue` over real sockets: `100 Continue` only before a
//! success; a request refused on its head alone gets its final status at
//! once, without the 100, and the connection closes (the client may or may
//! not send the body, so nothing after it can be trusted to be a request).

mod common;

use std::io::Read;
use std::net::Shutdown as NetShutdown;

use common::TestServer;
use custom_metrics_app::internals::http::Status;

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

#[test]
fn a_method_the_route_refuses_gets_405_at_once() {
    let s = TestServer::start(1);
    let mut c = s.connect();
    c.send(b"PUT /cpuTempUp HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    let r = c.read_response(false);
    assert_eq!((r.status, r.header("Connection")), (405, Some("close")), "no 100 first");
    let _ = c.stream.shutdown(NetShutdown::Write);
    assert!(c.is_closed_by_server());
    assert_eq!(s.app.requests().get("cpuTempUp", Status::MethodNotAllowed), 1);
}

#[test]
fn a_body_over_the_limit_gets_413_at_once() {
    let s = TestServer::start(1);
    let mut c = s.connect();
    c.send(b"POST /cpuTempUp HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n");
    let r = c.read_response(false);
    assert_eq!((r.status, r.header("Connection")), (413, Some("close")));
    assert_eq!(s.app.requests().total(), 1);
}

#[test]
fn an_accepted_request_gets_100_then_its_answer() {
    let s = TestServer::start(1);
    let mut c = s.connect();
    c.send(b"POST /cpuTempUp HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    let mut interim = [0u8; CONTINUE.len()];
    c.stream.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, CONTINUE);
    c.send(b"hello");
    assert_eq!(c.read_response(false).text(), "60\n");
    // Chunked: the 100 comes with the head, the answer when the body ends.
    c.send(b"POST /cpuTempUp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n");
    c.stream.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, CONTINUE);
    c.send(b"5\r\nhello\r\n0\r\n\r\n");
    assert_eq!(c.read_response(false).text(), "70\n");
    assert_eq!(c.get("/").status, 200, "still in step");
    assert_eq!(s.app.requests().total(), 3);
}

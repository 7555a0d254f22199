//! Chunked request bodies (RFC 9112 §7.1) over real sockets: read and
//! discarded exactly, the request answered when its body ends, a broken or
//! oversized body refused with its status, and every request counted once.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use common::{require_tool, Client, TestServer};
use custom_metrics_app::internals::http::Status;

const HEAD: &[u8] = b"POST /cpuTempUp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";

/// Sends `parts` as separate writes, a pause between them so the server
/// reads them one by one.
fn send_in_parts(c: &mut Client, parts: &[&[u8]]) {
    for part in parts {
        c.send(part);
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn refused_and_closed(s: &TestServer, body: &[u8], status: u16) {
    common::expect_error_and_close(s, &[HEAD, body].concat(), status);
}

#[test]
fn one_chunk_and_the_connection_stays_in_step() {
    let s = TestServer::start(1);
    let mut c = s.connect();
    c.send(&[HEAD, b"5\r\nhello\r\n0\r\n\r\n"].concat());
    let r = c.read_response(false);
    assert_eq!((r.status, r.text(), r.header("Connection")), (200, "60\n", None));
    assert_eq!(c.get("/healthz").text(), "ok\n");
}

#[test]
fn many_chunks_split_across_reads() {
    let s = TestServer::start(1);
    let mut c = s.connect();
    send_in_parts(
        &mut c,
        &[
            b"POST /cpuTempUp HTTP/1.1\r\nHost: x\r\nTransfer-En",
            b"coding: chunked\r\n\r\n1",
            b"0\r\n0123456789",
            b"abcdef\r",
            b"\n3\r\nabc\r\n1",
            b"\r\nz\r\n0\r",
            b"\n",
            b"\r\n",
        ],
    );
    assert_eq!(c.read_response(false).text(), "60\n");
    assert_eq!(c.get("/cpuTempUp").text(), "70\n", "nothing left over");
    assert_eq!(s.app.requests().total(), 2);
}

#[test]
fn extensions_and_trailers_are_read_and_ignored() {
    let s = TestServer::start(1);
    let mut c = s.connect();
    c.send(HEAD);
    c.send(b"4;name=value;quoted=\"a;b=c\"\r\nabcd\r\n2 ; x\r\nef\r\n0;last\r\nChecksum: 1234\r\nX-Trailer: v\r\n\r\n");
    assert_eq!(c.read_response(false).text(), "60\n");
    assert_eq!(c.get("/").status, 200);
}

#[test]
fn a_request_pipelined_after_the_last_chunk_is_answered_too() {
    let s = TestServer::start(1);
    let mut c = s.connect();
    c.send(
        &[
            HEAD,
            b"3\r\nabc\r\n0\r\n\r\nGET /cpuTempDown HTTP/1.1\r\nHost: x\r\n\r\n",
        ]
        .concat(),
    );
    assert_eq!(c.read_response(false).text(), "60\n");
    assert_eq!(c.read_response(false).text(), "50\n");
    let m = s.app.requests();
    assert_eq!(
        (m.get("cpuTempUp", Status::Ok), m.get("cpuTempDown", Status::Ok)),
        (1, 1)
    );
}

#[test]
fn broken_framing_is_refused_and_counted_under_its_route() {
    let s = TestServer::start(1);
    // A size beyond 64 bits, a size that is not hex, data longer than its size.
    refused_and_closed(&s, b"10000000000000000\r\n", 400);
    refused_and_closed(&s, b"5g\r\nhello\r\n0\r\n\r\n", 400);
    refused_and_closed(&s, b"0x5\r\nhello\r\n0\r\n\r\n", 400);
    refused_and_closed(&s, b"3\r\nabcd\r\n0\r\n\r\n", 400);
    refused_and_closed(&s, b"0\r\n X: obs-fold\r\n\r\n", 400);
    let m = s.app.requests();
    assert_eq!(m.get("cpuTempUp", Status::BadRequest), 5);
    assert_eq!(m.total(), 5);
}

#[test]
fn the_body_limit_applies_to_the_sum_of_the_chunks() {
    // The test server's limit is 1 KiB: 0x200 + 0x200 fits, one byte more does not.
    let s = TestServer::start(1);
    let mut c = s.connect();
    let half = [b'a'; 0x200];
    c.send(HEAD);
    c.send(&[&b"200\r\n"[..], &half, b"\r\n200\r\n", &half, b"\r\n0\r\n\r\n"].concat());
    assert_eq!(c.read_response(false).status, 200);
    refused_and_closed(&s, &[&b"200\r\n"[..], &half, b"\r\n201\r\n"].concat(), 413);
    refused_and_closed(&s, b"ffffffffffffffff\r\n", 413);
    let m = s.app.requests();
    assert_eq!(m.get("cpuTempUp", Status::PayloadTooLarge), 2);
    assert_eq!(m.total(), 3);
}

#[test]
fn a_chunked_body_that_never_ends_gets_408() {
    let s = TestServer::start_with(1, |c| c.timeouts.header = Duration::from_millis(300));
    let mut c = s.connect();
    c.send(&[HEAD, b"5\r\nhel"].concat());
    let r = c.read_response(false);
    assert_eq!((r.status, r.header("Connection")), (408, Some("close")));
    assert_eq!(s.app.requests().get("cpuTempUp", Status::RequestTimeout), 1);
    assert_eq!(s.app.requests().total(), 1);
}

#[test]
fn curl_uploads_chunked_and_is_counted_once() {
    if !require_tool("curl") {
        return;
    }
    let s = TestServer::start(1);
    let mut curl = std::process::Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "10",
            "-w",
            "\n%{http_code}",
            "-H",
            "Transfer-Encoding: chunked",
        ])
        .args(["--data-binary", "@-"])
        .arg(format!("http://{}/cpuTempUp", s.addr))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start curl");
    // curl sends what it reads as it reads it: several chunks.
    let mut stdin = curl.stdin.take().unwrap();
    for _ in 0..3 {
        stdin.write_all(&[b'x'; 300]).unwrap();
        stdin.flush().unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(stdin);
    let mut out = String::new();
    curl.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert!(curl.wait().unwrap().success());
    assert_eq!(out, "60\n\n200");
    assert_eq!(s.app.requests().get("cpuTempUp", Status::Ok), 1);
    assert_eq!(s.app.requests().total(), 1);
}

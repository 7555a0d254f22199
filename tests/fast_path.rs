//! The connection-per-request fast path and every hand-over to the normal
//! path, over real sockets, with `TCP_DEFER_ACCEPT` on and off: each request
//! answered as it would be on a registered connection, and counted once.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown as NetShutdown, TcpStream};
use std::time::{Duration, Instant};

use common::{read_to_end_bounded, status_of, Client, TestServer};
use custom_metrics_app::internals::http::Status;

const CLOSE: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
const KEEP_ALIVE: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

/// A one-worker server, with or without `TCP_DEFER_ACCEPT`.
fn server(defer_accept: bool) -> TestServer {
    TestServer::start_with(1, |c| {
        c.defer_accept = defer_accept;
        c.timeouts.header = Duration::from_secs(1);
    })
}

fn each_accept_mode(test: impl Fn(&TestServer)) {
    for defer in [true, false] {
        let s = server(defer);
        test(&s);
    }
}

/// Reads until the server closes (bounded); returns the statuses of the
/// whole responses read, failing on trailing bytes.
fn statuses_until_closed(c: &mut Client) -> Vec<u16> {
    let (raw, ended) = read_to_end_bounded(&mut c.stream, Duration::from_secs(5));
    assert!(ended, "the server closed the connection");
    let mut statuses = Vec::new();
    let mut rest = &raw[..];
    while !rest.is_empty() {
        let head_end = common::find(rest, b"\r\n\r\n").expect("a whole head") + 4;
        let head = std::str::from_utf8(&rest[..head_end]).unwrap();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .expect("Content-Length")
            .parse()
            .unwrap();
        statuses.push(status_of(rest));
        rest = &rest[head_end + length..];
    }
    statuses
}

#[test]
fn connection_close_is_answered_and_closed() {
    each_accept_mode(|s| {
        for _ in 0..50 {
            let mut c = s.connect();
            c.send(CLOSE);
            let r = c.read_response(false);
            assert_eq!((r.status, r.text()), (200, "custom metrics"));
            assert_eq!(r.header("Connection"), Some("close"));
            assert!(c.is_closed_by_server());
        }
        assert_eq!(s.app.requests().get("/", Status::Ok), 50);
    });
}

#[test]
fn a_head_split_over_two_segments_is_finished_on_the_normal_path() {
    each_accept_mode(|s| {
        let mut c = s.connect();
        c.send(b"GET /cpuTempUp HTTP/1.1\r\nHo");
        std::thread::sleep(Duration::from_millis(50));
        c.send(b"st: x\r\nConnection: close\r\n\r\n");
        assert_eq!(statuses_until_closed(&mut c), [200]);
        assert_eq!(s.app.requests().total(), 1);
    });
}

#[test]
fn a_keep_alive_request_first_keeps_the_connection() {
    each_accept_mode(|s| {
        let mut c = s.connect();
        c.send(KEEP_ALIVE);
        assert_eq!(c.read_response(false).status, 200);
        assert_eq!(c.get("/cpuTempUp").text(), "60\n");
        c.send(CLOSE);
        assert_eq!(statuses_until_closed(&mut c), [200]);
        assert_eq!(s.app.requests().total(), 3);
    });
}

#[test]
fn pipelined_requests_ending_in_close_get_every_answer() {
    each_accept_mode(|s| {
        let mut c = s.connect();
        c.send(
            b"GET /cpuTempUp HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(statuses_until_closed(&mut c), [200, 200]);
        assert_eq!(s.app.requests().get("cpuTempUp", Status::Ok), 1);
        assert_eq!(s.app.requests().get("healthz", Status::Ok), 1);
        // Bytes after the closing request are not answered.
        let mut c = s.connect();
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /cpuTempUp HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(statuses_until_closed(&mut c), [200]);
        assert_eq!(s.app.requests().get("cpuTempUp", Status::Ok), 1);
    });
}

#[test]
fn http_1_0_closes_unless_it_asks_for_keep_alive() {
    each_accept_mode(|s| {
        let mut c = s.connect();
        c.send(b"GET / HTTP/1.0\r\n\r\n");
        assert_eq!(statuses_until_closed(&mut c), [200]);
        let mut c = s.connect();
        c.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        let r = c.read_response(false);
        assert_eq!(r.header("Connection"), Some("keep-alive"));
        c.send(b"GET /cpuTempUp HTTP/1.0\r\n\r\n");
        assert_eq!(statuses_until_closed(&mut c), [200]);
        assert_eq!(s.app.requests().total(), 3);
    });
}

#[test]
fn bodies_complete_or_still_arriving() {
    each_accept_mode(|s| {
        // Whole body in the first segment: answered and closed at once.
        let mut c = s.connect();
        c.send(b"POST /cpuTempUp HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
        assert_eq!(statuses_until_closed(&mut c), [200]);
        // Body still coming: answered, then its rest is read before closing.
        let mut c = s.connect();
        c.send(b"POST /cpuTempDown HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\nhello");
        assert_eq!(c.read_response(false).status, 200);
        std::thread::sleep(Duration::from_millis(50));
        c.send(b"world");
        assert!(c.is_closed_by_server());
        // Keep-alive with the body split: the next request is found after it.
        let mut c = s.connect();
        c.send(b"POST /cpuTempUp HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab");
        assert_eq!(c.read_response(false).status, 200);
        c.send(b"cdGET /cpuTempUp HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(c.read_response(false).text(), "70\n");
        assert_eq!(s.app.requests().total(), 4);
    });
}

#[test]
fn expect_100_continue_then_the_body() {
    each_accept_mode(|s| {
        let mut c = s.connect();
        c.send(b"POST /cpuTempUp HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\nConnection: close\r\n\r\n");
        let mut raw = Vec::new();
        let mut buf = [0u8; 1024];
        while !raw.ends_with(b"60\n") {
            let n = c.stream.read(&mut buf).unwrap();
            assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&raw));
            raw.extend_from_slice(&buf[..n]);
        }
        assert!(raw.starts_with(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"));
        c.send(b"abc");
        assert!(c.is_closed_by_server());
        assert_eq!(s.app.requests().total(), 1);
    });
}

#[test]
fn a_malformed_request_gets_400_and_the_linger() {
    each_accept_mode(|s| {
        let mut c = TcpStream::connect(s.addr).unwrap();
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")
            .unwrap();
        // The linger: the server reads what follows instead of resetting, so
        // the 400 survives even though more bytes arrive after it was sent.
        std::thread::sleep(Duration::from_millis(50));
        c.write_all(&[b'x'; 4096]).unwrap();
        c.shutdown(NetShutdown::Write).unwrap();
        let (bytes, ended) = read_to_end_bounded(&mut c, Duration::from_secs(5));
        assert!(ended);
        assert_eq!(status_of(&bytes), 400);
        assert_eq!(s.app.requests().get("/", Status::BadRequest), 1);
    });
}

#[test]
fn a_client_that_connects_and_closes_costs_no_count() {
    each_accept_mode(|s| {
        for _ in 0..20 {
            let c = TcpStream::connect(s.addr).unwrap();
            c.shutdown(NetShutdown::Write).unwrap();
            drop(c);
        }
        // Still serving, nothing counted for the empty connections.
        assert_eq!(Client::connect(s.addr).get("/").status, 200);
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(s.app.requests().total(), 1);
    });
}

/// A connection that never sends a byte. Under `TCP_DEFER_ACCEPT` the kernel
/// keeps it to itself (SYN_RECV, re-sending its SYN-ACK) for about the defer
/// time, one second here, then hands it over when the client acknowledges
/// again; from then on the header timeout (one second) applies as to any
/// connection, and it is closed quietly. Meanwhile it holds no worker.
#[test]
fn a_silent_connection_is_closed_and_holds_nothing_up() {
    each_accept_mode(|s| {
        let started = Instant::now();
        let mut silent: Vec<TcpStream> = (0..5).map(|_| TcpStream::connect(s.addr).unwrap()).collect();
        for _ in 0..20 {
            let mut c = s.connect();
            c.send(CLOSE);
            assert_eq!(c.read_response(false).status, 200);
        }
        for c in &mut silent {
            let (bytes, ended) = read_to_end_bounded(c, Duration::from_secs(15));
            assert!(ended && bytes.is_empty(), "closed without an answer");
        }
        let took = started.elapsed();
        println!("silent connections closed after {took:?}");
        assert!(took >= Duration::from_secs(1), "not before the header timeout");
        assert_eq!(s.app.requests().total(), 20, "nothing counted for them");
    });
}

#[test]
fn an_answer_that_waits_is_written_before_the_close() {
    each_accept_mode(|s| {
        let mut c = s.connect();
        let started = Instant::now();
        c.send(b"GET /delay/100ms HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert_eq!(statuses_until_closed(&mut c), [200]);
        assert!(started.elapsed() >= Duration::from_millis(100));
        let mut c = s.connect();
        c.send(b"GET /work/5ms HTTP/1.0\r\n\r\n");
        assert_eq!(statuses_until_closed(&mut c), [200]);
        assert_eq!(s.app.requests().total(), 2);
    });
}

//! The HTTP/1.1 surface over real loopback sockets: routes, methods,
//! connection semantics, error statuses, and exact request counting.

mod common;

use std::io::Read;
use std::time::Duration;

use common::{expect_error_and_close, sample, Client, TestServer};
use custom_metrics_app::internals::http::Status;

#[test]
fn every_route_and_method() {
    let s = TestServer::start(1);
    let mut c = s.connect();
    let r = c.get("/");
    assert_eq!((r.status, r.text()), (200, "custom metrics"));
    assert_eq!(r.header("Content-Type"), Some("text/plain; charset=utf-8"));
    assert!(r.header("Date").unwrap().ends_with(" GMT"));
    assert_eq!(c.get("/some/unrouted/path?x=1").text(), "custom metrics");
    assert_eq!(c.get("/cpuTempUp").text(), "60\n");
    assert_eq!(c.request("POST", "/cpuTempUp").text(), "70\n");
    assert_eq!(c.request("POST", "/cpuTempDown").text(), "60\n");
    assert_eq!(c.get("/healthz").text(), "ok\n");
    assert_eq!(c.get("/readyz").text(), "ok\n");
    let m = c.get("/metrics");
    assert_eq!(m.status, 200);
    assert_eq!(
        m.header("Content-Type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert_eq!(sample(m.text(), "cpu_temperature_celsius"), Some(60.0));

    for (method, path, allow) in [
        ("POST", "/", "GET, HEAD"),
        ("POST", "/metrics", "GET, HEAD"),
        ("PUT", "/cpuTempUp", "GET, HEAD, POST"),
        ("DELETE", "/healthz", "GET, HEAD"),
        ("OPTIONS", "/readyz", "GET, HEAD"),
    ] {
        let r = c.request(method, path);
        assert_eq!(r.status, 405, "{method} {path}");
        assert_eq!(r.header("Allow"), Some(allow), "{method} {path}");
    }
    // A refused method changes nothing.
    assert_eq!(c.get("/cpuTempUp").text(), "70\n");
}

#[test]
fn head_has_headers_only() {
    let s = TestServer::start(1);
    let mut c = s.connect();
    let get = c.get("/metrics");
    let head = c.request("HEAD", "/metrics");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    // The next response starts right after HEAD's headers: nothing else was sent.
    let r = c.get("/");
    assert_eq!(r.text(), "custom metrics");
    let get_len: usize = get.header("Content-Length").unwrap().parse().unwrap();
    let head_len: usize = head.header("Content-Length").unwrap().parse().unwrap();
    assert!(head_len >= get_len, "HEAD announces the body GET would send");
    assert_eq!(c.request("HEAD", "/").header("Content-Length"), Some("14"));
}

#[test]
fn keep_alive_and_connection_close() {
    let s = TestServer::start(1);
    let mut c = s.connect();
    for _ in 0..100 {
        assert_eq!(c.get("/").status, 200);
    }
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let r = c.read_response(false);
    assert_eq!(r.header("Connection"), Some("close"));
    assert!(c.is_closed_by_server());
}

#[test]
fn sixteen_pipelined_requests_in_one_write() {
    let s = TestServer::start(1);
    let mut c = s.connect();
    let paths = ["/", "/healthz", "/cpuTempUp", "/readyz"];
    let batch: String = (0..16)
        .map(|i| format!("GET {} HTTP/1.1\r\nHost: x\r\n\r\n", paths[i % 4]))
        .collect();
    c.send(batch.as_bytes());
    let bodies: Vec<String> = (0..16).map(|_| c.read_response(false).text().to_owned()).collect();
    for (i, body) in bodies.iter().enumerate() {
        let want = match i % 4 {
            0 => "custom metrics".to_owned(),
            1 | 3 => "ok\n".to_owned(),
            _ => format!("{}\n", 50 + 10 * (i / 4 + 1)),
        };
        assert_eq!(body, &want, "response {i} in order");
    }
    assert!(c.leftover().is_empty());
}

#[test]
fn http10_closes_unless_keep_alive() {
    let s = TestServer::start(1);
    let mut c = s.connect();
    c.send(b"GET / HTTP/1.0\r\n\r\n");
    let r = c.read_response(false);
    assert_eq!((r.status, r.header("Connection")), (200, Some("close")));
    assert!(c.is_closed_by_server());

    let mut c = s.connect();
    for _ in 0..3 {
        c.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        let r = c.read_response(false);
        assert_eq!(r.header("Connection"), Some("keep-alive"));
    }
}

#[test]
fn request_bodies_are_discarded() {
    let s = TestServer::start(1);
    let mut c = s.connect();
    c.send(b"POST /cpuTempUp HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello");
    std::thread::sleep(std::time::Duration::from_millis(50));
    c.send(b" worldGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(c.read_response(false).text(), "60\n");
    assert_eq!(c.read_response(false).text(), "ok\n");
}

#[test]
fn bad_requests_get_an_error_and_close() {
    let s = TestServer::start(1);
    expect_error_and_close(&s, b"GARBAGE\r\n\r\n", 400);
    expect_error_and_close(&s, b"GET / HTTP/1.1\r\nHost x\r\n\r\n", 400);
    expect_error_and_close(&s, b"GET / HTTP/1.1\r\n\r\n", 400);
    expect_error_and_close(&s, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505);
    let many: String = (0..40).map(|i| format!("X-{i}: v\r\n")).collect();
    expect_error_and_close(&s, format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n").as_bytes(), 431);
    let huge = format!("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(9000));
    expect_error_and_close(&s, huge.as_bytes(), 431);
    let long = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(9000));
    expect_error_and_close(&s, long.as_bytes(), 414);
    expect_error_and_close(&s, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", 413);
    expect_error_and_close(
        &s,
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        501,
    );
    expect_error_and_close(
        &s,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        400,
    );
    let m = s.app.requests();
    assert_eq!(m.get("/", Status::BadRequest), 4);
    assert_eq!(m.get("/", Status::VersionNotSupported), 1);
    assert_eq!(m.get("/", Status::HeaderFieldsTooLarge), 2);
    assert_eq!(m.get("/", Status::UriTooLong), 1);
    assert_eq!(m.get("/", Status::PayloadTooLarge), 1);
    assert_eq!(m.get("/", Status::NotImplemented), 1);
    assert_eq!(m.total(), 10);
    // And the server is still fine.
    assert_eq!(s.connect().get("/").status, 200);
}

/// The server hands a head that timed out before its path to the handler
/// with no path (its own tests say so through a stub handler); the app counts
/// that `408` once, under `/`, like the other heads that broke early.
#[test]
fn a_head_that_times_out_is_counted_once_as_408_under_the_root() {
    let s = TestServer::start_with(1, |c| c.timeouts.header = Duration::from_millis(300));
    let mut c = s.connect();
    c.send(b"GET /cpuTempUp HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    let r = c.read_response(false);
    assert_eq!((r.status, r.header("Connection")), (408, Some("close")));
    assert_eq!(r.text(), "request head not received in time\n");
    let m = s.app.requests();
    assert_eq!(m.get("/", Status::RequestTimeout), 1);
    assert_eq!(m.total(), 1);
}

#[test]
fn a_request_split_into_single_bytes_is_answered() {
    let s = TestServer::start(1);
    let mut c = s.connect();
    for b in b"GET /cpuTempDown HTTP/1.1\r\nHost: x\r\n\r\n" {
        c.send(&[*b]);
    }
    assert_eq!(c.read_response(false).text(), "40\n");
}

#[test]
fn exact_counts_after_a_scripted_sequence() {
    let s = TestServer::start(2);
    let mut c = s.connect();
    for _ in 0..7 {
        c.get("/");
    }
    for _ in 0..3 {
        c.get("/cpuTempUp");
    }
    c.get("/cpuTempDown");
    c.request("DELETE", "/cpuTempDown");
    c.get("/healthz");
    c.get("/nowhere");
    let body = c.get("/metrics").text().to_owned();
    // The scrape counts itself once its response is written, i.e. after encoding.
    let want = [
        ("total_req_num{status=\"200\",api=\"/\"}", 8.0),
        ("total_req_num{status=\"200\",api=\"cpuTempUp\"}", 3.0),
        ("total_req_num{status=\"200\",api=\"cpuTempDown\"}", 1.0),
        ("total_req_num{status=\"405\",api=\"cpuTempDown\"}", 1.0),
        ("total_req_num{status=\"200\",api=\"healthz\"}", 1.0),
        ("total_req_num{status=\"200\",api=\"metrics\"}", 0.0),
        ("total_req_num{status=\"200\",api=\"readyz\"}", 0.0),
        ("cpu_temperature_celsius", 70.0),
    ];
    for (series, v) in want {
        assert_eq!(sample(&body, series), Some(v), "{series} in\n{body}");
    }
    let seed_series = common::samples(&body)
        .into_iter()
        .filter(|(s, _)| s.starts_with("total_req_num") || s.starts_with("cpu_temperature"))
        .count();
    assert_eq!(
        seed_series,
        want.len(),
        "no other series of the seed's metrics:\n{body}"
    );
    let again = c.get("/metrics").text().to_owned();
    assert_eq!(
        sample(&again, "total_req_num{status=\"200\",api=\"metrics\"}"),
        Some(1.0)
    );
}

#[test]
fn concurrent_clients_are_counted_exactly() {
    const CLIENTS: usize = 8;
    const REQUESTS: usize = 10_000;
    let s = TestServer::start(2);
    let addr = s.addr;
    let threads: Vec<_> = (0..CLIENTS)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = Client::connect(addr);
                // 16 requests per write, to keep the test quick on two cores.
                let batch = "GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(16);
                for _ in 0..REQUESTS / 16 {
                    c.send(batch.as_bytes());
                    for _ in 0..16 {
                        assert_eq!(c.read_response(false).status, 200);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    assert_eq!(s.app.requests().get("/", Status::Ok), (CLIENTS * REQUESTS) as u64);
    let body = s.connect().get("/metrics").text().to_owned();
    assert_eq!(sample(&body, "total_req_num{status=\"200\",api=\"/\"}"), Some(80_000.0));
}

#[test]
fn shutdown_fails_readiness_and_closes_idle_connections() {
    let mut s = TestServer::start(1);
    let mut idle = s.connect();
    assert_eq!(idle.get("/").status, 200);
    let running = s.running.take().unwrap();
    let stopper = std::thread::spawn(move || running.stop());
    // The idle keep-alive connection is closed cleanly (EOF, no reset).
    let mut b = [0u8; 1];
    assert_eq!(idle.stream.read(&mut b).expect("clean close"), 0);
    stopper.join().unwrap();
    assert!(std::net::TcpStream::connect(s.addr).is_err(), "listener closed");
}

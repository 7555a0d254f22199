//! Proves the request path allocates nothing: a counting global allocator
//! watches the whole process while a warmed-up server answers thousands of
//! keep-alive, pipelined, HEAD, temperature and `/metrics` requests (text and
//! OpenMetrics, with the latency histogram and the process metrics), and
//! chunked uploads (their heads held in pooled buffers while the body is read).
//!
//! The client side is written to allocate nothing during the measured phase
//! (fixed buffers, no formatting), so any allocation counted is the server's.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use custom_metrics_app::app::App;
use custom_metrics_app::http::Limits;
use custom_metrics_app::server::{Server, ServerConfig, Shutdown};
use custom_metrics_app::temperature::SimulatedTemperature;

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{allocations, CountingAllocator};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// A client with a fixed buffer that reads whole responses without allocating.
struct RawClient {
    stream: TcpStream,
    buf: [u8; 64 * 1024],
    len: usize,
}

impl RawClient {
    fn connect(addr: SocketAddr) -> Box<RawClient> {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream.set_nodelay(true).unwrap();
        Box::new(RawClient {
            stream,
            buf: [0; 64 * 1024],
            len: 0,
        })
    }

    /// Sends `raw` and reads `responses` responses; returns the last status.
    fn exchange(&mut self, raw: &[u8], responses: usize, head: bool) -> u16 {
        self.stream.write_all(raw).unwrap();
        let mut status = 0;
        for _ in 0..responses {
            status = self.read_response(head);
        }
        status
    }

    fn read_response(&mut self, head: bool) -> u16 {
        let head_end = loop {
            if let Some(i) = self.buf[..self.len].windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            self.fill();
        };
        let status = parse_num(&self.buf[9..12]) as u16;
        let cl = find_content_length(&self.buf[..head_end]);
        let total = head_end + if head { 0 } else { cl };
        while self.len < total {
            self.fill();
        }
        self.buf.copy_within(total..self.len, 0);
        self.len -= total;
        status
    }

    fn fill(&mut self) {
        let n = self.stream.read(&mut self.buf[self.len..]).unwrap();
        assert!(n > 0, "server closed");
        self.len += n;
    }
}

fn parse_num(b: &[u8]) -> usize {
    b.iter()
        .take_while(|c| c.is_ascii_digit())
        .fold(0, |a, c| a * 10 + (c - b'0') as usize)
}

fn find_content_length(head: &[u8]) -> usize {
    let key = b"Content-Length: ";
    let i = head.windows(key.len()).position(|w| w == key).expect("Content-Length");
    parse_num(&head[i + key.len()..])
}

const GET_ROOT: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
const GET_METRICS: &[u8] = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
const GET_OPENMETRICS: &[u8] =
    b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: application/openmetrics-text;version=1.0.0,text/plain;q=0.5\r\n\r\n";
const HEAD_METRICS: &[u8] = b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
const TEMP_UP: &[u8] = b"POST /cpuTempUp HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi";
const BAD_METHOD: &[u8] = b"DELETE /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
const CHUNKED_DOWN: &[u8] = b"POST /cpuTempDown HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
    2;ext=1\r\nhi\r\n5\r\nthere\r\n0\r\nTrailer: t\r\n\r\n";
/// Head in one write, body in another: the head is held across reads.
const CHUNKED_HEAD: &[u8] = b"POST /cpuTempUp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
const CHUNKED_BODY: &[u8] = b"3\r\nabc\r\n0\r\n\r\n";

fn workload(c: &mut RawClient, pipelined: &[u8], rounds: usize) {
    for _ in 0..rounds {
        assert_eq!(c.exchange(GET_ROOT, 1, false), 200);
        assert_eq!(c.exchange(GET_METRICS, 1, false), 200);
        assert_eq!(c.exchange(GET_OPENMETRICS, 1, false), 200);
        assert_eq!(c.exchange(HEAD_METRICS, 1, true), 200);
        assert_eq!(c.exchange(TEMP_UP, 1, false), 200);
        assert_eq!(c.exchange(BAD_METHOD, 1, false), 405);
        assert_eq!(c.exchange(CHUNKED_DOWN, 1, false), 200);
        c.stream.write_all(CHUNKED_HEAD).unwrap();
        // Let the server read the head on its own before the body arrives.
        std::thread::sleep(Duration::from_micros(200));
        assert_eq!(c.exchange(CHUNKED_BODY, 1, false), 200);
        assert_eq!(c.exchange(pipelined, 16, false), 200);
    }
}

#[test]
fn steady_state_requests_allocate_nothing() {
    let shutdown = Arc::new(Shutdown::new());
    let app = Arc::new(App::new(
        Arc::new(SimulatedTemperature::new(50.0, 0.5)),
        shutdown.clone(),
    ));
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap());
    config.limits = Limits { max_body: 1024 };
    config.shutdown_timeout = Duration::from_secs(2);
    let server = Server::bind(config).unwrap();
    let addr = server.local_addr();
    let running = server.spawn(app.clone(), shutdown).unwrap();

    let pipelined: Vec<u8> = GET_ROOT.iter().copied().cycle().take(GET_ROOT.len() * 16).collect();
    let mut c = RawClient::connect(addr);
    // Warm-up: per-thread buffers and the exposition scratch space grow once.
    workload(&mut c, &pipelined, 200);

    let before = allocations();
    workload(&mut c, &pipelined, 2_000);
    let after = allocations();
    assert_eq!(after - before, 0, "allocations during 2,000 rounds (48,000 requests)");
    // 2,000 rounds of 24 requests, plus the warm-up's 200 rounds.
    assert_eq!(app.requests().total(), 2_200 * 24);

    // A new connection's whole life: connect, one request, close. Exactly
    // three allocations, all in tokio: the connection task (its future), the
    // socket's registration with the I/O driver (`Arc<ScheduledIo>`), and the
    // driver's list of registrations to release, which it rebuilds after each
    // release (`mem::take`), so connections closed in one driver turn share it.
    // Sequential connections each get their own turn: three apiece.
    let one_connection = || {
        let mut c2 = TcpStream::connect(addr).unwrap();
        c2.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut sink = [0u8; 512];
        while c2.read(&mut sink).unwrap() > 0 {}
        drop(c2);
        // Let the server task finish and the driver release the registration.
        std::thread::sleep(Duration::from_millis(20));
    };
    one_connection();
    one_connection();
    std::thread::sleep(Duration::from_millis(100));
    const CONNECTIONS: u64 = 20;
    let before = allocations();
    for _ in 0..CONNECTIONS {
        one_connection();
    }
    std::thread::sleep(Duration::from_millis(200));
    let per_connection = (allocations() - before) as f64 / CONNECTIONS as f64;
    println!("allocations per new connection (connect, request, close): {per_connection}");
    assert_eq!(per_connection, 3.0, "allocations per new connection");
    drop(c);
    running.stop();
}

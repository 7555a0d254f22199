//! Proves the request path allocates nothing: a counting global allocator
//! watches the whole process while a warmed-up server answers thousands of
//! keep-alive, pipelined, HEAD, temperature and `/metrics` requests (text and
//! OpenMetrics, with the latency histogram and the process metrics).
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

fn workload(c: &mut RawClient, pipelined: &[u8], rounds: usize) {
    for _ in 0..rounds {
        assert_eq!(c.exchange(GET_ROOT, 1, false), 200);
        assert_eq!(c.exchange(GET_METRICS, 1, false), 200);
        assert_eq!(c.exchange(GET_OPENMETRICS, 1, false), 200);
        assert_eq!(c.exchange(HEAD_METRICS, 1, true), 200);
        assert_eq!(c.exchange(TEMP_UP, 1, false), 200);
        assert_eq!(c.exchange(BAD_METHOD, 1, false), 405);
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
    assert_eq!(after - before, 0, "allocations during 2,000 rounds (44,000 requests)");
    // 2,000 rounds of 22 requests, plus the warm-up's 200 rounds.
    assert_eq!(app.requests().total(), 2_200 * 22);

    // A new connection's whole life: connect, one request, close. A request
    // that closes its connection (busybox wget, `wrk -H 'Connection: close'`,
    // ab) is answered before the socket is registered with tokio, and costs
    // nothing: checked while the worker also serves a keep-alive connection
    // (it accepts after readiness events) and while it serves none (it waits
    // in accept4).
    let one_shot = |request: &[u8]| {
        let mut c2 = TcpStream::connect(addr).unwrap();
        c2.write_all(request).unwrap();
        // Until the server closes, or (keep-alive) the response's body is in.
        let mut buf = [0u8; 512];
        let mut len = 0;
        loop {
            let n = c2.read(&mut buf[len..]).unwrap();
            len += n;
            if n == 0 || buf[..len].ends_with(b"custom metrics") {
                break;
            }
        }
        assert!(buf.starts_with(b"HTTP/1.1 200 OK\r\n"));
        drop(c2);
        // Let a registered connection's task finish and the driver release it.
        std::thread::sleep(Duration::from_millis(20));
    };
    let per_connection = |request: &[u8]| {
        one_shot(request);
        one_shot(request);
        std::thread::sleep(Duration::from_millis(100));
        const CONNECTIONS: u64 = 20;
        let before = allocations();
        for _ in 0..CONNECTIONS {
            one_shot(request);
        }
        std::thread::sleep(Duration::from_millis(200));
        (allocations() - before) as f64 / CONNECTIONS as f64
    };
    const CLOSE: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    const HTTP10: &[u8] = b"GET / HTTP/1.0\r\n\r\n";
    // What curl and GNU wget send: keep-alive, then they close after one response.
    const KEEP_ALIVE_ONCE: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    for idle_worker in [false, true] {
        if idle_worker {
            // The keep-alive client leaves: the worker has no connection of its own.
            c.stream.shutdown(std::net::Shutdown::Both).unwrap();
            std::thread::sleep(Duration::from_millis(100));
        }
        let close = per_connection(CLOSE);
        let http10 = per_connection(HTTP10);
        // Those must be watched for a next request: exactly three allocations,
        // all in tokio: the connection task (its future), the socket's
        // registration with the I/O driver (`Arc<ScheduledIo>`), and the
        // driver's list of registrations to release, which it rebuilds after
        // each release (`mem::take`); sequential connections get one each.
        let keep_alive_once = per_connection(KEEP_ALIVE_ONCE);
        println!(
            "allocations per new connection (idle worker: {idle_worker}): Connection: close {close}, \
             HTTP/1.0 {http10}, keep-alive then close {keep_alive_once}"
        );
        assert_eq!(close, 0.0, "allocations per Connection: close request");
        assert_eq!(http10, 0.0, "allocations per HTTP/1.0 request");
        assert_eq!(
            keep_alive_once, 3.0,
            "allocations per keep-alive client that sends one request"
        );
    }
    // 2 x 3 x 22 one-shot connections, each request counted once.
    assert_eq!(app.requests().total(), 2_200 * 22 + 2 * 3 * 22);
    drop(c);
    running.stop();
}

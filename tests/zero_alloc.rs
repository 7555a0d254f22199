//! Proves the request path allocates nothing: a counting global allocator
//! watches the whole process while a warmed-up server answers thousands of
//! keep-alive, pipelined, HEAD, temperature and `/metrics` requests (text and
//! OpenMetrics, with the latency histogram and the process metrics), chunked
//! uploads (their heads held in pooled buffers while the body is read), and
//! the experiment routes and flags (`/status`, `/delay`, `/work`, readiness,
//! `/version`, `--error-ratio`, `--delay`, the request log's lines), and the
//! same paths with `--experiments off`, answered as unknown paths.
//! The readiness toggles are exercised too, outside the measurement (see
//! `toggle_readiness`).
//!
//! The client side is written to allocate nothing during the measured phase
//! (fixed buffers, no formatting), so any allocation counted is the server's.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use custom_metrics_app::internals::app::{App, AppOptions, DelayRange, ErrorRatio, LogEntry, LogFormat, RequestLog};
use custom_metrics_app::internals::http::Limits;
use custom_metrics_app::internals::http::{Method, Status};
use custom_metrics_app::internals::server::{Server, ServerConfig, Shutdown};
use custom_metrics_app::internals::temperature::SimulatedTemperature;

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

/// The body's length; 0 without the header (only 204 leaves it out).
fn find_content_length(head: &[u8]) -> usize {
    let key = b"Content-Length: ";
    match head.windows(key.len()).position(|w| w == key) {
        Some(i) => parse_num(&head[i + key.len()..]),
        None => {
            assert_eq!(&head[9..12], b"204", "Content-Length missing");
            0
        }
    }
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

/// One test, its phases in turn: the allocation count is the whole
/// process's, and the test harness allocates when another test finishes.
#[test]
fn request_paths_allocate_nothing() {
    steady_state_requests_allocate_nothing();
    experiment_routes_and_flags_allocate_nothing();
    experiments_off_allocates_nothing();
    request_log_lines_allocate_nothing();
}

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
    assert_eq!(app.requests().total(), 2_200 * 24 + 2 * 3 * 22);
    drop(c);
    running.stop();
}

const STATUS_503: &[u8] = b"GET /status/503 HTTP/1.1\r\nHost: x\r\n\r\n";
const STATUS_204: &[u8] = b"POST /status/204 HTTP/1.1\r\nHost: x\r\n\r\n";
const STATUS_BAD: &[u8] = b"GET /status/418 HTTP/1.1\r\nHost: x\r\n\r\n";
const VERSION: &[u8] = b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n";
const DISABLE: &[u8] = b"POST /readyz/disable HTTP/1.1\r\nHost: x\r\n\r\n";
const READYZ: &[u8] = b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n";
const ENABLE: &[u8] = b"POST /readyz/enable HTTP/1.1\r\nHost: x\r\n\r\n";
const DELAY: &[u8] = b"GET /delay/1ms HTTP/1.1\r\nHost: x\r\n\r\n";
const WORK: &[u8] = b"GET /work/1ms HTTP/1.1\r\nHost: x\r\n\r\n";

/// Readiness toggles log a line on stderr each; under the test harness the
/// server threads' stderr is captured into a growing buffer (an allocation
/// of the harness, not of the server), so they run outside the measurement.
fn toggle_readiness(c: &mut RawClient) {
    assert_eq!(c.exchange(DISABLE, 1, false), 200);
    assert_eq!(c.exchange(READYZ, 1, false), 503);
    assert_eq!(c.exchange(ENABLE, 1, false), 200);
}

/// One round: 9 requests, 3 of them deferred.
fn experiment_workload(c: &mut RawClient, rounds: usize) {
    for _ in 0..rounds {
        assert_eq!(c.exchange(STATUS_503, 1, false), 503);
        assert_eq!(c.exchange(STATUS_204, 1, false), 204);
        assert_eq!(c.exchange(STATUS_BAD, 1, false), 400);
        assert_eq!(c.exchange(VERSION, 1, false), 200);
        assert_eq!(c.exchange(READYZ, 1, false), 200);
        assert_eq!(c.exchange(DELAY, 1, false), 200);
        assert_eq!(c.exchange(WORK, 1, false), 200);
        // `/` with --error-ratio 0.5 and --delay: one 200, one 500.
        let a = c.exchange(GET_ROOT, 1, false);
        let b = c.exchange(GET_ROOT, 1, false);
        assert_eq!(a + b, 700);
    }
}

fn experiment_routes_and_flags_allocate_nothing() {
    let shutdown = Arc::new(Shutdown::new());
    let options = AppOptions {
        error_ratio: ErrorRatio::new(0.5),
        delay: Some(DelayRange {
            min: Duration::from_micros(100),
            max: Duration::from_micros(500),
        }),
        work_threads: 1,
        request_log: None,
    };
    let app = App::new(Arc::new(SimulatedTemperature::new(50.0, 0.5)), shutdown.clone())
        .with_options(options)
        .unwrap();
    let app = Arc::new(app);
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap());
    config.shutdown_timeout = Duration::from_secs(2);
    let server = Server::bind(config).unwrap();
    let addr = server.local_addr();
    let running = server.spawn(app.clone(), shutdown).unwrap();
    let mut c = RawClient::connect(addr);
    // Warm-up: the work thread starts, timers and wakers are set up once.
    toggle_readiness(&mut c);
    experiment_workload(&mut c, 50);
    let before = allocations();
    experiment_workload(&mut c, 200);
    assert_eq!(
        allocations() - before,
        0,
        "allocations during 200 rounds (1,800 requests)"
    );
    drop(c);
    running.stop();
}

/// With `--experiments off`: the experiment paths answered as unknown ones,
/// and the seed's workload, which must not pay for the extra routing.
fn experiments_off_allocates_nothing() {
    let shutdown = Arc::new(Shutdown::new());
    let app = App::new(Arc::new(SimulatedTemperature::new(50.0, 0.5)), shutdown.clone()).with_experiments(false);
    let app = Arc::new(app);
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap());
    config.limits = Limits { max_body: 1024 };
    config.shutdown_timeout = Duration::from_secs(2);
    let server = Server::bind(config).unwrap();
    let addr = server.local_addr();
    let running = server.spawn(app.clone(), shutdown).unwrap();
    let pipelined: Vec<u8> = GET_ROOT.iter().copied().cycle().take(GET_ROOT.len() * 16).collect();
    let mut c = RawClient::connect(addr);
    let round = |c: &mut RawClient| {
        assert_eq!(c.exchange(STATUS_503, 1, false), 200);
        assert_eq!(c.exchange(STATUS_204, 1, false), 405);
        assert_eq!(c.exchange(DELAY, 1, false), 200);
        assert_eq!(c.exchange(WORK, 1, false), 200);
        assert_eq!(c.exchange(DISABLE, 1, false), 405);
        assert_eq!(c.exchange(READYZ, 1, false), 200);
        assert_eq!(c.exchange(VERSION, 1, false), 200);
        workload(c, &pipelined, 1);
    };
    for _ in 0..100 {
        round(&mut c);
    }
    let before = allocations();
    for _ in 0..500 {
        round(&mut c);
    }
    assert_eq!(
        allocations() - before,
        0,
        "allocations during 500 rounds (15,500 requests)"
    );
    drop(c);
    running.stop();
}

fn request_log_lines_allocate_nothing() {
    for format in [LogFormat::Text, LogFormat::Json] {
        let log = RequestLog::start_with_writer(format, std::io::sink()).unwrap();
        let entry = LogEntry {
            method: Method::Get,
            path: "/delay/10ms",
            status: Status::Ok,
            latency: Duration::from_micros(10_250),
        };
        for _ in 0..100 {
            log.record(&entry);
        }
        log.flush(Duration::from_secs(10));
        let before = allocations();
        for _ in 0..20_000 {
            log.record(&entry);
        }
        log.flush(Duration::from_secs(10));
        assert_eq!(allocations() - before, 0, "allocations for 20,000 {format:?} lines");
    }
}

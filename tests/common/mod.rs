//! Shared test support: an in-process server on 127.0.0.1:0 and a raw
//! HTTP/1.1 client that checks the framing of every byte it reads.
#![allow(dead_code)]

pub mod prometheus;

pub mod loadgen;

pub mod exposition;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use custom_metrics_app::internals::app::{App, AppOptions};
use custom_metrics_app::internals::http::Limits;
use custom_metrics_app::internals::server::{RunningServer, Server, ServerConfig, Shutdown};
use custom_metrics_app::internals::temperature::SimulatedTemperature;

pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

pub struct TestServer {
    pub app: Arc<App>,
    pub running: Option<RunningServer>,
    pub addr: SocketAddr,
}

impl TestServer {
    pub fn start(workers: usize) -> TestServer {
        TestServer::start_with(workers, |_| {})
    }

    /// A server on 127.0.0.1:0 with `workers`, a 1 KiB body limit, and what
    /// `configure` changes.
    pub fn start_with(workers: usize, configure: impl FnOnce(&mut ServerConfig)) -> TestServer {
        TestServer::start_with_options(workers, AppOptions::default(), configure)
    }

    /// Like [`TestServer::start_with`], with the app's experiment `options`.
    pub fn start_with_options(
        workers: usize,
        options: AppOptions,
        configure: impl FnOnce(&mut ServerConfig),
    ) -> TestServer {
        let simulated = |shutdown| {
            App::new(Arc::new(SimulatedTemperature::new(50.0, 10.0)), shutdown)
                .with_options(options)
                .expect("app options")
        };
        TestServer::start_app(workers, simulated, configure)
    }

    /// The same for the [`App`] that `app` builds around the server's shutdown handle.
    pub fn start_app(
        workers: usize,
        app: impl FnOnce(Arc<Shutdown>) -> App,
        configure: impl FnOnce(&mut ServerConfig),
    ) -> TestServer {
        let limits = Limits { max_body: 1024 };
        let shutdown = Arc::new(Shutdown::new());
        let app = Arc::new(app(shutdown.clone()));
        let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap());
        config.workers = workers;
        config.limits = limits;
        config.shutdown_timeout = Duration::from_secs(5);
        configure(&mut config);
        let server = Server::bind(config).expect("bind 127.0.0.1:0");
        let addr = server.local_addr();
        let running = server.spawn(app.clone(), shutdown).expect("spawn workers");
        TestServer {
            app,
            running: Some(running),
            addr,
        }
    }

    pub fn connect(&self) -> Client {
        Client::connect(self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop();
        }
    }
}

/// One parsed response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("utf-8 body")
    }
}

/// A blocking client over one connection, with a buffer of bytes read ahead.
pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect");
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, raw: &[u8]) {
        self.stream.write_all(raw).expect("write request");
    }

    /// Sends a GET with Host and reads the response.
    pub fn get(&mut self, path: &str) -> Response {
        self.request("GET", path)
    }

    pub fn request(&mut self, method: &str, path: &str) -> Response {
        self.send(format!("{method} {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes());
        self.read_response(method == "HEAD")
    }

    /// Reads one response; panics on bad framing or a timeout.
    pub fn read_response(&mut self, head_only: bool) -> Response {
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            self.fill();
        };
        let head = std::str::from_utf8(&self.buf[..head_end])
            .expect("ascii head")
            .to_owned();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        assert!(status_line.starts_with("HTTP/1.1 "), "status line {status_line:?}");
        let status: u16 = status_line[9..12].parse().expect("status code");
        let headers: Vec<(String, String)> = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (n, v) = l.split_once(": ").expect("header line");
                (n.to_owned(), v.to_owned())
            })
            .collect();
        // 204 is the one status without Content-Length (RFC 9110 forbids it).
        let len: usize = if status == 204 {
            assert!(!headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-length")));
            0
        } else {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                .expect("every response but 204 has Content-Length")
                .1
                .parse()
                .unwrap()
        };
        let body_len = if head_only { 0 } else { len };
        while self.buf.len() < head_end + body_len {
            self.fill();
        }
        let body = self.buf[head_end..head_end + body_len].to_vec();
        self.buf.drain(..head_end + body_len);
        Response { status, headers, body }
    }

    /// True if the server closed the connection (after any bytes still buffered).
    pub fn is_closed_by_server(&mut self) -> bool {
        let mut b = [0u8; 1];
        self.buf.is_empty() && matches!(self.stream.read(&mut b), Ok(0))
    }

    pub fn leftover(&self) -> &[u8] {
        &self.buf
    }

    fn fill(&mut self) {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).expect("read response");
        assert!(
            n > 0,
            "server closed mid-response; have {:?}",
            String::from_utf8_lossy(&self.buf)
        );
        self.buf.extend_from_slice(&chunk[..n]);
    }
}

/// Reads until EOF or an error, bounded; returns the bytes and whether the
/// connection ended (EOF or reset) rather than timing out.
pub fn read_to_end_bounded(s: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    s.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let start = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    while start.elapsed() < limit {
        match s.read(&mut buf) {
            Ok(0) => return (out, true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return (out, true),
        }
    }
    (out, false)
}

pub fn status_of(raw: &[u8]) -> u16 {
    std::str::from_utf8(&raw[9..12]).unwrap().parse().unwrap()
}

/// Sends `raw` on a new connection and checks that it is refused with
/// `status` and `Connection: close`, and that the server then closes.
pub fn expect_error_and_close(s: &TestServer, raw: &[u8], status: u16) {
    let mut c = s.connect();
    c.send(raw);
    let r = c.read_response(false);
    assert_eq!(
        r.status,
        status,
        "for {:?}",
        String::from_utf8_lossy(&raw[..raw.len().min(60)])
    );
    assert_eq!(r.header("Connection"), Some("close"));
    let _ = c.stream.shutdown(std::net::Shutdown::Write);
    assert!(c.is_closed_by_server());
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The samples of a text exposition as (series text, value).
pub fn samples(exposition: &str) -> Vec<(String, f64)> {
    exposition::Metrics::parse(exposition)
        .samples
        .into_iter()
        .map(|s| (s.series, s.value.parse().expect("sample value")))
        .collect()
}

pub fn sample(exposition: &str, series: &str) -> Option<f64> {
    samples(exposition)
        .into_iter()
        .find(|(s, _)| s == series)
        .map(|(_, v)| v)
}

/// The app binary: the one cargo built for this test, or, in the
/// autoscaling lab's example (which has no `CARGO_BIN_EXE_*`), the one beside
/// it (`target/<profile>/examples/..`).
pub fn app_binary() -> std::path::PathBuf {
    match option_env!("CARGO_BIN_EXE_custom-metrics-app") {
        Some(path) => path.into(),
        None => {
            let exe = std::env::current_exe().expect("current_exe");
            let profile_dir = exe
                .parent()
                .and_then(|examples| examples.parent())
                .expect("target/<profile>");
            profile_dir.join("custom-metrics-app")
        }
    }
}

/// The release or debug binary under test, started with `args` plus
/// `--listen 127.0.0.1:0`; returns it and the address it logged.
pub fn spawn_binary(args: &[&str]) -> (std::process::Child, SocketAddr) {
    spawn_binary_with_env(args, &[])
}

pub fn spawn_binary_with_env(args: &[&str], env: &[(&str, &str)]) -> (std::process::Child, SocketAddr) {
    let (child, addr, _) = spawn_binary_logged(args, env);
    (child, addr)
}

/// The same, and the start-up line it logged.
pub fn spawn_binary_logged(args: &[&str], env: &[(&str, &str)]) -> (std::process::Child, SocketAddr, String) {
    spawn_binary_with(args, env, std::process::Stdio::inherit())
}

/// Like [`spawn_binary_logged`], with the child's stdout sent to `stdout`
/// (a pipe for the request log).
pub fn spawn_binary_with(
    args: &[&str],
    env: &[(&str, &str)],
    stdout: std::process::Stdio,
) -> (std::process::Child, SocketAddr, String) {
    use std::io::BufRead;
    // The simulated source unless the test picks one: a developer machine may
    // have real sensors, which `auto` would prefer.
    let picks_source =
        args.contains(&"--temperature-source") || env.iter().any(|(k, _)| *k == "CMA_TEMPERATURE_SOURCE");
    let default_source: &[&str] = if picks_source {
        &[]
    } else {
        &["--temperature-source", "simulated"]
    };
    let mut child = std::process::Command::new(app_binary())
        .args(["--listen", "127.0.0.1:0"])
        .args(default_source)
        .args(args)
        .envs(env.iter().copied())
        .stdout(stdout)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start custom-metrics-app");
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufReader::new(stderr).lines();
    let first = lines.next().expect("a start-up line").expect("utf-8");
    let addr = listening_addr(&first);
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, addr, first)
}

/// The address in the server's start-up line (`… listening on ADDR with …`).
pub fn listening_addr(startup_line: &str) -> SocketAddr {
    startup_line
        .split_whitespace()
        .skip_while(|w| *w != "on")
        .nth(1)
        .unwrap_or_else(|| panic!("no address in {startup_line:?}"))
        .parse()
        .expect("socket address")
}

/// Whether a test needing an external program must fail (CI) or may skip.
pub fn require_tool(tool: &str) -> bool {
    let found = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("{tool} is required in CI but was not found");
        }
        eprintln!("\n!!!!! SKIPPING: {tool} not installed (apt-get install it; CI does) !!!!!\n");
    }
    found
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits for `child` to exit, failing the test after `limit`.
pub fn wait_for_exit(child: &mut std::process::Child, limit: Duration, what: &str) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        assert!(start.elapsed() < limit, "{what}: still running after {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A bounded HTTP/1.0 GET for Go servers (Prometheus, node_exporter): they
/// answer 1.0 without chunking and close, so the body is everything after
/// the head. `None` if it cannot connect.
pub fn http10_get(addr: SocketAddr, path: &str) -> Option<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect_timeout(&addr, IO_TIMEOUT).ok()?;
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let head_end = find(&raw, b"\r\n\r\n")? + 4;
    let status = std::str::from_utf8(raw.get(9..12)?).ok()?.parse().ok()?;
    Some((status, raw[head_end..].to_vec()))
}

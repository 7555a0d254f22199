//! Hostile and broken clients over real sockets: limits, malformed requests,
//! a thousand slowloris connections, descriptor exhaustion, panics, and
//! shutdown under load. The header, idle and write timeouts themselves are
//! tested exactly, on a paused clock, beside the connection code
//! (`src/server/connection/tests.rs`).

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown as NetShutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{read_to_end_bounded, spawn_binary, status_of, wait_for_exit, Client, TestServer};
use custom_metrics_app::internals::http::{Handler, Rejection, Request, ResponseWriter, Status};
use custom_metrics_app::internals::server::{Server, ServerConfig, Shutdown};

#[test]
fn stops_accepting_at_max_connections_and_resumes() {
    let s = TestServer::start_with(1, |c| c.max_connections = 2);
    let mut a = Client::connect(s.addr);
    let mut b = Client::connect(s.addr);
    assert_eq!(a.get("/").status, 200);
    assert_eq!(b.get("/").status, 200);
    let mut third = TcpStream::connect(s.addr).unwrap();
    third.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    third.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let mut buf = [0u8; 256];
    assert!(
        third.read(&mut buf).is_err(),
        "not served while two connections are open"
    );
    drop(a);
    third.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let n = third.read(&mut buf).expect("served once a slot frees");
    assert_eq!(status_of(&buf[..n]), 200);
    assert_eq!(b.get("/").status, 200);
}

/// Every hostile case, its status, and the route it is counted under.
#[test]
fn hostile_requests_get_the_right_status() {
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "bad method token",
            b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            400,
            "/",
        ),
        ("NUL in path", b"GET /\0 HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), 400, "/"),
        (
            "control byte in header",
            b"GET / HTTP/1.1\r\nHost: x\x07\r\n\r\n".to_vec(),
            400,
            "/",
        ),
        (
            "conflicting Content-Length",
            b"POST /cpuTempUp HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n".to_vec(),
            400,
            "cpuTempUp",
        ),
        (
            "negative Content-Length",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".to_vec(),
            400,
            "/",
        ),
        (
            "overflowing Content-Length",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n".to_vec(),
            400,
            "/",
        ),
        (
            "Transfer-Encoding and Content-Length",
            b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(),
            400,
            "metrics",
        ),
        (
            "Content-Length and Transfer-Encoding",
            b"POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n".to_vec(),
            400,
            "metrics",
        ),
        (
            "a coding before chunked",
            b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n".to_vec(),
            501,
            "healthz",
        ),
        (
            "chunked not last",
            b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n"
                .to_vec(),
            400,
            "healthz",
        ),
        (
            "chunked twice",
            b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n".to_vec(),
            400,
            "healthz",
        ),
        (
            "Transfer-Encoding on HTTP/1.0",
            b"POST /cpuTempUp HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(),
            400,
            "cpuTempUp",
        ),
        (
            "chunk data longer than its size",
            b"POST /cpuTempUp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n".to_vec(),
            400,
            "cpuTempUp",
        ),
        (
            "bare LF after a chunk size",
            b"POST /cpuTempUp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n".to_vec(),
            400,
            "cpuTempUp",
        ),
        (
            "asterisk-form with GET",
            b"GET * HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            400,
            "/",
        ),
        (
            "bad percent-encoding",
            b"GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            400,
            "/",
        ),
        (
            "very long path",
            format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "p".repeat(10_000)).into_bytes(),
            414,
            "/",
        ),
        (
            "unknown expectation",
            b"POST /readyz HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n".to_vec(),
            417,
            "readyz",
        ),
        (
            "body over the limit",
            b"POST /cpuTempDown HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n".to_vec(),
            413,
            "cpuTempDown",
        ),
        ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(), 505, "/"),
        (
            "TLS ClientHello",
            b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x00\x01\x02\x03".to_vec(),
            400,
            "/",
        ),
        ("missing Host on HTTP/1.1", b"GET / HTTP/1.1\r\n\r\n".to_vec(), 400, "/"),
    ];
    let s = TestServer::start(1);
    for (name, raw, status, api) in &cases {
        let mut c = s.connect();
        c.send(raw);
        let r = c.read_response(false);
        assert_eq!(r.status, *status, "{name}");
        assert_eq!(r.header("Connection"), Some("close"), "{name}");
        let _ = c.stream.shutdown(NetShutdown::Write);
        assert!(c.is_closed_by_server(), "{name}: closed");
        let code = Status::ALL.iter().find(|st| st.code() == *status).unwrap();
        assert!(s.app.requests().get(api, *code) >= 1, "{name}: counted under {api:?}");
    }
    assert_eq!(
        s.app.requests().total(),
        cases.len() as u64,
        "one count per response, no more"
    );
}

#[test]
fn tolerated_oddities_are_answered() {
    let s = TestServer::start(1);
    let mut c = s.connect();
    // Bare LF line endings (RFC 9112 §2.2 lets a recipient accept them).
    c.send(b"GET /healthz HTTP/1.1\nHost: x\n\n");
    assert_eq!(c.read_response(false).text(), "ok\n");
    // Absolute-form and percent-encoded targets route like the seed's Go server.
    c.send(b"GET http://example/cpu%54empUp?x HTTP/1.1\r\nHost: example\r\n\r\n");
    assert_eq!(c.read_response(false).text(), "60\n");
    // OPTIONS * is well-formed, and not a method we serve.
    c.send(b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(c.read_response(false).status, 405);
    // The same Content-Length twice is one Content-Length.
    c.send(b"POST /cpuTempDown HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab");
    assert_eq!(c.read_response(false).text(), "50\n");
    // Expect: 100-continue gets its interim response before the final one.
    c.send(b"POST /cpuTempUp HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    let mut interim = [0u8; 25];
    c.stream.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    c.send(b"hello");
    assert_eq!(c.read_response(false).text(), "60\n");
    assert_eq!(c.get("/").status, 200, "still in step after the body");
}

#[test]
fn a_client_reset_mid_request_harms_nothing() {
    let s = TestServer::start(1);
    for _ in 0..20 {
        let c = TcpStream::connect(s.addr).unwrap();
        (&c).write_all(b"GET /cpuTempUp HTTP/1.1\r\nHost: x\r\nX-Half: ")
            .unwrap();
        // SO_LINGER 0: close sends a reset instead of a FIN.
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: a valid socket fd and a correctly sized option value.
        unsafe {
            use std::os::fd::AsRawFd;
            libc::setsockopt(
                c.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&linger as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as u32,
            );
        }
        drop(c);
    }
    let mut c = s.connect();
    assert_eq!(
        c.get("/cpuTempUp").text(),
        "60\n",
        "no half request was answered or counted"
    );
    assert_eq!(s.app.requests().total(), 1);
}

/// Panics on `/panic`; otherwise answers 200.
struct Fragile(AtomicU64);

impl Handler for Fragile {
    type Note = ();
    fn handle(&self, req: &Request<'_>, res: &mut ResponseWriter<'_>) {
        assert!(req.path != "/panic", "deliberate panic in a handler");
        self.0.fetch_add(1, Ordering::Relaxed);
        res.respond(Status::Ok, &[], "text/plain", b"fine");
    }
    fn reject(&self, rejection: Rejection<'_>, res: &mut ResponseWriter<'_>) {
        res.respond(rejection.status, &[], "text/plain", b"");
    }
}

#[test]
fn a_panic_in_one_connection_does_not_take_the_server_down() {
    let shutdown = Arc::new(Shutdown::new());
    let handler = Arc::new(Fragile(AtomicU64::new(0)));
    let server = Server::bind(ServerConfig::new("127.0.0.1:0".parse().unwrap())).unwrap();
    let addr = server.local_addr();
    let running = server.spawn(handler.clone(), shutdown).unwrap();
    let mut steady = Client::connect(addr);
    assert_eq!(steady.get("/").status, 200);
    for _ in 0..3 {
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(b"GET /panic HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let (bytes, ended) = read_to_end_bounded(&mut c, Duration::from_secs(5));
        assert!(ended && bytes.is_empty(), "the panicking connection is dropped");
    }
    assert_eq!(steady.get("/").status, 200, "other connections carry on");
    assert_eq!(Client::connect(addr).get("/").status, 200, "new connections too");
    assert_eq!(handler.0.load(Ordering::Relaxed), 3);
    running.stop();
}

/// Raises this test process's soft limit on open files to `want`, so a
/// thousand client sockets fit; fails the test, with the reason, when the
/// hard limit or setrlimit does not allow it.
fn raise_nofile(want: libc::rlim_t) {
    let mut l = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `l` is a valid rlimit for getrlimit to write.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) };
    assert_eq!(rc, 0, "getrlimit: {}", std::io::Error::last_os_error());
    if l.rlim_cur >= want {
        return;
    }
    assert!(
        l.rlim_max >= want,
        "the hard open-file limit {} is below {want}",
        l.rlim_max
    );
    l.rlim_cur = want;
    // SAFETY: `l` is a valid rlimit for setrlimit to read.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &l) };
    assert_eq!(rc, 0, "setrlimit to {want}: {}", std::io::Error::last_os_error());
}

#[test]
fn a_thousand_slowloris_connections_do_not_block_a_normal_client() {
    raise_nofile(2048);
    let (mut child, addr) = spawn_binary(&["--workers", "1", "--header-timeout", "2"]);
    let mut slow: Vec<TcpStream> = (0..1000)
        .map(|_| {
            let mut c = TcpStream::connect(addr).expect("slowloris connect");
            c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: a").unwrap();
            c
        })
        .collect();
    let mut normal = Client::connect(addr);
    let t = Instant::now();
    assert_eq!(normal.get("/").status, 200);
    assert!(t.elapsed() < Duration::from_secs(2), "served while 1,000 heads hang");
    // After the header timeout every slow connection gets its 408 and is closed.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut closed_with_408 = 0;
    for c in &mut slow {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(10));
        let (bytes, ended) = read_to_end_bounded(c, left);
        if ended && bytes.len() >= 12 && status_of(&bytes) == 408 {
            closed_with_408 += 1;
        }
    }
    assert_eq!(closed_with_408, 1000);
    assert_eq!(Client::connect(addr).get("/healthz").status, 200);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn out_of_descriptors_the_server_backs_off_and_recovers() {
    use std::os::unix::process::CommandExt;
    let bin = env!("CARGO_BIN_EXE_custom-metrics-app");
    let mut cmd = std::process::Command::new(bin);
    cmd.args([
        "--listen",
        "127.0.0.1:0",
        "--workers",
        "1",
        "--temperature-source",
        "simulated",
    ])
    .stderr(std::process::Stdio::piped());
    // SAFETY: only async-signal-safe setrlimit between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let l = libc::rlimit {
                rlim_cur: 48,
                rlim_max: 48,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &l) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let lines = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let lines = lines.clone();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for (i, l) in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
                .enumerate()
            {
                if i == 0 {
                    let _ = tx.send(l.clone());
                }
                lines.lock().unwrap().push(l);
            }
        });
    }
    let first = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let addr = common::listening_addr(&first);
    let mut kept = Client::connect(addr);
    assert_eq!(kept.get("/").status, 200);
    // Far more connections than the server has descriptors left. Each sends
    // the start of a head: under TCP_DEFER_ACCEPT the kernel would keep silent
    // ones to itself, and no descriptor of ours would be used.
    let flood: Vec<TcpStream> = (0..120)
        .map(|_| {
            let mut c = TcpStream::connect(addr).unwrap();
            c.write_all(b"GET / HT").unwrap();
            c
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        kept.get("/healthz").status,
        200,
        "existing connections are still served"
    );
    drop(flood);
    // Descriptors free up: new connections are served again without help.
    let start = Instant::now();
    loop {
        let mut c = TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut buf = [0u8; 128];
        if matches!(c.read(&mut buf), Ok(n) if n > 12 && status_of(&buf) == 200) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "never recovered");
    }
    let log = lines.lock().unwrap().join("\n");
    let complaints = log.lines().filter(|l| l.contains("accept failed")).count();
    assert!(complaints >= 1, "EMFILE was logged: {log}");
    assert!(complaints <= 5, "logged at most about once a second: {log}");
    assert!(child.try_wait().unwrap().is_none(), "still running");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn sigterm_under_load_finishes_whole_responses_and_exits_zero() {
    let (mut child, addr) = spawn_binary(&["--workers", "2", "--shutdown-timeout", "5"]);
    let stop = Arc::new(AtomicBool::new(false));
    let whole = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (stop, whole) = (stop.clone(), whole.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Ok(mut s) = TcpStream::connect(addr) else { return };
                    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                    for _ in 0..50 {
                        if s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").is_err() {
                            break;
                        }
                        match read_one_response(&mut s) {
                            Ok(true) => _ = whole.fetch_add(1, Ordering::Relaxed),
                            Ok(false) => break, // closed between responses: fine
                            Err(partial) => panic!("a response was cut off: {partial}"),
                        }
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: kill(2) on our child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = wait_for_exit(&mut child, Duration::from_secs(8), "within the shutdown timeout");
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().expect("no client saw a cut-off response");
    }
    assert_eq!(status.code(), Some(0));
    assert!(whole.load(Ordering::Relaxed) > 10);
}

/// Ok(true): one whole response read; Ok(false): the connection ended (EOF or
/// reset) before the response's first byte; Err: it ended inside a response.
fn read_one_response(s: &mut TcpStream) -> Result<bool, String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = common::find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .ok_or(head.clone())?
                .parse()
                .unwrap();
            while buf.len() < end + 4 + len {
                match s.read(&mut chunk) {
                    Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                    _ => return Err(format!("{} of {} body bytes", buf.len() - end - 4, len)),
                }
            }
            return Ok(true);
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) if buf.is_empty() => return Ok(false),
            Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return Err(format!("head cut off after {} bytes", buf.len())),
        }
    }
}

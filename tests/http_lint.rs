//! Every answer the server gives, linted by REDbot (PyPI `redbot`, pinned in
//! requirements-test.txt) against the real binary on loopback: each route
//! and method, `/metrics` in both formats, `HEAD`, an unknown path, refused
//! methods, and the early answers the connection loop writes itself (their
//! raw bytes, read here, linted by REDbot's `httplint`). Any note rated a
//! warning or bad fails the test, apart from [`ACCEPTED`]. Every answer must
//! also say `Cache-Control: no-store` (issue 24).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{read_to_end_bounded, require_tool, spawn_binary};

/// Notes rated a warning or bad that are right for this server, with why.
/// The first three are REDbot's notes on the status code itself, which it
/// raises on any such answer: they say the request was refused, which is
/// what the server means there.
const ACCEPTED: &[(&str, &str)] = &[
    // Every 400: a malformed request or a bad `/status/{code}`, `/delay/…`
    // or `/work/…` parameter is meant to get exactly that answer.
    ("STATUS_BAD_REQUEST", "a 400 refuses a malformed request or parameter"),
    // 505 to an HTTP/2 preface: the server speaks HTTP/1.x only (h2c is
    // not offered), and says so rather than misreading the bytes.
    ("STATUS_VERSION_NOT_SUPPORTED", "HTTP/1.0 and 1.1 only"),
    // 414 to a request line over the 8 KiB head limit: no route is that long.
    ("STATUS_URI_TOO_LONG", "the head limit bounds memory per connection"),
    // `/status/201` injects the status only (error-injection experiments
    // count by code); nothing is created, so there is no Location to give.
    ("CREATED_WITHOUT_LOCATION", "an injected 201 creates nothing"),
];

/// What the routes are asked, after [`READINESS`]'s first line.
const CHECKS: &[&str] = &[
    "GET /",
    "HEAD /",
    "GET /no/such/path",
    "GET /cpuTempUp",
    "POST /cpuTempUp",
    "GET /cpuTempDown",
    "POST /cpuTempDown",
    "GET /metrics",
    "GET /metrics Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
    "GET /metrics Accept: text/plain;version=0.0.4",
    "HEAD /metrics",
    "GET /healthz",
    "HEAD /healthz",
    "GET /readyz",
    "GET /version",
    "HEAD /version",
    "GET /status/200",
    "GET /status/201",
    "GET /status/204",
    "GET /status/404",
    "GET /status/429",
    "POST /status/500",
    "HEAD /status/503",
    "GET /status/999",
    "GET /delay/10ms",
    "HEAD /delay/5ms",
    "GET /delay/forever",
    "GET /work/1ms",
    "GET /work/5s",
    // Refused methods (405 with Allow).
    "POST /",
    "PUT /",
    "DELETE /metrics",
    "PATCH /healthz",
    "GET /readyz/disable",
    "OPTIONS /version",
];

/// Run one batch after another, so the probe sees the state each toggle set.
const READINESS: &[&[&str]] = &[
    &["POST /readyz/disable"],
    &["GET /readyz", "HEAD /readyz"],
    &["POST /readyz/enable"],
    &["GET /readyz"],
];

/// Broken requests the connection loop answers itself, before any route.
fn early_answers() -> Vec<(&'static str, Vec<u8>)> {
    let many: String = (0..40).map(|i| format!("X-{i}: v\r\n")).collect();
    vec![
        ("400 garbage", b"GARBAGE\r\n\r\n".to_vec()),
        ("400 no Host", b"GET / HTTP/1.1\r\n\r\n".to_vec()),
        ("505 HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec()),
        (
            "431 many header fields",
            format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n").into_bytes(),
        ),
        (
            "414 long request line",
            format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(9000)).into_bytes(),
        ),
        (
            "413 body too large",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n".to_vec(),
        ),
        (
            "501 unknown transfer coding",
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n".to_vec(),
        ),
        (
            "417 unknown expectation",
            b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\n".to_vec(),
        ),
        // A head that never ends: the header timeout (1 s here) answers 408.
        (
            "408 head not received in time",
            b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: a".to_vec(),
        ),
    ]
}

/// One REDbot (or httplint) verdict, as tests/lint/redbot_check.py prints it.
struct Verdict {
    what: String,
    status: Option<u16>,
    cache_control: String,
    error: Option<String>,
    /// Notes rated a warning or bad (subnotes included): `(id, summary)`.
    complaints: Vec<(String, String)>,
}

fn run_checker(lines: &[String]) -> Vec<Verdict> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lint/redbot_check.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(lines.join("\n").as_bytes())
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    // Bounded: REDbot's own timeouts end a check that gets no answer.
    let status = common::wait_for_exit(&mut child, Duration::from_secs(120), "redbot_check.py");
    let mut out = String::new();
    stdout.read_to_string(&mut out).unwrap();
    assert!(status.success(), "redbot_check.py failed: {status}");
    let verdicts: Vec<Verdict> = out.lines().map(verdict).collect();
    assert_eq!(verdicts.len(), lines.len(), "one verdict per check:\n{out}");
    verdicts
}

fn verdict(line: &str) -> Verdict {
    let mut fields = line.split('\t');
    let mut next = || fields.next().unwrap_or_default().to_owned();
    let (request, status, cache_control, error) = (next(), next(), next(), next());
    let (method, url) = request.split_once(' ').unwrap_or((&request, ""));
    // The path only: the port changes from run to run.
    let target = url
        .strip_prefix("http://")
        .map_or(url, |rest| rest.find('/').map_or(rest, |i| &rest[i..]));
    Verdict {
        what: format!("{method} {target}"),
        status: status.parse().ok(),
        cache_control,
        error: (error != "-").then_some(error),
        complaints: fields
            .map(|c| {
                let (id, summary) = c.split_once('|').unwrap_or((c, ""));
                (id.to_owned(), summary.to_owned())
            })
            .collect(),
    }
}

/// Sends `raw` on a new connection and returns what came back until the
/// server closed.
fn raw_answer(addr: SocketAddr, raw: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(raw).unwrap();
    let (bytes, ended) = read_to_end_bounded(&mut s, Duration::from_secs(10));
    assert!(ended, "the server closes after an early answer");
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    bytes
}

#[test]
fn every_answer_is_lint_clean_and_never_stored() {
    if !require_tool("redbot") {
        return;
    }
    let (mut server, addr) = spawn_binary(&["--header-timeout", "1", "--max-body-bytes", "100"]);
    let base = format!("http://{addr}");
    let with_base = |check: &&str| {
        let (method, rest) = check.split_once(' ').unwrap();
        format!("{method} {base}{rest}")
    };

    let mut verdicts = run_checker(&CHECKS.iter().map(with_base).collect::<Vec<_>>());
    for batch in READINESS {
        verdicts.extend(run_checker(&batch.iter().map(with_base).collect::<Vec<_>>()));
    }
    let dir = std::env::temp_dir().join(format!("cma-http-lint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let raws: Vec<String> = early_answers()
        .into_iter()
        .enumerate()
        .map(|(i, (label, raw))| {
            let answer = raw_answer(addr, &raw);
            let path = dir.join(format!("answer-{i}"));
            std::fs::write(&path, &answer).unwrap();
            format!("RAW {} {}", label.replace(' ', "_"), path.display())
        })
        .collect();
    verdicts.extend(run_checker(&raws));
    let _ = std::fs::remove_dir_all(&dir);

    let mut failures = Vec::new();
    for v in &verdicts {
        println!(
            "{:<40} {:>3} {:?} {:?}",
            v.what,
            v.status.unwrap_or(0),
            v.cache_control,
            v.complaints.iter().map(|c| &c.0).collect::<Vec<_>>()
        );
        if let Some(e) = &v.error {
            failures.push(format!("{}: {e}", v.what));
        }
        if v.cache_control != "no-store" {
            failures.push(format!("{}: Cache-Control {:?}", v.what, v.cache_control));
        }
        for (id, summary) in &v.complaints {
            if !ACCEPTED.iter().any(|(a, _)| a == id) {
                failures.push(format!("{}: {id}: {summary}", v.what));
            }
        }
    }
    // The early answers are the statuses their labels say.
    for v in verdicts.iter().filter(|v| v.what.starts_with("RAW ")) {
        let label_code: u16 = v.what[4..7].parse().unwrap();
        assert_eq!(v.status, Some(label_code), "{}", v.what);
    }
    let status_of = |what: &str| verdicts.iter().find(|v| v.what == what).and_then(|v| v.status);
    assert_eq!(status_of("GET /readyz/disable"), Some(405));
    assert_eq!(status_of("HEAD /readyz"), Some(503), "disabled between the batches");
    assert_eq!(status_of("GET /status/204"), Some(204));
    let _ = server.kill();
    let _ = server.wait();
    assert!(failures.is_empty(), "REDbot complaints:\n{}", failures.join("\n"));
}

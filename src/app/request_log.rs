//! `--log-requests`: one line per answered request on stdout, as text or
//! JSON (`--log-format`), written by a thread of its own.
//!
//! A worker formats its line on the stack and copies it into a bounded ring
//! under a short lock; it never allocates and never waits for stdout. When
//! stdout does not keep up (a slow log pipeline, a pipe nobody reads) and the
//! ring is full, the line is dropped, counted in
//! `custom_metrics_app_request_log_dropped_total`, and the writer says how
//! many were dropped once it gets through again. Off, none of this exists:
//! the app holds no `RequestLog` and the request path tests one `Option`.

use std::io::Write;
use std::mem::ManuallyDrop;
use std::os::fd::FromRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::{Condvar, Mutex};

use crate::http::{civil_from_days, Method, Status};
use crate::metrics::{Counter, Desc, MetricType};

pub(super) const DROPPED_NAME: &str = "custom_metrics_app_request_log_dropped_total";

/// Bytes of lines waiting for stdout: some 5000 lines, a few seconds of a
/// busy pod's requests while the log pipeline catches up.
const RING_BYTES: usize = 512 * 1024;
/// Longest line; a longer path is cut.
const LINE_MAX: usize = 512;
const PATH_MAX: usize = 256;

/// How each line is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `2026-12-02T13:21:06.123Z GET /delay/1s 200 1.000512s`
    Text,
    /// `{"time":"…","method":"GET","path":"/delay/1s","status":200,"latency_seconds":1.000512}`
    Json,
}

/// One answered request, as logged.
#[derive(Clone, Copy, Debug)]
pub struct LogEntry<'a> {
    pub method: Method,
    pub path: &'a str,
    pub status: Status,
    pub latency: Duration,
}

/// The request log: the ring workers write into and the thread that empties it.
pub struct RequestLog {
    format: LogFormat,
    shared: Arc<Shared>,
    dropped: Arc<Counter>,
}

struct Shared {
    ring: Mutex<Ring>,
    /// Signalled when the ring stops being empty, and when it empties.
    changed: Condvar,
}

struct Ring {
    bytes: Box<[u8]>,
    start: usize,
    len: usize,
    /// Lines dropped since the writer last reported.
    dropped: u64,
}

impl RequestLog {
    /// Starts the writer thread on stdout.
    pub fn start(format: LogFormat) -> std::io::Result<RequestLog> {
        // SAFETY: fd 1 is open for the whole process; ManuallyDrop keeps it open.
        let stdout = RawStdout(ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(1) }));
        RequestLog::start_with_writer(format, stdout)
    }

    /// Starts the writer thread on `out` instead of stdout (tests).
    pub fn start_with_writer(format: LogFormat, out: impl Write + Send + 'static) -> std::io::Result<RequestLog> {
        let shared = Arc::new(Shared {
            ring: Mutex::new(Ring {
                bytes: vec![0; RING_BYTES].into_boxed_slice(),
                start: 0,
                len: 0,
                dropped: 0,
            }),
            changed: Condvar::new(),
        });
        let writer = shared.clone();
        std::thread::Builder::new()
            .name("request-log".into())
            .spawn(move || write_out(&writer, format, out))?;
        let desc = Desc::new(
            DROPPED_NAME,
            "Request log lines dropped because stdout did not keep up.",
            MetricType::Counter,
            &[],
        )
        .expect("constant metric name is valid");
        Ok(RequestLog {
            format,
            shared,
            dropped: Arc::new(Counter::new(desc)),
        })
    }

    pub fn dropped_collector(&self) -> Arc<Counter> {
        self.dropped.clone()
    }

    /// Queues one line; drops (and counts) it when the ring is full.
    pub fn record(&self, entry: &LogEntry<'_>) {
        let mut line = Line::default();
        match self.format {
            LogFormat::Text => text_line(&mut line, entry),
            LogFormat::Json => json_line(&mut line, entry),
        }
        let line = line.bytes();
        let mut ring = self.shared.ring.lock();
        if RING_BYTES - ring.len < line.len() {
            ring.dropped += 1;
            drop(ring);
            self.dropped.inc();
            return;
        }
        let was_empty = ring.len == 0;
        ring.push(line);
        drop(ring);
        if was_empty {
            self.shared.changed.notify_all();
        }
    }

    /// Waits (at most `limit`) for the queued lines to reach stdout: at exit.
    pub fn flush(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        let mut ring = self.shared.ring.lock();
        while ring.len > 0 {
            if self.shared.changed.wait_until(&mut ring, deadline).timed_out() {
                return;
            }
        }
    }
}

/// fd 1 without std's line buffering (one write per chunk, not per line)
/// and without closing it on drop.
struct RawStdout(ManuallyDrop<std::fs::File>);

impl Write for RawStdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        (&*self.0).write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Ring {
    fn push(&mut self, line: &[u8]) {
        let cap = self.bytes.len();
        let end = (self.start + self.len) % cap;
        let first = line.len().min(cap - end);
        self.bytes[end..end + first].copy_from_slice(&line[..first]);
        self.bytes[..line.len() - first].copy_from_slice(&line[first..]);
        self.len += line.len();
    }
}

/// The writer thread: moves queued bytes to `out`, then reports drops.
fn write_out(shared: &Shared, format: LogFormat, mut out: impl Write) {
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let (n, dropped) = {
            let mut ring = shared.ring.lock();
            while ring.len == 0 && ring.dropped == 0 {
                shared.changed.notify_all(); // flush() waits for an empty ring
                shared.changed.wait(&mut ring);
            }
            let cap = ring.bytes.len();
            let n = ring.len.min(cap - ring.start).min(chunk.len());
            chunk[..n].copy_from_slice(&ring.bytes[ring.start..ring.start + n]);
            ring.start = (ring.start + n) % cap;
            ring.len -= n;
            // Reported once the backlog is out, so the note follows the gap.
            let dropped = if ring.len == 0 {
                std::mem::take(&mut ring.dropped)
            } else {
                0
            };
            (n, dropped)
        };
        if out.write_all(&chunk[..n]).is_err() {
            // stdout is gone: keep emptying the ring so workers never fill it for nothing.
            continue;
        }
        if dropped > 0 {
            let mut note = Line::default();
            dropped_line(&mut note, format, dropped);
            let _ = out.write_all(note.bytes());
        }
    }
}

/// A line built on the stack, cut at [`LINE_MAX`].
struct Line {
    buf: [u8; LINE_MAX],
    len: usize,
}

impl Default for Line {
    fn default() -> Line {
        Line {
            buf: [0; LINE_MAX],
            len: 0,
        }
    }
}

impl Line {
    fn push(&mut self, bytes: &[u8]) {
        // One byte stays free for the newline.
        let n = bytes.len().min(LINE_MAX - 1 - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.len += n;
    }

    fn bytes(&mut self) -> &[u8] {
        self.buf[self.len] = b'\n';
        &self.buf[..=self.len]
    }
}

fn method_name(m: Method) -> &'static [u8] {
    match m {
        Method::Get => b"GET",
        Method::Head => b"HEAD",
        Method::Post => b"POST",
        Method::Other => b"OTHER",
    }
}

fn text_line(line: &mut Line, e: &LogEntry<'_>) {
    push_time(line);
    line.push(b" ");
    line.push(method_name(e.method));
    line.push(b" ");
    line.push(&e.path.as_bytes()[..e.path.len().min(PATH_MAX)]);
    line.push(b" ");
    line.push(e.status.as_str().as_bytes());
    line.push(b" ");
    push_seconds(line, e.latency);
    line.push(b"s");
}

fn json_line(line: &mut Line, e: &LogEntry<'_>) {
    line.push(b"{\"time\":\"");
    push_time(line);
    line.push(b"\",\"method\":\"");
    line.push(method_name(e.method));
    line.push(b"\",\"path\":\"");
    for &b in &e.path.as_bytes()[..e.path.len().min(PATH_MAX)] {
        match b {
            b'"' => line.push(b"\\\""),
            b'\\' => line.push(b"\\\\"),
            0x20..=0x7e => line.push(&[b]),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                line.push(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
            }
        }
    }
    line.push(b"\",\"status\":");
    line.push(e.status.as_str().as_bytes());
    line.push(b",\"latency_seconds\":");
    push_seconds(line, e.latency);
    line.push(b"}");
}

fn dropped_line(line: &mut Line, format: LogFormat, dropped: u64) {
    let mut digits = itoa::Buffer::new();
    let count = digits.format(dropped).as_bytes();
    match format {
        LogFormat::Text => {
            push_time(line);
            line.push(b" request log: ");
            line.push(count);
            line.push(b" line(s) dropped, stdout did not keep up");
        }
        LogFormat::Json => {
            line.push(b"{\"time\":\"");
            push_time(line);
            line.push(b"\",\"msg\":\"request log lines dropped, stdout did not keep up\",\"dropped\":");
            line.push(count);
            line.push(b"}");
        }
    }
}

/// Seconds with microsecond precision: `0.000123`.
fn push_seconds(line: &mut Line, d: Duration) {
    let mut itoa = itoa::Buffer::new();
    line.push(itoa.format(d.as_secs()).as_bytes());
    let micros = d.subsec_micros();
    let digits = [
        b'.',
        b'0' + (micros / 100_000) as u8,
        b'0' + (micros / 10_000 % 10) as u8,
        b'0' + (micros / 1000 % 10) as u8,
        b'0' + (micros / 100 % 10) as u8,
        b'0' + (micros / 10 % 10) as u8,
        b'0' + (micros % 10) as u8,
    ];
    line.push(&digits);
}

/// Now, UTC, `2026-12-02T13:21:06.123Z`.
fn push_time(line: &mut Line) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let mut t = *b"0000-00-00T00:00:00.000Z";
    let put = |t: &mut [u8; 24], at: usize, v: i64, width: usize| {
        let mut v = v;
        for i in (0..width).rev() {
            t[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(&mut t, 0, year.clamp(0, 9999), 4);
    put(&mut t, 5, month as i64, 2);
    put(&mut t, 8, day as i64, 2);
    put(&mut t, 11, rem / 3600, 2);
    put(&mut t, 14, rem / 60 % 60, 2);
    put(&mut t, 17, rem % 60, 2);
    put(&mut t, 20, now.subsec_millis() as i64, 3);
    line.push(&t);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> LogEntry<'_> {
        LogEntry {
            method: Method::Get,
            path,
            status: Status::ServiceUnavailable,
            latency: Duration::from_micros(1_000_512),
        }
    }

    #[test]
    fn text_and_json_lines() {
        let mut line = Line::default();
        text_line(&mut line, &entry("/status/503"));
        let text = std::str::from_utf8(line.bytes()).unwrap().to_string();
        assert!(text.ends_with(" GET /status/503 503 1.000512s\n"), "{text}");
        assert_eq!(text.len(), 24 + " GET /status/503 503 1.000512s\n".len());
        let mut line = Line::default();
        json_line(&mut line, &entry("/a\"b\\c\u{e9}"));
        let json = std::str::from_utf8(line.bytes()).unwrap();
        assert!(
            json.contains(r#""path":"/a\"b\\c\u00c3\u00a9","status":503,"latency_seconds":1.000512}"#),
            "{json}"
        );
    }

    #[test]
    fn long_paths_are_cut() {
        let long = "/".repeat(2000);
        let mut line = Line::default();
        json_line(&mut line, &entry(&long));
        assert!(line.bytes().len() < LINE_MAX);
    }

    /// A writer that blocks until released: a stdout nobody reads.
    struct Stuck(Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>, Vec<u8>);
    impl Write for Stuck {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            let (m, c) = &*self.0;
            let _g = c.wait_while(m.lock().unwrap(), |released| !*released).unwrap();
            self.1.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stuck_stdout_drops_and_counts() {
        let gate = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let log = RequestLog::start_with_writer(LogFormat::Text, Stuck(gate.clone(), Vec::new())).unwrap();
        let started = Instant::now();
        for _ in 0..20_000 {
            log.record(&entry("/"));
        }
        // Never waited for the writer (bounded generously: no speed claim).
        assert!(started.elapsed() < Duration::from_secs(30));
        assert!(log.dropped.get() > 0);
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        log.flush(Duration::from_secs(10));
    }
}

//! What the load generator prints: a progress line on stderr every few
//! seconds, and the final summary on stdout, one `key: value` per line so
//! that people and scripts (the integration tests) read the same text.

use std::fmt;
use std::time::Duration;

use super::args::{ConnectionMode, Method};
use super::client::ErrorKind;
use super::duration;
use super::stats::Stats;
use super::target::Url;

/// The progress line: where the run is and the completion rate since the last line.
pub fn progress_line(elapsed: Duration, total: Duration, stats: &Stats, recent_rate: f64) -> String {
    format!(
        "loadgen: {:.1}s/{} sent {} completed {} errors {} late {} rate {}/s",
        elapsed.as_secs_f64(),
        duration::format(total),
        stats.sent,
        stats.completed,
        stats.errors(),
        stats.late,
        rate(recent_rate),
    )
}

/// What was asked, for the summary.
#[derive(Clone, Debug)]
pub struct Plan {
    pub url: Url,
    pub method: Method,
    pub connection: ConnectionMode,
    pub concurrency: usize,
    pub rate: f64,
    pub duration: Duration,
    pub planned: u64,
}

/// The end of a run.
pub struct Summary<'a> {
    pub plan: &'a Plan,
    pub stats: &'a Stats,
    /// Start to the end of the last request.
    pub elapsed: Duration,
    /// Scheduled requests never sent: connections busy until the end, or interrupted.
    pub unsent: u64,
    pub interrupted: bool,
}

impl Summary<'_> {
    /// Completed requests per second over the run: the asked duration, or
    /// the elapsed time if answers came in after it or the run was interrupted.
    pub fn achieved_rate(&self) -> f64 {
        let window = if self.interrupted {
            self.elapsed
        } else {
            self.elapsed.max(self.plan.duration)
        };
        if window.is_zero() {
            0.0
        } else {
            self.stats.completed as f64 / window.as_secs_f64()
        }
    }

    /// The process's exit status: 0 when at least one request got an answer.
    pub fn exit_code(&self) -> i32 {
        if self.stats.completed > 0 {
            0
        } else {
            1
        }
    }
}

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (p, s) = (self.plan, self.stats);
        writeln!(f, "url: {}", p.url)?;
        writeln!(f, "method: {}", p.method.name())?;
        writeln!(f, "connection: {}", p.connection.name())?;
        writeln!(f, "concurrency: {}", p.concurrency)?;
        writeln!(
            f,
            "asked: {}/s for {} ({} requests)",
            rate(p.rate),
            duration::format(p.duration),
            p.planned
        )?;
        writeln!(f, "elapsed: {:.3}s", self.elapsed.as_secs_f64())?;
        if self.interrupted {
            writeln!(f, "interrupted: yes")?;
        }
        writeln!(f, "sent: {}", s.sent)?;
        writeln!(f, "late: {}", s.late)?;
        writeln!(f, "unsent: {}", self.unsent)?;
        writeln!(f, "completed: {}", s.completed)?;
        writeln!(f, "errors: {}{}", s.errors(), error_kinds(s))?;
        writeln!(f, "status: {}", statuses(s))?;
        writeln!(f, "achieved: {}/s", rate(self.achieved_rate()))?;
        writeln!(f, "latency: {}", latency(s))
    }
}

/// ` (connect=2 timeout=1)`, or nothing without errors.
fn error_kinds(s: &Stats) -> String {
    let kinds: Vec<String> = ErrorKind::ALL
        .iter()
        .filter_map(|k| s.errors.get(k).map(|n| format!("{}={n}", k.name())))
        .collect();
    if kinds.is_empty() {
        String::new()
    } else {
        format!(" ({})", kinds.join(" "))
    }
}

/// `200=398 503=2`, or `none`.
fn statuses(s: &Stats) -> String {
    if s.statuses.is_empty() {
        return "none".into();
    }
    s.statuses
        .iter()
        .map(|(code, n)| format!("{code}={n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `p50=0.210ms p90=0.350ms p99=0.800ms max=1.200ms`, or `none`.
fn latency(s: &Stats) -> String {
    let h = &s.latency;
    let (Some(p50), Some(p90), Some(p99)) = (h.quantile(0.5), h.quantile(0.9), h.quantile(0.99)) else {
        return "none".into();
    };
    let ms = |d: Duration| format!("{:.3}ms", d.as_secs_f64() * 1e3);
    format!("p50={} p90={} p99={} max={}", ms(p50), ms(p90), ms(p99), ms(h.max()))
}

/// Rates with a precision that suits them: 0.2, 3.000, 199.9.
fn rate(r: f64) -> String {
    if r >= 100.0 {
        format!("{r:.1}")
    } else {
        format!("{r:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loadgen::stats::Outcome;

    fn plan() -> Plan {
        Plan {
            url: Url::parse("http://127.0.0.1:3000/").unwrap(),
            method: Method::Get,
            connection: ConnectionMode::KeepAlive,
            concurrency: 4,
            rate: 200.0,
            duration: Duration::from_secs(2),
            planned: 400,
        }
    }

    #[test]
    fn summary_lines() {
        let mut stats = Stats::default();
        for i in 0..398 {
            stats.record(&Outcome {
                late: i == 0,
                written: true,
                result: Ok(if i < 396 { 200 } else { 503 }),
                latency: Duration::from_micros(100 + i),
            });
        }
        for kind in [ErrorKind::Timeout, ErrorKind::Connect] {
            stats.record(&Outcome {
                late: false,
                written: kind == ErrorKind::Timeout,
                result: Err(kind),
                latency: Duration::ZERO,
            });
        }
        let plan = plan();
        let summary = Summary {
            plan: &plan,
            stats: &stats,
            elapsed: Duration::from_millis(1999),
            unsent: 0,
            interrupted: false,
        };
        let text = summary.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[..6],
            [
                "url: http://127.0.0.1:3000/",
                "method: GET",
                "connection: keep-alive",
                "concurrency: 4",
                "asked: 200.0/s for 2s (400 requests)",
                "elapsed: 1.999s",
            ]
        );
        assert_eq!(
            lines[6..13],
            [
                "sent: 399",
                "late: 1",
                "unsent: 0",
                "completed: 398",
                "errors: 2 (connect=1 timeout=1)",
                "status: 200=396 503=2",
                "achieved: 199.0/s",
            ]
        );
        // 298 µs is the median; its bucket ends at 303.103 µs (within 1/32).
        assert!(lines[13].starts_with("latency: p50=0.303ms p90="), "{}", lines[13]);
        assert!(lines[13].ends_with("max=0.497ms"), "{}", lines[13]);
        assert_eq!(summary.exit_code(), 0);
    }

    #[test]
    fn nothing_completed_exits_1() {
        let plan = plan();
        let stats = Stats::default();
        let summary = Summary {
            plan: &plan,
            stats: &stats,
            elapsed: Duration::from_secs(3),
            unsent: 0,
            interrupted: true,
        };
        let text = summary.to_string();
        assert!(text.contains("interrupted: yes\n"));
        assert!(text.contains("errors: 0\nstatus: none\nachieved: 0.000/s\nlatency: none\n"));
        assert_eq!(summary.exit_code(), 1);
    }

    #[test]
    fn progress() {
        let stats = Stats {
            sent: 1000,
            completed: 999,
            ..Stats::default()
        };
        assert_eq!(
            progress_line(Duration::from_millis(5004), Duration::from_secs(300), &stats, 199.84),
            "loadgen: 5.0s/5m sent 1000 completed 999 errors 0 late 0 rate 199.8/s"
        );
    }
}

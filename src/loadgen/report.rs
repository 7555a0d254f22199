//! What the load generator prints: a progress line on stderr every few
//! seconds, and the final summary on stdout, one `key: value` per line so
//! that people and scripts (the integration tests) read the same text, with
//! one `stage N:` line per stage; or, with `--output json`, one JSON object.

use std::fmt;
use std::time::Duration;

use super::args::{ConnectionMode, Method};
use super::client::ErrorKind;
use super::stages::{Stage, StagePlan};
use super::stats::Stats;
use super::target::Url;
use crate::grammar::duration;

/// The progress line: where the run is and the completion rate since the last line.
pub(crate) fn progress_line(elapsed: Duration, total: Duration, stats: &Stats, recent_rate: f64) -> String {
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
pub(crate) struct Plan {
    pub url: Url,
    pub method: Method,
    pub connection: ConnectionMode,
    pub concurrency: usize,
    pub stages: Vec<Stage>,
    pub duration: Duration,
    pub planned: u64,
    /// Requests due in each stage.
    pub planned_per_stage: Vec<u64>,
}

impl Plan {
    /// `200.0/s for 2s`, or the stages: `30s:0-6000,2m:6000 for 2m30s`.
    pub(crate) fn asked(&self) -> String {
        match self.stages.as_slice() {
            [one] if one.from == one.to => format!("{}/s for {}", rate(one.from), duration::format(self.duration)),
            stages => format!("{} for {}", StagePlan(stages.to_vec()), duration::format(self.duration)),
        }
    }
}

/// The end of a run.
pub(crate) struct Summary<'a> {
    pub plan: &'a Plan,
    pub stats: &'a Stats,
    /// Per stage, the requests sent while it lasted.
    pub stage_stats: &'a [Stats],
    /// Start to the end of the last request.
    pub elapsed: Duration,
    /// Scheduled requests never sent: connections busy until the end, or interrupted.
    pub unsent: u64,
    pub interrupted: bool,
}

impl Summary<'_> {
    /// Completed requests per second over the run: the asked duration, or
    /// the elapsed time if answers came in after it or the run was interrupted.
    pub(crate) fn achieved_rate(&self) -> f64 {
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

    /// Completed requests per second of those sent during stage `k`.
    pub(crate) fn stage_rate(&self, k: usize) -> f64 {
        self.stage_stats[k].completed as f64 / self.plan.stages[k].duration.as_secs_f64()
    }

    /// The summary as one JSON object (`--output json`).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let (p, s) = (self.plan, self.stats);
        let stages: Vec<serde_json::Value> = p
            .stages
            .iter()
            .enumerate()
            .map(|(k, stage)| {
                let st = &self.stage_stats[k];
                serde_json::json!({
                    "duration_seconds": stage.duration.as_secs_f64(),
                    "from_per_second": stage.from,
                    "to_per_second": stage.to,
                    "asked": p.planned_per_stage[k],
                    "asked_per_second": p.planned_per_stage[k] as f64 / stage.duration.as_secs_f64(),
                    "sent": st.sent,
                    "late": st.late,
                    "completed": st.completed,
                    "errors": st.errors(),
                    "achieved_per_second": self.stage_rate(k),
                    "latency_seconds": latency_json(st),
                })
            })
            .collect();
        serde_json::json!({
            "url": p.url.to_string(),
            "method": p.method.name(),
            "connection": p.connection.name(),
            "concurrency": p.concurrency,
            "asked": p.planned,
            "duration_seconds": p.duration.as_secs_f64(),
            "elapsed_seconds": self.elapsed.as_secs_f64(),
            "interrupted": self.interrupted,
            "sent": s.sent,
            "late": s.late,
            "unsent": self.unsent,
            "completed": s.completed,
            "errors": s.errors(),
            "error_kinds": s.errors.iter().map(|(k, n)| (k.name().to_string(), serde_json::json!(n))).collect::<serde_json::Map<_, _>>(),
            "status": s.statuses.iter().map(|(code, n)| (code.to_string(), serde_json::json!(n))).collect::<serde_json::Map<_, _>>(),
            "achieved_per_second": self.achieved_rate(),
            "latency_seconds": latency_json(s),
            "stages": stages,
        })
    }

    /// The process's exit status: 0 when at least one request got an answer.
    pub(crate) fn exit_code(&self) -> i32 {
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
        writeln!(f, "asked: {} ({} requests)", p.asked(), p.planned)?;
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
        writeln!(f, "latency: {}", latency(s))?;
        for (k, stage) in p.stages.iter().enumerate() {
            let st = &self.stage_stats[k];
            let asked = p.planned_per_stage[k];
            writeln!(
                f,
                "stage {}: {stage} asked {asked} ({}/s) completed {} ({}/s) errors {} late {} latency {}",
                k + 1,
                rate(asked as f64 / stage.duration.as_secs_f64()),
                st.completed,
                rate(self.stage_rate(k)),
                st.errors(),
                st.late,
                latency(st),
            )?;
        }
        Ok(())
    }
}

/// `{"p50":…,"p90":…,"p99":…,"max":…}` in seconds, or null.
fn latency_json(s: &Stats) -> serde_json::Value {
    let h = &s.latency;
    match (h.quantile(0.5), h.quantile(0.9), h.quantile(0.99)) {
        (Some(p50), Some(p90), Some(p99)) => serde_json::json!({
            "p50": p50.as_secs_f64(),
            "p90": p90.as_secs_f64(),
            "p99": p99.as_secs_f64(),
            "max": h.max().as_secs_f64(),
        }),
        _ => serde_json::Value::Null,
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
            stages: vec![Stage {
                duration: Duration::from_secs(2),
                from: 200.0,
                to: 200.0,
            }],
            duration: Duration::from_secs(2),
            planned: 400,
            planned_per_stage: vec![400],
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
        let stage_stats = [stats.clone()];
        let summary = Summary {
            plan: &plan,
            stats: &stats,
            stage_stats: &stage_stats,
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
        // 298 µs is the median; its bucket ends at 299 µs (within 1 %).
        assert!(lines[13].starts_with("latency: p50=0.299ms p90="), "{}", lines[13]);
        assert!(lines[13].ends_with("max=0.497ms"), "{}", lines[13]);
        assert!(
            lines[14].starts_with(
                "stage 1: 2s:200 asked 400 (200.0/s) completed 398 (199.0/s) errors 2 late 1 latency p50="
            ),
            "{}",
            lines[14]
        );
        assert_eq!(lines.len(), 15);
        assert_eq!(summary.exit_code(), 0);
        let json = summary.to_json();
        assert_eq!(
            (json["completed"].as_u64(), json["status"]["503"].as_u64()),
            (Some(398), Some(2))
        );
        assert_eq!(json["error_kinds"]["connect"].as_u64(), Some(1));
        assert_eq!(json["stages"][0]["asked"].as_u64(), Some(400));
        assert_eq!(json["stages"][0]["achieved_per_second"].as_f64(), Some(199.0));
        assert!(json["latency_seconds"]["p99"].as_f64().unwrap() > 0.0);
    }

    #[test]
    fn nothing_completed_exits_1() {
        let plan = plan();
        let stats = Stats::default();
        let stage_stats = [Stats::default()];
        let summary = Summary {
            plan: &plan,
            stats: &stats,
            stage_stats: &stage_stats,
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

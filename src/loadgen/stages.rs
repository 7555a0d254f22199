//! `--stages 30s:0-6000,2m:6000,1m:6000-0`: the load's shape, k6's ramping
//! arrival rate. Each stage is a duration and a rate, or a start and an end
//! rate with the rate moving linearly in between; `--rate R --duration D` is
//! the one-stage shorthand `D:R`.

use std::fmt;
use std::time::Duration;

use crate::grammar::duration;

/// Highest rate a stage (or `--rate`) may ask for: far beyond what one
/// generator thread sends, low enough that a typo (an extra zero or two) is
/// caught, not attempted.
pub(crate) const MAX_RATE: f64 = 1_000_000.0;
/// Longest run (`--duration`, or all stages together): a Job that runs
/// longer is a mistake.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);
/// Most stages in one run (each keeps its own counters and histogram).
pub(crate) const MAX_STAGES: usize = 100;

/// One stretch of the run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stage {
    pub duration: Duration,
    /// Requests per second at the stage's start.
    pub from: f64,
    /// Requests per second at its end.
    pub to: f64,
}

impl Stage {
    /// Requests that fall due in this stage (the area under its rate), unrounded.
    pub fn expected(&self) -> f64 {
        (self.from + self.to) / 2.0 * self.duration.as_secs_f64()
    }

    /// Seconds into the stage at which `n` requests (0 ≤ n ≤ expected) have
    /// fallen due: solves `from·t + (to − from)·t²/(2T) = n`.
    pub fn time_of(&self, n: f64) -> f64 {
        let t = self.duration.as_secs_f64();
        if self.from == self.to {
            return n / self.from;
        }
        let slope = (self.to - self.from) / t;
        let root = (self.from * self.from + 2.0 * slope * n).max(0.0).sqrt();
        // The stable form of (−from + root) / slope, also for slope < 0.
        let denominator = self.from + root;
        if denominator == 0.0 {
            0.0
        } else {
            (2.0 * n / denominator).min(t)
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", duration::format(self.duration), self.from)?;
        if self.to != self.from {
            write!(f, "-{}", self.to)?;
        }
        Ok(())
    }
}

/// The value of `--stages` (a newtype: clap would take a bare `Vec` for a
/// repeated flag).
#[derive(Clone, Debug, PartialEq)]
pub struct StagePlan(pub Vec<Stage>);

impl fmt::Display for StagePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, stage) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{stage}")?;
        }
        Ok(())
    }
}

/// `--stages`' parser for clap.
pub(crate) fn parse_stage_plan(text: &str) -> Result<StagePlan, String> {
    parse_stages(text).map(StagePlan)
}

/// Parses `--stages`: `DURATION:RATE` or `DURATION:FROM-TO`, comma-separated.
pub fn parse_stages(text: &str) -> Result<Vec<Stage>, String> {
    let stages = text
        .split(',')
        .map(|part| parse_stage(part.trim()).ok_or_else(|| format!("bad stage {part:?}")))
        .collect::<Result<Vec<Stage>, String>>()
        .map_err(|e| {
            format!("{e}: expected DURATION:RATE or DURATION:FROM-TO, comma-separated, like 30s:0-100,1m:100")
        })?;
    if stages.len() > MAX_STAGES {
        return Err(format!("at most {MAX_STAGES} stages"));
    }
    let total: Duration = stages.iter().map(|s| s.duration).sum();
    if total > MAX_DURATION {
        return Err("the stages last more than 24h".into());
    }
    if stages.iter().map(Stage::expected).sum::<f64>() < 1.0 {
        return Err("the stages ask for no request at all".into());
    }
    Ok(stages)
}

fn parse_stage(text: &str) -> Option<Stage> {
    let (duration, rates) = text.split_once(':')?;
    let duration = duration::parse(duration).filter(|d| !d.is_zero())?;
    let rate = |r: &str| {
        r.trim()
            .parse::<f64>()
            .ok()
            .filter(|r| r.is_finite() && (0.0..=MAX_RATE).contains(r))
    };
    let (from, to) = match rates.split_once('-') {
        Some((from, to)) => (rate(from)?, rate(to)?),
        None => {
            let r = rate(rates)?;
            (r, r)
        }
    };
    Some(Stage { duration, from, to })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(secs: u64, from: f64, to: f64) -> Stage {
        Stage {
            duration: Duration::from_secs(secs),
            from,
            to,
        }
    }

    #[test]
    fn the_seed_experiment() {
        let s = parse_stages("30s:0-6000,2m:6000,1m:6000-0").unwrap();
        assert_eq!(
            s,
            [
                stage(30, 0.0, 6000.0),
                stage(120, 6000.0, 6000.0),
                stage(60, 6000.0, 0.0)
            ]
        );
        assert_eq!(
            s.iter().map(Stage::expected).sum::<f64>(),
            90_000.0 + 720_000.0 + 180_000.0
        );
        assert_eq!(
            s.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["30s:0-6000", "2m:6000", "1m:6000-0"]
        );
        assert_eq!(
            parse_stages(" 1m:0.5 , 10s:0 ").unwrap(),
            [stage(60, 0.5, 0.5), stage(10, 0.0, 0.0)]
        );
    }

    #[test]
    fn bad_stages() {
        for bad in [
            "",
            "30s",
            "30s:",
            ":100",
            "0s:100",
            "30s:-5",
            "30s:1-",
            "30s:fast",
            "30s:1000001",
            "30s:100,",
            "30s:NaN",
            "25h:1",
            "13h:1,13h:1",
            "10s:0",
            "10s:0-0.05",
        ] {
            assert!(parse_stages(bad).is_err(), "{bad:?}");
        }
        let many = vec!["1s:1"; MAX_STAGES + 1].join(",");
        assert!(parse_stages(&many).is_err());
    }

    #[test]
    fn time_of_inverts_the_ramp() {
        let up = stage(10, 0.0, 100.0);
        // 500 requests over 10 s; half of them by t = √(2·250·10/100) ≈ 7.07 s.
        assert!((up.time_of(250.0) - 50f64.sqrt()).abs() < 1e-9);
        assert!((up.time_of(500.0) - 10.0).abs() < 1e-9);
        let down = stage(10, 100.0, 0.0);
        assert!((down.time_of(250.0) - (10.0 - 50f64.sqrt())).abs() < 1e-9);
        assert_eq!(stage(4, 2.0, 2.0).time_of(3.0), 1.5);
        assert_eq!(up.time_of(0.0), 0.0);
    }
}

//! The figures users ask for, read off a timeline: time to the first
//! scale-up, to steady replicas at the peak, overshoot, time back to the
//! minimum after the load, and requests lost while pods were removed.

use std::fmt;

use super::run::Outcome;

pub struct Summary {
    pub first_scale_up: Option<f64>,
    /// Replicas the peak load and the qps target ask for, within [min, max].
    pub expected_peak: u32,
    /// Desired replicas at the end of the peak, since when, and when as many were ready.
    pub steady: u32,
    pub steady_at: f64,
    pub steady_ready_at: Option<f64>,
    pub overshoot: u32,
    pub load_end: f64,
    pub back_to_min: Option<f64>,
    pub ready_min_at: Option<f64>,
    pub scale_in_errors: u64,
    pub scale_in_failures: u64,
    pub errors: u64,
    pub killed: u32,
}

/// The highest rate of the profile, and the end of the last stage that
/// ends at it (the end of the peak's hold).
fn peak_end(o: &Outcome) -> (f64, f64) {
    let peak = o.profile.stages.iter().map(|s| s.to.max(s.from)).fold(0.0, f64::max);
    let (mut t, mut end) = (0.0, 0.0);
    for s in &o.profile.stages {
        t += s.duration.as_secs_f64();
        if s.to == peak {
            end = t;
        }
    }
    (peak, end)
}

impl Summary {
    pub fn of(o: &Outcome) -> Summary {
        let rows = &o.timeline.rows;
        let first = rows.first().map_or(o.min, |r| r.desired);
        let (peak, peak_end) = peak_end(o);
        let qps_target = o.targets.iter().find(|(m, _)| m == "qps").map_or(f64::NAN, |t| t.1);
        let expected_peak = ((peak * o.load_scale / qps_target).ceil() as u32).clamp(o.min, o.max);
        let during_peak: Vec<_> = rows.iter().filter(|r| r.t <= peak_end).collect();
        let steady = during_peak.last().map_or(first, |r| r.desired);
        // Since when the desired count has been `steady` up to the peak's end.
        let steady_at = during_peak
            .iter()
            .rev()
            .take_while(|r| r.desired == steady)
            .last()
            .map_or(peak_end, |r| r.t);
        let steady_ready_at = during_peak
            .iter()
            .find(|r| r.t >= steady_at && r.ready >= steady)
            .map(|r| r.t);
        let load_end = o.profile.seconds();
        let max_during_load = rows
            .iter()
            .filter(|r| r.t <= load_end)
            .map(|r| r.desired)
            .max()
            .unwrap_or(first);
        let after: Vec<_> = rows.iter().filter(|r| r.t >= load_end).collect();
        let back_to_min = after.iter().find(|r| r.desired == o.min).map(|r| r.t);
        let ready_min_at = after
            .iter()
            .find(|r| r.ready == o.min && r.terminating == 0 && r.desired == o.min)
            .map(|r| r.t);
        // Scale-in: from the first time the desired count fell.
        let first_down = rows.windows(2).position(|w| w[1].desired < w[0].desired);
        let delta = |f: fn(&super::timeline::Row) -> u64| {
            first_down.map_or(0, |i| f(rows.last().unwrap()).saturating_sub(f(&rows[i])))
        };
        let last = rows.last();
        Summary {
            first_scale_up: rows.iter().find(|r| r.desired > first).map(|r| r.t),
            expected_peak,
            steady,
            steady_at,
            steady_ready_at,
            overshoot: max_during_load.saturating_sub(steady),
            load_end,
            back_to_min,
            ready_min_at,
            scale_in_errors: delta(|r| r.errors),
            scale_in_failures: delta(|r| r.service_failures),
            errors: last.map_or(0, |r| r.errors),
            killed: o.exits.killed,
        }
    }
}

fn at(t: Option<f64>) -> String {
    t.map_or("never".into(), |t| format!("t={t:.0}s"))
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "first scale-up:   {}", at(self.first_scale_up))?;
        writeln!(
            f,
            "steady replicas:  {} desired from t={:.0}s, {} ready {} (the peak and the qps target ask for {})",
            self.steady,
            self.steady_at,
            self.steady,
            at(self.steady_ready_at),
            self.expected_peak
        )?;
        writeln!(
            f,
            "overshoot:        {} replica(s) above steady during the load",
            self.overshoot
        )?;
        let since = |t: Option<f64>| t.map_or(String::new(), |t| format!(" (+{:.0}s)", t - self.load_end));
        writeln!(
            f,
            "scale-down:       load over at t={:.0}s; desired at the minimum {}{}, pods {}{}",
            self.load_end,
            at(self.back_to_min),
            since(self.back_to_min),
            at(self.ready_min_at),
            since(self.ready_min_at)
        )?;
        writeln!(
            f,
            "scale-in:         {} request(s) refused or reset while pods were removed\n\
             \x20                 (whole run: {} loadgen error(s); pods killed at the grace period: {})",
            self.scale_in_errors + self.scale_in_failures,
            self.errors,
            self.killed
        )
    }
}

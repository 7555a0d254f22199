//! The HPA controller over time, as kube-controller-manager runs it
//! (pkg/controller/podautoscaler/horizontal.go): every sync it takes the
//! largest per-metric proposal ([`super::hpa`]), then
//! 1. stabilizes it: not above the lowest recommendation of the scale-up
//!    window, not below the highest of the scale-down window (and keeps
//!    the unstabilized recommendation for later syncs);
//! 2. limits the change by the direction's policies, counting the replicas
//!    added or removed within each policy's period;
//! 3. clamps to [min, max].
//!
//! A metric without a value makes the sync change nothing unless another
//! metric asks for more replicas than now. Times are seconds on any clock.

use super::hpa_behavior::{Behavior, PolicyKind, Rules, Select};

pub struct Controller {
    pub min: u32,
    pub max: u32,
    pub behavior: Behavior,
    /// (time, unstabilized recommendation).
    recommendations: Vec<(f64, u32)>,
    /// (time, replicas added) and (time, replicas removed).
    scale_ups: Vec<(f64, u32)>,
    scale_downs: Vec<(f64, u32)>,
}

/// The outcome of one sync.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decision {
    /// The largest proposal before stabilization and policies, if any.
    pub proposed: Option<u32>,
    pub desired: u32,
}

impl Controller {
    pub fn new(min: u32, max: u32, behavior: Behavior) -> Controller {
        Controller {
            min,
            max,
            behavior,
            recommendations: Vec::new(),
            scale_ups: Vec::new(),
            scale_downs: Vec::new(),
        }
    }

    /// One sync at `now` with `current` replicas (the scale's spec) and one
    /// proposal per metric (`None`: the metric could not be computed).
    pub fn sync(&mut self, now: f64, current: u32, proposals: &[Option<u32>]) -> Decision {
        let (proposed, desired) = if current > self.max {
            (None, self.max)
        } else if current < self.min {
            (None, self.min)
        } else {
            let valid = proposals.iter().flatten().copied().max().unwrap_or(0);
            let invalid = proposals.iter().filter(|p| p.is_none()).count();
            if invalid == proposals.len() || (invalid > 0 && valid < current) {
                return Decision {
                    proposed: None,
                    desired: current,
                };
            }
            let stabilized = self.stabilize(now, current, valid);
            (Some(valid), self.limit_rate(now, current, stabilized))
        };
        if desired > current {
            self.scale_ups.push((now, desired - current));
        } else if desired < current {
            self.scale_downs.push((now, current - desired));
        }
        Decision { proposed, desired }
    }

    fn stabilize(&mut self, now: f64, current: u32, desired: u32) -> u32 {
        let up_cutoff = now - self.behavior.scale_up.stabilization_seconds;
        let down_cutoff = now - self.behavior.scale_down.stabilization_seconds;
        let (mut up, mut down) = (desired, desired);
        for &(at, recommended) in &self.recommendations {
            if at > up_cutoff {
                up = up.min(recommended);
            }
            if at > down_cutoff {
                down = down.max(recommended);
            }
        }
        // The controller overwrites one sample older than both windows;
        // dropping all of them keeps the same answers with a short list.
        self.recommendations.retain(|&(at, _)| at >= up_cutoff.min(down_cutoff));
        self.recommendations.push((now, desired));
        current.max(up).min(down)
    }

    fn limit_rate(&self, now: f64, current: u32, desired: u32) -> u32 {
        if desired > current {
            let limit = self.limit(now, current, &self.behavior.scale_up, true).max(current);
            desired.min(limit.min(self.max))
        } else if desired < current {
            let limit = self.limit(now, current, &self.behavior.scale_down, false).min(current);
            desired.max(limit.max(self.min))
        } else {
            desired
        }
    }

    /// calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors.
    fn limit(&self, now: f64, current: u32, rules: &Rules, up: bool) -> u32 {
        if rules.select == Select::Disabled {
            return current;
        }
        let changed = |events: &[(f64, u32)], period: f64| -> i64 {
            events
                .iter()
                .filter(|(at, _)| *at > now - period)
                .map(|(_, n)| i64::from(*n))
                .sum()
        };
        // The policy allowing the biggest change: the largest limit up, the
        // smallest down; `Min` the other way round.
        let most_change = (rules.select == Select::Max) == up;
        let limits = rules.policies.iter().map(|p| {
            let start = i64::from(current) - changed(&self.scale_ups, p.period_seconds)
                + changed(&self.scale_downs, p.period_seconds);
            let start = start as f64;
            let v = f64::from(p.value);
            let limit = match (p.kind, up) {
                (PolicyKind::Pods, true) => start + v,
                (PolicyKind::Pods, false) => start - v,
                (PolicyKind::Percent, true) => (start * (1.0 + v / 100.0)).ceil(),
                (PolicyKind::Percent, false) => (start * (1.0 - v / 100.0)).trunc(),
            };
            limit.max(0.0) as u32
        });
        let picked = if most_change { limits.max() } else { limits.min() };
        picked.unwrap_or(current)
    }
}

#[cfg(test)]
mod tests {
    use super::super::hpa_behavior::Policy;
    use super::*;

    fn policy(kind: PolicyKind, value: u32, period_seconds: f64) -> Policy {
        Policy {
            kind,
            value,
            period_seconds,
        }
    }

    /// Runs syncs every `period` seconds from `current`, the metrics always
    /// proposing `proposal`; returns the replicas after each sync.
    fn run(c: &mut Controller, mut current: u32, proposal: u32, period: f64, syncs: usize) -> Vec<u32> {
        (0..syncs)
            .map(|i| {
                current = c.sync(i as f64 * period, current, &[Some(proposal)]).desired;
                current
            })
            .collect()
    }

    /// "Default Behavior": up at once by max(4 pods, 100 %) per 15 s.
    #[test]
    fn default_scale_up_doubles_or_adds_four_per_15s() {
        let mut c = Controller::new(1, 100, Behavior::default());
        assert_eq!(run(&mut c, 1, 40, 15.0, 5), [5, 10, 20, 40, 40]);
        // Within one period, the replicas already added count against the limit.
        let mut c = Controller::new(1, 100, Behavior::default());
        assert_eq!(run(&mut c, 1, 40, 5.0, 4), [5, 5, 5, 10]);
    }

    /// "Default Behavior": down to the proposal, but only once every
    /// recommendation of the last 300 s is that low.
    #[test]
    fn default_scale_down_waits_out_the_300s_window() {
        let mut c = Controller::new(1, 100, Behavior::default());
        assert_eq!(c.sync(0.0, 10, &[Some(10)]).desired, 10);
        for t in (15..300).step_by(15) {
            assert_eq!(c.sync(f64::from(t), 10, &[Some(2)]).desired, 10, "at {t} s");
        }
        // The recommendation of 0 s is 300 s old: out of the window.
        assert_eq!(c.sync(300.0, 10, &[Some(2)]).desired, 2, "100 % may go at once");
    }

    /// The documentation's scale-down policies example: 4 pods or 10 % per
    /// 60 s, the larger change: from 80, 8 go, then 8 (10 % of 72 rounded
    /// up), ... and below 40 replicas 4 at a time.
    #[test]
    fn documentation_policy_example() {
        let behavior = Behavior {
            scale_down: Rules {
                stabilization_seconds: 0.0,
                select: Select::Max,
                policies: vec![policy(PolicyKind::Pods, 4, 60.0), policy(PolicyKind::Percent, 10, 60.0)],
            },
            ..Behavior::default()
        };
        let mut c = Controller::new(1, 100, behavior);
        let steps = run(&mut c, 80, 10, 60.0, 12);
        assert_eq!(steps, [72, 64, 57, 51, 45, 40, 36, 32, 28, 24, 20, 16]);
        // With selectPolicy Min, the smaller change: 4 while above 40.
        let mut c = Controller::new(1, 100, c.behavior.clone());
        c.behavior.scale_down.select = Select::Min;
        assert_eq!(run(&mut c, 80, 10, 60.0, 3), [76, 72, 68]);
    }

    /// "selectPolicy: Disabled" turns a direction off.
    #[test]
    fn disabled_direction() {
        let mut behavior = Behavior::default();
        behavior.scale_down.select = Select::Disabled;
        behavior.scale_down.stabilization_seconds = 0.0;
        let mut c = Controller::new(1, 10, behavior);
        assert_eq!(run(&mut c, 6, 2, 15.0, 3), [6, 6, 6]);
        assert_eq!(c.sync(60.0, 6, &[Some(8)]).desired, 8);
    }

    /// A scale-up stabilization window takes the lowest recent recommendation.
    #[test]
    fn scale_up_window_takes_the_lowest() {
        let mut behavior = Behavior::default();
        behavior.scale_up.stabilization_seconds = 60.0;
        let mut c = Controller::new(1, 10, behavior);
        assert_eq!(c.sync(0.0, 2, &[Some(2)]).desired, 2);
        assert_eq!(c.sync(15.0, 2, &[Some(6)]).desired, 2);
        assert_eq!(c.sync(45.0, 2, &[Some(6)]).desired, 2);
        assert_eq!(
            c.sync(60.0, 2, &[Some(6)]).desired,
            6,
            "the 2 of 0 s is out of the window"
        );
    }

    /// Several metrics: the largest proposal wins; a metric that cannot be
    /// computed blocks a scale-down but not a scale-up; min and max bound it.
    #[test]
    fn metrics_and_bounds() {
        let mut behavior = Behavior::default();
        behavior.scale_down.stabilization_seconds = 0.0;
        let mut c = Controller::new(2, 10, behavior);
        assert_eq!(c.sync(0.0, 4, &[Some(3), Some(6)]).desired, 6);
        assert_eq!(
            c.sync(15.0, 6, &[None, Some(3)]).desired,
            6,
            "no scale-down on a missing metric"
        );
        assert_eq!(c.sync(30.0, 6, &[None, Some(8)]).desired, 8, "scale-up despite it");
        assert_eq!(c.sync(45.0, 8, &[None, None]).proposed, None);
        assert_eq!(c.sync(60.0, 8, &[Some(30)]).desired, 10, "max");
        assert_eq!(c.sync(75.0, 10, &[Some(0)]).desired, 2, "min");
        assert_eq!(c.sync(90.0, 12, &[Some(12)]).desired, 10, "above max: back to max");
    }

    /// deploy/base/hpa.yaml's behavior: up by max(100 %, 4) per 15 s at
    /// once; down after 120 s by at most half per 30 s.
    #[test]
    fn deploy_behavior() {
        let b = super::super::manifests::hpa().behavior;
        let mut c = Controller::new(1, 10, b);
        assert_eq!(run(&mut c, 1, 12, 15.0, 3), [5, 10, 10]);
        let mut down = Vec::new();
        let mut current = 10;
        for i in 3..20 {
            current = c.sync(f64::from(i) * 15.0, current, &[Some(1)]).desired;
            down.push(current);
        }
        // Recommendations of 12 until 30 s: the window holds them until 150 s,
        // then half per 30 s, rounded down: 10 → 5 → 2 → 1.
        assert_eq!(down, [10, 10, 10, 10, 10, 10, 10, 5, 5, 2, 2, 1, 1, 1, 1, 1, 1]);
    }
}

//! The HorizontalPodAutoscaler controller's replica calculation for `Pods`
//! metrics with `AverageValue` targets, as kube-controller-manager does it
//! (pkg/controller/podautoscaler/replica_calculator.go, calcPlainMetricReplicas,
//! groupPods and metrics.GetMetricUsageRatio), in the integer milli-units it uses:
//!
//!   usage  = (Σ pod values in milli) / pods      (integer division)
//!   ratio  = usage / target                      (both in milli)
//!   |1 − ratio| ≤ 0.1  →  current replicas       (tolerance)
//!   else               →  ceil(ratio × ready pods)
//!
//! Pods being deleted are ignored; a Pending pod or one without a value is
//! counted at 0 on a scale-up (a missing one at the target on a scale-down)
//! and the ratio recomputed: no change if that is within the tolerance or
//! reverses the direction. For non-CPU metrics a running pod with a value
//! counts whether or not it is Ready.
//!
//! And for `External` metrics with `AverageValue` targets (what KEDA's HPA
//! uses for a trigger with metricType AverageValue; GetExternalPerPodMetricReplicas):
//!
//!   usage  = Σ metric values in milli            (KEDA serves one)
//!   ratio  = usage / (target × current replicas)
//!   |1 − ratio| ≤ 0.1  →  current replicas
//!   else               →  ceil(usage / target)
//!
//! Then the largest proposal over the metrics, clamped to [min, max]; over
//! time (sync period, `behavior`): see [`super::hpa_controller`].

/// The controller's default `--horizontal-pod-autoscaler-tolerance`.
pub const TOLERANCE: f64 = 0.1;

/// A Kubernetes quantity ("500", "80", "500m", "1.5", "2k") in milli-units,
/// rounded up as `Quantity.MilliValue` does.
pub fn milli(quantity: &str) -> i64 {
    let q = quantity.trim();
    let (number, scale) = match q.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&q[..i], &q[i..]),
        None => (q, ""),
    };
    let factor = match scale {
        "" => 1e3,
        "m" => 1.0,
        "k" => 1e6,
        "M" => 1e9,
        "G" => 1e12,
        "Ki" => 1024e3,
        "Mi" => 1024.0 * 1024e3,
        other => panic!("quantity {quantity:?}: unsupported suffix {other:?}"),
    };
    let value: f64 = number.parse().unwrap_or_else(|_| panic!("quantity {quantity:?}"));
    (value * factor).ceil() as i64
}

/// A Prometheus sample as prometheus-adapter hands it to the API server:
/// `resource.NewMilliQuantity(int64(value*1000.0), ...)` (truncated).
pub fn adapter_milli(value: f64) -> i64 {
    (value * 1000.0) as i64
}

/// One metric's proposal: replicas for `values` (milli, one per ready pod)
/// against `target` (milli), with `current` replicas now.
pub fn replicas_for_metric(values: &[i64], target: i64, current: u32) -> u32 {
    assert!(!values.is_empty(), "no pod has the metric");
    let pods: Vec<PodMetric> = values.iter().map(|&v| PodMetric::running(Some(v))).collect();
    replicas_for_pods(&pods, target, current).expect("every pod has a value")
}

/// A pod matched by the HPA's selector, as the replica calculator sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Created, containers not started yet.
    Pending,
    Running,
    /// Has a deletion timestamp (terminating).
    Deleting,
}

/// One pod and its value of one metric (milli), if the metrics API had one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodMetric {
    pub phase: Phase,
    pub value: Option<i64>,
}

impl PodMetric {
    pub fn running(value: Option<i64>) -> PodMetric {
        PodMetric {
            phase: Phase::Running,
            value,
        }
    }
}

/// calcPlainMetricReplicas: the proposal for one metric, or `None` when no
/// counted pod has a value (the controller's "did not receive metrics").
pub fn replicas_for_pods(pods: &[PodMetric], target: i64, current: u32) -> Option<u32> {
    let counted = pods.iter().filter(|p| p.phase != Phase::Deleting);
    let mut values: Vec<i64> = Vec::new();
    let (mut unready, mut missing) = (0usize, 0usize);
    for pod in counted {
        match (pod.phase, pod.value) {
            (Phase::Pending, _) => unready += 1,
            (_, None) => missing += 1,
            (_, Some(v)) => values.push(v),
        }
    }
    if values.is_empty() {
        return None;
    }
    let ratio = usage_ratio(&values, target);
    let scale_up_with_unready = unready > 0 && ratio > 1.0;
    if !scale_up_with_unready && missing == 0 {
        if (1.0 - ratio).abs() <= TOLERANCE {
            return Some(current);
        }
        return Some((ratio * values.len() as f64).ceil() as u32);
    }
    // Missing pods: at the target on a scale-down, at 0 on a scale-up;
    // unready pods at 0 on a scale-up (else they stay out).
    let missing_value = if ratio < 1.0 { target } else { 0 };
    values.extend(std::iter::repeat_n(missing_value, missing));
    if scale_up_with_unready {
        values.extend(std::iter::repeat_n(0, unready));
    }
    let new_ratio = usage_ratio(&values, target);
    if (1.0 - new_ratio).abs() <= TOLERANCE || (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0) {
        return Some(current);
    }
    let proposal = (new_ratio * values.len() as f64).ceil() as u32;
    if (new_ratio < 1.0 && proposal > current) || (new_ratio > 1.0 && proposal < current) {
        return Some(current);
    }
    Some(proposal)
}

/// One External metric's proposal with an `AverageValue` target: `values`
/// (milli, as served) against `target` (milli per replica), with
/// `current` replicas (the scale target's status, not the ready pods).
pub fn replicas_for_external_per_pod(values: &[i64], target: i64, current: u32) -> u32 {
    let usage: i64 = values.iter().sum();
    let ratio = usage as f64 / (target as f64 * f64::from(current));
    if (1.0 - ratio).abs() <= TOLERANCE {
        return current;
    }
    (usage as f64 / target as f64).ceil() as u32
}

/// The External usage ratio, for the report.
pub fn external_usage_ratio(values: &[i64], target: i64, current: u32) -> f64 {
    values.iter().sum::<i64>() as f64 / (target as f64 * f64::from(current))
}

/// The usage ratio of one metric, for the report.
pub fn usage_ratio(values: &[i64], target: i64) -> f64 {
    (values.iter().sum::<i64>() / values.len() as i64) as f64 / target as f64
}

/// The largest proposal, clamped to the HPA's bounds.
pub fn desired(proposals: &[u32], min: u32, max: u32) -> u32 {
    proposals.iter().copied().max().unwrap_or(min).clamp(min, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(milli("500"), 500_000);
        assert_eq!(milli("80"), 80_000);
        assert_eq!(milli("500m"), 500, "the seed's mistake: half a request per second");
        assert_eq!(milli("1.5"), 1_500);
        assert_eq!(milli("2k"), 2_000_000);
        assert_eq!(adapter_milli(299.9996), 299_999);
        assert_eq!(adapter_milli(80.0), 80_000);
    }

    #[test]
    fn proposals_follow_the_controller() {
        let t = milli("500");
        // 3 pods at 600 on average: ratio 1.2 → ceil(3.6) = 4.
        assert_eq!(replicas_for_metric(&[900_000, 600_000, 300_000], t, 3), 4);
        // Within the 10 % tolerance: no change, whatever ceil would say.
        assert_eq!(replicas_for_metric(&[540_000, 540_000, 540_000], t, 3), 3);
        assert_eq!(replicas_for_metric(&[450_000, 450_000, 450_000], t, 3), 3);
        // Exactly 10 % above is just outside in floating point, as in the
        // controller: |1 - 1.1| = 0.10000000000000009 > 0.1.
        assert_eq!(replicas_for_metric(&[550_000, 550_000, 550_000], t, 3), 4);
        // One pod at 6000/s: 12 pods asked for.
        assert_eq!(replicas_for_metric(&[6_000_000], t, 1), 12);
        // Integer milli averaging: (50 + 80 + 30) / 3 → 53333 m, and
        // 53333 / 80000 × 3 = 1.9999875 → 2 (ratio 0.667, outside the tolerance).
        assert_eq!(replicas_for_metric(&[50_000, 80_000, 30_000], milli("80"), 3), 2);
    }

    /// The documentation's rules for pods that are not ready or lack a
    /// metric ("Algorithm details"): counted at 0 on a scale-up, a missing
    /// one at the target on a scale-down, and no action when that reverses
    /// the direction or lands within the tolerance.
    #[test]
    fn unready_and_missing_pods() {
        let t = milli("500");
        let run = |v: i64| PodMetric::running(Some(v));
        let missing = PodMetric::running(None);
        let pending = PodMetric {
            phase: Phase::Pending,
            value: None,
        };
        let deleting = PodMetric {
            phase: Phase::Deleting,
            value: Some(10_000_000),
        };
        // Ratio 2 on two pods; the missing third at 0: 2000/3 → 1.333 → 4.
        assert_eq!(
            replicas_for_pods(&[run(1_000_000), run(1_000_000), missing], t, 3),
            Some(4)
        );
        // The same with a pending pod instead.
        assert_eq!(
            replicas_for_pods(&[run(1_000_000), run(1_000_000), pending], t, 3),
            Some(4)
        );
        // Ratio 1.2 on one pod, three missing at 0 → 0.3: reversed, no change.
        assert_eq!(
            replicas_for_pods(&[run(600_000), missing, missing, missing], t, 4),
            Some(4)
        );
        // Scale-down: missing pods at the target, 100 + 500 → 0.6 → ceil(1.2) = 2.
        assert_eq!(replicas_for_pods(&[run(100_000), missing], t, 2), Some(2));
        assert_eq!(
            replicas_for_pods(&[run(100_000), missing, missing, missing], t, 4),
            Some(4)
        );
        // A pending pod is left out of a scale-down.
        assert_eq!(replicas_for_pods(&[run(100_000), run(100_000), pending], t, 3), Some(1));
        // Deleting pods are ignored altogether.
        assert_eq!(replicas_for_pods(&[run(500_000), deleting], t, 2), Some(2));
        // No value at all: no proposal.
        assert_eq!(replicas_for_pods(&[missing, pending], t, 2), None);
    }

    /// The documentation's formula: desired = ceil(current × value / target);
    /// "200m against 100m doubles, 50m halves".
    #[test]
    fn documentation_ratio_examples() {
        assert_eq!(replicas_for_metric(&[200; 4], 100, 4), 8);
        assert_eq!(replicas_for_metric(&[50; 4], 100, 4), 2);
    }

    #[test]
    fn external_proposals_follow_the_controller() {
        let t = milli("500");
        // A total of 1800/s over 3 replicas: ratio 1.2 → ceil(1800 / 500) = 4,
        // what the Pods metric gives for 600/s per pod.
        assert_eq!(replicas_for_external_per_pod(&[1_800_000], t, 3), 4);
        assert_eq!(replicas_for_metric(&[900_000, 600_000, 300_000], t, 3), 4);
        // Within the tolerance of the current replicas' capacity: no change.
        assert_eq!(replicas_for_external_per_pod(&[1_620_000], t, 3), 3);
        // Nothing: ceil(0) = 0, which the bounds lift to the minimum.
        assert_eq!(replicas_for_external_per_pod(&[0], t, 3), 0);
        assert_eq!(desired(&[0], 1, 10), 1);
        // 160 °C over 3 pods against 80 per pod: exactly 2, as the Pods
        // metric's integer average gives (53333 m → 1.9999875 → 2).
        assert_eq!(replicas_for_external_per_pod(&[160_000], milli("80"), 3), 2);
        assert!((external_usage_ratio(&[160_000], milli("80"), 3) - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn largest_proposal_within_bounds() {
        assert_eq!(desired(&[1, 2], 1, 10), 2);
        assert_eq!(desired(&[12, 1], 1, 10), 10);
        assert_eq!(desired(&[0], 1, 10), 1);
    }
}

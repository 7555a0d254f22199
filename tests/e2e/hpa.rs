//! The HorizontalPodAutoscaler controller's replica calculation for `Pods`
//! metrics with `AverageValue` targets, as kube-controller-manager does it
//! (pkg/controller/podautoscaler/replica_calculator.go, calcPlainMetricReplicas
//! and metrics.GetMetricUsageRatio), in the integer milli-units it uses:
//!
//!   usage  = (Σ pod values in milli) / pods      (integer division)
//!   ratio  = usage / target                      (both in milli)
//!   |1 − ratio| ≤ 0.1  →  current replicas       (tolerance)
//!   else               →  ceil(ratio × ready pods)
//!
//! then the largest proposal over the metrics, clamped to [min, max].
//!
//! And for `External` metrics with `AverageValue` targets (what KEDA's HPA
//! uses for a trigger with metricType AverageValue; GetExternalPerPodMetricReplicas):
//!
//!   usage  = Σ metric values in milli            (KEDA serves one)
//!   ratio  = usage / (target × current replicas)
//!   |1 − ratio| ≤ 0.1  →  current replicas
//!   else               →  ceil(usage / target)
//! Not modelled: unready or missing pods, and `behavior` (stabilization
//! windows and rate policies act over time, after this calculation).

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
    let usage = values.iter().sum::<i64>() / values.len() as i64;
    let ratio = usage as f64 / target as f64;
    if (1.0 - ratio).abs() <= TOLERANCE {
        return current;
    }
    (ratio * values.len() as f64).ceil() as u32
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

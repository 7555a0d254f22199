//! OpenMetrics 1.0.0 text format, written so that Prometheus stores the same
//! series names as from the 0.0.4 text format.
//!
//! OpenMetrics names a counter family without its `_total` suffix and its
//! sample with it, so Prometheus stores an OpenMetrics counter as
//! `<family>_total`. A counter whose name does not end in `_total` (the
//! seed's `total_req_num`) would be renamed `total_req_num_total` and break
//! every adapter rule; like client_golang, such a counter is typed `unknown`,
//! which keeps the name. Counters that end in `_total` are typed `counter`
//! under their name minus the suffix.

use super::text::{escape, write_sample};
use crate::metrics::{MetricType, Registry};

/// The `Content-Type` of an OpenMetrics exposition.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Appends the exposition of every collector in `registry`, then `# EOF`.
pub fn encode(registry: &Registry, out: &mut Vec<u8>) {
    for collector in registry.collectors() {
        let desc = collector.desc();
        let (family, type_name) = match desc.metric_type() {
            MetricType::Counter => match desc.name().strip_suffix("_total") {
                Some(base) => (base, "counter"),
                None => (desc.name(), "unknown"),
            },
            MetricType::Gauge => (desc.name(), "gauge"),
            MetricType::Histogram => (desc.name(), "histogram"),
            MetricType::Unknown => (desc.name(), "unknown"),
        };
        out.extend_from_slice(b"# TYPE ");
        out.extend_from_slice(family.as_bytes());
        out.push(b' ');
        out.extend_from_slice(type_name.as_bytes());
        out.push(b'\n');
        if !desc.help().is_empty() {
            out.extend_from_slice(b"# HELP ");
            out.extend_from_slice(family.as_bytes());
            out.push(b' ');
            // OpenMetrics escapes the double quote in HELP too.
            escape(desc.help(), out, true);
            out.push(b'\n');
        }
        collector.collect(&mut |sample| write_sample(desc.name(), desc.label_names(), &sample, out));
    }
    out.extend_from_slice(b"# EOF\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Buckets, Counter, CounterVec, Desc, Gauge, HistogramVec};
    use std::sync::Arc;

    #[test]
    fn golden_openmetrics() {
        let mut r = Registry::new();
        let reqs = CounterVec::new(
            Desc::new(
                "total_req_num",
                "Number of total http requests.",
                MetricType::Counter,
                &["status", "api"],
            )
            .unwrap(),
            &[&["200", "/"]],
            |_| true,
        );
        reqs.inc(0);
        r.register(Arc::new(reqs)).unwrap();
        let errors = Counter::new(Desc::new("read_errors_total", "Say \"hi\".", MetricType::Counter, &[]).unwrap());
        errors.inc_by(3);
        r.register(Arc::new(errors)).unwrap();
        let g = Gauge::new(Desc::new("cpu_temperature_celsius", "", MetricType::Gauge, &[]).unwrap());
        g.set(f64::NAN);
        r.register(Arc::new(g)).unwrap();
        let h = HistogramVec::new(
            Desc::new("lat_seconds", "", MetricType::Histogram, &["api"]).unwrap(),
            Buckets::new(&[0.5]),
            &[&["/"]],
        );
        h.observe(0, 0.25);
        r.register(Arc::new(h)).unwrap();
        let mut out = Vec::new();
        encode(&r, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "# TYPE total_req_num unknown\n\
             # HELP total_req_num Number of total http requests.\n\
             total_req_num{status=\"200\",api=\"/\"} 1\n\
             # TYPE read_errors counter\n\
             # HELP read_errors Say \\\"hi\\\".\n\
             read_errors_total 3\n\
             # TYPE cpu_temperature_celsius gauge\n\
             cpu_temperature_celsius NaN\n\
             # TYPE lat_seconds histogram\n\
             lat_seconds_bucket{api=\"/\",le=\"0.5\"} 1\n\
             lat_seconds_bucket{api=\"/\",le=\"+Inf\"} 1\n\
             lat_seconds_sum{api=\"/\"} 0.25\n\
             lat_seconds_count{api=\"/\"} 1\n\
             # EOF\n"
        );
    }
}

//! The Prometheus text exposition format, version 0.0.4.
//!
//! Written straight into a reused `Vec<u8>`: once the buffer has grown to the
//! size of a full exposition, encoding allocates nothing.

use super::number::{write_f64, write_u64};
use crate::metrics::{Collector, Registry, Sample, Value};

/// The `Content-Type` of a text-format exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Appends the exposition of every collector in `registry`, in registration order.
pub fn encode(registry: &Registry, out: &mut Vec<u8>) {
    for collector in registry.collectors() {
        encode_family(collector, out);
    }
}

fn encode_family(collector: &dyn Collector, out: &mut Vec<u8>) {
    let desc = collector.desc();
    if !desc.help().is_empty() {
        out.extend_from_slice(b"# HELP ");
        out.extend_from_slice(desc.name().as_bytes());
        out.push(b' ');
        escape_help(desc.help(), out);
        out.push(b'\n');
    }
    out.extend_from_slice(b"# TYPE ");
    out.extend_from_slice(desc.name().as_bytes());
    out.push(b' ');
    out.extend_from_slice(desc.metric_type().as_str().as_bytes());
    out.push(b'\n');
    collector.collect(&mut |sample| write_sample(desc.name(), desc.label_names(), &sample, out));
}

pub(super) fn write_sample(name: &str, label_names: &[Box<str>], s: &Sample<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(s.suffix.as_bytes());
    match s.encoded_labels {
        Some("") => {}
        Some(pairs) => {
            out.push(b'{');
            out.extend_from_slice(pairs.as_bytes());
            out.push(b'}');
        }
        None => {
            let pairs = label_names
                .iter()
                .map(|n| &**n)
                .zip(s.label_values.iter().map(|v| &**v));
            let mut first = true;
            for (label, value) in pairs.chain(s.extra_label) {
                write_pair(label, value, if first { b'{' } else { b',' }, out);
                first = false;
            }
            if !first {
                out.push(b'}');
            }
        }
    }
    out.push(b' ');
    match s.value {
        Value::Int(v) => write_u64(out, v),
        Value::Float(v) => write_f64(out, v),
    }
    out.push(b'\n');
}

/// `label="value"` after `separator` (`{` or `,`).
fn write_pair(label: &str, value: &str, separator: u8, out: &mut Vec<u8>) {
    out.push(separator);
    out.extend_from_slice(label.as_bytes());
    out.extend_from_slice(b"=\"");
    escape_label_value(value, out);
    out.push(b'"');
}

/// `(name, value)` pairs written as a sample writes them, `a="x",b="y"`,
/// without the braces.
pub(crate) fn label_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Box<str> {
    let mut out = Vec::new();
    for (label, value) in pairs {
        write_pair(label, value, b',', &mut out);
    }
    let text = out.get(1..).unwrap_or_default();
    String::from_utf8(text.to_vec())
        .expect("escaped UTF-8 stays UTF-8")
        .into_boxed_str()
}

/// HELP text: backslash and line feed are escaped.
pub(crate) fn escape_help(s: &str, out: &mut Vec<u8>) {
    escape(s, out, false);
}

/// Label values: backslash, double quote and line feed are escaped.
pub(crate) fn escape_label_value(s: &str, out: &mut Vec<u8>) {
    escape(s, out, true);
}

pub(super) fn escape(s: &str, out: &mut Vec<u8>, quote: bool) {
    let mut rest = s.as_bytes();
    // Runs between special bytes are copied whole: label values and HELP
    // texts rarely hold one, and a byte-by-byte push was a third of a scrape.
    while let Some(i) = rest
        .iter()
        .position(|&b| b == b'\\' || b == b'\n' || (quote && b == b'"'))
    {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(match rest[i] {
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            _ => b"\\\"",
        });
        rest = &rest[i + 1..];
    }
    out.extend_from_slice(rest);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{CounterVec, Desc, Gauge, GaugeVec, MetricType};
    use std::sync::Arc;

    fn encoded(r: &Registry) -> String {
        let mut out = Vec::new();
        encode(r, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn golden_exposition() {
        let mut r = Registry::new();
        let d = Desc::new(
            "total_req_num",
            "Number of total http requests.",
            MetricType::Counter,
            &["status", "api"],
        );
        let reqs = Arc::new(CounterVec::new(
            d.unwrap(),
            &[&["200", "/"], &["405", "metrics"]],
            |i| i == 0,
        ));
        let t = Arc::new(Gauge::new(
            Desc::new(
                "cpu_temperature_celsius",
                "Current temperature of the CPU.",
                MetricType::Gauge,
                &[],
            )
            .unwrap(),
        ));
        r.register(reqs.clone()).unwrap();
        r.register(t.clone()).unwrap();
        reqs.inc(0);
        reqs.inc(0);
        t.set(62.5);
        assert_eq!(
            encoded(&r),
            "# HELP total_req_num Number of total http requests.\n\
             # TYPE total_req_num counter\n\
             total_req_num{status=\"200\",api=\"/\"} 2\n\
             # HELP cpu_temperature_celsius Current temperature of the CPU.\n\
             # TYPE cpu_temperature_celsius gauge\n\
             cpu_temperature_celsius 62.5\n"
        );
    }

    #[test]
    fn escapes_help_and_label_values() {
        let mut r = Registry::new();
        let d = Desc::new("m", "a \\ b\nc \"q\"", MetricType::Gauge, &["l"]).unwrap();
        let g = Arc::new(GaugeVec::new(d, &[&["x\\y\n\"z\""]]));
        g.set(0, f64::NEG_INFINITY);
        r.register(g).unwrap();
        assert_eq!(
            encoded(&r),
            "# HELP m a \\\\ b\\nc \"q\"\n# TYPE m gauge\nm{l=\"x\\\\y\\n\\\"z\\\"\"} -Inf\n"
        );
    }

    /// Vector metrics hand the encoder their label pairs written once at
    /// start-up; a collector that passes bare values gets them written at
    /// each scrape. Both must give the same bytes.
    #[test]
    fn pre_written_label_pairs_match_pairs_written_at_scrape() {
        use crate::metrics::{Buckets, HistogramVec};
        let values: &[&str] = &["x\\y\n\"z\"", "plain"];
        let desc = || Desc::new("h", "", MetricType::Histogram, &["a", "b"]).unwrap();
        let vec = HistogramVec::new(desc(), Buckets::new(&[0.5]), &[values]);
        vec.observe(0, 0.25);
        struct Bare(Desc, Box<[Box<str>]>);
        impl Collector for Bare {
            fn desc(&self) -> &Desc {
                &self.0
            }
            fn collect(&self, emit: &mut dyn FnMut(Sample<'_>)) {
                let series = Sample::new(&self.1, Value::Int(1));
                for le in ["0.5", "+Inf"] {
                    emit(Sample {
                        suffix: "_bucket",
                        extra_label: Some(("le", le)),
                        ..series
                    });
                }
                emit(Sample {
                    suffix: "_sum",
                    value: Value::Float(0.25),
                    ..series
                });
                emit(Sample {
                    suffix: "_count",
                    ..series
                });
            }
        }
        let bare = Bare(desc(), values.iter().map(|v| Box::<str>::from(*v)).collect());
        let (mut pre, mut raw) = (Registry::new(), Registry::new());
        pre.register(Arc::new(vec)).unwrap();
        raw.register(Arc::new(bare)).unwrap();
        assert_eq!(encoded(&pre), encoded(&raw));
        assert!(encoded(&pre).contains("h_bucket{a=\"x\\\\y\\n\\\"z\\\"\",b=\"plain\",le=\"+Inf\"} 1\n"));
    }

    #[test]
    fn empty_help_is_omitted_and_extra_label_appended() {
        struct Bucket(Desc);
        impl Collector for Bucket {
            fn desc(&self) -> &Desc {
                &self.0
            }
            fn collect(&self, emit: &mut dyn FnMut(Sample<'_>)) {
                emit(Sample {
                    suffix: "_bucket",
                    label_values: &[],
                    encoded_labels: None,
                    extra_label: Some(("le", "+Inf")),
                    value: Value::Int(3),
                });
            }
        }
        let mut r = Registry::new();
        r.register(Arc::new(Bucket(
            Desc::new("h", "", MetricType::Histogram, &[]).unwrap(),
        )))
        .unwrap();
        assert_eq!(encoded(&r), "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 3\n");
    }
}

//! What this binary is: `custom_metrics_app_build_info{version,revision,rustc} 1`
//! (the Prometheus `*_build_info` convention, to join on or to see which
//! build each pod runs) and the JSON body of `GET /version`. The values come
//! from `build.rs`; without it they read `unknown`.

use std::sync::Arc;

use crate::metrics::{Desc, GaugeVec, MetricType};

pub(super) const NAME: &str = "custom_metrics_app_build_info";

/// The build's description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BuildInfo {
    pub version: &'static str,
    /// Short git commit hash, or `unknown`.
    pub revision: &'static str,
    /// UTC, `YYYY-MM-DDTHH:MM:SSZ`, or `unknown`.
    pub date: &'static str,
    pub rustc: &'static str,
}

/// This binary's build.
pub(crate) const BUILD: BuildInfo = BuildInfo {
    version: env!("CARGO_PKG_VERSION"),
    revision: or_unknown(option_env!("CMA_BUILD_REVISION")),
    date: or_unknown(option_env!("CMA_BUILD_DATE")),
    rustc: or_unknown(option_env!("CMA_BUILD_RUSTC")),
};

const fn or_unknown(value: Option<&'static str>) -> &'static str {
    match value {
        Some(v) => v,
        None => "unknown",
    }
}

impl BuildInfo {
    /// The gauge family: one series, always 1.
    pub(crate) fn collector(&self) -> Arc<GaugeVec> {
        let desc = Desc::new(
            NAME,
            "Build information: version, git revision and compiler of this binary.",
            MetricType::Gauge,
            &["version", "revision", "rustc"],
        )
        .expect("constant metric name is valid");
        let gauge = GaugeVec::new(desc, &[&[self.version, self.revision, self.rustc]]);
        gauge.set(0, 1.0);
        Arc::new(gauge)
    }

    /// `{"version":…,"revision":…,"build_date":…,"rustc":…}` and a newline
    /// (the values are plain words, nothing to escape).
    pub(crate) fn json(&self) -> String {
        format!(
            "{{\"version\":\"{}\",\"revision\":\"{}\",\"build_date\":\"{}\",\"rustc\":\"{}\"}}\n",
            self.version, self.revision, self.date, self.rustc
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values() {
        for v in [BUILD.version, BUILD.revision, BUILD.date, BUILD.rustc] {
            assert!(!v.is_empty() && !v.contains(['"', '\\', '\n']), "{v:?}");
        }
        assert!(BUILD.json().starts_with("{\"version\":\""));
    }
}

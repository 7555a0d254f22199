//! `total_req_num{status,api}`: one pre-built series per (status, api) pair.

use std::sync::Arc;

use super::api::Api;
use crate::http::Status;
use crate::metrics::{CounterVec, Desc, MetricType};

pub const NAME: &str = "total_req_num";

/// Counts every answered request by status and route.
pub struct RequestMetrics {
    counter: Arc<CounterVec>,
}

impl RequestMetrics {
    pub fn new() -> RequestMetrics {
        // The seed's name and label order; the name lacks `_total` on purpose,
        // the seed's prometheus-adapter rules select it by this name.
        let desc = Desc::new(
            NAME,
            "Number of total http requests.",
            MetricType::Counter,
            &["status", "api"],
        )
        .expect("constant metric name is valid");
        let series: Vec<[&str; 2]> = Api::ALL
            .iter()
            .flat_map(|api| Status::ALL.iter().map(move |status| [status.as_str(), api.label()]))
            .collect();
        let series: Vec<&[&str]> = series.iter().map(|s| &s[..]).collect();
        // 200 series are shown from the start, so rate() sees the first requests;
        // error series appear with their first occurrence.
        let counter = CounterVec::new(desc, &series, |i| Status::ALL[i % Status::ALL.len()] == Status::Ok);
        RequestMetrics {
            counter: Arc::new(counter),
        }
    }

    /// Counts one answered request: an index computation and one relaxed add.
    #[inline]
    pub fn count(&self, api: Api, status: Status) {
        self.counter.inc(api.index() * Status::ALL.len() + status.index());
    }

    pub fn get(&self, api: Api, status: Status) -> u64 {
        self.counter.get(api.index() * Status::ALL.len() + status.index())
    }

    /// Requests counted so far, all series together.
    pub fn total(&self) -> u64 {
        self.counter.total()
    }

    pub fn collector(&self) -> Arc<CounterVec> {
        self.counter.clone()
    }
}

impl Default for RequestMetrics {
    fn default() -> Self {
        RequestMetrics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Collector;

    #[test]
    fn index_matches_labels() {
        let m = RequestMetrics::new();
        m.count(Api::CpuTempDown, Status::MethodNotAllowed);
        assert_eq!(m.get(Api::CpuTempDown, Status::MethodNotAllowed), 1);
        let c = m.collector();
        let i = c.index_of(&["405", "cpuTempDown"]).unwrap();
        assert_eq!(c.get(i), 1);
        let mut shown = Vec::new();
        c.collect(&mut |s| shown.push((s.label_values[0].to_string(), s.label_values[1].to_string())));
        assert_eq!(shown.len(), Api::ALL.len() + 1);
        assert!(shown.contains(&("405".into(), "cpuTempDown".into())));
        assert!(shown.contains(&("200".into(), "readyz".into())));
    }
}

//! What is recorded per request: `total_req_num{status,api}` (one pre-built
//! series per pair) and `http_request_duration_seconds{api}`.

use std::sync::Arc;

use super::route::{RouteId, Routes};
use crate::http::Status;
use crate::metrics::{Buckets, CounterVec, Desc, HistogramVec, MetricType};

pub(super) const NAME: &str = "total_req_num";
pub(super) const DURATION_NAME: &str = "http_request_duration_seconds";

/// Latency buckets, in seconds. Handling a request takes well under a
/// microsecond to tens of microseconds here, so the buckets start at 1 µs;
/// they reach 10 s for the injected latency (`/delay`, `--delay`, `/work`),
/// whose quantiles the experiments watch.
pub(super) const DURATION_BUCKETS: [f64; 22] = [
    0.000_001,
    0.000_002_5,
    0.000_005,
    0.000_01,
    0.000_025,
    0.000_05,
    0.000_1,
    0.000_25,
    0.000_5,
    0.001,
    0.002_5,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
];

/// Counts and times every answered request by route (and status): one
/// series per route of the table and status, none added later.
pub struct RequestMetrics {
    counter: Arc<CounterVec>,
    duration: Arc<HistogramVec>,
    /// The routes' `api` labels, by [`RouteId`].
    labels: Box<[&'static str]>,
}

impl RequestMetrics {
    pub(super) fn new(routes: &Routes) -> RequestMetrics {
        // The seed's name and label order; the name lacks `_total` on purpose,
        // the seed's prometheus-adapter rules select it by this name.
        let desc = Desc::new(
            NAME,
            "Number of total http requests.",
            MetricType::Counter,
            &["status", "api"],
        )
        .expect("constant metric name is valid");
        let labels: Box<[&'static str]> = routes.iter().map(|(_, r)| r.label).collect();
        let shown: Vec<bool> = routes.iter().map(|(_, r)| r.shown_from_start).collect();
        let series: Vec<[&str; 2]> = labels
            .iter()
            .flat_map(|label| Status::ALL.iter().map(move |status| [status.as_str(), *label]))
            .collect();
        let series: Vec<&[&str]> = series.iter().map(|s| &s[..]).collect();
        // The seed routes' 200 series are shown from the start, so rate() sees
        // the first requests; other series appear with their first occurrence.
        let counter = CounterVec::new(desc, &series, |i| {
            shown[i / Status::ALL.len()] && Status::ALL[i % Status::ALL.len()] == Status::Ok
        });
        let desc = Desc::new(
            DURATION_NAME,
            "Time from reading a request to having its response ready to send.",
            MetricType::Histogram,
            &["api"],
        )
        .expect("constant metric name is valid");
        let apis: Vec<[&str; 1]> = labels.iter().map(|l| [*l]).collect();
        let apis: Vec<&[&str]> = apis.iter().map(|a| &a[..]).collect();
        let duration = HistogramVec::new(desc, Buckets::new(&DURATION_BUCKETS), &apis);
        RequestMetrics {
            counter: Arc::new(counter),
            duration: Arc::new(duration),
            labels,
        }
    }

    /// Counts one answered request: an index computation and one relaxed add.
    #[inline]
    pub fn count(&self, route: RouteId, status: Status) {
        self.counter.inc(route.index() * Status::ALL.len() + status.index());
    }

    /// Records how long answering a request to `route` took.
    #[inline]
    pub fn observe_duration(&self, route: RouteId, seconds: f64) {
        self.duration.observe(route.index(), seconds);
    }

    pub fn duration_collector(&self) -> Arc<HistogramVec> {
        self.duration.clone()
    }

    /// The count of the series `{status, api=label}`; panics for a label
    /// no route has.
    pub fn get(&self, label: &str, status: Status) -> u64 {
        let route = self
            .labels
            .iter()
            .position(|l| *l == label)
            .unwrap_or_else(|| panic!("no route is labelled {label:?}"));
        self.counter.get(route * Status::ALL.len() + status.index())
    }

    /// Requests counted so far, all series together.
    pub fn total(&self) -> u64 {
        self.counter.total()
    }

    pub fn collector(&self) -> Arc<CounterVec> {
        self.counter.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::super::routes::ROUTES;
    use super::*;
    use crate::metrics::Collector;

    #[test]
    fn index_matches_labels() {
        let routes = Routes::new(ROUTES.to_vec());
        let m = RequestMetrics::new(&routes);
        let down = routes.find("/cpuTempDown");
        m.count(down, Status::MethodNotAllowed);
        assert_eq!(m.get("cpuTempDown", Status::MethodNotAllowed), 1);
        let c = m.collector();
        let i = c.index_of(&["405", "cpuTempDown"]).unwrap();
        assert_eq!(c.get(i), 1);
        let mut shown = Vec::new();
        c.collect(&mut |s| shown.push((s.label_values[0].to_string(), s.label_values[1].to_string())));
        let seed = ROUTES.iter().filter(|r| r.shown_from_start).count();
        assert_eq!(seed, 6);
        assert_eq!(shown.len(), seed + 1);
        assert!(shown.contains(&("405".into(), "cpuTempDown".into())));
        assert!(shown.contains(&("200".into(), "readyz".into())));
    }
}

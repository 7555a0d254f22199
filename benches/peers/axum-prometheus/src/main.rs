//! The seed app written the idiomatic way: axum routes, `prometheus` crate
//! metrics (a CounterVec looked up by label values per request, a Gauge),
//! `TextEncoder` on scrape. Counts like custom-metrics-app (once per
//! request, under its route) so the comparison is about the machinery.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use prometheus::{Encoder, Gauge, IntCounterVec, Opts, Registry, TextEncoder};
use std::sync::Arc;

struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    temperature: Gauge,
}

type Shared = Arc<Metrics>;

async fn root(State(m): State<Shared>) -> &'static str {
    m.requests.with_label_values(&["200", "/"]).inc();
    "custom metrics"
}

async fn temp_up(State(m): State<Shared>) -> String {
    m.temperature.add(10.0);
    m.requests.with_label_values(&["200", "cpuTempUp"]).inc();
    format!("{}\n", m.temperature.get())
}

async fn temp_down(State(m): State<Shared>) -> String {
    m.temperature.sub(10.0);
    m.requests.with_label_values(&["200", "cpuTempDown"]).inc();
    format!("{}\n", m.temperature.get())
}

async fn metrics(State(m): State<Shared>) -> impl IntoResponse {
    m.requests.with_label_values(&["200", "metrics"]).inc();
    let mut body = Vec::new();
    let encoder = TextEncoder::new();
    if encoder.encode(&m.registry.gather(), &mut body).is_err() {
        return (StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, "text/plain".to_owned())], Vec::new());
    }
    (StatusCode::OK, [(header::CONTENT_TYPE, encoder.format_type().to_owned())], body)
}

#[tokio::main]
async fn main() {
    let addr = std::env::args().skip_while(|a| a != "--addr").nth(1).unwrap_or_else(|| "0.0.0.0:3000".into());
    let registry = Registry::new();
    let requests =
        IntCounterVec::new(Opts::new("total_req_num", "Number of total http requests."), &["status", "api"]).unwrap();
    let temperature = Gauge::new("cpu_temperature_celsius", "Current temperature of the CPU.").unwrap();
    temperature.set(50.0);
    registry.register(Box::new(requests.clone())).unwrap();
    registry.register(Box::new(temperature.clone())).unwrap();
    let state = Arc::new(Metrics { registry, requests, temperature });
    let app = Router::new()
        .route("/cpuTempUp", get(temp_up).post(temp_up))
        .route("/cpuTempDown", get(temp_down).post(temp_down))
        .route("/metrics", get(metrics))
        .fallback(root)
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
    axum::serve(listener, app).await.unwrap();
}

//! custom-metrics-app: a sample workload for Kubernetes custom-metrics
//! autoscaling.
//!
//! The layers, from the socket up (see `docs/architecture.md`):
//! - [`server`]: listeners, worker threads, connection I/O, shutdown;
//! - [`http`]: request parsing, response writing, per-connection session;
//! - [`app`]: routes, answers, request counting;
//! - [`temperature`]: where `cpu_temperature_celsius` comes from;
//! - [`metrics`]: lock-free metric types, registry and text encoder;
//! - [`loadgen`]: the `loadgen` subcommand, a load generator for the experiments.

pub mod app;
pub mod config;
pub mod http;
pub mod loadgen;
pub mod metrics;
pub mod server;
pub mod temperature;

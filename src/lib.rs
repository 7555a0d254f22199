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
//!
//! # The seed
//!
//! *The seed* is the small Go program this crate replaces: the sample app of
//! the classic "HPA on custom metrics" tutorial, whose Kubernetes manifests,
//! load loop (busybox `wget`) and prometheus-adapter rules are in wide use.
//! This crate keeps what those depend on: its routes (`/`, `/cpuTempUp`,
//! `/cpuTempDown`, `/metrics`), its metric and label names and their
//! spelling (`total_req_num{status,api}` without `_total`,
//! `cpu_temperature_celsius`) and its simulated temperature moved by
//! requests. Where behaviour differs (each request counted once, with its
//! real status) `docs/metrics.md` says how. Elsewhere in the code, "the
//! seed" means this program and nothing more is said about it.

pub mod app;
pub mod config;
pub mod http;
pub mod loadgen;
pub mod metrics;
pub mod server;
pub mod temperature;

//! custom-metrics-app: a sample workload for Kubernetes custom-metrics
//! autoscaling.
//!
//! # What the library offers
//!
//! One module, [`metrics`]: lock-free, allocation-free Prometheus metric
//! types (counters, gauges, histograms and their label-vectors, with series
//! fixed when built), a [`Registry`](metrics::Registry) of collectors, and
//! encoders for the text format 0.0.4 and OpenMetrics 1.0.0. It knows
//! nothing of HTTP, and is what the app's own `/metrics` is built from.
//!
//! ```
//! use std::sync::Arc;
//! use custom_metrics_app::metrics::{encoding, Counter, Desc, MetricType, Registry};
//!
//! let desc = Desc::new("jobs_done_total", "Jobs done.", MetricType::Counter, &[]).unwrap();
//! let jobs = Arc::new(Counter::new(desc));
//! let mut registry = Registry::new();
//! registry.register(jobs.clone()).unwrap();
//!
//! jobs.inc();
//! let mut out = Vec::new();
//! encoding::encode(&registry, encoding::Format::Text, &mut out);
//! assert!(String::from_utf8(out).unwrap().contains("jobs_done_total 1\n"));
//! ```
//!
//! Everything else is the binary's, private to the crate, in layers from the
//! socket up (see `docs/architecture.md`): `server` (listeners, worker
//! threads, connection I/O, shutdown), `http` (request parsing, response
//! writing, the per-connection session), `app` (routes, answers, request
//! counting), `temperature` (where `cpu_temperature_celsius` comes from),
//! `loadgen` (the load generator subcommand), `doctor` (the pipeline
//! diagnosis subcommand), `grammar` (what a flag or path parameter may
//! say), `config` (flags) and `run`
//! (the binary's [`main`]).
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

#![deny(missing_docs)]
#![deny(unreachable_pub)]

// The binary's layers are private; `missing_docs` is for the public API,
// and the few items `internals` re-exports from them are not API.
#[allow(missing_docs)]
mod app;
#[allow(missing_docs)]
mod check;
#[allow(missing_docs)]
mod config;
#[allow(missing_docs)]
mod doctor;
#[allow(missing_docs)]
mod grammar;
#[allow(missing_docs)]
mod http;
#[allow(missing_docs)]
mod loadgen;
pub mod metrics;
mod run;
#[allow(missing_docs)]
mod server;
#[allow(missing_docs)]
mod temperature;

pub use run::main;

/// Not API: the items the crate's own integration tests, benches, examples
/// and fuzz targets reach into, under their module paths. It exists so that
/// everything else can stay private (and the compiler can find what is
/// unused); it follows the code, with no promise of stability.
#[doc(hidden)]
pub mod internals {
    pub mod app {
        pub use crate::app::{App, AppOptions, DelayRange, ErrorRatio, LogEntry, LogFormat, Pending, RequestLog};
    }
    pub mod config {
        pub use crate::config::{Cli, Command};
    }
    pub mod grammar {
        pub use crate::grammar::duration;
    }
    pub mod http {
        pub use crate::http::{
            is_valid_host, parse, Handler, Limits, Method, Parsed, Rejection, Request, ResponseWriter, Session, Status,
            Wait, WRITE_HIGH_WATER,
        };
    }
    pub mod loadgen {
        pub use crate::loadgen::args::ConnectionMode;
        pub use crate::loadgen::client::parse_head;
        pub use crate::loadgen::schedule::Schedule;
        pub use crate::loadgen::stages::{parse_stages, Stage};
        pub use crate::loadgen::target::Url;
    }
    pub mod server {
        pub use crate::server::{RunningServer, Server, ServerConfig, Shutdown};
    }
    pub mod temperature {
        pub use crate::temperature::{
            build_source, SimulatedTemperature, SourceChoice, TemperatureConfig, TemperatureSetup, ThermalSelector,
        };
        pub mod sysfs {
            pub use crate::temperature::sysfs::collectors;
            pub use crate::temperature::sysfs::exposition::{SensorTemperatures, SensorUp};
            pub use crate::temperature::sysfs::throttle_exposition::{
                Family, FirmwareFlags, SampledValues, ThrottledNow,
            };
            pub use crate::temperature::sysfs::trip_exposition::{TripPoints, TripRatio};
            pub use crate::temperature::sysfs::{
                Sampler, SamplerConfig, Selection, SensorKind, ThermalSelector, RESIDENT_READERS,
            };
        }
    }
}

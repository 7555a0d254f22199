//! The pieces of the end-to-end HPA test (tests/e2e_hpa.rs), one concern a file:
//! - [`manifests`]: what is read from deploy/ (ServiceMonitor, adapter rules, HPA);
//! - [`prometheus`]: a real Prometheus scraping like the operator would;
//! - [`adapter`]: prometheus-adapter's metric naming and query rendering;
//! - [`hpa`]: the HPA controller's replica calculation;
//! - [`sampler`]: the load a pod really received, measured on the side.

pub mod adapter;
pub mod hpa;
pub mod manifests;
pub mod prometheus;
pub mod sampler;

//! The pieces of the end-to-end HPA test (tests/e2e_hpa.rs), one concern a file:
//! - [`manifests`]: what is read from deploy/ (ServiceMonitor, adapter rules, HPA);
//! - [`prometheus`]: a real Prometheus scraping like the operator would;
//! - [`adapter`]: prometheus-adapter's metric naming and query rendering;
//! - [`hpa`]: the HPA controller's replica calculation;
//! - [`hpa_behavior`], [`hpa_controller`]: its `behavior` and the controller
//!   over time (sync, stabilization, policies), for the autoscaling lab;
//! - [`sampler`]: the load a pod really received, measured on the side.

// Shared by tests/e2e_hpa.rs and the autoscaling lab (tests/autoscale_lab.rs,
// examples/autoscale_lab.rs); each uses a part.
#![allow(dead_code)]

pub mod adapter;
pub mod hpa;
pub mod hpa_behavior;
pub mod hpa_controller;
pub mod manifests;
pub mod prometheus;
pub mod sampler;

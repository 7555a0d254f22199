//! The pieces of the end-to-end autoscaling tests (tests/e2e_hpa.rs for
//! the prometheus-adapter route, tests/e2e_keda.rs for KEDA's), one concern
//! a file; each test uses a part of them:
//! - [`manifests`]: what is read from deploy/ (ServiceMonitor, adapter rules, HPA);
//! - [`prometheus`]: a real Prometheus scraping like the operator would;
//! - [`adapter`]: prometheus-adapter's metric naming and query rendering;
//! - [`hpa`]: the HPA controller's replica calculation;
//! - [`hpa_behavior`], [`hpa_controller`]: its `behavior` and the controller
//!   over time (sync, stabilization, policies), for the autoscaling lab
//!   (tests/autoscale_lab.rs, examples/autoscale_lab.rs), which uses these too;
//! - [`keda`]: the ScaledObject of deploy/overlays/keda and how KEDA's
//!   Prometheus scaler reads a query;
//! - [`pods`]: the app's instances the tests scale;
//! - [`sampler`]: the load a pod really received, measured on the side.

#![allow(dead_code)]

pub mod adapter;
pub mod hpa;
pub mod hpa_behavior;
pub mod hpa_controller;
pub mod keda;
pub mod manifests;
pub mod pods;
pub mod prometheus;
pub mod sampler;

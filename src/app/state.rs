//! What the answers read and change: the temperature, readiness, the work
//! threads, the experiment options, the registry `/metrics` encodes. The
//! routes' answers take it, not the whole [`App`](super::App), so they know
//! nothing of routing or counting.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use super::options::AppOptions;
use super::work_pool::WorkPool;
use crate::metrics::Registry;
use crate::server::Shutdown;
use crate::temperature::TemperatureSource;

pub(crate) struct AppState {
    pub temperature: Arc<dyn TemperatureSource>,
    pub shutdown: Arc<Shutdown>,
    pub registry: Registry,
    /// Whether scrapes that prefer OpenMetrics get it.
    pub openmetrics: bool,
    pub options: AppOptions,
    /// `POST /readyz/disable` clears it, `/readyz/enable` sets it.
    pub ready: AtomicBool,
    pub work: WorkPool,
    pub version_json: Box<[u8]>,
}

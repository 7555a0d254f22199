//! What the experiment flags change in the app; all off by default, and off
//! they cost the request path of `/` nothing but a test of a constant.

use super::delay::DelayRange;
use super::error_ratio::ErrorRatio;
use super::request_log::LogFormat;

/// The app's optional behaviour.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AppOptions {
    /// Share of `/` requests answered `500`.
    pub error_ratio: ErrorRatio,
    /// Latency added to `/`.
    pub delay: Option<DelayRange>,
    /// Threads `/work/{duration}` burns CPU on (and so how many jobs run at once).
    pub work_threads: usize,
    /// One line per request on stdout, in this format.
    pub request_log: Option<LogFormat>,
}

impl Default for AppOptions {
    fn default() -> AppOptions {
        AppOptions {
            error_ratio: ErrorRatio::new(0.0),
            delay: None,
            work_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            request_log: None,
        }
    }
}

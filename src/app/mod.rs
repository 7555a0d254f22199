//! The application: routes, what each answers, and the counting of every
//! response. Implements [`Handler`] for the connection layer.

mod build_info;
mod delay;
mod error_ratio;
mod negotiate;
mod options;
mod request_log;
mod request_metrics;
mod route;
mod routes;
mod state;
mod work_pool;

use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) use build_info::BUILD;
pub(crate) use delay::parse_delay;
pub use delay::DelayRange;
pub(crate) use error_ratio::parse_ratio;
pub use error_ratio::ErrorRatio;
pub use options::AppOptions;
pub use request_log::{LogEntry, LogFormat, RequestLog};
pub(crate) use request_metrics::RequestMetrics;
pub use route::Pending;
pub(crate) use route::RouteId;
pub(crate) use work_pool::{parse_threads, WorkPool};

use crate::http::{Deferred, Handler, Method, Rejection, Request, Status};
use crate::metrics::{register_process_metrics, Collector, Registry};
use crate::server::Shutdown;
use crate::temperature::{TemperatureGauge, TemperatureSource};
use route::{Answer, Handling, Route, Routes, Writer};
use state::AppState;

/// The seed-compatible application: routes each request through its table,
/// answers it, and counts it.
pub struct App {
    routes: Routes,
    state: AppState,
    requests: RequestMetrics,
    /// Whether the experiment routes are served (`--experiments`).
    experiments: bool,
    log: Option<RequestLog>,
}

impl App {
    pub fn new(temperature: Arc<dyn TemperatureSource>, shutdown: Arc<Shutdown>) -> App {
        App::with_collectors(temperature, Vec::new(), shutdown)
    }

    /// Like [`App::new`], with `extra` families (a real temperature source's
    /// sensor metrics) registered after the seed's two.
    pub fn with_collectors(
        temperature: Arc<dyn TemperatureSource>,
        extra: Vec<Arc<dyn Collector>>,
        shutdown: Arc<Shutdown>,
    ) -> App {
        App::with_routes(routes::ROUTES.to_vec(), temperature, extra, shutdown)
    }

    /// The app over another route table (tests add a route this way).
    fn with_routes(
        table: Vec<Route>,
        temperature: Arc<dyn TemperatureSource>,
        extra: Vec<Arc<dyn Collector>>,
        shutdown: Arc<Shutdown>,
    ) -> App {
        let routes = Routes::new(table);
        let requests = RequestMetrics::new(&routes);
        let mut registry = Registry::new();
        registry.register(requests.collector()).expect("first registration");
        registry
            .register(Arc::new(TemperatureGauge::new(temperature.clone())))
            .expect("distinct metric names");
        for collector in extra {
            registry.register(collector).expect("distinct metric names");
        }
        registry
            .register(requests.duration_collector())
            .expect("distinct metric names");
        register_process_metrics(&mut registry).expect("distinct metric names");
        registry.register(BUILD.collector()).expect("distinct metric names");
        let options = AppOptions::default();
        App {
            routes,
            state: AppState {
                temperature,
                shutdown,
                registry,
                openmetrics: true,
                options,
                ready: AtomicBool::new(true),
                work: WorkPool::new(options.work_threads),
                version_json: BUILD.json().into_bytes().into_boxed_slice(),
            },
            requests,
            experiments: true,
            log: None,
        }
    }

    /// Turns on the experiment options (error ratio, delay, work threads,
    /// request log); starts the request log's writer thread if asked.
    pub fn with_options(mut self, options: AppOptions) -> std::io::Result<App> {
        self.state.work = WorkPool::new(options.work_threads);
        if let Some(format) = options.request_log {
            let log = RequestLog::start(format)?;
            self.state
                .registry
                .register(log.dropped_collector())
                .expect("distinct metric names");
            self.log = Some(log);
        }
        self.state.options = options;
        Ok(self)
    }

    /// The request log, when on (to flush it at exit).
    pub fn request_log(&self) -> Option<&RequestLog> {
        self.log.as_ref()
    }

    /// Whether scrapes that prefer OpenMetrics get it (on by default).
    pub fn with_openmetrics(mut self, enabled: bool) -> App {
        self.state.openmetrics = enabled;
        self
    }

    /// Whether the experiment routes are served (on by default). Off, their
    /// paths are answered and counted as any unknown path is (`/`), so they
    /// change nothing and add no series. The flags that act on `/`
    /// (`--error-ratio`, `--delay`) are refused by the command line.
    pub fn with_experiments(mut self, enabled: bool) -> App {
        self.experiments = enabled;
        self
    }

    /// The route that answers `path`.
    #[inline]
    fn route(&self, path: &str) -> (RouteId, &Route) {
        let id = self.routes.find(path);
        let route = self.routes.get(id);
        // A constant of the run: one predictable branch.
        if !self.experiments && route.experiment {
            let fallback = self.routes.fallback();
            (fallback, self.routes.get(fallback))
        } else {
            (id, route)
        }
    }

    pub fn requests(&self) -> &RequestMetrics {
        &self.requests
    }

    pub fn registry(&self) -> &Registry {
        &self.state.registry
    }

    /// Counts, times and (when on) logs one answered request.
    #[inline]
    fn record(&self, route: RouteId, status: Status, method: Method, path: &str, received: Instant) {
        let latency = received.elapsed();
        self.requests.count(route, status);
        self.requests.observe_duration(route, latency.as_secs_f64());
        if let Some(log) = &self.log {
            log.record(&LogEntry {
                method,
                path,
                status,
                latency,
            });
        }
    }
}

impl Handler for App {
    type Note = Pending;

    fn handle(&self, req: &Request<'_>, res: &mut Writer<'_>) {
        let (id, route) = self.route(req.path);
        if !route.methods.take(req.method) {
            let status = Status::MethodNotAllowed;
            res.respond(
                status,
                &[("Allow", route.methods.allow())],
                routes::TEXT,
                b"method not allowed\n",
            );
            self.record(id, status, req.method, req.path, req.received);
            return;
        }
        let parameter = route.parameter(req.path);
        let status = match route.handling {
            Handling::Now(answer) => answer(&self.state, req, parameter, res),
            Handling::Deferrable { answer, finish } => match answer(&self.state, req, parameter, res) {
                Answer::Now(status) => status,
                Answer::Later(wait, status) => {
                    let pending = Pending {
                        route: id,
                        status,
                        method: req.method,
                        finish,
                    };
                    // Counted when `finish` writes it.
                    res.defer(wait, pending, req);
                    return;
                }
            },
        };
        self.record(id, status, req.method, req.path, req.received);
    }

    fn finish(&self, deferred: Deferred<Pending>, res: &mut Writer<'_>) {
        let pending = deferred.note;
        (pending.finish)(&self.state, pending.status, res);
        self.record(
            pending.route,
            pending.status,
            pending.method,
            deferred.path(),
            deferred.received,
        );
    }

    fn job_done(&self, job: u32) -> impl Future<Output = ()> + Send + '_ {
        self.state.work.done(job)
    }

    fn reject(&self, rejection: Rejection<'_>, res: &mut Writer<'_>) {
        let status = rejection.status;
        let body: &[u8] = match status {
            Status::RequestTimeout => b"request head not received in time\n",
            Status::ExpectationFailed => b"only Expect: 100-continue is supported\n",
            Status::UriTooLong => b"request line too long\n",
            Status::HeaderFieldsTooLarge => b"request header too large\n",
            Status::PayloadTooLarge => b"request body too large\n",
            Status::NotImplemented => b"only the chunked transfer coding is supported\n",
            Status::VersionNotSupported => b"only HTTP/1.0 and HTTP/1.1 are supported\n",
            _ => b"bad request\n",
        };
        res.respond(status, &[], routes::TEXT, body);
        // A head that broke before its path was known counts as `/`.
        let route = rejection.path.map_or(self.routes.fallback(), |path| self.route(path).0);
        self.requests.count(route, status);
        if let Some(log) = &self.log {
            // Neither the method nor the time of reading is known here.
            log.record(&LogEntry {
                method: Method::Other,
                path: rejection.path.unwrap_or("-"),
                status,
                latency: Duration::ZERO,
            });
        }
    }
}

#[cfg(test)]
mod tests;

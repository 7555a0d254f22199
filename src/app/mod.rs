//! The application: routes, what each answers, and the counting of every
//! response. Implements [`Handler`] for the connection layer.

mod api;
mod build_info;
mod delay;
mod error_ratio;
mod negotiate;
mod options;
mod request_log;
mod request_metrics;
mod work_pool;

use std::cell::RefCell;
use std::future::Future;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use api::Api;
pub(crate) use build_info::BUILD;
pub use delay::DelayRange;
pub(crate) use delay::{parse_delay, MAX_DELAY};
pub(crate) use error_ratio::parse_ratio;
pub use error_ratio::ErrorRatio;
pub(crate) use negotiate::exposition_format;
pub use options::AppOptions;
pub use request_log::{LogEntry, LogFormat, RequestLog};
pub(crate) use request_metrics::RequestMetrics;
pub(crate) use work_pool::{parse_threads, WorkPool, MAX_WORK};

use crate::grammar::duration;
use crate::http::{Deferred, Handler, Method, Rejection, Request, ResponseWriter, Status, Wait};
use crate::metrics::encoding::{encode, write_f64};
use crate::metrics::{register_process_metrics, Collector, Registry};
use crate::server::Shutdown;
use crate::temperature::{Direction, TemperatureGauge, TemperatureSource};

const TEXT: &str = "text/plain; charset=utf-8";

thread_local! {
    /// Scratch space for bodies built per request (the exposition): grows to
    /// the exposition's size once per thread, then is reused.
    static BODY: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(16 * 1024));
}

/// The seed-compatible application.
pub struct App {
    registry: Registry,
    requests: RequestMetrics,
    temperature: Arc<dyn TemperatureSource>,
    shutdown: Arc<Shutdown>,
    openmetrics: bool,
    options: AppOptions,
    /// Whether the experiment routes are served (`--experiments`).
    experiments: bool,
    /// `POST /readyz/disable` clears it, `/readyz/enable` sets it.
    ready: AtomicBool,
    work: WorkPool,
    log: Option<RequestLog>,
    version_json: Box<[u8]>,
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
        let requests = RequestMetrics::new();
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
            registry,
            requests,
            temperature,
            shutdown,
            openmetrics: true,
            experiments: true,
            ready: AtomicBool::new(true),
            work: WorkPool::new(options.work_threads),
            log: None,
            options,
            version_json: BUILD.json().into_bytes().into_boxed_slice(),
        }
    }

    /// Turns on the experiment options (error ratio, delay, work threads,
    /// request log); starts the request log's writer thread if asked.
    pub fn with_options(mut self, options: AppOptions) -> std::io::Result<App> {
        self.work = WorkPool::new(options.work_threads);
        if let Some(format) = options.request_log {
            let log = RequestLog::start(format)?;
            self.registry
                .register(log.dropped_collector())
                .expect("distinct metric names");
            self.log = Some(log);
        }
        self.options = options;
        Ok(self)
    }

    /// The request log, when on (to flush it at exit).
    pub fn request_log(&self) -> Option<&RequestLog> {
        self.log.as_ref()
    }

    /// Whether scrapes that prefer OpenMetrics get it (on by default).
    pub fn with_openmetrics(mut self, enabled: bool) -> App {
        self.openmetrics = enabled;
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
    fn route(&self, path: &str) -> Api {
        let api = Api::route(path);
        // A constant of the run: one predictable branch.
        if !self.experiments && api.is_experiment() {
            Api::Root
        } else {
            api
        }
    }

    pub fn requests(&self) -> &RequestMetrics {
        &self.requests
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Answers `req`; `None` when the answer was deferred (it is counted
    /// when [`Handler::finish`] writes it).
    fn answer(&self, api: Api, req: &Request<'_>, res: &mut ResponseWriter<'_>) -> Option<Status> {
        let method_ok = match req.method {
            Method::Get | Method::Head => !matches!(api, Api::ReadyzDisable | Api::ReadyzEnable),
            Method::Post => matches!(
                api,
                Api::CpuTempUp | Api::CpuTempDown | Api::Status | Api::ReadyzDisable | Api::ReadyzEnable
            ),
            Method::Other => false,
        };
        if !method_ok {
            let status = Status::MethodNotAllowed;
            res.respond(status, &[("Allow", api.allow())], TEXT, b"method not allowed\n");
            return Some(status);
        }
        let status = match api {
            Api::Root => {
                // Constants of the run: off, two predictable branches.
                let status = if !self.options.error_ratio.is_zero() && self.options.error_ratio.next_fails() {
                    Status::InternalServerError
                } else {
                    Status::Ok
                };
                if let Some(delay) = self.options.delay {
                    res.defer(Wait::Until(req.received + delay.pick()), tag(api, status), req);
                    return None;
                }
                respond_root(status, res);
                status
            }
            Api::Status => match api.parameter(req.path).and_then(parse_status) {
                Some(Status::NoContent) => {
                    res.respond_no_content();
                    Status::NoContent
                }
                Some(status) => {
                    res.respond(status, &[], TEXT, status_body(status));
                    status
                }
                None => bad_request(
                    res,
                    b"expected /status/{code} with a code of 200 201 204 400 401 403 404 409 429 500 502 503 504\n",
                ),
            },
            Api::Delay => match api.parameter(req.path).and_then(duration::parse) {
                Some(delay) if delay <= MAX_DELAY => {
                    res.defer(Wait::Until(req.received + delay), tag(api, Status::Ok), req);
                    return None;
                }
                _ => bad_request(
                    res,
                    b"expected /delay/{duration} up to 10s, like /delay/250ms or /delay/2\n",
                ),
            },
            Api::Work => match api.parameter(req.path).and_then(duration::parse) {
                Some(cpu) if cpu <= MAX_WORK => match self.work.start(cpu) {
                    Some(job) => {
                        res.defer(Wait::Job(job), tag(api, Status::Ok), req);
                        return None;
                    }
                    None => {
                        res.respond(Status::ServiceUnavailable, &[], TEXT, b"every work thread is busy\n");
                        Status::ServiceUnavailable
                    }
                },
                _ => bad_request(res, b"expected /work/{duration} up to 1s, like /work/100ms\n"),
            },
            Api::ReadyzDisable | Api::ReadyzEnable => {
                let ready = api == Api::ReadyzEnable;
                self.ready.store(ready, Ordering::Relaxed);
                // Not `eprintln!`, which panics once stderr's reader is gone.
                let _ = writeln!(
                    std::io::stderr(),
                    "readiness {} by POST {}",
                    if ready { "enabled" } else { "disabled" },
                    req.path
                );
                res.respond(Status::Ok, &[], TEXT, if ready { b"ready\n" } else { b"not ready\n" });
                Status::Ok
            }
            Api::Version => {
                res.respond(Status::Ok, &[], "application/json", &self.version_json);
                Status::Ok
            }
            Api::CpuTempUp | Api::CpuTempDown => {
                let direction = if api == Api::CpuTempUp {
                    Direction::Up
                } else {
                    Direction::Down
                };
                match self.temperature.adjust(direction) {
                    Ok(now) => with_body(|body| {
                        write_f64(body, now);
                        body.push(b'\n');
                        res.respond(Status::Ok, &[], TEXT, body);
                        Status::Ok
                    }),
                    Err(reason) => with_body(|body| {
                        body.extend_from_slice(reason.0.as_bytes());
                        body.push(b'\n');
                        res.respond(Status::Conflict, &[], TEXT, body);
                        Status::Conflict
                    }),
                }
            }
            Api::Metrics => with_body(|body| {
                let format = exposition_format(req.accept, self.openmetrics);
                encode(&self.registry, format, body);
                res.respond(Status::Ok, &[], format.content_type(), body);
                Status::Ok
            }),
            Api::Healthz => {
                res.respond(Status::Ok, &[], TEXT, b"ok\n");
                Status::Ok
            }
            Api::Readyz => {
                if self.shutdown.is_triggered() {
                    res.respond(Status::ServiceUnavailable, &[], TEXT, b"shutting down\n");
                    Status::ServiceUnavailable
                } else if !self.ready.load(Ordering::Relaxed) {
                    res.respond(
                        Status::ServiceUnavailable,
                        &[],
                        TEXT,
                        b"disabled by POST /readyz/disable\n",
                    );
                    Status::ServiceUnavailable
                } else {
                    res.respond(Status::Ok, &[], TEXT, b"ok\n");
                    Status::Ok
                }
            }
        };
        Some(status)
    }

    /// Counts, times and (when on) logs one answered request.
    #[inline]
    fn record(&self, api: Api, status: Status, method: Method, path: &str, received: std::time::Instant) {
        let latency = received.elapsed();
        self.requests.count(api, status);
        self.requests.observe_duration(api, latency.as_secs_f64());
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

/// A deferred answer's note: its route and status.
fn tag(api: Api, status: Status) -> u32 {
    ((api.index() as u32) << 8) | status.index() as u32
}

fn untag(tag: u32) -> (Api, Status) {
    let api = Api::ALL.get((tag >> 8) as usize).copied().unwrap_or(Api::Root);
    let status = Status::ALL.get((tag & 0xff) as usize).copied().unwrap_or(Status::Ok);
    (api, status)
}

fn respond_root(status: Status, res: &mut ResponseWriter<'_>) {
    if status == Status::Ok {
        res.respond(Status::Ok, &[], TEXT, b"custom metrics");
    } else {
        res.respond(status, &[], TEXT, b"injected error (--error-ratio)\n");
    }
}

fn bad_request(res: &mut ResponseWriter<'_>, why: &[u8]) -> Status {
    res.respond(Status::BadRequest, &[], TEXT, why);
    Status::BadRequest
}

/// The codes `/status/{code}` answers with: the documented set.
const STATUS_CODES: [Status; 13] = [
    Status::Ok,
    Status::Created,
    Status::NoContent,
    Status::BadRequest,
    Status::Unauthorized,
    Status::Forbidden,
    Status::NotFound,
    Status::Conflict,
    Status::TooManyRequests,
    Status::InternalServerError,
    Status::BadGateway,
    Status::ServiceUnavailable,
    Status::GatewayTimeout,
];

fn parse_status(code: &str) -> Option<Status> {
    if code.len() != 3 {
        return None;
    }
    let code: u16 = code.parse().ok()?;
    STATUS_CODES.iter().copied().find(|s| s.code() == code)
}

/// `503 Service Unavailable\n`: the body of a `/status/{code}` answer.
fn status_body(status: Status) -> &'static [u8] {
    // The status line minus "HTTP/1.1 " is the code and reason, CRLF ended.
    let line = status.status_line();
    &line.as_bytes()[9..]
}

impl Handler for App {
    fn handle(&self, req: &Request<'_>, res: &mut ResponseWriter<'_>) {
        let api = self.route(req.path);
        if let Some(status) = self.answer(api, req, res) {
            self.record(api, status, req.method, req.path, req.received);
        }
    }

    fn finish(&self, deferred: Deferred, res: &mut ResponseWriter<'_>) {
        let (api, status) = untag(deferred.tag);
        match api {
            Api::Root => respond_root(status, res),
            Api::Delay => res.respond(status, &[], TEXT, b"delayed\n"),
            _ => res.respond(status, &[], TEXT, b"worked\n"),
        }
        // The method is not kept; only GET and HEAD reach a deferral.
        let method = if res.head_only() { Method::Head } else { Method::Get };
        self.record(api, status, method, deferred.path(), deferred.received);
    }

    fn job_done(&self, job: u32) -> impl Future<Output = ()> + Send + '_ {
        self.work.done(job)
    }

    fn reject(&self, rejection: Rejection<'_>, res: &mut ResponseWriter<'_>) {
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
        res.respond(status, &[], TEXT, body);
        // A head that broke before its path was known counts as `/`.
        self.requests
            .count(rejection.path.map_or(Api::Root, |path| self.route(path)), status);
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

fn with_body<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    BODY.with(|b| {
        let mut body = b.borrow_mut();
        body.clear();
        f(&mut body)
    })
}

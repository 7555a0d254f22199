//! The application: routes, what each answers, and the counting of every
//! response. Implements [`Handler`] for the connection layer.

mod api;
mod negotiate;
mod request_metrics;

use std::cell::RefCell;
use std::sync::Arc;

pub use api::Api;
pub use negotiate::exposition_format;
pub use request_metrics::RequestMetrics;

use crate::http::{Handler, Method, Rejection, Request, ResponseWriter, Status};
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
        App {
            registry,
            requests,
            temperature,
            shutdown,
            openmetrics: true,
        }
    }

    /// Whether scrapes that prefer OpenMetrics get it (on by default).
    pub fn with_openmetrics(mut self, enabled: bool) -> App {
        self.openmetrics = enabled;
        self
    }

    pub fn requests(&self) -> &RequestMetrics {
        &self.requests
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    fn answer(&self, api: Api, req: &Request<'_>, res: &mut ResponseWriter<'_>) -> Status {
        let method_ok = match req.method {
            Method::Get | Method::Head => true,
            Method::Post => matches!(api, Api::CpuTempUp | Api::CpuTempDown),
            Method::Other => false,
        };
        if !method_ok {
            let status = Status::MethodNotAllowed;
            res.respond(status, &[("Allow", api.allow())], TEXT, b"method not allowed\n");
            return status;
        }
        match api {
            Api::Root => {
                res.respond(Status::Ok, &[], TEXT, b"custom metrics");
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
                } else {
                    res.respond(Status::Ok, &[], TEXT, b"ok\n");
                    Status::Ok
                }
            }
        }
    }
}

impl Handler for App {
    fn handle(&self, req: &Request<'_>, res: &mut ResponseWriter<'_>) {
        let api = Api::route(req.path);
        let status = self.answer(api, req, res);
        self.requests.count(api, status);
        self.requests
            .observe_duration(api, req.received.elapsed().as_secs_f64());
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
            .count(rejection.path.map_or(Api::Root, Api::route), status);
    }
}

fn with_body<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    BODY.with(|b| {
        let mut body = b.borrow_mut();
        body.clear();
        f(&mut body)
    })
}

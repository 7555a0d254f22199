//! The app's route table, and each route's answer. A route is one entry
//! here and one function; routing, `Allow`, the `api` labels and the series
//! of `total_req_num` and `http_request_duration_seconds` follow from it.

use std::cell::RefCell;
use std::io::Write;
use std::sync::atomic::Ordering;

use super::delay::MAX_DELAY;
use super::negotiate::exposition_format;
use super::route::{Answer, Handling, Methods, Route, RoutePath, Writer};
use super::state::AppState;
use super::work_pool::MAX_WORK;
use crate::grammar::duration;
use crate::http::{Request, Status, Wait};
use crate::metrics::encoding::{encode, write_f64};
use crate::temperature::Direction;

pub(super) const TEXT: &str = "text/plain; charset=utf-8";

/// Every route, in the order of their series. The first six are the seed's.
pub(crate) const ROUTES: [Route; 12] = [
    route(
        "/",
        RoutePath::Fallback,
        Methods::GetHead,
        Handling::Deferrable {
            answer: root,
            finish: root_later,
        },
    )
    .shown_from_start(),
    route(
        "cpuTempUp",
        RoutePath::Exact("/cpuTempUp"),
        Methods::GetHeadPost,
        Handling::Now(cpu_temp_up),
    )
    .shown_from_start(),
    route(
        "cpuTempDown",
        RoutePath::Exact("/cpuTempDown"),
        Methods::GetHeadPost,
        Handling::Now(cpu_temp_down),
    )
    .shown_from_start(),
    route(
        "metrics",
        RoutePath::Exact("/metrics"),
        Methods::GetHead,
        Handling::Now(metrics),
    )
    .shown_from_start(),
    route(
        "healthz",
        RoutePath::Exact("/healthz"),
        Methods::GetHead,
        Handling::Now(healthz),
    )
    .shown_from_start(),
    route(
        "readyz",
        RoutePath::Exact("/readyz"),
        Methods::GetHead,
        Handling::Now(readyz),
    )
    .shown_from_start(),
    // Error injection: POST asks like GET does.
    route(
        "status",
        RoutePath::Prefix("/status/"),
        Methods::GetHeadPost,
        Handling::Now(status),
    )
    .experiment(),
    route(
        "delay",
        RoutePath::Prefix("/delay/"),
        Methods::GetHead,
        Handling::Deferrable {
            answer: delay,
            finish: delayed,
        },
    )
    .experiment(),
    route(
        "work",
        RoutePath::Prefix("/work/"),
        Methods::GetHead,
        Handling::Deferrable {
            answer: work,
            finish: worked,
        },
    )
    .experiment(),
    route(
        "readyzDisable",
        RoutePath::Exact("/readyz/disable"),
        Methods::Post,
        Handling::Now(readyz_disable),
    )
    .experiment(),
    route(
        "readyzEnable",
        RoutePath::Exact("/readyz/enable"),
        Methods::Post,
        Handling::Now(readyz_enable),
    )
    .experiment(),
    route(
        "version",
        RoutePath::Exact("/version"),
        Methods::GetHead,
        Handling::Now(version),
    ),
];

const fn route(label: &'static str, path: RoutePath, methods: Methods, handling: Handling) -> Route {
    Route {
        path,
        methods,
        label,
        experiment: false,
        shown_from_start: false,
        handling,
    }
}

impl Route {
    /// Its `status="200"` series is shown from start-up.
    const fn shown_from_start(mut self) -> Route {
        self.shown_from_start = true;
        self
    }

    /// Lets any client inject statuses, latency or CPU load, or take the
    /// pod out of its Service: `--experiments off` turns it into an
    /// unknown path.
    const fn experiment(mut self) -> Route {
        self.experiment = true;
        self
    }
}

thread_local! {
    /// Scratch space for bodies built per request (the exposition): grows to
    /// the exposition's size once per thread, then is reused.
    static BODY: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(16 * 1024));
}

fn with_body<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    BODY.with(|b| {
        let mut body = b.borrow_mut();
        body.clear();
        f(&mut body)
    })
}

fn respond(res: &mut Writer<'_>, status: Status, body: &[u8]) -> Status {
    res.respond(status, &[], TEXT, body);
    status
}

/// `/` and every unknown path: "custom metrics", as the seed; with
/// `--error-ratio` some get `500`, with `--delay` all wait first.
fn root(app: &AppState, req: &Request<'_>, _: Option<&str>, res: &mut Writer<'_>) -> Answer {
    // Constants of the run: off, two predictable branches.
    let status = if !app.options.error_ratio.is_zero() && app.options.error_ratio.next_fails() {
        Status::InternalServerError
    } else {
        Status::Ok
    };
    if let Some(delay) = app.options.delay {
        return Answer::Later(Wait::Until(req.received + delay.pick()), status);
    }
    root_later(app, status, res);
    Answer::Now(status)
}

fn root_later(_: &AppState, status: Status, res: &mut Writer<'_>) {
    if status == Status::Ok {
        res.respond(Status::Ok, &[], TEXT, b"custom metrics");
    } else {
        res.respond(status, &[], TEXT, b"injected error (--error-ratio)\n");
    }
}

fn cpu_temp_up(app: &AppState, _: &Request<'_>, _: Option<&str>, res: &mut Writer<'_>) -> Status {
    adjust_temperature(app, Direction::Up, res)
}

fn cpu_temp_down(app: &AppState, _: &Request<'_>, _: Option<&str>, res: &mut Writer<'_>) -> Status {
    adjust_temperature(app, Direction::Down, res)
}

/// The new temperature, or `409` where the source is a real sensor.
fn adjust_temperature(app: &AppState, direction: Direction, res: &mut Writer<'_>) -> Status {
    with_body(|body| match app.temperature.adjust(direction) {
        Ok(now) => {
            write_f64(body, now);
            body.push(b'\n');
            respond(res, Status::Ok, body)
        }
        Err(reason) => {
            body.extend_from_slice(reason.0.as_bytes());
            body.push(b'\n');
            respond(res, Status::Conflict, body)
        }
    })
}

fn metrics(app: &AppState, req: &Request<'_>, _: Option<&str>, res: &mut Writer<'_>) -> Status {
    with_body(|body| {
        let format = exposition_format(req.accept, app.openmetrics);
        encode(&app.registry, format, body);
        res.respond(Status::Ok, &[], format.content_type(), body);
        Status::Ok
    })
}

fn healthz(_: &AppState, _: &Request<'_>, _: Option<&str>, res: &mut Writer<'_>) -> Status {
    respond(res, Status::Ok, b"ok\n")
}

fn readyz(app: &AppState, _: &Request<'_>, _: Option<&str>, res: &mut Writer<'_>) -> Status {
    if app.shutdown.is_triggered() {
        respond(res, Status::ServiceUnavailable, b"shutting down\n")
    } else if !app.ready.load(Ordering::Relaxed) {
        respond(res, Status::ServiceUnavailable, b"disabled by POST /readyz/disable\n")
    } else {
        respond(res, Status::Ok, b"ok\n")
    }
}

fn readyz_disable(app: &AppState, req: &Request<'_>, _: Option<&str>, res: &mut Writer<'_>) -> Status {
    set_ready(app, false, req, res)
}

fn readyz_enable(app: &AppState, req: &Request<'_>, _: Option<&str>, res: &mut Writer<'_>) -> Status {
    set_ready(app, true, req, res)
}

fn set_ready(app: &AppState, ready: bool, req: &Request<'_>, res: &mut Writer<'_>) -> Status {
    app.ready.store(ready, Ordering::Relaxed);
    // Not `eprintln!`, which panics once stderr's reader is gone.
    let _ = writeln!(
        std::io::stderr(),
        "readiness {} by POST {}",
        if ready { "enabled" } else { "disabled" },
        req.path
    );
    respond(res, Status::Ok, if ready { b"ready\n" } else { b"not ready\n" })
}

fn version(app: &AppState, _: &Request<'_>, _: Option<&str>, res: &mut Writer<'_>) -> Status {
    res.respond(Status::Ok, &[], "application/json", &app.version_json);
    Status::Ok
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

fn status(_: &AppState, _: &Request<'_>, code: Option<&str>, res: &mut Writer<'_>) -> Status {
    match code.and_then(parse_status) {
        Some(Status::NoContent) => {
            res.respond_no_content();
            Status::NoContent
        }
        // The status line minus "HTTP/1.1 " is the body: `503 Service Unavailable\r\n`.
        Some(status) => respond(res, status, &status.status_line().as_bytes()[9..]),
        None => respond(
            res,
            Status::BadRequest,
            b"expected /status/{code} with a code of 200 201 204 400 401 403 404 409 429 500 502 503 504\n",
        ),
    }
}

fn parse_status(code: &str) -> Option<Status> {
    if code.len() != 3 {
        return None;
    }
    let code: u16 = code.parse().ok()?;
    STATUS_CODES.iter().copied().find(|s| s.code() == code)
}

fn delay(_: &AppState, req: &Request<'_>, wait: Option<&str>, res: &mut Writer<'_>) -> Answer {
    match wait.and_then(duration::parse) {
        Some(wait) if wait <= MAX_DELAY => Answer::Later(Wait::Until(req.received + wait), Status::Ok),
        _ => Answer::Now(respond(
            res,
            Status::BadRequest,
            b"expected /delay/{duration} up to 10s, like /delay/250ms or /delay/2\n",
        )),
    }
}

fn delayed(_: &AppState, status: Status, res: &mut Writer<'_>) {
    respond(res, status, b"delayed\n");
}

fn work(app: &AppState, _: &Request<'_>, cpu: Option<&str>, res: &mut Writer<'_>) -> Answer {
    match cpu.and_then(duration::parse) {
        Some(cpu) if cpu <= MAX_WORK => match app.work.start(cpu) {
            Some(job) => Answer::Later(Wait::Job(job), Status::Ok),
            None => Answer::Now(respond(res, Status::ServiceUnavailable, b"every work thread is busy\n")),
        },
        _ => Answer::Now(respond(
            res,
            Status::BadRequest,
            b"expected /work/{duration} up to 1s, like /work/100ms\n",
        )),
    }
}

fn worked(_: &AppState, status: Status, res: &mut Writer<'_>) {
    respond(res, status, b"worked\n");
}

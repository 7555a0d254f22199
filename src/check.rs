//! `custom-metrics-app check`: the self-test `helm test` runs from the
//! app's own image (which has no shell, no curl). It asks a running app for
//! `/metrics`, sends it a few requests to `/`, asks again, and passes when
//! every request was answered and the counter `total_req_num{api="/"}` grew
//! by at least that many: the app answers and counts what it answers.
//!
//! Everything goes over one keep-alive connection, so behind a Service
//! (which balances connections, not requests) the two scrapes and the
//! requests reach the same pod. Other clients may add to that pod's count
//! meanwhile, hence "at least". Exit status 0 when the check passed, 1 when
//! it failed, 2 for bad flags.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use clap::Args;

use crate::grammar::{in_range, number};
use crate::loadgen::args::{ConnectionMode, Method};
use crate::loadgen::client::{request_bytes, Connection};
use crate::loadgen::target::Url;

/// The series whose growth the check expects: requests to `/`.
const SERIES: &str = "total_req_num";
const ROOT_API_LABEL: &str = "api=\"/\"";

/// Checks that an app answers `/` and counts it on `/metrics` (for `helm test`).
///
/// One keep-alive connection: GET /metrics, --requests x GET /, GET /metrics; passes when every request got an
/// answer and total_req_num{api="/"} grew by at least --requests. Exit status 0: passed; 1: failed; 2: bad flags.
#[derive(Args, Debug, Clone)]
pub struct CheckArgs {
    /// The app, http://host[:port] (a Service name resolves inside the cluster).
    #[arg(long, env = "CMA_CHECK_URL", value_name = "URL", value_parser = base_url)]
    pub url: Url,

    /// Requests to send to `/` between the two scrapes.
    #[arg(long, env = "CMA_CHECK_REQUESTS", default_value_t = 20, value_name = "N", value_parser = requests)]
    pub requests: u32,

    /// Time allowed for the whole check: 30s, 1m, or seconds; at most 300s.
    #[arg(long, env = "CMA_CHECK_TIMEOUT", default_value = "30s", value_name = "DURATION", value_parser = timeout)]
    pub timeout: Duration,
}

fn base_url(s: &str) -> Result<Url, String> {
    let url = Url::parse(s)?;
    if url.path != "/" {
        return Err("give the app's address only (http://host:port): the check chooses the paths".into());
    }
    Ok(url)
}

fn requests(s: &str) -> Result<u32, String> {
    in_range(number(s), 1..=10_000, "expected a whole number from 1 to 10000")
}

fn timeout(s: &str) -> Result<Duration, String> {
    in_range(
        crate::grammar::duration::parse(s),
        Duration::from_millis(1)..=Duration::from_secs(300),
        "expected a duration above 0 and at most 300s, like 30s",
    )
}

/// Runs the check, printing what it found; the exit status.
pub(crate) fn run(args: &CheckArgs) -> i32 {
    match check(args) {
        Ok(report) => {
            println!("check: ok: {report}");
            0
        }
        Err(e) => {
            eprintln!("check: FAILED: {e}");
            1
        }
    }
}

fn check(args: &CheckArgs) -> Result<String, String> {
    let addrs: Rc<[SocketAddr]> = args
        .url
        .resolve()
        .map_err(|e| format!("cannot resolve {}: {e}", args.url.host))?
        .into();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async {
        tokio::time::timeout(args.timeout, exchange(args, addrs))
            .await
            .map_err(|_| format!("no verdict within {:?}", args.timeout))?
    })
}

/// The scrape, the requests and the second scrape, on one connection.
async fn exchange(args: &CheckArgs, addrs: Rc<[SocketAddr]>) -> Result<String, String> {
    let url = |path: &str| Url {
        path: path.to_owned(),
        ..args.url.clone()
    };
    let scrape = request_bytes(Method::Get, &url("/metrics"), ConnectionMode::KeepAlive);
    let root = request_bytes(Method::Get, &url("/"), ConnectionMode::KeepAlive);
    let mut conn = Connection::new(addrs, ConnectionMode::KeepAlive);

    let before = root_count(&mut conn, &scrape).await?;
    let mut statuses = Vec::new();
    for i in 0..args.requests {
        let status = conn
            .send(&root)
            .await
            .map_err(|e| format!("request {} of {} to {}: {}", i + 1, args.requests, url("/"), e.name()))?;
        statuses.push(status);
    }
    let after = root_count(&mut conn, &scrape).await?;
    if conn.opened() != 1 {
        return Err(format!(
            "the connection was replaced ({} opened): behind a Service the scrapes may have reached different pods",
            conn.opened()
        ));
    }
    let grown = after - before;
    if grown < f64::from(args.requests) {
        return Err(format!(
            "{SERIES}{{{ROOT_API_LABEL}}} went from {before} to {after} after {} answered requests: not counted",
            args.requests
        ));
    }
    statuses.sort_unstable();
    statuses.dedup();
    Ok(format!(
        "{} requests to {} answered (status {}), {SERIES}{{{ROOT_API_LABEL}}} {before} -> {after}",
        args.requests,
        url("/"),
        statuses.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
    ))
}

async fn root_count(conn: &mut Connection, scrape: &[u8]) -> Result<f64, String> {
    match conn.send(scrape).await {
        Ok(200) => {}
        Ok(status) => return Err(format!("/metrics answered {status}")),
        Err(e) => return Err(format!("/metrics: {}", e.name())),
    }
    let body = std::str::from_utf8(conn.body()).map_err(|_| "/metrics is not UTF-8".to_owned())?;
    root_requests(body).ok_or_else(|| format!("/metrics has no {SERIES} series with {ROOT_API_LABEL}"))
}

/// The sum of `total_req_num{..., api="/", ...}` over its statuses, from a
/// Prometheus text exposition; `None` when no such series is there.
pub(crate) fn root_requests(exposition: &str) -> Option<f64> {
    let mut total = None;
    for line in exposition.lines() {
        let Some(rest) = line.strip_prefix(SERIES).and_then(|r| r.strip_prefix('{')) else {
            continue;
        };
        let Some((labels, value)) = rest.split_once('}') else {
            continue;
        };
        if !labels.split(',').any(|l| l.trim() == ROOT_API_LABEL) {
            continue;
        }
        let value: f64 = value.split_whitespace().next()?.parse().ok()?;
        *total.get_or_insert(0.0) += value;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::root_requests;

    #[test]
    fn sums_the_root_series_over_statuses() {
        let text = "# TYPE total_req_num counter\n\
            total_req_num{status=\"200\",api=\"/\"} 7\n\
            total_req_num{status=\"500\",api=\"/\"} 3\n\
            total_req_num{status=\"200\",api=\"metrics\"} 40\n\
            total_req_num_created{status=\"200\",api=\"/\"} 1.7e9\n";
        assert_eq!(root_requests(text), Some(10.0));
    }

    #[test]
    fn no_root_series_is_none() {
        assert_eq!(root_requests("total_req_num{status=\"200\",api=\"metrics\"} 4\n"), None);
        assert_eq!(root_requests(""), None);
    }
}

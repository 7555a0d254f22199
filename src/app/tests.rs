//! The route table through the app: how every kind of path is routed, what
//! a bad table is refused for, and a route added by a test (one entry, one
//! function) showing in routing, `Allow` and the series, over a real socket.

use std::io::{Read, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use super::route::{Methods, RoutePath};
use super::*;
use crate::server::{Server, ServerConfig};
use crate::temperature::SimulatedTemperature;

fn app_over(table: Vec<Route>) -> App {
    App::with_routes(
        table,
        Arc::new(SimulatedTemperature::new(50.0, 10.0)),
        Vec::new(),
        Arc::new(Shutdown::new()),
    )
}

fn label_of(app: &App, path: &str) -> &'static str {
    app.route(path).1.label
}

#[test]
fn every_kind_of_path_is_routed() {
    let app = app_over(routes::ROUTES.to_vec());
    for (path, label) in [
        ("/", "/"),
        ("/anything/else", "/"),
        ("/cpuTempUp", "cpuTempUp"),
        ("/cputempup", "/"),
        ("/metrics/", "/"),
        ("*", "/"),
        ("/cpu%54empUp", "cpuTempUp"),
        ("%2Fmetrics", "metrics"),
        ("/metrics%3f", "/"),
        ("/%2525", "/"),
        ("/status/503", "status"),
        ("/status/", "status"),
        ("/work", "/"),
        ("/statusx/5", "/"),
        ("/delay/1s", "delay"),
        ("/work/10ms", "work"),
        ("/readyz/disable", "readyzDisable"),
        ("/version", "version"),
    ] {
        assert_eq!(label_of(&app, path), label, "{path}");
    }
    let long = format!("/{}%41", "a".repeat(40));
    assert_eq!(label_of(&app, &long), "/");
    let status = app.route("/status/503").1;
    assert_eq!(status.parameter("/status/503"), Some("503"));
    assert_eq!(status.parameter("/status%2F503"), None);
    assert_eq!(app.route("/").1.parameter("/"), None);
    // Off, an experiment's path is an unknown path.
    let off = app_over(routes::ROUTES.to_vec()).with_experiments(false);
    for path in [
        "/status/503",
        "/delay/1s",
        "/work/1ms",
        "/readyz/disable",
        "/readyz/enable",
    ] {
        assert_eq!(label_of(&off, path), "/", "{path}");
    }
    assert_eq!(label_of(&off, "/readyz"), "readyz");
}

#[test]
fn the_series_follow_from_the_table_alone() {
    let app = app_over(routes::ROUTES.to_vec());
    assert_eq!(
        app.requests().collector().len(),
        routes::ROUTES.len() * Status::ALL.len()
    );
    let mut shorter = routes::ROUTES.to_vec();
    shorter.retain(|r| !r.experiment);
    let app = app_over(shorter);
    assert_eq!(app.requests().collector().len(), 7 * Status::ALL.len());
}

fn teapot(_: &AppState, _: &Request<'_>, _: Option<&str>, res: &mut Writer<'_>) -> Status {
    res.respond(Status::Created, &[], "text/plain", b"brewing\n");
    Status::Created
}

/// Sends `request` on a new connection and reads until the server closes.
fn exchange(addr: std::net::SocketAddr, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn a_route_added_in_a_test_is_routed_allowed_and_counted() {
    let mut table = routes::ROUTES.to_vec();
    table.push(Route {
        path: RoutePath::Exact("/teapot"),
        methods: Methods::Post,
        label: "teapot",
        experiment: false,
        shown_from_start: false,
        handling: Handling::Now(teapot),
    });
    let app = Arc::new(app_over(table));
    let config = ServerConfig::new("127.0.0.1:0".parse().unwrap());
    let shutdown = Arc::new(Shutdown::new());
    let server = Server::bind(config).unwrap().spawn(app.clone(), shutdown).unwrap();
    let addr = server.addr();

    let created = exchange(addr, "POST /teapot HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert!(created.starts_with("HTTP/1.1 201 Created\r\n"), "{created}");
    assert!(created.ends_with("\r\n\r\nbrewing\n"), "{created}");
    let refused = exchange(addr, "GET /teapot HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert!(refused.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"), "{refused}");
    assert!(refused.contains("\r\nAllow: POST\r\n"), "{refused}");
    let scrape = exchange(addr, "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert!(
        scrape.contains("total_req_num{status=\"201\",api=\"teapot\"} 1\n"),
        "{scrape}"
    );
    assert!(
        scrape.contains("total_req_num{status=\"405\",api=\"teapot\"} 1\n"),
        "{scrape}"
    );
    assert_eq!(app.requests().get("teapot", Status::Created), 1);
    assert_eq!(app.requests().collector().len(), 13 * Status::ALL.len());
    server.stop();
}

fn table_with(extra: Route) -> Vec<Route> {
    let mut table = routes::ROUTES.to_vec();
    table.push(extra);
    table
}

fn extra(path: RoutePath, label: &'static str) -> Route {
    Route {
        path,
        methods: Methods::GetHead,
        label,
        experiment: false,
        shown_from_start: false,
        handling: Handling::Now(teapot),
    }
}

#[test]
#[should_panic(expected = "exactly one fallback route")]
fn a_second_fallback_is_refused() {
    Routes::new(table_with(extra(RoutePath::Fallback, "other")));
}

#[test]
#[should_panic(expected = "two routes labelled")]
fn a_label_twice_is_refused() {
    Routes::new(table_with(extra(RoutePath::Exact("/x"), "metrics")));
}

#[test]
#[should_panic(expected = "is also under")]
fn an_exact_path_under_a_prefix_is_refused() {
    Routes::new(table_with(extra(RoutePath::Exact("/status/x"), "x")));
}

#[test]
#[should_panic(expected = "two routes for")]
fn a_path_twice_is_refused() {
    Routes::new(table_with(extra(RoutePath::Exact("/metrics"), "x")));
}

//! The request path on memory, without sockets: parse + route + count +
//! respond for one request and for 16 pipelined ones, and encoding the whole
//! `/metrics` exposition.

use std::sync::Arc;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use custom_metrics_app::internals::app::App;
use custom_metrics_app::internals::http::{Limits, Session};
use custom_metrics_app::internals::server::Shutdown;
use custom_metrics_app::internals::temperature::SimulatedTemperature;
use custom_metrics_app::metrics::encoding::text;

fn app() -> App {
    App::new(
        Arc::new(SimulatedTemperature::new(50.0, 10.0)),
        Arc::new(Shutdown::new()),
    )
}

const WRK_GET: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:3000\r\n\r\n";

fn bench(c: &mut Criterion) {
    let app = app();
    let mut out = Vec::with_capacity(64 * 1024);
    let mut g = c.benchmark_group("request_path");

    g.throughput(Throughput::Elements(1));
    g.bench_function("keepalive_get_root", |b| {
        let mut session = Session::new(Limits { max_body: 1024 });
        b.iter(|| {
            out.clear();
            let p = session.feed(std::hint::black_box(WRK_GET), Instant::now(), &app, false, &mut out);
            assert_eq!(p.responses, 1);
        })
    });

    let pipelined = WRK_GET.repeat(16);
    g.throughput(Throughput::Elements(16));
    g.bench_function("pipelined_16_get_root", |b| {
        let mut session = Session::new(Limits { max_body: 1024 });
        b.iter(|| {
            out.clear();
            let p = session.feed(std::hint::black_box(&pipelined), Instant::now(), &app, false, &mut out);
            assert_eq!(p.responses, 16);
        })
    });

    let scrape = b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\n\r\n";
    g.throughput(Throughput::Elements(1));
    g.bench_function("scrape_metrics", |b| {
        let mut session = Session::new(Limits { max_body: 1024 });
        b.iter(|| {
            out.clear();
            session.feed(std::hint::black_box(scrape), Instant::now(), &app, false, &mut out);
        })
    });
    g.finish();

    let mut body = Vec::with_capacity(16 * 1024);
    c.bench_function("encode_text_exposition", |b| {
        b.iter(|| {
            body.clear();
            text::encode(app.registry(), &mut body);
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

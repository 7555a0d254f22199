//! Counter increments contended from two threads: per-thread cache-padded
//! shards (what `CounterVec` does) against one shared `AtomicU64`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use custom_metrics_app::metrics::{set_current_shard, CounterVec, Desc, MetricType};

const THREADS: usize = 2;

/// Runs `op` `iters` times on each of two threads at once; returns wall time
/// per increment (so the figure is throughput of the pair, per operation).
fn contended(iters: u64, op: Arc<dyn Fn() + Send + Sync>) -> Duration {
    let barrier = Arc::new(Barrier::new(THREADS + 1));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (barrier, op) = (barrier.clone(), op.clone());
            std::thread::spawn(move || {
                set_current_shard(t);
                barrier.wait();
                for _ in 0..iters {
                    op();
                }
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    for h in handles {
        h.join().unwrap();
    }
    start.elapsed() / THREADS as u32
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("counter_increment_2_threads");
    let desc = || Desc::new("reqs", "", MetricType::Counter, &["code"]).unwrap();
    let sharded = Arc::new(CounterVec::new(desc(), &[&["200"], &["500"]], |_| true));
    g.bench_function("sharded_countervec", |b| {
        b.iter_custom(|iters| {
            let v = sharded.clone();
            contended(iters, Arc::new(move || v.inc(0)))
        })
    });
    let shared = Arc::new(AtomicU64::new(0));
    g.bench_function("single_shared_atomic", |b| {
        let v = shared.clone();
        b.iter_custom(|iters| {
            let v = v.clone();
            contended(iters, Arc::new(move || _ = v.fetch_add(1, Ordering::Relaxed)))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

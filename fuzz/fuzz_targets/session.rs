//! The whole connection state machine, `Session`, with the real `App` as the
//! handler, over any bytes split at any points: what tests/session_props.rs
//! asserts, on input the fuzzer shapes. Never a panic; every response well
//! framed; one count per response; a close only after a response that says
//! so; and the same statuses as the same bytes fed in one piece.
//!
//! A deferred answer (`/delay/…`, `/work/…`) is written as the connection
//! writes it: once its wait is over (a delay's time is not waited for, it
//! changes nothing written; a work job's end is), then the requests behind
//! it are fed.
//!
//! Input: one byte `n` (cuts = n % 8), then `cuts` two-byte split points,
//! then the stream.
#![no_main]

use std::future::Future;
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll, Wake};
use std::time::Instant;

use custom_metrics_app::internals::app::App;
use custom_metrics_app::internals::http::{Handler, Limits, Session, Wait, WRITE_HIGH_WATER};
use custom_metrics_app::internals::server::Shutdown;
use custom_metrics_app::internals::temperature::SimulatedTemperature;
use libfuzzer_sys::fuzz_target;

/// A small body limit, so `413` is within the fuzzer's reach.
const LIMITS: Limits = Limits { max_body: 64 };

/// One app for the split feeds and one for the whole ones: both see the same
/// requests in the same order, so their temperatures stay in step. Building
/// an app per input would cost more than the input.
static SPLIT: LazyLock<App> = LazyLock::new(app);
static WHOLE: LazyLock<App> = LazyLock::new(app);

fn app() -> App {
    App::new(
        Arc::new(SimulatedTemperature::new(50.0, 10.0)),
        Arc::new(Shutdown::new()),
    )
}

struct Run {
    wire: Vec<u8>,
    responses: usize,
    closed: bool,
}

/// Feeds `chunks` the way a connection does; at the end, a request left
/// half-read gets its `408`, as the connection's header timeout gives it.
fn drive(app: &App, chunks: &[&[u8]]) -> Run {
    let mut session = Session::new(LIMITS);
    let (mut pending, mut out) = (Vec::new(), Vec::new());
    let mut run = Run {
        wire: Vec::new(),
        responses: 0,
        closed: false,
    };
    for chunk in chunks {
        pending.extend_from_slice(chunk);
        loop {
            let p = session.feed(&pending, Instant::now(), app, false, &mut out);
            assert!(p.consumed <= pending.len());
            pending.drain(..p.consumed);
            run.responses += p.responses;
            if p.waits {
                if let Some(Wait::Job(job)) = session.deferred_wait() {
                    block_on(app.job_done(job));
                }
                session.finish(app, &mut out);
            }
            let stalled = out.len() >= WRITE_HIGH_WATER;
            run.wire.append(&mut out);
            if p.close {
                run.closed = true;
                return run;
            }
            // After a deferred answer, the requests behind it are fed next.
            if !stalled && !p.waits {
                break;
            }
        }
    }
    if !pending.is_empty() || session.owes_response() {
        session.time_out(app, &mut run.wire);
        run.responses += 1;
        run.closed = true;
    }
    run
}

/// Runs `future` to its end on this thread (a work job's end: the pool's
/// thread wakes it).
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Arc::new(Unpark(std::thread::current())).into();
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}

/// Splits `wire` into responses, checking each one's framing; their heads.
fn responses(mut wire: &[u8]) -> Vec<&str> {
    let mut heads = Vec::new();
    while !wire.is_empty() {
        if let Some(rest) = wire.strip_prefix(b"HTTP/1.1 100 Continue\r\n\r\n") {
            wire = rest;
            continue;
        }
        assert!(
            wire.starts_with(b"HTTP/1.1 "),
            "not a status line: {:?}",
            String::from_utf8_lossy(wire)
        );
        let end = wire.windows(4).position(|w| w == b"\r\n\r\n").expect("a whole head") + 4;
        let head = std::str::from_utf8(&wire[..end]).expect("an ASCII head");
        let len: usize = head
            .split("\r\n")
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .expect("Content-Length")
            .parse()
            .expect("a length");
        assert!(
            head.contains("\r\nDate: ") && head.contains("\r\nContent-Type: "),
            "{head:?}"
        );
        wire = &wire[end..];
        // A HEAD response has no body: the next response follows at once.
        if !wire.is_empty() && !wire.starts_with(b"HTTP/1.1 ") {
            assert!(wire.len() >= len, "a body of {len} cut to {}", wire.len());
            wire = &wire[len..];
        }
        heads.push(head);
    }
    heads
}

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else { return };
    let cuts = usize::from(n % 8);
    if rest.len() < 2 * cuts {
        return;
    }
    let (points, stream) = rest.split_at(2 * cuts);
    let mut points: Vec<usize> = points
        .chunks(2)
        .map(|p| usize::from(u16::from_le_bytes([p[0], p[1]])) % (stream.len() + 1))
        .collect();
    points.sort_unstable();
    let mut chunks = Vec::new();
    let mut last = 0;
    for p in points.into_iter().chain([stream.len()]) {
        chunks.push(&stream[last..p]);
        last = p;
    }

    let counted = SPLIT.requests().total();
    let split = drive(&SPLIT, &chunks);
    let heads = responses(&split.wire);
    assert_eq!(heads.len(), split.responses);
    assert_eq!(
        SPLIT.requests().total() - counted,
        split.responses as u64,
        "one count per response"
    );
    if split.closed {
        assert!(heads.last().is_some_and(|h| h.contains("\r\nConnection: close\r\n")));
    }

    let whole = drive(&WHOLE, &[stream]);
    let whole_heads = responses(&whole.wire);
    let status = |h: &&str| h[9..12].to_owned();
    assert_eq!(
        heads.iter().map(status).collect::<Vec<_>>(),
        whole_heads.iter().map(status).collect::<Vec<_>>(),
        "split at {chunks:?}"
    );
});

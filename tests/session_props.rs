//! Property test of the connection state machine on memory: any byte stream,
//! split at any points, is answered without a panic, with well-framed
//! responses only, and with exactly one count per response. Requests carry
//! no body, a `Content-Length` one, or a chunked one (well formed or not).

use std::sync::Arc;
use std::time::Instant;

use custom_metrics_app::internals::app::App;
use custom_metrics_app::internals::http::{Limits, Session, WRITE_HIGH_WATER};
use custom_metrics_app::internals::server::Shutdown;
use custom_metrics_app::internals::temperature::SimulatedTemperature;
use proptest::prelude::*;

/// Pieces a stream is made of: real requests of many shapes, and junk.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    let method = prop::sample::select(vec!["GET", "HEAD", "POST", "PUT", "OPTIONS", "G@T", ""]);
    let path = prop::sample::select(vec![
        "/",
        "/metrics",
        "/cpuTempUp",
        "/cpuTempDown",
        "/healthz",
        "/readyz",
        "/x?y=1",
        "*",
        "/%41",
        "/%zz",
        "http://h/metrics",
        "nope",
    ]);
    let version = prop::sample::select(vec!["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.1\n", "HTTX"]);
    let header = prop::sample::select(vec![
        "Host: x\r\n",
        "Connection: close\r\n",
        "Connection: keep-alive\r\n",
        "Accept: application/openmetrics-text\r\n",
        "Content-Length: 3\r\n",
        "Content-Length: -3\r\n",
        "Transfer-Encoding: chunked\r\n",
        "Transfer-Encoding: chunked\r\n",
        "Transfer-Encoding: gzip, chunked\r\n",
        "Expect: 100-continue\r\n",
        "Bad Header\r\n",
        "X: \0\r\n",
    ]);
    let body = prop_oneof![
        Just(Vec::new()),
        Just(b"abc".to_vec()),
        chunked_body(),
        prop::sample::select(vec![
            &b"3\r\nabcd\r\n0\r\n\r\n"[..],
            b"3\nabc\r\n0\r\n\r\n",
            b"g\r\n",
            b"11111111111111111\r\n",
            b"0\r\n X: fold\r\n\r\n",
            b"0\r\n\n",
        ])
        .prop_map(<[u8]>::to_vec),
    ];
    let request =
        (method, path, version, prop::collection::vec(header, 0..4), body).prop_map(|(m, p, v, headers, body)| {
            let mut r = format!("{m} {p} {v}\r\nHost: x\r\n{}\r\n", headers.concat()).into_bytes();
            r.extend_from_slice(&body);
            r
        });
    prop_oneof![
        6 => request,
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => Just(b"\r\n".to_vec()),
    ]
}

/// A well-formed chunked body: a few chunks (with or without an extension),
/// the last chunk, and maybe a trailer field.
fn chunked_body() -> impl Strategy<Value = Vec<u8>> {
    (prop::collection::vec((0usize..12, any::<bool>()), 0..4), any::<bool>()).prop_map(|(chunks, trailer)| {
        let mut b = Vec::new();
        for (len, ext) in chunks.into_iter().filter(|(len, _)| *len > 0) {
            let ext = if ext { ";e=\"v\"" } else { "" };
            b.extend_from_slice(format!("{len:X}{ext}\r\n").as_bytes());
            b.extend(std::iter::repeat_n(b'z', len));
            b.extend_from_slice(b"\r\n");
        }
        b.extend_from_slice(b"0\r\n");
        if trailer {
            b.extend_from_slice(b"Checksum: 1\r\n");
        }
        b.extend_from_slice(b"\r\n");
        b
    })
}

/// Feeds `chunks` the way a connection does and returns all output plus the
/// number of responses the session reported.
fn drive(app: &App, chunks: &[Vec<u8>]) -> (Vec<u8>, usize, bool) {
    let mut session = Session::new(Limits { max_body: 16 });
    let (mut pending, mut out, mut wire) = (Vec::new(), Vec::new(), Vec::new());
    let mut responses = 0;
    for chunk in chunks {
        pending.extend_from_slice(chunk);
        loop {
            let p = session.feed(&pending, Instant::now(), app, false, &mut out);
            pending.drain(..p.consumed);
            responses += p.responses;
            let stalled = out.len() >= WRITE_HIGH_WATER;
            wire.append(&mut out);
            if p.close {
                return (wire, responses, true);
            }
            if !stalled {
                break;
            }
        }
    }
    (wire, responses, false)
}

/// Splits `wire` into responses, checking each one's framing.
fn parse_responses(mut wire: &[u8]) -> Result<Vec<String>, String> {
    let mut heads = Vec::new();
    while !wire.is_empty() {
        if let Some(rest) = wire.strip_prefix(b"HTTP/1.1 100 Continue\r\n\r\n") {
            wire = rest;
            continue;
        }
        if !wire.starts_with(b"HTTP/1.1 ") {
            return Err(format!(
                "not a status line: {:?}",
                String::from_utf8_lossy(&wire[..wire.len().min(40)])
            ));
        }
        let end = wire
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or("unterminated head")?
            + 4;
        let head = std::str::from_utf8(&wire[..end]).map_err(|e| e.to_string())?.to_owned();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .ok_or("no Content-Length")?
            .parse()
            .map_err(|_| "bad Content-Length")?;
        for required in ["\r\nDate: ", "\r\nCache-Control: no-store\r\n", "\r\nContent-Type: "] {
            if !head.contains(required) {
                return Err(format!("missing {required:?} in {head:?}"));
            }
        }
        wire = &wire[end..];
        // A HEAD response has no body: the next response follows at once.
        if !wire.is_empty() && !wire.starts_with(b"HTTP/1.1 ") {
            if wire.len() < len {
                return Err(format!("body of {len} cut to {}", wire.len()));
            }
            wire = &wire[len..];
        }
        heads.push(head);
    }
    Ok(heads)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn any_stream_split_anywhere_is_answered_well(
        pieces in prop::collection::vec(piece(), 1..12),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let stream: Vec<u8> = pieces.concat();
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        points.sort_unstable();
        points.dedup();
        let mut chunks = Vec::new();
        let mut last = 0;
        for p in points.into_iter().chain([stream.len()]) {
            chunks.push(stream[last..p].to_vec());
            last = p;
        }
        let app = App::new(Arc::new(SimulatedTemperature::new(50.0, 10.0)), Arc::new(Shutdown::new()));
        let (wire, responses, closed) = drive(&app, &chunks);
        let heads = parse_responses(&wire).map_err(TestCaseError::fail)?;
        prop_assert_eq!(heads.len(), responses);
        prop_assert_eq!(app.requests().total(), responses as u64, "one count per response");
        if closed {
            prop_assert!(heads.last().is_some_and(|h| h.contains("\r\nConnection: close\r\n")));
        }
        // The same stream in one piece gets the same answers.
        let app_whole = App::new(Arc::new(SimulatedTemperature::new(50.0, 10.0)), Arc::new(Shutdown::new()));
        let (wire_whole, _, _) = drive(&app_whole, std::slice::from_ref(&stream));
        let whole = parse_responses(&wire_whole).map_err(TestCaseError::fail)?;
        let status = |h: &String| h[9..12].to_owned();
        prop_assert_eq!(heads.iter().map(status).collect::<Vec<_>>(), whole.iter().map(status).collect::<Vec<_>>());
    }
}

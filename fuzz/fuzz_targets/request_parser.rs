//! The request-head parser on any bytes: never a panic, and a complete head
//! parses the same from its own bytes alone (a chunked request is parsed
//! again from a copy of its head when its body ends, so this must hold).
#![no_main]

use std::time::Instant;

use custom_metrics_app::internals::http::{parse, Limits, Parsed, Rejection};
use libfuzzer_sys::fuzz_target;

const LIMITS: Limits = Limits { max_body: 1024 };

fuzz_target!(|data: &[u8]| {
    let now = Instant::now();
    match parse(data, &LIMITS, now) {
        Ok(Parsed::Complete(req, len)) => {
            assert!(len <= data.len());
            assert!(!(req.chunked && req.body_len > 0), "one framing only");
            assert!(req.body_len <= LIMITS.max_body);
            match parse(&data[..len], &LIMITS, now) {
                Ok(Parsed::Complete(again, again_len)) => assert_eq!((again, again_len), (req, len)),
                other => panic!("the head alone parsed as {other:?}"),
            }
        }
        Ok(Parsed::Partial) => {}
        Err(Rejection { status, .. }) => assert!(status.code() >= 400),
    }
});

//! `loadgen`'s duration flags (`--duration`, `--timeout`, `--progress`) on
//! any text: never a panic, and what the summary prints for a duration
//! parses back to (almost exactly) the same duration.
#![no_main]

use std::time::Duration;

use custom_metrics_app::internals::loadgen::duration::{format, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Some(d) = parse(text) else { return };
    let shown = format(d);
    let back = parse(&shown).unwrap_or_else(|| panic!("{text:?} → {d:?} printed as {shown:?}, which does not parse"));
    // The summary rounds to what f64 seconds hold: a relative error of 1e-12,
    // and sub-microsecond noise.
    let error = back.abs_diff(d);
    assert!(
        error <= d.mul_f64(1e-12) + Duration::from_micros(1),
        "{text:?} → {d:?} → {shown:?} → {back:?}"
    );
});

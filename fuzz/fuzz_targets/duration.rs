//! The one duration grammar (every duration flag, and the `/delay/` and
//! `/work/` paths) on any text: never a panic, and what `format` prints
//! for a duration parses back to exactly the same duration.
#![no_main]

use custom_metrics_app::internals::grammar::duration::{format, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Some(d) = parse(text) else { return };
    let shown = format(d);
    let back = parse(&shown).unwrap_or_else(|| panic!("{text:?} → {d:?} printed as {shown:?}, which does not parse"));
    assert_eq!(back, d, "{text:?} → {d:?} → {shown:?} → {back:?}");
});

//! The load generator's response-head parser on any bytes: it reads whatever
//! a server the user points it at sends. Never a panic; a head it accepts
//! lies within the bytes read and has a three-digit status code (httparse
//! takes `004` too: the generator counts it as status 4, without harm).
#![no_main]

use custom_metrics_app::internals::loadgen::parse_head;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(head)) = parse_head(data) {
        assert!(head.len <= data.len());
        assert!(head.status < 1000);
        if head.body.is_none() {
            assert!(head.close, "a body without a length ends with the connection");
        }
    }
});

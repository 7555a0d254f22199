//! `loadgen --url` on any text: never a panic, and a URL it accepts yields a
//! `Host` header this server accepts and a request target that starts with
//! `/` and holds no space or control byte (it is written into the request
//! line as is).
#![no_main]

use custom_metrics_app::internals::http::is_valid_host;
use custom_metrics_app::internals::loadgen::Url;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(url) = Url::parse(text) else { return };
    let host = url.host_header();
    assert!(is_valid_host(host.as_bytes()), "{text:?} gives Host {host:?}");
    assert!(url.path.starts_with('/'));
    assert!(!url.path.bytes().any(|b| b <= b' ' || b == 0x7f), "{text:?}");
    // What the report prints is the same URL.
    assert_eq!(Url::parse(&url.to_string()).as_ref(), Ok(&url), "{text:?}");
});

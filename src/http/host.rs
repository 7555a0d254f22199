//! What a `Host` header may hold: `uri-host [ ":" port ]` (RFC 9112 §3.2,
//! RFC 3986 §3.2.2): a registered name or IPv4 address, or an IPv6 (or
//! IPvFuture) literal in brackets, then an optional port.
//!
//! A server MUST answer `400` to any other value. Routing here ignores the
//! host, but a proxy or cache in front may not: a value such as `u@t`,
//! `t/path` or `t t` is read differently by different parsers, which is how
//! cache poisoning and routing confusion start.

use std::net::Ipv6Addr;

/// Whether `value` (the field value, optional whitespace around it allowed)
/// is a valid, non-empty `Host`.
pub fn is_valid_host(value: &[u8]) -> bool {
    let value = value.trim_ascii();
    if let Some(bracketed) = value.strip_prefix(b"[") {
        let Some(close) = bracketed.iter().position(|&b| b == b']') else {
            return false;
        };
        return is_ip_literal(&bracketed[..close])
            && match &bracketed[close + 1..] {
                [] => true,
                [b':', port @ ..] => is_port(port),
                _ => false,
            };
    }
    let (host, port) = match value.iter().position(|&b| b == b':') {
        Some(colon) => (&value[..colon], &value[colon + 1..]),
        None => (value, &[][..]),
    };
    !host.is_empty() && is_reg_name(host) && is_port(port)
}

/// reg-name: unreserved, pct-encoded and sub-delims (an IPv4 address is one).
fn is_reg_name(name: &[u8]) -> bool {
    let mut i = 0;
    while i < name.len() {
        let b = name[i];
        if b == b'%' {
            if !name
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
            {
                return false;
            }
            i += 3;
            continue;
        }
        if !(is_unreserved(b) || is_sub_delim(b)) {
            return false;
        }
        i += 1;
    }
    true
}

/// `IPv6address / IPvFuture`, the inside of the brackets.
fn is_ip_literal(inside: &[u8]) -> bool {
    if let [b'v' | b'V', rest @ ..] = inside {
        // IPvFuture: "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
        let Some(dot) = rest.iter().position(|&b| b == b'.') else {
            return false;
        };
        let (version, tail) = (&rest[..dot], &rest[dot + 1..]);
        return !version.is_empty()
            && version.iter().all(u8::is_ascii_hexdigit)
            && !tail.is_empty()
            && tail.iter().all(|&b| is_unreserved(b) || is_sub_delim(b) || b == b':');
    }
    // std's parser takes exactly RFC 4291's text forms (no zone identifier).
    std::str::from_utf8(inside).is_ok_and(|s| s.parse::<Ipv6Addr>().is_ok())
}

/// `*DIGIT`, and a TCP port: at most 65535.
fn is_port(port: &[u8]) -> bool {
    port.iter()
        .try_fold(0u32, |n, &d| {
            d.is_ascii_digit()
                .then(|| n * 10 + u32::from(d - b'0'))
                .filter(|&n| n <= 65_535)
        })
        .is_some()
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~".contains(&b)
}

fn is_sub_delim(b: u8) -> bool {
    b"!$&'()*+,;=".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_hosts() {
        for host in [
            "t",
            "custom-metrics-app",
            "custom-metrics-app.default.svc.cluster.local:3000",
            "127.0.0.1",
            "127.0.0.1:3000",
            "[::1]",
            "[::1]:3000",
            "[2001:db8::7]:80",
            "[v1.fe80::a+en1]",
            "h:",
            "h:00080",
            " h:1 ",
            "%41b",
            "a_b~c!$&'()*+,;=",
            "999.999.999.999",
        ] {
            assert!(is_valid_host(host.as_bytes()), "{host:?}");
        }
    }

    #[test]
    fn invalid_hosts() {
        for host in [
            "",
            "   ",
            "u@t",
            "t:8x",
            "t t",
            "t/path",
            "t?q",
            "t#f",
            ":80",
            "t:80:80",
            "t:65536",
            "t:99999999999999999999",
            "::1",
            "[::1",
            "[::1]x",
            "[::1]:x",
            "[]",
            "[fe80::1%25eth0]",
            "[127.0.0.1]",
            "[v1.]",
            "[v.x]",
            "%4",
            "%zz",
            "t\\u",
            "t\"",
            "h\u{e9}",
        ] {
            assert!(!is_valid_host(host.as_bytes()), "{host:?}");
        }
    }
}

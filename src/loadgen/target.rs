//! The load generator's target: an `http://host[:port]/path` URL, checked
//! when the flags are parsed and resolved once at start.
//!
//! Plain HTTP only: the targets are this app's pods and Services, which speak
//! nothing else. Resolving once (std's `ToSocketAddrs`, so /etc/hosts and
//! resolv.conf as the libc or musl resolver reads them) keeps DNS out of the
//! measured latency; a Service's ClusterIP does not change during a run.

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// A parsed URL, not yet resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    /// Host name or address as written (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`: the request target.
    pub path: String,
}

impl Url {
    /// Parses `http://host[:port][/path][?query]`.
    pub fn parse(text: &str) -> Result<Url, String> {
        let text = text.trim();
        let rest = strip_scheme(text)?;
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        let (host, port) = split_authority(authority)?;
        let path = match path {
            "" => "/".to_owned(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_owned(),
        };
        if path.contains('#') {
            return Err("a URL fragment (#...) is never sent; leave it out".into());
        }
        if path.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err("the path has spaces or control characters; percent-encode them".into());
        }
        Ok(Url { host, port, path })
    }

    /// The `Host` header: the authority as the URL gave it.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// Every address the host name resolves to, in the resolver's order.
    pub fn resolve(&self) -> io::Result<Vec<SocketAddr>> {
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port).to_socket_addrs()?.collect();
        if addrs.is_empty() {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no address"));
        }
        Ok(addrs)
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(f, "http://{host}:{}{}", self.port, self.path)
    }
}

fn strip_scheme(text: &str) -> Result<&str, String> {
    let Some((scheme, rest)) = text.split_once("://") else {
        return Err("expected http://host:port/path".into());
    };
    match scheme.to_ascii_lowercase().as_str() {
        "http" => Ok(rest),
        "https" => Err("https is not supported: the app serves plain HTTP".into()),
        other => Err(format!("unsupported scheme {other:?}: expected http://host:port/path")),
    }
}

fn split_authority(authority: &str) -> Result<(String, u16), String> {
    if authority.contains('@') {
        return Err("user names and passwords in the URL are not supported".into());
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or("unclosed [ in the host")?;
        host.parse::<std::net::Ipv6Addr>()
            .map_err(|_| format!("{host:?} is not an IPv6 address"))?;
        match after {
            "" => (host, None),
            p if p.starts_with(':') => (host, Some(&p[1..])),
            _ => return Err("expected :port after ]".into()),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("the URL has no host".into());
    }
    // IPv6 addresses were checked above; anything else is a name or an IPv4
    // address, which must not smuggle bytes into the Host header.
    if !authority.starts_with('[') && !host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)) {
        return Err(format!("{host:?} is not a host name"));
    }
    let port = match port {
        None => 80,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => return Err(format!("{p:?} is not a port (1-65535)")),
        },
    };
    Ok((host.to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(host: &str, port: u16, path: &str) -> Url {
        Url {
            host: host.into(),
            port,
            path: path.into(),
        }
    }

    #[test]
    fn parses_the_accepted_forms() {
        for (text, want) in [
            ("http://127.0.0.1:3000/", url("127.0.0.1", 3000, "/")),
            (
                "http://custom-metrics-app:3000/cpuTempUp",
                url("custom-metrics-app", 3000, "/cpuTempUp"),
            ),
            ("HTTP://example.test", url("example.test", 80, "/")),
            (
                "http://a.b.svc.cluster.local:80/x?y=1",
                url("a.b.svc.cluster.local", 80, "/x?y=1"),
            ),
            ("http://h:1?q", url("h", 1, "/?q")),
            ("http://[::1]:3000/metrics", url("::1", 3000, "/metrics")),
            ("http://[::1]", url("::1", 80, "/")),
        ] {
            assert_eq!(Url::parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn rejects_what_it_cannot_send() {
        for text in [
            "",
            "127.0.0.1:3000",
            "https://h/",
            "ftp://h/",
            "http://",
            "http:///path",
            "http://:3000/",
            "http://h:0/",
            "http://h:65536/",
            "http://h:port/",
            "http://u:p@h/",
            "http://h/a b",
            "http://h/#frag",
            "http://[::1/",
            "http://[nope]:80/",
            "http://[::1]x/",
            "http://h%41/",
        ] {
            assert!(Url::parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn host_header_and_display() {
        assert_eq!(url("h", 3000, "/").host_header(), "h:3000");
        assert_eq!(url("h", 80, "/").host_header(), "h");
        assert_eq!(url("::1", 8080, "/").host_header(), "[::1]:8080");
        assert_eq!(url("::1", 8080, "/x").to_string(), "http://[::1]:8080/x");
    }

    #[test]
    fn resolves_loopback() {
        let addrs = url("127.0.0.1", 3000, "/").resolve().unwrap();
        assert_eq!(addrs, vec!["127.0.0.1:3000".parse().unwrap()]);
        assert!(url("localhost", 3000, "/")
            .resolve()
            .unwrap()
            .iter()
            .all(|a| a.ip().is_loopback()));
    }
}

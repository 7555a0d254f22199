//! A blocking HTTP/1.0 GET for `doctor`: one request per connection, the
//! body read to EOF. Off the request path, so plain std sockets suffice.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::loadgen::target::Url;

const TIMEOUT: Duration = Duration::from_secs(10);

/// GETs `path` (with query) from `base`; (status, body) or why not.
pub(crate) fn get(base: &Url, path: &str) -> Result<(u16, String), String> {
    let where_ = format!("http://{}:{}{}", base.host, base.port, path);
    let addr = (base.host.as_str(), base.port)
        .to_socket_addrs()
        .map_err(|e| format!("{where_}: {e}"))?
        .next()
        .ok_or_else(|| format!("{where_}: no address"))?;
    let mut s = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| format!("{where_}: {e}"))?;
    s.set_read_timeout(Some(TIMEOUT)).ok();
    s.set_write_timeout(Some(TIMEOUT)).ok();
    let req = format!("GET {path} HTTP/1.0\r\nHost: {}\r\nAccept: */*\r\n\r\n", base.host);
    s.write_all(req.as_bytes()).map_err(|e| format!("{where_}: {e}"))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| format!("{where_}: {e}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("{where_}: no HTTP response"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("{where_}: bad status line"))?;
    Ok((status, body.to_string()))
}

/// Percent-encodes a query parameter.
pub(crate) fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

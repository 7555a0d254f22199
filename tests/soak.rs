//! Mixed load from several threads — keep-alive, pipelined, one connection
//! per request, scrapes, temperature changes, malformed requests — then the
//! sum of `total_req_num` must equal the responses the clients received,
//! exactly. `SOAK_SECONDS` sets the length (3 s by default; `scripts/soak.sh`
//! runs the long version).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{samples, Client, TestServer};

type Load = fn(std::net::SocketAddr, &AtomicBool) -> u64;

fn keep_alive(addr: std::net::SocketAddr, stop: &AtomicBool) -> u64 {
    let mut c = Client::connect(addr);
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        assert_eq!(c.get("/").status, 200);
        n += 1;
    }
    n
}

fn pipelined(addr: std::net::SocketAddr, stop: &AtomicBool) -> u64 {
    let mut c = Client::connect(addr);
    let batch: String = ["/", "/healthz", "/readyz", "/nowhere"]
        .iter()
        .cycle()
        .take(16)
        .map(|p| format!("GET {p} HTTP/1.1\r\nHost: x\r\n\r\n"))
        .collect();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        c.send(batch.as_bytes());
        for _ in 0..16 {
            assert_eq!(c.read_response(false).status, 200);
            n += 1;
        }
    }
    n
}

fn connection_per_request(addr: std::net::SocketAddr, stop: &AtomicBool) -> u64 {
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let mut c = Client::connect(addr);
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert_eq!(c.read_response(false).status, 200);
        assert!(c.is_closed_by_server());
        n += 1;
    }
    n
}

/// curl and GNU wget: one keep-alive request, then the client closes.
fn one_keep_alive_request(addr: std::net::SocketAddr, stop: &AtomicBool) -> u64 {
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        assert_eq!(Client::connect(addr).get("/").status, 200);
        n += 1;
    }
    n
}

/// ab without -k: HTTP/1.0, the server closes.
fn http_1_0(addr: std::net::SocketAddr, stop: &AtomicBool) -> u64 {
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let mut c = Client::connect(addr);
        c.send(b"GET /cpuTempDown HTTP/1.0\r\n\r\n");
        assert_eq!(c.read_response(false).status, 200);
        assert!(c.is_closed_by_server());
        n += 1;
    }
    n
}

fn scrapes(addr: std::net::SocketAddr, stop: &AtomicBool) -> u64 {
    let mut c = Client::connect(addr);
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let accept = if n % 2 == 0 {
            "Accept: application/openmetrics-text\r\n"
        } else {
            ""
        };
        c.send(format!("GET /metrics HTTP/1.1\r\nHost: x\r\n{accept}\r\n").as_bytes());
        assert_eq!(c.read_response(false).status, 200);
        n += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
    n
}

fn temperature(addr: std::net::SocketAddr, stop: &AtomicBool) -> u64 {
    let mut c = Client::connect(addr);
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let path = if n % 2 == 0 { "/cpuTempUp" } else { "/cpuTempDown" };
        c.send(format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nstep").as_bytes());
        assert_eq!(c.read_response(false).status, 200);
        n += 1;
    }
    n
}

fn malformed(addr: std::net::SocketAddr, stop: &AtomicBool) -> u64 {
    let bad: [&[u8]; 5] = [
        b"BROKEN\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",
        b"DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    ];
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let mut c = Client::connect(addr);
        c.send(bad[n as usize % bad.len()]);
        let r = c.read_response(false);
        assert!(r.status >= 400, "{}", r.status);
        n += 1;
    }
    n
}

#[test]
fn responses_received_equal_requests_counted() {
    let seconds: u64 = std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let s = TestServer::start(2);
    let stop = Arc::new(AtomicBool::new(false));
    let loads: [(&str, Load); 8] = [
        ("keep-alive", keep_alive),
        ("pipelined", pipelined),
        ("connection per request", connection_per_request),
        ("one keep-alive request per connection", one_keep_alive_request),
        ("HTTP/1.0", http_1_0),
        ("scrapes", scrapes),
        ("temperature", temperature),
        ("malformed", malformed),
    ];
    let threads: Vec<_> = loads
        .iter()
        .map(|&(name, load)| {
            let (addr, stop) = (s.addr, stop.clone());
            (name, std::thread::spawn(move || load(addr, &stop)))
        })
        .collect();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    let mut received = 0;
    for (name, t) in threads {
        let n = t.join().unwrap_or_else(|_| panic!("{name} client failed"));
        println!("{name}: {n} responses");
        assert!(n > 0, "{name} made progress");
        received += n;
    }
    assert_eq!(s.app.requests().total(), received, "counted == received");
    // And through the exposition: the final scrape counts itself after encoding.
    let body = s.connect().get("/metrics").text().to_owned();
    let exposed: f64 = samples(&body)
        .iter()
        .filter(|(name, _)| name.starts_with("total_req_num{"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(exposed as u64, received);
    println!("{received} responses in {seconds} s, all counted exactly once");
}

#!/usr/bin/env python3
"""Writes the seed corpus under fuzz/seeds/TARGET/ from the test suite.

Request seeds are the byte-string requests the tests send (every `b"..."`
literal in tests/*.rs and src/http/ that holds an HTTP version), plus the
chunked shapes below; the session target gets each alone and all of them
pipelined. The other targets' seeds are the values their unit tests use.
Run from the repository root: python3 fuzz/seeds/generate.py
"""
import hashlib
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
SEEDS = ROOT / "fuzz" / "seeds"

LITERAL = re.compile(rb'b"((?:[^"\\]|\\.|\\\n)*)"', re.S)


def rust_bytes(body: bytes) -> bytes:
    body = re.sub(rb"\\\n\s*", b"", body)  # Rust's line continuation
    return eval(b'b"' + body + b'"')


def test_requests():
    found = []
    files = sorted(ROOT.glob("tests/*.rs")) + sorted((ROOT / "src" / "http").glob("*.rs"))
    for f in files:
        for m in LITERAL.finditer(f.read_bytes()):
            try:
                raw = rust_bytes(m.group(1))
            except SyntaxError:  # not a plain byte string (a `b'"'` before it)
                continue
            if re.search(rb"HTTP/[0-9]", raw) and not raw.startswith(b"HTTP/"):
                found.append(raw)
    return found


CHUNKED = [
    b"POST /cpuTempUp HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"POST /cpuTempDown HTTP/1.1\r\nHost: t:3000\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"3;ext=1\r\nabc\r\nA;q=\"a;b\"\r\n0123456789\r\n0\r\nChecksum: x\r\n\r\n",
    b"POST /cpuTempUp HTTP/1.1\r\nHost: [::1]:3000\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
    b"1\r\na\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n41\r\n",
    b"PUT /cpuTempUp HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc",
    b"GET / HTTP/1.1\r\nHost: u@t\r\n\r\n",
]

RESPONSES = [
    b"HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 14\r\n\r\ncustom metrics",
    b"HTTP/1.1 405 Method Not Allowed\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 4\r\nAllow: GET, HEAD\r\nConnection: close\r\n\r\nnope",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.0 200 OK\r\n\r\nbody",
    b"HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
]

DURATIONS = ["90s", "5m", "1h", "1h30m", "2m30s", "250ms", "1.5s", "30", "0.5", " 8m ", "0", "1e400", "5d", "24h1s"]

URLS = [
    "http://custom-metrics-app:3000/",
    "http://custom-metrics-app:3000/cpuTempUp",
    "http://127.0.0.1:3000",
    "http://[::1]:8080/x?y=1",
    "HTTP://h?q",
    "http://u@h/",
    "https://h/",
]

ARGS = [
    ["--listen", "[::1]:8080", "--workers", "3", "--sim-step", "2.5"],
    ["--listen", "0.0.0.0:3000", "--max-body-bytes", "1024", "--header-timeout", "2"],
    ["--temperature-source", "hwmon", "--hwmon-sensor", "coretemp/Package id 0", "--sensor-interval", "0.5"],
    ["--thermal-zone", "x86_pkg_temp", "--idle-timeout", "60", "--shutdown-timeout", "5"],
    ["loadgen", "--url=http://custom-metrics-app:3000/", "--rate=6000", "--duration=5m",
     "--connection=close", "--concurrency=64"],
    ["loadgen", "--url", "http://h:1/cpuTempUp", "--rate", "0.2", "--duration", "8m",
     "--method=post", "--timeout=250ms", "--progress=0"],
]


def write(target, items):
    d = SEEDS / target
    d.mkdir(parents=True, exist_ok=True)
    for old in d.iterdir():
        old.unlink()
    for item in items:
        (d / hashlib.sha1(item).hexdigest()[:16]).write_bytes(item)


requests = list(dict.fromkeys(test_requests() + CHUNKED))
write("request_parser", requests)
# Session input: a cut count byte (0: one piece), then the stream.
write("session", [b"\0" + r for r in requests] + [b"\0" + b"".join(requests[:40])])
write("loadgen_response", RESPONSES)
write("duration", [d.encode() for d in DURATIONS])
write("url", [u.encode() for u in URLS])
write("cli_args", ["\0".join(a).encode() for a in ARGS])
print({t.name: len(list(t.iterdir())) for t in sorted(SEEDS.iterdir()) if t.is_dir()})

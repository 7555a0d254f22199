//! A route, and the table that finds one for a path.
//!
//! A [`Route`] is one entry: the path it takes (exact, a prefix with a
//! parameter after it, or the fallback every other path goes to), its
//! methods, its `api` label, whether it is an experiment, whether its
//! series is shown from start-up, and its answer, immediate or deferred.
//! Everything else follows from the table: routing, `Allow`, the label set
//! and so the series of `total_req_num`, which no request can add to.

use super::state::AppState;
use crate::http::{Method, Request, ResponseWriter, Status, Wait};

/// The writer every answer writes to; its note is the [`Pending`] answer.
pub(crate) type Writer<'a> = ResponseWriter<'a, Pending>;

/// Answers a request at once: its status. `parameter` is what follows a
/// [`RoutePath::Prefix`] in the request's (undecoded) path; `None` for the
/// other routes, and for a percent-encoded path (a parameter is read from a
/// plain path only).
pub(crate) type AnswerNow = fn(&AppState, &Request<'_>, Option<&str>, &mut Writer<'_>) -> Status;

/// Answers a request to a deferrable route: at once, or later.
pub(crate) type AnswerMaybeLater = fn(&AppState, &Request<'_>, Option<&str>, &mut Writer<'_>) -> Answer;

/// Writes a deferred answer once its wait is over, with the status decided
/// when it was deferred.
pub(crate) type Finish = fn(&AppState, Status, &mut Writer<'_>);

/// What a deferrable route's answer came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Written, with this status.
    Now(Status),
    /// To be written by the route's [`Finish`] after `Wait`, with this status.
    Later(Wait, Status),
}

/// How a route answers.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Handling {
    Now(AnswerNow),
    /// May answer after a wait (a delay, CPU work): `finish` writes it then.
    Deferrable {
        answer: AnswerMaybeLater,
        finish: Finish,
    },
}

/// Which paths a route takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RoutePath {
    /// Exactly this path (case-sensitive, after percent-decoding).
    Exact(&'static str),
    /// This prefix and a parameter after it (`/status/` for `/status/503`).
    Prefix(&'static str),
    /// Every path no other route takes: exactly one route has it, so no path
    /// can create a series of its own.
    Fallback,
}

/// The methods a route takes; any other is answered `405` with `Allow`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Methods {
    GetHead,
    /// GET, HEAD, and POST (which changes something, or asks like GET does).
    GetHeadPost,
    /// POST only: a change no crawler or prefetch may trigger.
    Post,
}

impl Methods {
    pub(crate) fn take(self, method: Method) -> bool {
        match method {
            Method::Get | Method::Head => self != Methods::Post,
            Method::Post => self != Methods::GetHead,
            Method::Other => false,
        }
    }

    /// The `Allow` header value.
    pub(crate) fn allow(self) -> &'static str {
        match self {
            Methods::GetHead => "GET, HEAD",
            Methods::GetHeadPost => "GET, HEAD, POST",
            Methods::Post => "POST",
        }
    }
}

/// One entry of the route table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Route {
    pub path: RoutePath,
    pub methods: Methods,
    /// The `api` label value.
    pub label: &'static str,
    /// Served only with `--experiments on`; off, its paths go to the fallback.
    pub experiment: bool,
    /// Its `status="200"` series is shown from start-up (the seed's routes:
    /// the adapter's queries need them before any request).
    pub shown_from_start: bool,
    pub handling: Handling,
}

impl Route {
    /// The parameter in `path`: what follows this route's prefix, read from
    /// the plain path only.
    #[inline]
    pub(crate) fn parameter<'p>(&self, path: &'p str) -> Option<&'p str> {
        match self.path {
            RoutePath::Prefix(prefix) => path.strip_prefix(prefix),
            RoutePath::Exact(_) | RoutePath::Fallback => None,
        }
    }
}

/// A route's position in its table, which is also its place in the metric
/// series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteId(u8);

impl RouteId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What an answer deferred by a route notes until it is written.
#[derive(Clone, Copy)]
pub struct Pending {
    pub(crate) route: RouteId,
    pub(crate) status: Status,
    pub(crate) method: Method,
    pub(crate) finish: Finish,
}

/// The route table, checked when built.
pub(crate) struct Routes {
    table: Box<[Route]>,
    fallback: RouteId,
    /// The shortest path or prefix of the table: a shorter path (`/`, the
    /// path of most load) goes to the fallback without a comparison.
    shortest: usize,
}

/// The longest decoded path a percent-encoded request can be routed by; no
/// route is longer.
const DECODED_MAX: usize = 32;

impl Routes {
    /// Panics on a table that could route a path two ways or lose a series:
    /// not exactly one fallback, a label or path twice, an exact path under a
    /// prefix, a path longer than a decoded path can be, or more than 255.
    pub(crate) fn new(table: Vec<Route>) -> Routes {
        assert!(table.len() <= usize::from(u8::MAX), "at most 255 routes");
        let fallbacks: Vec<usize> = (0..table.len())
            .filter(|&i| table[i].path == RoutePath::Fallback)
            .collect();
        assert_eq!(fallbacks.len(), 1, "exactly one fallback route");
        for (i, a) in table.iter().enumerate() {
            for b in &table[i + 1..] {
                assert_ne!(a.label, b.label, "two routes labelled {:?}", a.label);
                assert_ne!(a.path, b.path, "two routes for {:?}", a.path);
            }
            let path = match a.path {
                RoutePath::Exact(p) | RoutePath::Prefix(p) => p,
                RoutePath::Fallback => continue,
            };
            assert!(path.starts_with('/') && path.len() <= DECODED_MAX, "{path:?}");
            if let RoutePath::Prefix(prefix) = a.path {
                assert!(prefix.ends_with('/'), "a prefix ends with '/': {prefix:?}");
                for b in &table {
                    if let RoutePath::Exact(p) = b.path {
                        assert!(!p.starts_with(prefix), "{p:?} is also under {prefix:?}");
                    }
                }
            }
        }
        let shortest = table
            .iter()
            .filter_map(|r| match r.path {
                RoutePath::Exact(p) | RoutePath::Prefix(p) => Some(p.len()),
                RoutePath::Fallback => None,
            })
            .min()
            .unwrap_or(usize::MAX);
        Routes {
            table: table.into_boxed_slice(),
            fallback: RouteId(fallbacks[0] as u8),
            shortest,
        }
    }

    pub(crate) fn get(&self, id: RouteId) -> &Route {
        &self.table[id.index()]
    }

    pub(crate) fn fallback(&self) -> RouteId {
        self.fallback
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (RouteId, &Route)> {
        self.table.iter().enumerate().map(|(i, r)| (RouteId(i as u8), r))
    }

    /// The route for a request path (query already stripped): exact,
    /// case-sensitive matches on the percent-decoded path, like the seed's
    /// Go `switch` on `r.URL.Path`; the fallback for anything else.
    #[inline]
    pub(crate) fn find(&self, path: &str) -> RouteId {
        if path.contains('%') {
            return self.find_decoded(path);
        }
        self.find_plain(path)
    }

    #[inline]
    fn find_plain(&self, path: &str) -> RouteId {
        if path.len() < self.shortest {
            return self.fallback;
        }
        for (i, route) in self.table.iter().enumerate() {
            let hit = match route.path {
                RoutePath::Exact(p) => p == path,
                RoutePath::Prefix(p) => path.starts_with(p),
                RoutePath::Fallback => false,
            };
            if hit {
                return RouteId(i as u8);
            }
        }
        self.fallback
    }

    /// Decodes into a stack buffer; a path longer than the buffer cannot be
    /// one of the routes.
    fn find_decoded(&self, path: &str) -> RouteId {
        let mut buf = [0u8; DECODED_MAX];
        let (mut len, bytes) = (0, path.as_bytes());
        let mut i = 0;
        while i < bytes.len() {
            if len == buf.len() {
                return self.fallback;
            }
            let hex = |b: u8| (b as char).to_digit(16);
            buf[len] = match (
                bytes[i],
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            ) {
                (b'%', Some(hi), Some(lo)) => {
                    i += 3;
                    (hi * 16 + lo) as u8
                }
                (b, _, _) => {
                    i += 1;
                    b
                }
            };
            len += 1;
        }
        match std::str::from_utf8(&buf[..len]) {
            Ok(decoded) if !decoded.contains('%') => self.find_plain(decoded),
            // `%25` decodes to `%`: no route contains one.
            _ => self.fallback,
        }
    }
}

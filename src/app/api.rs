//! Routes: which `api` a path belongs to and which methods it takes.

/// The closed set of `api` label values. Any path without a route of its own
/// is `Root`, as in the seed app, so no path can create a new series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    Root,
    CpuTempUp,
    CpuTempDown,
    Metrics,
    Healthz,
    Readyz,
    /// `/status/{code}`: error injection.
    Status,
    /// `/delay/{duration}`: latency injection.
    Delay,
    /// `/work/{duration}`: CPU work.
    Work,
    /// `/readyz/disable` and `/readyz/enable`.
    ReadyzDisable,
    ReadyzEnable,
    /// `/version`: build information.
    Version,
}

impl Api {
    pub const ALL: [Api; 12] = [
        Api::Root,
        Api::CpuTempUp,
        Api::CpuTempDown,
        Api::Metrics,
        Api::Healthz,
        Api::Readyz,
        Api::Status,
        Api::Delay,
        Api::Work,
        Api::ReadyzDisable,
        Api::ReadyzEnable,
        Api::Version,
    ];

    /// The routes of the seed app: their `status="200"` series are shown
    /// from start-up (the adapter's queries need them before any request).
    pub const SEED: [Api; 6] = [
        Api::Root,
        Api::CpuTempUp,
        Api::CpuTempDown,
        Api::Metrics,
        Api::Healthz,
        Api::Readyz,
    ];

    /// Routes a request path (query already stripped). Exact, case-sensitive
    /// matches on the percent-decoded path, like the seed's Go `switch` on
    /// `r.URL.Path`.
    pub fn route(path: &str) -> Api {
        if path.contains('%') {
            return Api::route_decoded(path);
        }
        match path {
            "/cpuTempUp" => Api::CpuTempUp,
            "/cpuTempDown" => Api::CpuTempDown,
            "/metrics" => Api::Metrics,
            "/healthz" => Api::Healthz,
            "/readyz" => Api::Readyz,
            "/readyz/disable" => Api::ReadyzDisable,
            "/readyz/enable" => Api::ReadyzEnable,
            "/version" => Api::Version,
            // Only paths longer than the shortest prefix pay for the checks.
            _ if path.len() >= "/work/".len() => Api::route_with_parameter(path),
            _ => Api::Root,
        }
    }

    /// Routes that end in a parameter (`/status/503`).
    fn route_with_parameter(path: &str) -> Api {
        for api in [Api::Status, Api::Delay, Api::Work] {
            if path.starts_with(api.prefix()) {
                return api;
            }
        }
        Api::Root
    }

    /// The path prefix of a route that takes a parameter ("" for the others).
    fn prefix(self) -> &'static str {
        match self {
            Api::Status => "/status/",
            Api::Delay => "/delay/",
            Api::Work => "/work/",
            _ => "",
        }
    }

    /// The parameter of a route like `/status/{code}`: what follows the
    /// prefix in `path`. `None` when the path is percent-encoded (routed
    /// after decoding): a parameter is read from a plain path only.
    pub fn parameter(self, path: &str) -> Option<&str> {
        match self {
            Api::Status | Api::Delay | Api::Work => path.strip_prefix(self.prefix()),
            _ => None,
        }
    }

    /// Decodes into a stack buffer; a path longer than the buffer cannot be
    /// one of the routes.
    fn route_decoded(path: &str) -> Api {
        let mut buf = [0u8; 32];
        let (mut len, bytes) = (0, path.as_bytes());
        let mut i = 0;
        while i < bytes.len() {
            if len == buf.len() {
                return Api::Root;
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
            Ok(decoded) if !decoded.contains('%') => Api::route(decoded),
            // `%25` decodes to `%`: no route contains one.
            _ => Api::Root,
        }
    }

    /// The routes `--experiments off` turns into unknown paths: the ones
    /// that let any client inject statuses, latency or CPU load, or take the
    /// pod out of its Service.
    pub fn is_experiment(self) -> bool {
        matches!(
            self,
            Api::Status | Api::Delay | Api::Work | Api::ReadyzDisable | Api::ReadyzEnable
        )
    }

    /// Position in [`Api::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The `api` label value (the seed's spelling).
    pub fn label(self) -> &'static str {
        match self {
            Api::Root => "/",
            Api::CpuTempUp => "cpuTempUp",
            Api::CpuTempDown => "cpuTempDown",
            Api::Metrics => "metrics",
            Api::Healthz => "healthz",
            Api::Readyz => "readyz",
            Api::Status => "status",
            Api::Delay => "delay",
            Api::Work => "work",
            Api::ReadyzDisable => "readyzDisable",
            Api::ReadyzEnable => "readyzEnable",
            Api::Version => "version",
        }
    }

    /// The `Allow` header value: POST moves the temperature, toggles
    /// readiness, and asks `/status/{code}` like GET does.
    pub fn allow(self) -> &'static str {
        match self {
            Api::CpuTempUp | Api::CpuTempDown | Api::Status => "GET, HEAD, POST",
            Api::ReadyzDisable | Api::ReadyzEnable => "POST",
            _ => "GET, HEAD",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(Api::route("/"), Api::Root);
        assert_eq!(Api::route("/anything/else"), Api::Root);
        assert_eq!(Api::route("/cpuTempUp"), Api::CpuTempUp);
        assert_eq!(Api::route("/cputempup"), Api::Root);
        assert_eq!(Api::route("/metrics/"), Api::Root);
        assert_eq!(Api::route("*"), Api::Root);
        assert_eq!(Api::route("/cpu%54empUp"), Api::CpuTempUp);
        assert_eq!(Api::route("%2Fmetrics"), Api::Metrics);
        assert_eq!(Api::route("/metrics%3f"), Api::Root);
        assert_eq!(Api::route("/%2525"), Api::Root);
        assert_eq!(Api::route(&format!("/{}%41", "a".repeat(40))), Api::Root);
        assert_eq!(Api::route("/status/503"), Api::Status);
        assert_eq!(Api::route("/status/"), Api::Status);
        assert_eq!(Api::route("/work"), Api::Root);
        assert_eq!(Api::route("/statusx/5"), Api::Root);
        assert_eq!(Api::route("/delay/1s"), Api::Delay);
        assert_eq!(Api::route("/work/10ms"), Api::Work);
        assert_eq!(Api::route("/readyz/disable"), Api::ReadyzDisable);
        assert_eq!(Api::route("/version"), Api::Version);
        assert_eq!(Api::Status.parameter("/status/503"), Some("503"));
        assert_eq!(Api::Status.parameter("/status%2F503"), None);
        assert_eq!(Api::Root.parameter("/"), None);
        for (i, a) in Api::ALL.iter().enumerate() {
            assert_eq!(a.index(), i);
        }
    }
}

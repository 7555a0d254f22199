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
}

impl Api {
    pub const ALL: [Api; 6] = [
        Api::Root,
        Api::CpuTempUp,
        Api::CpuTempDown,
        Api::Metrics,
        Api::Healthz,
        Api::Readyz,
    ];

    /// Routes a request path (query already stripped). Exact, case-sensitive
    /// matches, like the seed's Go `switch`.
    pub fn route(path: &str) -> Api {
        match path {
            "/cpuTempUp" => Api::CpuTempUp,
            "/cpuTempDown" => Api::CpuTempDown,
            "/metrics" => Api::Metrics,
            "/healthz" => Api::Healthz,
            "/readyz" => Api::Readyz,
            _ => Api::Root,
        }
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
        }
    }

    /// The `Allow` header value: POST only moves the temperature.
    pub fn allow(self) -> &'static str {
        match self {
            Api::CpuTempUp | Api::CpuTempDown => "GET, HEAD, POST",
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
        for (i, a) in Api::ALL.iter().enumerate() {
            assert_eq!(a.index(), i);
        }
    }
}

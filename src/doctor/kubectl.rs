//! Runs `kubectl ... -o json` (or `get --raw`) and parses what it prints;
//! reads Kubernetes quantities as plain numbers (`500m` = 0.5).

use std::process::Command;

use serde_json::Value;

/// Why a kubectl call gave no JSON.
pub(super) enum Failure {
    /// No `kubectl` on PATH: the checks that need it are skipped.
    Missing,
    /// It ran but reaches no cluster (no kubeconfig, API server down):
    /// its last line. Skipped too: nothing in the cluster can be judged.
    NoCluster(String),
    /// It ran and the cluster said no (NotFound, forbidden): its last line.
    Error(String),
}

/// `kubectl <args>`, its stdout parsed as JSON.
pub(super) fn json(args: &[&str]) -> Result<Value, Failure> {
    let out = match Command::new("kubectl").args(args).output() {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Failure::Missing),
        Err(e) => return Err(Failure::Error(e.to_string())),
    };
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        // kubectl repeats the connection error several times; the last line says it once.
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
        let message = format!("kubectl {}: {last}", args.join(" "));
        let unreachable = [
            "connection to the server",
            "dial tcp",
            "no configuration has been provided",
            "Unable to connect",
        ];
        if unreachable.iter().any(|u| stderr.contains(u)) {
            return Err(Failure::NoCluster(message));
        }
        return Err(Failure::Error(message));
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| Failure::Error(format!("kubectl {}: not JSON: {e}", args.join(" "))))
}

/// A Kubernetes quantity (`500m`, `2`, `1.5k`, `1Ki`, `3e2`) as a number.
pub(super) fn quantity(q: &str) -> Option<f64> {
    const SUFFIXES: [(&str, f64); 13] = [
        ("Ki", 1024.0),
        ("Mi", 1048576.0),
        ("Gi", 1073741824.0),
        ("Ti", 1099511627776.0),
        ("n", 1e-9),
        ("u", 1e-6),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    let q = q.trim();
    for (suffix, scale) in SUFFIXES {
        if let Some(n) = q.strip_suffix(suffix) {
            return n.parse::<f64>().ok().map(|n| n * scale);
        }
    }
    q.parse().ok()
}

/// A number as people write it: at most 6 decimals, no trailing zeros
/// (`633.3340000000001` -> `633.334`, `0.5`, `2`).
pub(super) fn plain(n: f64) -> String {
    let s = format!("{n:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::{plain, quantity};

    #[test]
    fn reads_quantities_as_plain_numbers() {
        assert_eq!(quantity("500m"), Some(0.5));
        assert_eq!(quantity("500"), Some(500.0));
        assert_eq!(quantity("1500m"), Some(1.5));
        assert_eq!(quantity("2k"), Some(2000.0));
        assert_eq!(quantity("1Ki"), Some(1024.0));
        assert_eq!(quantity("250u"), Some(0.00025));
        assert_eq!(quantity("x"), None);
        assert_eq!(plain(633.3340000000001), "633.334");
        assert_eq!(plain(2.0), "2");
        assert_eq!(plain(quantity("500m").unwrap()), "0.5");
    }
}

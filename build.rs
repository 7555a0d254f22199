//! Build information for `custom_metrics_app_build_info` and `/version`: the
//! git revision, the build date and the compiler's version, as environment
//! variables the code reads with `option_env!`.
//!
//! Never fails the build: without git or a `.git` (a source tarball, or the
//! Docker build, whose `.dockerignore` leaves `.git` out) the revision is
//! `unknown`. `CMA_BUILD_REVISION` sets it from outside (a CI build arg);
//! `SOURCE_DATE_EPOCH` fixes the date for reproducible builds.

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CMA_BUILD_REVISION");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let revision = std::env::var("CMA_BUILD_REVISION")
        .ok()
        .filter(|r| is_revision(r))
        .or_else(git_revision)
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=CMA_BUILD_REVISION={revision}");
    println!("cargo:rustc-env=CMA_BUILD_DATE={}", build_date());
    println!("cargo:rustc-env=CMA_BUILD_RUSTC={}", rustc_version());
}

/// `git rev-parse --short=12 HEAD`, and the files whose change means a new
/// revision (watched only when they exist, or cargo would rerun every build).
fn git_revision() -> Option<String> {
    let revision = git(&["rev-parse", "--short=12", "HEAD"]).filter(|r| is_revision(r))?;
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(head_ref) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(head_ref);
    }
    for name in watched {
        if let Some(path) = git(&["rev-parse", "--git-path", &name]) {
            if Path::new(&path).exists() {
                println!("cargo:rerun-if-changed={path}");
            }
        }
    }
    Some(revision)
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

/// A label value must be short and plain: hex digits (or a tag-like word).
fn is_revision(r: &str) -> bool {
    !r.is_empty() && r.len() <= 64 && r.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
}

/// `rustc 1.95.0 (59807616e 2026-04-14)` → `1.95.0`.
fn rustc_version() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|v| v.split_whitespace().nth(1).map(str::to_string))
        .filter(|v| is_revision(v))
        .unwrap_or_else(|| "unknown".into())
}

/// The build's UTC date, `YYYY-MM-DDTHH:MM:SSZ`.
fn build_date() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

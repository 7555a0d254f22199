//! The static binary (scripts/build-static.sh) in an empty root: a
//! directory holding nothing but the binary, as in the `FROM scratch` image.
//! It must start, answer `/` and `/metrics` over loopback, drive load with
//! its `loadgen` subcommand, and exit 0 on SIGTERM: no loader, no libc, no
//! /etc, no /proc, no /sys.
//!
//! This test builds nothing. It uses `CMA_STATIC_BIN` when set (and then the
//! file must exist: `.ci/run` sets it to what the script printed), else the
//! script's default output under `$CARGO_TARGET_DIR` (or `target/`), musl
//! first; with neither it skips, loudly.
//!
//! The root is entered with `unshare -r chroot DIR /custom-metrics-app`
//! (a user namespace, so no privilege is needed), or with plain `chroot` as
//! root where user namespaces are refused. The network namespace is the
//! host's, so the test reaches the server on 127.0.0.1.

mod common;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Client;

const BIN: &str = "custom-metrics-app";

struct Killed(Option<Child>);

impl Drop for Killed {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The static binary to test, or `None` (after saying so) when there is none.
fn static_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CMA_STATIC_BIN") {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "CMA_STATIC_BIN={} does not exist", path.display());
        return Some(path);
    }
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let found = ["x86_64-unknown-linux-musl", "x86_64-unknown-linux-gnu"]
        .iter()
        .map(|t| target_dir.join(t).join("release").join(BIN))
        .find(|p| p.is_file());
    if found.is_none() {
        eprintln!(
            "\n!!!!! SKIPPING: no static binary; run `bin=$(scripts/build-static.sh)` and \
             `CMA_STATIC_BIN=$bin cargo test --test empty_root` (.ci/run does) !!!!!\n"
        );
    }
    found
}

/// How to enter the root: `unshare -r chroot` if user namespaces work here,
/// else `chroot` if we are root; `None` if neither. Absolute paths, since
/// the binary runs with an empty environment (no PATH).
fn chroot_command() -> Option<Vec<String>> {
    let which = |tool: &str| -> Option<String> {
        let out = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .ok()?;
        let path = String::from_utf8(out.stdout).ok()?.trim().to_owned();
        (out.status.success() && path.starts_with('/')).then_some(path)
    };
    let works = |args: &[String]| {
        Command::new(&args[0])
            .args(&args[1..])
            .args(["/", "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let chroot = which("chroot")?;
    if let Some(unshare) = which("unshare") {
        let cmd = vec![unshare, "-r".to_owned(), chroot.clone()];
        if works(&cmd) {
            return Some(cmd);
        }
    }
    // SAFETY: geteuid(2) has no preconditions.
    let cmd = vec![chroot];
    (unsafe { libc::geteuid() } == 0 && works(&cmd)).then_some(cmd)
}

/// A fresh directory holding only `/custom-metrics-app`.
fn empty_root(bin: &Path) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cma-empty-root-{}-{}", std::process::id(), common::free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let inside = dir.join(BIN);
    std::fs::copy(bin, &inside).expect("copy the static binary");
    let entries: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(entries.len(), 1, "the root holds the binary only");
    dir
}

#[test]
fn static_binary_serves_from_an_empty_root() {
    let Some(bin) = static_binary() else {
        return;
    };
    let Some(chroot) = chroot_command() else {
        let msg = "neither `unshare -r chroot` nor `chroot` (as root) works here";
        assert!(std::env::var_os("CMA_STATIC_BIN").is_none(), "{msg}");
        eprintln!("\n!!!!! SKIPPING: {msg} !!!!!\n");
        return;
    };
    eprintln!("testing {} with `{}`", bin.display(), chroot.join(" "));
    let root = empty_root(&bin);
    // No --temperature-source: as in the image, `auto` must fall back to the
    // simulation when there is no /sys.
    let mut child = Command::new(&chroot[0])
        .args(&chroot[1..])
        .arg(&root)
        .args([&format!("/{BIN}"), "--listen", "127.0.0.1:0", "--workers", "2"])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary in the empty root");
    let stderr = child.stderr.take().unwrap();
    let mut guard = Killed(Some(child));

    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = std::io::BufReader::new(stderr).lines();
        let _ = tx.send(lines.next());
        for _ in lines {}
    });
    let first = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("a start-up line within 30 s")
        .expect("the binary started")
        .expect("utf-8");
    assert!(first.contains("temperature source: simulated"), "{first}");
    let addr = common::listening_addr(&first);

    let mut c = Client::connect(addr);
    let root_page = c.get("/");
    assert_eq!((root_page.status, root_page.text()), (200, "custom metrics"));
    let metrics = c.get("/metrics");
    assert_eq!(metrics.status, 200);
    assert_eq!(
        common::sample(metrics.text(), "total_req_num{status=\"200\",api=\"/\"}"),
        Some(1.0)
    );
    assert_eq!(common::sample(metrics.text(), "cpu_temperature_celsius"), Some(50.0));
    assert_eq!(c.get("/healthz").status, 200);
    drop(c);

    // The image's other use: the load Jobs run `loadgen` from it.
    let loadgen = Command::new(&chroot[0])
        .args(&chroot[1..])
        .arg(&root)
        .arg(format!("/{BIN}"))
        .args([
            "loadgen",
            &format!("--url=http://{addr}/"),
            "--rate=50",
            "--duration=200ms",
        ])
        .env_clear()
        .output()
        .expect("run loadgen in the empty root");
    let summary = String::from_utf8_lossy(&loadgen.stdout);
    assert_eq!(loadgen.status.code(), Some(0), "{summary}");
    assert!(summary.contains("\ncompleted: 10\n"), "{summary}");

    let mut child = guard.0.take().unwrap();
    // SAFETY: kill(2) on our own, still running child (chroot and unshare
    // exec the binary, so this pid is the server).
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no exit within 30 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM");
    let _ = std::fs::remove_dir_all(&root);
}

//! `--experiments off` through the binary on loopback (issue 25): the
//! experiment routes change nothing (readiness, CPU, latency, status), the
//! flags that need them exit 2, the seed routes and probes answer as with
//! the experiments on, and no new `total_req_num` series appears.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{sample, spawn_binary, spawn_binary_logged, wait_for_exit, Client};

/// CPU time (user + system) of the children this process has waited for.
fn children_cpu() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is a writable rusage for getrusage to fill.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) };
    assert_eq!(rc, 0);
    // SAFETY: filled by the successful call above (and zeroed before).
    let usage = unsafe { usage.assume_init() };
    let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Stops `child` and waits for it, so its CPU time joins [`children_cpu`].
fn stop(mut child: Child) {
    // SAFETY: signals a child of ours that has not been waited for yet.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    wait_for_exit(&mut child, Duration::from_secs(10), "custom-metrics-app");
}

fn count(exposition: &str, status: &str, api: &str) -> f64 {
    sample(
        exposition,
        &format!("total_req_num{{status=\"{status}\",api=\"{api}\"}}"),
    )
    .unwrap_or(0.0)
}

/// What `/work/…` would burn, sent to a server: ten jobs of 300 ms each.
fn ask_for_work(c: &mut Client) -> Vec<u16> {
    (0..10).map(|_| c.get("/work/300ms").status).collect()
}

/// One test: it compares the CPU time of waited-for children, which other
/// tests of this file would add to if they ran alongside.
#[test]
fn experiments_off_changes_nothing_and_refuses_their_flags() {
    // The flags that need the experiments, from the command line or the
    // environment: exit 2 with one line naming the flag.
    for (args, env) in [
        (&["--experiments", "off", "--error-ratio", "0.5"][..], &[][..]),
        (&["--experiments=off", "--delay", "10ms"][..], &[][..]),
        (&["--experiments", "off", "--work-threads", "2"][..], &[][..]),
        (&[][..], &[("CMA_EXPERIMENTS", "off"), ("CMA_ERROR_RATIO", "0.1")][..]),
        (&["--experiments", "off"][..], &[("CMA_DELAY", "1ms")][..]),
        (&["--experiments", "maybe"][..], &[][..]),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_custom-metrics-app"))
            .args(["--listen", "127.0.0.1:0", "--temperature-source", "simulated"])
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        let named = ["--error-ratio", "--delay", "--work-threads", "--experiments"];
        assert!(named.iter().any(|f| stderr.contains(f)), "{stderr}");
    }

    // Off: the same requests, all answered as an unknown path is.
    let cpu_before = children_cpu();
    let (child, addr, first) = spawn_binary_logged(&["--experiments", "off"], &[]);
    assert!(first.ends_with("experiment routes: off (--experiments off)"), "{first}");
    let mut c = Client::connect(addr);
    let started = Instant::now();
    for path in [
        "/status/503",
        "/status/500",
        "/delay/5s",
        "/delay/1s..2s",
        "/readyz/disable",
    ] {
        let r = c.get(path);
        assert_eq!((r.status, r.text()), (200, "custom metrics"), "{path}");
    }
    assert_eq!(c.request("HEAD", "/status/404").status, 200);
    for path in ["/status/503", "/readyz/disable", "/readyz/enable"] {
        let r = c.request("POST", path);
        assert_eq!((r.status, r.header("Allow")), (405, Some("GET, HEAD")), "{path}");
    }
    assert_eq!(ask_for_work(&mut c), [200; 10]);
    assert!(started.elapsed() < Duration::from_secs(3), "no delay was added");
    let readyz = c.get("/readyz");
    assert_eq!((readyz.status, readyz.text()), (200, "ok\n"), "readiness unchanged");
    // The seed's routes and the probes, as with the experiments on.
    assert_eq!(c.get("/").text(), "custom metrics");
    assert_eq!(c.get("/cpuTempUp").text(), "60\n");
    assert_eq!(c.request("POST", "/cpuTempDown").text(), "50\n");
    assert_eq!(c.get("/healthz").text(), "ok\n");
    assert!(c.get("/version").text().starts_with('{'));
    let m = c.get("/metrics").text().to_owned();
    // Five GETs and a HEAD of experiment paths, ten `/work`s and `/`; the POSTs.
    assert_eq!(count(&m, "200", "/"), 17.0);
    assert_eq!(count(&m, "405", "/"), 3.0);
    for api in ["status", "delay", "work", "readyzDisable", "readyzEnable"] {
        assert!(!m.contains(&format!("api=\"{api}\"")), "no {api} series:\n{m}");
    }
    drop(c);
    stop(child);
    let off_cpu = children_cpu() - cpu_before;

    // On, as a control: the same ten jobs burn about 3 s of CPU, which the
    // measurement must see (else the bound above proves nothing).
    let cpu_before = children_cpu();
    let (child, addr) = spawn_binary(&["--work-threads", "1"]);
    let mut c = Client::connect(addr);
    assert_eq!(ask_for_work(&mut c), [200; 10]);
    assert_eq!(c.get("/status/503").status, 503);
    drop(c);
    stop(child);
    let on_cpu = children_cpu() - cpu_before;
    println!("CPU for ten /work/300ms: off {off_cpu:?}, on {on_cpu:?}");
    assert!(on_cpu >= Duration::from_millis(2_500), "on: {on_cpu:?}");
    assert!(off_cpu < Duration::from_millis(1_000), "off: {off_cpu:?}");
}

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
//!
//! Another CPU (the arm64 image's binary on an x86_64 machine): set
//! `CMA_STATIC_RUNNER=qemu-aarch64` and the binary runs under that emulator,
//! `qemu-aarch64 BINARY ARGS`. Debian's qemu-user is itself dynamically
//! linked and cannot start inside an empty root, so under a runner there is
//! no chroot: the binary still gets an empty environment, the empty
//! directory as its working directory, and sensor roots that do not exist
//! (so `auto` meets no sensor, as in the image). What the chroot proves
//! about loader and libc, the ELF check below proves for every binary: the
//! file is a static executable (no `PT_INTERP`) for the expected CPU
//! (`CMA_STATIC_ARCH`, default this machine's; `aarch64` under qemu-aarch64,
//! `arm` under qemu-arm, `riscv64` under qemu-riscv64).

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

/// The static binary to test, or `None` (after saying so) when there is none;
/// `arch` is the CPU it must be built for.
fn static_binary(arch: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CMA_STATIC_BIN") {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "CMA_STATIC_BIN={} does not exist", path.display());
        return Some(path);
    }
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    // The triples scripts/build-static.sh builds for that CPU, musl first.
    let triples: Vec<String> = match arch {
        "arm" => vec![
            "armv7-unknown-linux-musleabihf".into(),
            "armv7-unknown-linux-gnueabihf".into(),
        ],
        "riscv64" => vec![
            "riscv64gc-unknown-linux-musl".into(),
            "riscv64gc-unknown-linux-gnu".into(),
        ],
        _ => ["musl", "gnu"]
            .iter()
            .map(|libc| format!("{arch}-unknown-linux-{libc}"))
            .collect(),
    };
    let found = triples
        .iter()
        .map(|triple| target_dir.join(triple).join("release").join(BIN))
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
    let root = unsafe { libc::geteuid() } == 0;
    let cmd = vec![chroot];
    (root && works(&cmd)).then_some(cmd)
}

/// `CMA_STATIC_RUNNER`, split on whitespace (`qemu-aarch64`, or
/// `qemu-aarch64 -cpu max`), or `None` to run the binary natively.
fn runner() -> Option<Vec<String>> {
    let runner = std::env::var("CMA_STATIC_RUNNER").ok()?;
    let words: Vec<String> = runner.split_whitespace().map(str::to_owned).collect();
    (!words.is_empty()).then_some(words)
}

/// The CPU an ELF file is built for, and whether it asks for a program
/// interpreter (a dynamic loader): read from the ELF header and program
/// headers, little-endian, 64-bit (x86_64, aarch64, riscv64) or 32-bit (arm).
fn elf_machine_and_interp(bin: &Path) -> (&'static str, bool) {
    let elf = std::fs::read(bin).expect("read the binary");
    assert!(
        elf.len() > 64 && elf.starts_with(b"\x7fELF") && elf[5] == 1,
        "not a little-endian ELF file"
    );
    let wide = match elf[4] {
        1 => false,
        2 => true,
        class => panic!("unexpected ELF class {class}"),
    };
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(elf[o..o + 4].try_into().unwrap()) as usize;
    let machine = match (u16_at(18), wide) {
        (0x3e, true) => "x86_64",
        (0xb7, true) => "aarch64",
        (0xf3, true) => "riscv64",
        (0x28, false) => "arm",
        (other, _) => panic!("unexpected ELF machine {other:#x} (64-bit: {wide})"),
    };
    // e_phoff, e_phentsize, e_phnum sit at other offsets in ELF32.
    let (phoff, phentsize, phnum) = if wide {
        (
            u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize,
            u16_at(0x36),
            u16_at(0x38),
        )
    } else {
        (u32_at(0x1c), u16_at(0x2a), u16_at(0x2c))
    };
    const PT_INTERP: usize = 3;
    let interp = (0..phnum).any(|i| u32_at(phoff + i * phentsize) == PT_INTERP);
    (machine, interp)
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
    let runner = runner();
    let want_arch = std::env::var("CMA_STATIC_ARCH").unwrap_or_else(|_| match &runner {
        Some(r) if r[0].ends_with("qemu-aarch64") => "aarch64".to_owned(),
        Some(r) if r[0].ends_with("qemu-arm") => "arm".to_owned(),
        Some(r) if r[0].ends_with("qemu-riscv64") => "riscv64".to_owned(),
        _ => std::env::consts::ARCH.to_owned(),
    });
    let Some(bin) = static_binary(&want_arch) else {
        return;
    };
    let (machine, interp) = elf_machine_and_interp(&bin);
    assert_eq!(machine, want_arch, "{} is built for the wrong CPU", bin.display());
    assert!(
        !interp,
        "{} asks for a dynamic loader (PT_INTERP): not static",
        bin.display()
    );
    let root = empty_root(&bin);
    // How each run starts: `<chroot> ROOT /custom-metrics-app ARGS`, or
    // `<runner> ROOT/custom-metrics-app ARGS` from inside ROOT.
    let (launcher, program, sensor_args) = match &runner {
        Some(r) => {
            // Paths inside the empty root, which do not exist.
            let nowhere = |d: &str| format!("--{d}-root={}", root.join("sys/class").join(d).display());
            (
                r.clone(),
                root.join(BIN).display().to_string(),
                vec![nowhere("thermal"), nowhere("hwmon")],
            )
        }
        None => {
            let Some(mut chroot) = chroot_command() else {
                let msg = "neither `unshare -r chroot` nor `chroot` (as root) works here";
                assert!(std::env::var_os("CMA_STATIC_BIN").is_none(), "{msg}");
                eprintln!("\n!!!!! SKIPPING: {msg} !!!!!\n");
                return;
            };
            chroot.push(root.display().to_string());
            (chroot, format!("/{BIN}"), Vec::new())
        }
    };
    let start_in_root = |args: &[String]| {
        let mut cmd = Command::new(&launcher[0]);
        cmd.args(&launcher[1..])
            .arg(&program)
            .args(args)
            .env_clear()
            .current_dir(&root);
        cmd
    };
    eprintln!(
        "testing {} ({machine}, static) with `{} {program}`",
        bin.display(),
        launcher.join(" ")
    );
    // No --temperature-source: as in the image, `auto` must fall back to the
    // simulation when there is no /sys.
    let server_args: Vec<String> = ["--listen", "127.0.0.1:0", "--workers", "2"]
        .iter()
        .map(|a| a.to_string())
        .chain(sensor_args)
        .collect();
    let mut child = start_in_root(&server_args)
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
    eprintln!("start-up line: {first}");
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
    let loadgen = start_in_root(&[
        "loadgen".to_owned(),
        format!("--url=http://{addr}/"),
        "--rate=50".to_owned(),
        "--duration=200ms".to_owned(),
    ])
    .output()
    .expect("run loadgen in the empty root");
    let summary = String::from_utf8_lossy(&loadgen.stdout);
    assert_eq!(loadgen.status.code(), Some(0), "{summary}");
    assert!(summary.contains("\ncompleted: 10\n"), "{summary}");
    eprintln!("loadgen in the root: {}", summary.trim_end().replace('\n', "; "));

    let mut child = guard.0.take().unwrap();
    // SAFETY: kill(2) on our own, still running child (chroot and unshare
    // exec the binary, so this pid is the server; qemu-user forwards the
    // signal to the program it emulates and exits with its status).
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
    eprintln!("after SIGTERM: exit status 0");
    let _ = std::fs::remove_dir_all(&root);
}

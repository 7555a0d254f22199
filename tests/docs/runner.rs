//! Runs one command block on this machine: a fresh server on a free
//! loopback port when the block talks to one, each command under bash with
//! the doc's port 3000 swapped for the real one, and the output compared.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::blocks::Block;
use super::compare::compare;
use super::transcript::{programs, steps, strip_comment, Step};

/// How long one command may run: the longest example (a 15 s loadgen) and
/// room for a loaded machine.
const STEP_LIMIT: Duration = Duration::from_secs(60);

/// Where commands run: the repository root, with `custom-metrics-app` on
/// `PATH` as the binary under test.
pub struct Machine {
    pub root: PathBuf,
    pub bin: PathBuf,
    bin_dir: PathBuf,
}

impl Machine {
    pub fn new(root: &Path, bin: &Path) -> Machine {
        static MACHINES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = MACHINES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let bin_dir = std::env::temp_dir().join(format!("cma-docs-examples-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&bin_dir).unwrap();
        let link = bin_dir.join("custom-metrics-app");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(bin, &link).unwrap();
        Machine {
            root: root.to_owned(),
            bin: bin.to_owned(),
            bin_dir,
        }
    }

    /// The programs `block` runs that are not installed here (`cargo run`
    /// and `custom-metrics-app` are the binary under test).
    pub fn missing_programs(&self, block: &Block) -> Vec<String> {
        let Ok(steps) = steps(block) else { return Vec::new() };
        let mut missing: Vec<String> = steps
            .iter()
            .filter(|s| server_args(&s.command).is_none())
            .flat_map(|s| programs(&s.command))
            .filter(|p| {
                let path = format!(
                    "{}:{}",
                    self.bin_dir.display(),
                    std::env::var("PATH").unwrap_or_default()
                );
                !Command::new("bash")
                    .args(["-c", "command -v \"$0\" >/dev/null", p])
                    .env("PATH", path)
                    .status()
                    .is_ok_and(|s| s.success())
            })
            .collect();
        missing.sort();
        missing.dedup();
        missing
    }

    /// Runs every step of `block`; `Err` says where and how it failed.
    pub fn run(&self, block: &Block) -> Result<(), String> {
        let steps = steps(block)?;
        let mut server: Option<Server> = None;
        if steps.first().is_none_or(|s| server_args(&s.command).is_none()) && talks_to_server(block) {
            server = Some(Server::start(&self.bin, &[]).map_err(|e| format!("{}: {e}", block.at()))?);
        }
        for step in &steps {
            let at = format!("{}:{}", block.file, step.line);
            if let Some(args) = server_args(&step.command) {
                let args = args.map_err(|e| format!("{at}: {e}"))?;
                if let Some(s) = server.take() {
                    s.stop().map_err(|e| format!("{at}: {e}"))?;
                }
                server = Some(Server::start(&self.bin, &args).map_err(|e| format!("{at}: {e}"))?);
                continue;
            }
            let port = server.as_ref().map(|s| s.port);
            self.run_step(step, port)
                .map_err(|e| format!("{at}: `{}`: {e}", first_line(&step.command)))?;
        }
        if let Some(s) = server {
            s.stop().map_err(|e| format!("{}: {e}", block.at()))?;
        }
        Ok(())
    }

    fn run_step(&self, step: &Step, port: Option<u16>) -> Result<(), String> {
        let command = binary_command(&step.command);
        let command = match port {
            Some(p) => swap_port(&command, "3000", &p.to_string()),
            None => command,
        };
        let (status, output) = self.bash(&command)?;
        let output = match port {
            Some(p) => swap_port(&output, &p.to_string(), "3000"),
            None => output,
        };
        match &step.expected {
            None if !status.success() => Err(format!("exited with {status}; output:\n{}", indent(&output))),
            None => Ok(()),
            Some(shown) => compare(shown, &output, step.line).map_err(|m| {
                format!(
                    "output differs at line {}\n  {}\n  whole output ({status}):\n{}",
                    m.line,
                    m.what,
                    indent(&output)
                )
            }),
        }
    }

    /// `command` under `bash -o pipefail`, stdout and stderr together, in
    /// its own process group (killed whole at the limit).
    fn bash(&self, command: &str) -> Result<(std::process::ExitStatus, String), String> {
        let path = format!(
            "{}:{}",
            self.bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut child = Command::new("bash")
            .args(["-o", "pipefail", "-c", &format!("exec 2>&1\n{command}")])
            .current_dir(&self.root)
            .env("PATH", path)
            .env("CMA_TEMPERATURE_SOURCE", "simulated")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start bash: {e}"))?;
        let mut stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = stdout.read_to_end(&mut out);
            out
        });
        let status = wait_or_kill(&mut child, STEP_LIMIT)?;
        let out = reader.join().unwrap();
        Ok((status, String::from_utf8_lossy(&out).into_owned()))
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.bin_dir);
    }
}

/// A server the block started (or one started for it), on its own port.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// The binary with `args`, on `127.0.0.1:0` (a `--listen` of the doc's
    /// is dropped), the simulated temperature unless the args pick a source.
    fn start(bin: &Path, args: &[String]) -> Result<Server, String> {
        let mut child = Command::new(bin)
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .env("CMA_TEMPERATURE_SOURCE", "simulated")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let first = lines.next().and_then(|l| l.ok()).unwrap_or_default();
        let port = first
            .split_whitespace()
            .skip_while(|w| *w != "on")
            .nth(1)
            .and_then(|a| a.parse::<std::net::SocketAddr>().ok())
            .map(|a| a.port());
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        match port {
            Some(port) => {
                let server = Server { child, port };
                server.await_signal_handlers()?;
                Ok(server)
            }
            None => {
                let _ = child.kill();
                let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
                Err(format!("the server did not start ({status}): {first}"))
            }
        }
    }

    /// Waits for the server's `signals` thread. The start-up line is printed
    /// before the signal handlers are installed, and a SIGTERM in between
    /// kills the process outright; the thread is spawned once they are, so
    /// from then on a SIGTERM gets the graceful exit. (A request would tell
    /// as much, but it would show in the block's `/metrics`.)
    fn await_signal_handlers(&self) -> Result<(), String> {
        let tasks = format!("/proc/{}/task", self.child.id());
        let start = Instant::now();
        loop {
            let named_signals = std::fs::read_dir(&tasks)
                .into_iter()
                .flatten()
                .flatten()
                .any(|t| std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == "signals"));
            if named_signals {
                return Ok(());
            }
            if start.elapsed() > Duration::from_secs(10) {
                return Err("the server printed its start-up line but started no `signals` thread in 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// SIGTERM, then it must exit 0 (as `operations.md` says it does).
    fn stop(mut self) -> Result<(), String> {
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let status = wait_or_kill(&mut self.child, Duration::from_secs(30))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("the server exited with {status} on SIGTERM"))
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_or_kill(child: &mut Child, limit: Duration) -> Result<std::process::ExitStatus, String> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(status);
        }
        if start.elapsed() > limit {
            // SAFETY: kill(2) on the process group we created for the child.
            unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {limit:?}: killed"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `Some(args)` when `command` starts the server (`cargo run [--release]
/// [-- ARGS]` or `custom-metrics-app ARGS`, where ARGS are flags, not a
/// subcommand such as `loadgen`, nor `--help`/`--version`); `Some(Err)` for
/// a `cargo run` this harness does not know.
pub fn server_args(command: &str) -> Option<Result<Vec<String>, String>> {
    let words: Vec<&str> = strip_comment(command).split_whitespace().collect();
    let args: Vec<&str> = match words.as_slice() {
        ["cargo", "run", rest @ ..] => {
            let (cargo_flags, args) = match rest.iter().position(|w| *w == "--") {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &[][..]),
            };
            if let Some(f) = cargo_flags.iter().find(|f| !matches!(**f, "--release" | "--locked")) {
                return Some(Err(format!("`cargo run {f}` is not a command the harness knows")));
            }
            args.to_vec()
        }
        ["custom-metrics-app", rest @ ..] => rest.to_vec(),
        _ => return None,
    };
    let serves = args
        .first()
        .is_none_or(|a| a.starts_with('-') && !matches!(*a, "--help" | "-h" | "--version" | "-V"));
    if !serves {
        return None;
    }
    let mut kept = Vec::new();
    let mut skip_next = false;
    for a in args {
        if skip_next {
            skip_next = false;
        } else if a == "--listen" {
            skip_next = true;
        } else if !a.starts_with("--listen=") {
            kept.push(a.to_owned());
        }
    }
    Some(Ok(kept))
}

/// `cargo run [--release] -- SUBCOMMAND …` as the binary under test runs
/// it (`custom-metrics-app SUBCOMMAND …`); other commands as they are.
fn binary_command(command: &str) -> String {
    let trimmed = command.trim_start();
    if let Some(rest) = trimmed.strip_prefix("cargo run") {
        if let Some((flags, args)) = rest.split_once(" -- ") {
            if flags.split_whitespace().all(|f| matches!(f, "--release" | "--locked")) {
                return format!("custom-metrics-app {args}");
            }
        }
    }
    command.to_owned()
}

/// Whether the block addresses the server at the docs' port.
fn talks_to_server(block: &Block) -> bool {
    block
        .lines
        .iter()
        .any(|l| l.contains("localhost:3000") || l.contains("127.0.0.1:3000"))
}

/// `text` with `localhost:FROM` and `127.0.0.1:FROM` as `…:TO`.
fn swap_port(text: &str, from: &str, to: &str) -> String {
    let mut out = text.to_owned();
    for host in ["localhost", "127.0.0.1"] {
        let (a, b) = (format!("{host}:{from}"), format!("{host}:{to}"));
        out = replace_whole_port(&out, &a, &b);
    }
    out
}

/// Replaces `from` where the port is not followed by another digit.
fn replace_whole_port(text: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(from) {
        let after = &rest[i + from.len()..];
        out.push_str(&rest[..i]);
        if after.starts_with(|c: char| c.is_ascii_digit()) {
            out.push_str(from);
        } else {
            out.push_str(to);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The cluster and container tools: a block that runs one needs a cluster,
/// Docker or a registry, which this machine does not have.
pub const CLUSTER_TOOLS: &[&str] = &[
    "kubectl",
    "helm",
    "kind",
    "minikube",
    "docker",
    "podman",
    "buildah",
    "crictl",
    "ctr",
    "kustomize",
];

/// The cluster tools `block` runs.
pub fn cluster_tools(block: &Block) -> Vec<String> {
    let Ok(steps) = steps(block) else { return Vec::new() };
    let mut found: Vec<String> = steps
        .iter()
        .flat_map(|s| programs(&s.command))
        .filter(|p| CLUSTER_TOOLS.contains(&p.as_str()))
        .collect();
    found.dedup();
    found
}

fn first_line(command: &str) -> &str {
    command.lines().next().unwrap_or("")
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    | {l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_starts_and_ports() {
        assert_eq!(
            server_args("cargo run --release").unwrap().unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            server_args("cargo run --release -- --error-ratio 0.1 --listen 0.0.0.0:3000 --log-requests")
                .unwrap()
                .unwrap(),
            ["--error-ratio", "0.1", "--log-requests"]
        );
        assert!(server_args("cargo run --example x").unwrap().is_err());
        assert!(server_args("custom-metrics-app loadgen --url=x").is_none());
        assert!(server_args("custom-metrics-app doctor").is_none());
        assert!(server_args("cargo run --release -- --version").is_none());
        assert_eq!(
            server_args("custom-metrics-app --workers 1").unwrap().unwrap(),
            ["--workers", "1"]
        );
        assert_eq!(
            binary_command("cargo run --release -- doctor --url x"),
            "custom-metrics-app doctor --url x"
        );
        assert_eq!(binary_command("curl -s x"), "curl -s x");
        assert!(server_args("curl -s localhost:3000/").is_none());
        assert_eq!(
            swap_port("curl localhost:3000/ http://127.0.0.1:30000/", "3000", "41234"),
            "curl localhost:41234/ http://127.0.0.1:30000/"
        );
    }
}

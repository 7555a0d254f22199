//! The examples of README.md and docs/*.md run, and their shown output is
//! the real one.
//!
//! # The convention (for whoever writes or merges a chapter)
//!
//! Every fenced block whose info string is `console`, `sh`, `bash` or
//! `shell` is an example, and runs here unless marked otherwise:
//!
//! - ```` ```console ````: a transcript. `$ command` lines (a trailing `\`
//!   continues a command), each followed by the output it prints (stdout and
//!   stderr together). The output must match line for line. `…` in a shown
//!   line stands for any text; a line starting with `…` for any number of
//!   lines (the rest of that line is a comment for the reader). Timestamps,
//!   revisions, the compiler version, fractional durations (latencies,
//!   elapsed times), loadgen's progress counts, late counts and per-stage
//!   completions vary by themselves: see `VARIES` in tests/docs/compare.rs,
//!   the one list of them.
//! - ```` ```sh ````: commands whose output is not shown; each must exit 0.
//! - Each command runs under `bash -o pipefail` in the repository root, on
//!   its own (variables do not carry over), with `custom-metrics-app` on
//!   `PATH` as the binary under test and `CMA_TEMPERATURE_SOURCE=simulated`.
//! - `cargo run [--release] [-- ARGS]` or `custom-metrics-app ARGS`, with
//!   ARGS flags only (no subcommand such as `loadgen`, no `--help`), starts
//!   the server: the test-built binary (or `CMA_DOCS_BIN`) with ARGS on a
//!   free loopback port, stopped with SIGTERM at the end of the block (it
//!   must exit 0). A block that mentions `localhost:3000` or `127.0.0.1:3000`
//!   without starting one gets a fresh default server. `3000` in commands
//!   becomes the real port, and the real port in the output becomes `3000`.
//!   `cargo run [--release] -- SUBCOMMAND …` runs as `custom-metrics-app
//!   SUBCOMMAND …` (the test build; the test does not call cargo).
//! - No example is shortened: the longest, the README's 12 s and 15 s
//!   loadgen runs and the 15 s one of experiments.md, run as written, two
//!   blocks at a time.
//!
//! Blocks that cannot run here carry a marker, an HTML comment (invisible on
//! GitHub) on the line just above the fence:
//!
//! - `<!-- example: cluster -->`: needs Kubernetes, Docker or a registry.
//!   Not run; the block must really use one of `CLUSTER_TOOLS` (so the
//!   marker cannot hide a runnable example), every file it passes to `-f`
//!   or `-k` and every script it runs must exist, and every `kubectl
//!   apply|delete -k DIR` must render with `kubectl kustomize DIR` offline.
//! - `<!-- example: manual: REASON -->`: can run on one machine but not in
//!   this test (the test suite itself, minutes-long benchmarks against other
//!   servers). Not run; listed with its reason.
//!
//! An unmarked block that runs a cluster tool, or a cargo command other
//! than `cargo run`, fails with the marker to add; so does an untagged
//! block that starts with `$ ` (a transcript must say ```console), and, in
//! every file, translations included, a closing fence with text after it
//! (it closes nothing: GitHub renders the rest of the page as code).
//! Translations (`*.zh-CN.md`) are not run: tests/docs_translations.rs holds
//! their blocks equal to their English pair's. docs/CONTRIBUTING-docs.md says the
//! same for writers.
//!
//! A runnable block whose tools (`promtool`, `curl`, …) are not installed is
//! not run, loudly, outside CI; in CI (`CI` set) it runs and fails.
//!
//! Why not trycmd/snapbox: trycmd runs a `console` block's commands itself,
//! without a shell (no pipes, `;`, `$(…)` or `&`, which the docs use), and
//! cannot start the server first or give each block its own port; its
//! `...`/`[..]` wildcards would also show in the rendered docs. This harness
//! reads the same blocks, and keeps `…`, which readers already take as
//! "elided".
//!
//! The test prints one line: how many examples ran, how many are
//! cluster-only, how many manual; every failure names `file:line`, the
//! shown and the real line, and the whole real output.
//! `cargo test --test docs_examples -- --nocapture` shows the line.

mod docs;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use docs::blocks::{self, Block};
use docs::runner::{cluster_tools, Machine, CLUSTER_TOOLS};
use docs::transcript::{programs, steps, strip_comment};

/// What the harness does with a block.
#[derive(Debug, PartialEq)]
enum Plan {
    Run,
    Cluster(Vec<String>),
    Manual(String),
}

/// The plan for a command block, or the fix its marker (or lack of one) needs.
fn plan(block: &Block) -> Result<Plan, String> {
    let tools = cluster_tools(block);
    match block.marker.as_deref() {
        Some("cluster") if tools.is_empty() => Err(format!(
            "{}: marked cluster but runs none of {CLUSTER_TOOLS:?}: remove the marker so that it runs",
            block.at()
        )),
        Some("cluster") => Ok(Plan::Cluster(tools)),
        Some(m) if m.starts_with("manual:") && m.len() > "manual:".len() + 1 => {
            Ok(Plan::Manual(m["manual:".len()..].trim().to_owned()))
        }
        Some(m) => Err(format!(
            "{}: unknown marker `<!-- example: {m} -->`: use `cluster` or `manual: REASON`",
            block.at()
        )),
        None if !tools.is_empty() => Err(format!(
            "{}: runs {} and cannot run here: put `<!-- example: cluster -->` on the line above the fence",
            block.at(),
            tools.join(", ")
        )),
        None => {
            let cargo_other = steps(block)?
                .iter()
                .flat_map(|s| {
                    programs(&s.command)
                        .into_iter()
                        .zip(std::iter::repeat(s.command.clone()))
                })
                .find(|(p, c)| p == "cargo" && !c.trim_start().starts_with("cargo run"));
            match cargo_other {
                Some((_, c)) => Err(format!(
                    "{}: `{c}` is not run by this test: put `<!-- example: manual: REASON -->` on the line above the fence",
                    block.at()
                )),
                None => Ok(Plan::Run),
            }
        }
    }
}

/// The offline check of a cluster block: its paths exist, its kustomize
/// directories render.
fn check_offline(machine: &Machine, block: &Block) -> Result<(), String> {
    // Files given to -f/-k, and scripts run from the repository (a bare
    // `deploy/NAME` is kubectl's resource syntax, not a path).
    let given = regex::Regex::new(r"-[fk][ =]((?:deploy|scripts|tests|docs|benches)/[A-Za-z0-9_./-]*)").unwrap();
    let run = regex::Regex::new(r#"(?:^|[\s"'(=])((?:scripts|tests|benches)/[A-Za-z0-9_./-]*)"#).unwrap();
    // Comments name paths and commands too ("kustomize route: kubectl delete -k …").
    let text: Vec<&str> = block.lines.iter().map(|l| strip_comment(l)).collect();
    let text = text.join("\n");
    for cap in given.captures_iter(&text).chain(run.captures_iter(&text)) {
        let path = cap[1].trim_end_matches('.');
        // `kubectl logs -f deploy/NAME` follows a resource: no file.
        if cap[0].starts_with("-f") && !path.ends_with('/') && !path.contains('.') {
            continue;
        }
        if !machine.root.join(path).exists() {
            return Err(format!("{}: names {path}, which does not exist", block.at()));
        }
    }
    let kustomize_re = regex::Regex::new(r"kubectl (?:apply|delete) -k (\S+)").unwrap();
    for cap in kustomize_re.captures_iter(&text) {
        let out = std::process::Command::new("kubectl")
            .args(["kustomize", &cap[1]])
            .current_dir(&machine.root)
            .output()
            .map_err(|e| format!("{}: cannot run kubectl kustomize: {e}", block.at()))?;
        if !out.status.success() {
            return Err(format!(
                "{}: `kubectl kustomize {}` fails: {}",
                block.at(),
                &cap[1],
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    Ok(())
}

/// The binary the examples run: the test build, or the one `CMA_DOCS_BIN`
/// names (`CMA_DOCS_BIN=target/release/custom-metrics-app` to see the
/// figures of the docs' measured runs again).
fn binary_under_test() -> std::path::PathBuf {
    match std::env::var_os("CMA_DOCS_BIN") {
        Some(bin) => std::fs::canonicalize(&bin).unwrap_or_else(|e| panic!("CMA_DOCS_BIN={bin:?}: {e}")),
        None => env!("CARGO_BIN_EXE_custom-metrics-app").into(),
    }
}

#[test]
fn every_runnable_example_runs_and_shows_its_real_output() {
    let root = docs::root();
    let machine = Machine::new(&root, &binary_under_test());
    let has_kubectl = std::process::Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok();
    assert!(
        has_kubectl || std::env::var_os("CI").is_none(),
        "kubectl is required in CI"
    );

    let in_ci = std::env::var_os("CI").is_some();
    let mut failures = Vec::new();
    let mut to_run = Vec::new();
    let mut lacking = Vec::new();
    let (mut cluster, mut manual) = (Vec::new(), Vec::new());
    for file in docs::markdown_files(&root) {
        let blocks = blocks::read(&root, &file);
        failures.extend(blocks.iter().filter_map(|b| b.false_close).map(|line| {
            format!("{file}:{line}: text after a closing fence: the block does not end there (GitHub shows what follows as code); put the text on a line of its own")
        }));
        if docs::is_translation(&file) {
            continue;
        }
        for block in blocks {
            if !block.is_command() {
                if block.lines.first().is_some_and(|l| l.starts_with("$ ")) {
                    failures.push(format!(
                        "{}: a transcript without a tag: open it with ```console",
                        block.at()
                    ));
                }
                continue;
            }
            match plan(&block) {
                Ok(Plan::Run) => match machine.missing_programs(&block) {
                    missing if missing.is_empty() || in_ci => to_run.push(block),
                    missing => lacking.push(format!("{} (needs {})", block.at(), missing.join(", "))),
                },
                Ok(Plan::Cluster(tools)) => {
                    if has_kubectl {
                        if let Err(e) = check_offline(&machine, &block) {
                            failures.push(e);
                        }
                    }
                    cluster.push(format!("{} ({})", block.at(), tools.join(", ")));
                }
                Ok(Plan::Manual(why)) => manual.push(format!("{}: {why}", block.at())),
                Err(e) => failures.push(e),
            }
        }
    }

    // Two blocks at a time: the long loadgen examples overlap.
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(block) = to_run.get(i) else { break };
                let r = machine.run(block);
                results.lock().unwrap().push((i, r));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _)| *i);
    let ran = results.iter().filter(|(_, r)| r.is_ok()).count();
    failures.extend(results.into_iter().filter_map(|(_, r)| r.err()));

    for c in &cluster {
        println!("not run, cluster-only: {c}");
    }
    for m in &manual {
        println!("not run, manual: {m}");
    }
    for l in &lacking {
        eprintln!("\n!!!!! NOT RUN, a tool is missing (CI installs it): {l} !!!!!\n");
    }
    let count = format!(
        "docs examples: {ran} of {} runnable ran and matched{}, {} cluster-only (not run{}), {} manual (not run), {} failed",
        to_run.len() + lacking.len(),
        if lacking.is_empty() { String::new() } else { format!(" ({} not run: a tool is missing)", lacking.len()) },
        cluster.len(),
        if has_kubectl { "; paths checked, kustomize rendered" } else { "; kubectl missing: not checked" },
        manual.len(),
        failures.len()
    );
    println!("{count}");
    assert!(failures.is_empty(), "{count}\n\n{}", failures.join("\n\n"));
}

#[test]
fn markers_are_checked_not_trusted() {
    let parse = |text: &str| blocks::parse("doc.md", text).remove(0);
    let hidden = parse("<!-- example: cluster -->\n```sh\ncurl -s localhost:3000/\n```\n");
    assert!(plan(&hidden).unwrap_err().contains("marked cluster but runs none"));
    let unmarked = parse("```sh\nhelm repo update\n```\n");
    assert_eq!(
        plan(&unmarked).unwrap_err(),
        "doc.md:1: runs helm and cannot run here: put `<!-- example: cluster -->` on the line above the fence"
    );
    let cargo = parse("```sh\ncargo test\n```\n");
    assert!(plan(&cargo).unwrap_err().contains("manual: REASON"));
    let bare_manual = parse("<!-- example: manual: -->\n```sh\ncargo test\n```\n");
    assert!(plan(&bare_manual).unwrap_err().contains("unknown marker"));
    let ok = parse("<!-- example: manual: runs the suite itself -->\n```sh\ncargo test\n```\n");
    assert_eq!(plan(&ok).unwrap(), Plan::Manual("runs the suite itself".into()));
    let k = parse("<!-- example: cluster -->\n```sh\nNS=\"$(kubectl config view)\"\n```\n");
    assert_eq!(plan(&k).unwrap(), Plan::Cluster(vec!["kubectl".into()]));
}

/// A transcript that shows the wrong output fails with the file line of the
/// shown line, both lines and the whole real output.
#[test]
fn a_wrong_transcript_fails_where_it_is_wrong() {
    let root = docs::root();
    let machine = Machine::new(&root, std::path::Path::new(env!("CARGO_BIN_EXE_custom-metrics-app")));
    let block = blocks::parse(
        "doc.md",
        "text\n```console\n$ curl -s localhost:3000/cpuTempUp\n60\n$ curl -s localhost:3000/cpuTempUp\n60\n```\n",
    )
    .remove(0);
    let err = machine.run(&block).unwrap_err();
    assert!(
        err.starts_with(
            "doc.md:5: `curl -s localhost:3000/cpuTempUp`: output differs at line 6\n  expected: 60\n  actual:   70\n"
        ),
        "{err}"
    );
    let good = blocks::parse(
        "doc.md",
        "```console\n$ curl -s -w '\\n' localhost:3000/\ncustom metrics\n```\n",
    )
    .remove(0);
    machine.run(&good).unwrap();
}

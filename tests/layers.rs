//! Layers that only look down: no import cycle between the crate's source
//! files, nor between its top modules (`scripts/module-cycles.py` counts
//! them; `--check` fails on any). A module that needs something from a
//! layer above, or from a sibling that needs it back, is the smell this
//! catches before it spreads.

use std::process::Command;

#[test]
fn no_import_cycle_between_files_or_layers() {
    let out = Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/module-cycles.py"))
        .arg("--check")
        .output()
        .expect("python3 runs scripts/module-cycles.py");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "import cycles:\n{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("0 import cycle(s)"), "{report}");
    // The script sees the whole crate (a path mistake would pass vacuously).
    let files: usize = report
        .split(" files,")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(files > 50, "{report}");
}

/// The script finds a cycle when there is one: a fake crate whose two
/// files import each other.
#[test]
fn the_counter_sees_a_cycle() {
    let dir = std::env::temp_dir().join(format!("cma-cycles-{}", std::process::id()));
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("a")).unwrap();
    std::fs::create_dir_all(dir.join("scripts")).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/module-cycles.py"),
        dir.join("scripts/module-cycles.py"),
    )
    .unwrap();
    std::fs::write(src.join("lib.rs"), "mod a;\nmod b;\n").unwrap();
    std::fs::write(src.join("a/mod.rs"), "mod x;\nuse crate::b::B;\npub struct A;\n").unwrap();
    std::fs::write(src.join("a/x.rs"), "pub struct X;\n").unwrap();
    std::fs::write(
        src.join("b.rs"),
        "use crate::a::A;\npub struct B;\n#[cfg(test)]\nmod tests { use crate::a::x::X; }\n",
    )
    .unwrap();
    let out = Command::new("python3")
        .arg(dir.join("scripts/module-cycles.py"))
        .arg("--check")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("cycle of 2 files:"), "{report}");
    assert!(report.contains("src/a/mod.rs -> src/b.rs"), "{report}");
    assert!(report.contains("1 cycle(s) between top modules"), "{report}");
}

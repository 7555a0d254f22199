//! The docs as tests: their fenced blocks read (blocks), command blocks
//! split into steps (transcript), run on this machine (runner) and their
//! shown output held against the real one (compare). Used by
//! tests/docs_examples.rs and tests/docs_translations.rs.
#![allow(dead_code)]

pub mod blocks;
pub mod compare;
pub mod runner;
pub mod transcript;

use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every Markdown file of the docs, relative to the root: README*.md and
/// docs/*.md, sorted.
pub fn markdown_files(root: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("README") && n.ends_with(".md"))
        .collect();
    files.extend(
        std::fs::read_dir(root.join("docs"))
            .unwrap()
            .map(|e| format!("docs/{}", e.unwrap().file_name().to_string_lossy()))
            .filter(|n| n.ends_with(".md")),
    );
    files.sort();
    files
}

/// Whether `file` is a translation (`X.zh-CN.md`): its blocks are held equal
/// to its English pair's by tests/docs_translations.rs, not run again.
pub fn is_translation(file: &str) -> bool {
    file.trim_end_matches(".md")
        .rsplit_once('.')
        .is_some_and(|(_, lang)| lang.contains('-'))
}

//! Each translation (`README.zh-CN.md`, `docs/X.zh-CN.md`) keeps step with
//! its English pair: the same command and manifest blocks (every fenced
//! block with an info string other than `text`: `sh`, `console`, `yaml`,
//! `promql`, …), in the same order, equal once comments are set aside
//! (prose, comments, diagrams and untagged output samples are translated
//! freely). A mismatch names both `file:line`s and the first line that
//! differs.

mod docs;

use docs::blocks::{self, Block};
use docs::transcript::strip_comment;

/// Blocks a translation must repeat as they are.
fn kept(block: &Block) -> bool {
    !matches!(block.info.as_str(), "" | "text")
}

/// A block's lines without comments and blank lines.
fn code(block: &Block) -> Vec<String> {
    block
        .lines
        .iter()
        .map(|l| strip_comment(l).to_owned())
        .filter(|l| !l.trim().is_empty())
        .collect()
}

/// Why `translation`'s kept blocks are not `english`'s, if they are not.
fn compare_pair(english: &[Block], translation: &[Block]) -> Result<(), String> {
    let (en, tr): (Vec<&Block>, Vec<&Block>) = (
        english.iter().filter(|b| kept(b)).collect(),
        translation.iter().filter(|b| kept(b)).collect(),
    );
    for (i, (e, t)) in en.iter().zip(&tr).enumerate() {
        let (ec, tc) = (code(e), code(t));
        if e.info != t.info || ec != tc {
            let k = ec
                .iter()
                .zip(&tc)
                .position(|(a, b)| a != b)
                .unwrap_or(ec.len().min(tc.len()));
            return Err(format!(
                "block {} differs: {} ```{} vs {} ```{}\n  english:     {}\n  translation: {}",
                i + 1,
                e.at(),
                e.info,
                t.at(),
                t.info,
                ec.get(k).map_or("(block ends)", |s| s.as_str()),
                tc.get(k).map_or("(block ends)", |s| s.as_str()),
            ));
        }
    }
    if en.len() != tr.len() {
        let (more, extra) = if en.len() > tr.len() {
            ("english", en[tr.len()])
        } else {
            ("translation", tr[en.len()])
        };
        return Err(format!(
            "{} command/manifest blocks in English, {} in the translation; the first one only the {more} has: {} ```{}\n  {}",
            en.len(),
            tr.len(),
            extra.at(),
            extra.info,
            code(extra).first().map_or("", |s| s.as_str())
        ));
    }
    Ok(())
}

#[test]
fn every_translation_has_its_english_pairs_blocks() {
    let root = docs::root();
    let translations: Vec<String> = docs::markdown_files(&root)
        .into_iter()
        .filter(|f| docs::is_translation(f))
        .collect();
    let mut failures = Vec::new();
    if !translations.iter().any(|f| f == "README.zh-CN.md") {
        failures.push("README.zh-CN.md is missing: the seed's readers are Chinese".to_owned());
    }
    for tr in &translations {
        let (stem, _) = tr.trim_end_matches(".md").rsplit_once('.').unwrap();
        let en = format!("{stem}.md");
        if !root.join(&en).exists() {
            failures.push(format!("{tr}: no English pair {en}"));
            continue;
        }
        if let Err(e) = compare_pair(&blocks::read(&root, &en), &blocks::read(&root, tr)) {
            failures.push(format!("{tr} against {en}: {e}"));
        }
    }
    println!(
        "translations: {} checked, {} out of step",
        translations.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_changed_command_is_caught_and_comments_are_not() {
    let en = blocks::parse(
        "a.md",
        "```sh\nkubectl apply -k deploy/   # apply\n```\n\n```text\ndiagram\n```\n",
    );
    let same = blocks::parse(
        "a.zh-CN.md",
        "```sh\n# 注释\nkubectl apply -k deploy/   # 应用\n```\n\n```text\n图\n```\n",
    );
    compare_pair(&en, &same).unwrap();
    let changed = blocks::parse("a.zh-CN.md", "```sh\nkubectl apply -k deploy/overlays/x\n```\n");
    let e = compare_pair(&en, &changed).unwrap_err();
    assert!(e.contains("a.md:1 ```sh vs a.zh-CN.md:1 ```sh"), "{e}");
    assert!(e.contains("translation: kubectl apply -k deploy/overlays/x"), "{e}");
    let e = compare_pair(&en, &[]).unwrap_err();
    assert!(
        e.starts_with("1 command/manifest blocks in English, 0 in the translation"),
        "{e}"
    );
}

//! Shown output against real output: what varies between runs is declared
//! here, once, and nowhere else.
//!
//! Two kinds of wildcard:
//! - in the docs, `…` (U+2026): inside a line it stands for any text; a line
//!   that starts with `…` (anything after it is a comment for the reader)
//!   stands for any number of lines, none included;
//! - here, [`VARIES`]: patterns rewritten to a placeholder on both sides
//!   before comparing, so a sample keeps the real values of the run it came
//!   from (a timestamp, a revision, a latency) and still matches the next run.

use std::sync::LazyLock;

use regex::Regex;

/// What varies from run to run: (what it is, pattern, placeholder).
pub const VARIES: &[(&str, &str, &str)] = &[
    ("a UTC timestamp", r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "<time>"),
    (
        "the git revision",
        r#"(revision(?:":"|="))[^"]*""#,
        r#"${1}<revision>""#,
    ),
    (
        "the compiler's version",
        r#"(rustc(?:":"|="))[^"]*""#,
        r#"${1}<rustc>""#,
    ),
    (
        "a measured duration (one with a fraction: latencies, elapsed times)",
        r"\b\d+\.\d+(ns|µs|us|ms|s)\b",
        "<duration>",
    ),
    (
        "the counts of a loadgen progress line (taken at a moment)",
        r"(?m)^(loadgen: \S+ sent )\d+( completed )\d+(.* rate )[\d.]+/s",
        "${1}<n>${2}<n>${3}<n>/s",
    ),
    (
        "loadgen's late count (requests that found every connection busy: the machine's load decides)",
        r"\b(late:? )\d+",
        "${1}<n>",
    ),
    (
        "what a loadgen stage completed (a request due at its very end may go out in the next)",
        r"(?m)^(stage \d+: \S+ asked \d+ \([\d.]+/s\) completed )\d+ \([\d.]+/s\)",
        "${1}<n> (<n>/s)",
    ),
];

static PATTERNS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    VARIES
        .iter()
        .map(|(_, p, r)| (Regex::new(p).expect("a VARIES pattern"), *r))
        .collect()
});

/// `text` with every varying part replaced by its placeholder.
pub fn normalise(text: &str) -> String {
    let mut out = text.to_owned();
    for (re, placeholder) in PATTERNS.iter() {
        out = re.replace_all(&out, *placeholder).into_owned();
    }
    out
}

/// Where shown and real output part.
#[derive(Debug)]
pub struct Mismatch {
    /// The file line of the shown line (or of the command, when the real
    /// output has more than is shown).
    pub line: usize,
    pub what: String,
}

/// Compares `expected` (lines with their file lines, as shown after
/// `command_line`) with `actual` (stdout and stderr of the run).
pub fn compare(expected: &[(usize, String)], actual: &str, command_line: usize) -> Result<(), Mismatch> {
    let actual_norm = normalise(actual);
    let act: Vec<&str> = actual_norm.lines().collect();
    let mut a = 0;
    let mut eliding = false;
    for (line, shown) in expected {
        if shown.trim_start().starts_with('…') {
            eliding = true;
            continue;
        }
        let shown_norm = normalise(shown);
        let wanted = line_pattern(&shown_norm);
        if eliding {
            eliding = false;
            match act[a..].iter().position(|l| wanted.is_match(l)) {
                Some(k) => a += k + 1,
                None => {
                    return Err(Mismatch {
                        line: *line,
                        what: format!(
                        "expected, after the elided lines: {shown}\n  actual: no such line in the rest of the output"
                    ),
                    })
                }
            }
        } else {
            match act.get(a) {
                Some(got) if wanted.is_match(got) => a += 1,
                Some(got) => {
                    return Err(Mismatch {
                        line: *line,
                        what: format!("expected: {shown}\n  actual:   {}", raw_line(actual, a, got)),
                    })
                }
                None => {
                    return Err(Mismatch {
                        line: *line,
                        what: format!("expected: {shown}\n  actual:   (the output ended)"),
                    })
                }
            }
        }
    }
    if !eliding && a < act.len() {
        let after = expected.last().map_or(command_line, |(l, _)| *l);
        return Err(Mismatch {
            line: after,
            what: format!(
                "the output goes on past the shown lines: {}",
                raw_line(actual, a, act[a])
            ),
        });
    }
    if !actual.is_empty() && !actual.ends_with('\n') {
        let last = expected.last().map_or(command_line, |(l, _)| *l);
        return Err(Mismatch {
            line: last,
            what: format!(
                "the output has no final newline: {:?} is followed on the same line by the next prompt",
                actual.lines().last().unwrap_or("")
            ),
        });
    }
    Ok(())
}

/// The real (not normalised) line `i` of `actual`, falling back to `norm`.
fn raw_line<'a>(actual: &'a str, i: usize, norm: &'a str) -> &'a str {
    match actual.lines().nth(i).unwrap_or(norm) {
        "" => "(an empty line)",
        line => line,
    }
}

/// A shown line as a whole-line pattern: `…` matches any text.
fn line_pattern(shown: &str) -> Regex {
    let parts: Vec<String> = shown.split('…').map(regex::escape).collect();
    Regex::new(&format!("^{}$", parts.join(".*?"))).expect("an escaped line")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(v: &[&str]) -> Vec<(usize, String)> {
        v.iter().enumerate().map(|(i, l)| (10 + i, l.to_string())).collect()
    }

    #[test]
    fn exact_elided_and_varying() {
        let shown = lines(&["a", "…          # the rest", "x 11.997s p50=0.287ms", "tail …"]);
        compare(&shown, "a\nb\nc\nx 2.001s p50=1.500ms\ntail end\n", 9).unwrap();
        compare(&lines(&["v"]), "v\n", 9).unwrap();
        compare(&[], "", 9).unwrap();
        compare(
            &lines(&["{\"revision\":\"9b145f6a1c2d\"}"]),
            "{\"revision\":\"unknown\"}\n",
            9,
        )
        .unwrap();
    }

    #[test]
    fn mismatches_name_the_shown_line() {
        let e = compare(&lines(&["a", "b"]), "a\nc\n", 9).unwrap_err();
        assert_eq!(e.line, 11);
        assert_eq!(e.what, "expected: b\n  actual:   c");
        let e = compare(&lines(&["a"]), "a\nmore\n", 9).unwrap_err();
        assert_eq!(
            (e.line, e.what.as_str()),
            (10, "the output goes on past the shown lines: more")
        );
        let e = compare(&lines(&["a", "b"]), "a\n", 9).unwrap_err();
        assert_eq!(
            (e.line, e.what.as_str()),
            (11, "expected: b\n  actual:   (the output ended)")
        );
        let e = compare(&lines(&["custom metrics"]), "custom metrics", 9).unwrap_err();
        assert!(e.what.starts_with("the output has no final newline"), "{}", e.what);
        let e = compare(&lines(&["…", "z"]), "a\nb\n", 9).unwrap_err();
        assert_eq!(e.line, 11);
    }
}

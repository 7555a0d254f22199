//! The fenced code blocks of a Markdown file, each with where it starts and
//! the `<!-- example: … -->` marker on the line above it, if any.
//!
//! Only fenced blocks (``` or ~~~) are read: an indented code block has no
//! info string to say what it is, so the docs use fences for everything a
//! reader might paste.

use std::path::Path;

/// One fenced code block.
#[derive(Debug, Clone)]
pub struct Block {
    /// The file, relative to the repository root (`docs/kubernetes.md`).
    pub file: String,
    /// The 1-based line of the opening fence.
    pub line: usize,
    /// The info string's first word (`sh`, `console`, `yaml`; "" when none).
    pub info: String,
    /// What follows `example:` in an HTML comment on the line just above
    /// the fence (`cluster`, `manual: why`), trimmed.
    pub marker: Option<String>,
    /// The content, without the fence's own indentation (blocks inside
    /// list items are indented).
    pub lines: Vec<String>,
    /// The file line of a content line that looks like the closing fence
    /// with text after it (```` ``` text ````): not a closing fence, so the
    /// block runs on past it, and GitHub shows the prose after it as code.
    pub false_close: Option<usize>,
}

impl Block {
    /// The 1-based file line of content line `i`.
    pub fn line_of(&self, i: usize) -> usize {
        self.line + 1 + i
    }

    /// `file:line` of the opening fence, as error messages cite it.
    pub fn at(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// Commands to paste: shell scripts and console transcripts.
    pub fn is_command(&self) -> bool {
        matches!(self.info.as_str(), "sh" | "bash" | "shell" | "console")
    }
}

/// The blocks of `root/rel`.
pub fn read(root: &Path, rel: &str) -> Vec<Block> {
    let text = std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"));
    parse(rel, &text)
}

/// The blocks of `text`, read from `file`.
pub fn parse(file: &str, text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some((indent, fence, info)) = opening_fence(lines[i]) else {
            i += 1;
            continue;
        };
        let marker = i.checked_sub(1).and_then(|p| marker(lines[p]));
        let mut end = i + 1;
        while end < lines.len() && !closes(lines[end], &fence) {
            end += 1;
        }
        let content: Vec<String> = lines[i + 1..end.min(lines.len())]
            .iter()
            .map(|l| strip_indent(l, indent).to_owned())
            .collect();
        let false_close = content
            .iter()
            .position(|l| l.trim_start().starts_with(fence.as_str()) && !closes(l, &fence))
            .map(|k| i + 2 + k);
        blocks.push(Block {
            file: file.to_owned(),
            line: i + 1,
            info,
            marker,
            lines: content,
            false_close,
        });
        i = end + 1;
    }
    blocks
}

/// `(indentation, fence, info word)` when `line` opens a fenced block.
fn opening_fence(line: &str) -> Option<(usize, String, String)> {
    let trimmed = line.trim_start_matches(' ');
    let indent = line.len() - trimmed.len();
    let ch = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let fence: String = trimmed.chars().take_while(|c| *c == ch).collect();
    if fence.len() < 3 {
        return None;
    }
    let info = trimmed[fence.len()..].split_whitespace().next().unwrap_or("");
    // A backtick fence's info string may not contain a backtick (inline code).
    if ch == '`' && info.contains('`') {
        return None;
    }
    Some((indent, fence, info.to_owned()))
}

fn closes(line: &str, fence: &str) -> bool {
    let t = line.trim();
    let ch = fence.chars().next().unwrap();
    t.len() >= fence.len() && t.chars().all(|c| c == ch)
}

fn strip_indent(line: &str, indent: usize) -> &str {
    let spaces = line.len() - line.trim_start_matches(' ').len();
    &line[spaces.min(indent)..]
}

/// The text of `<!-- example: TEXT -->`, if `line` is such a comment.
fn marker(line: &str) -> Option<String> {
    let inner = line.trim().strip_prefix("<!--")?.strip_suffix("-->")?.trim();
    Some(inner.strip_prefix("example:")?.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_markers_and_indented_blocks() {
        let text = "text\n<!-- example: cluster -->\n```sh\nkubectl get pods\n```\n\n- item\n\n  ```console\n  $ curl -s x\n    indented output\n  ```\n````markdown\n```sh\ninner\n```\n````\n";
        let b = parse("f.md", text);
        assert_eq!(b.len(), 3, "{b:?}");
        assert_eq!(
            (b[0].line, b[0].info.as_str(), b[0].marker.as_deref()),
            (3, "sh", Some("cluster"))
        );
        assert_eq!(b[0].lines, ["kubectl get pods"]);
        assert_eq!(
            (b[1].line, b[1].info.as_str(), b[1].marker.as_deref()),
            (9, "console", None)
        );
        assert_eq!(b[1].lines, ["$ curl -s x", "  indented output"]);
        assert_eq!(b[1].line_of(1), 11);
        assert_eq!((b[2].info.as_str(), b[2].lines.len()), ("markdown", 3));
        assert_eq!(b[0].false_close, None);
        let run_on = parse("f.md", "```sh\na\n``` Prose\nmore\n```\n");
        assert_eq!((run_on.len(), run_on[0].false_close), (1, Some(3)));
    }
}

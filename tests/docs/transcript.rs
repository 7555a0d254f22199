//! A command block as steps: each command a reader would paste, with the
//! output the block shows for it (console transcripts) or none (shell
//! scripts, whose output is not shown and only their exit status counts).

use super::blocks::Block;

/// One command of a block.
#[derive(Debug, Clone)]
pub struct Step {
    /// File line of the command's first line.
    pub line: usize,
    /// The command as bash takes it (continuation lines kept with their `\`).
    pub command: String,
    /// For a console transcript, the lines shown after the command, each
    /// with its file line; `None` for a shell script's command.
    pub expected: Option<Vec<(usize, String)>>,
}

/// The steps of a command block, or why it cannot be read.
pub fn steps(block: &Block) -> Result<Vec<Step>, String> {
    if block.info == "console" {
        console(block)
    } else {
        Ok(script(block))
    }
}

/// `$ command` lines (a trailing `\` continues onto the next line), each
/// followed by its output up to the next `$ `.
fn console(block: &Block) -> Result<Vec<Step>, String> {
    let mut steps: Vec<Step> = Vec::new();
    let mut continuing = false;
    for (i, line) in block.lines.iter().enumerate() {
        if continuing {
            let step = steps.last_mut().unwrap();
            step.command.push('\n');
            step.command.push_str(line);
            continuing = line.ends_with('\\');
        } else if let Some(cmd) = line.strip_prefix("$ ") {
            steps.push(Step {
                line: block.line_of(i),
                command: cmd.to_owned(),
                expected: Some(Vec::new()),
            });
            continuing = cmd.ends_with('\\');
        } else if let Some(step) = steps.last_mut() {
            step.expected.as_mut().unwrap().push((block.line_of(i), line.clone()));
        } else {
            return Err(format!(
                "{}:{}: a console block starts with `$ command`; this line is output of no command",
                block.file,
                block.line_of(i)
            ));
        }
    }
    Ok(steps)
}

/// Every command of a shell block; blank and comment lines skipped.
fn script(block: &Block) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut continuing = false;
    for (i, line) in block.lines.iter().enumerate() {
        if continuing {
            let step = steps.last_mut().unwrap();
            step.command.push('\n');
            step.command.push_str(line);
            continuing = line.ends_with('\\');
        } else if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
            steps.push(Step {
                line: block.line_of(i),
                command: line.clone(),
                expected: None,
            });
            continuing = line.ends_with('\\');
        }
    }
    steps
}

/// The programs a command runs: the first word of each pipeline stage,
/// list element and command substitution (variable assignments and
/// `xargs`/`exec`/`time`/`sudo` skipped).
pub fn programs(command: &str) -> Vec<String> {
    let code: String = command.lines().map(strip_comment).collect::<Vec<_>>().join(" ");
    let mut out = Vec::new();
    for segment in code.split(['|', ';', '&', '(', '`', '\n']) {
        let words = segment
            .split_whitespace()
            .map(|w| w.trim_matches(|c| c == '"' || c == '\'' || c == '$'));
        let mut words = words;
        let program = words
            .find(|w| !w.is_empty() && !w.contains('=') && !matches!(*w, "xargs" | "exec" | "time" | "sudo" | "\\"));
        if let Some(p) = program {
            out.push(p.to_owned());
        }
    }
    out
}

/// `line` without a shell comment (a `#` at the start of a word, outside quotes).
pub fn strip_comment(line: &str) -> &str {
    let (mut single, mut double) = (false, false);
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && prev.is_whitespace() => return line[..i].trim_end(),
            _ => {}
        }
        prev = c;
    }
    line.trim_end()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docs::blocks::parse;

    #[test]
    fn console_steps_and_programs() {
        let b = &parse(
            "f.md",
            "```console\n$ curl -s x   # note\nout 1\nout 2\n$ a \\\n  --b\n```\n",
        )[0];
        let s = steps(b).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].line, s[0].command.as_str()), (2, "curl -s x   # note"));
        assert_eq!(
            s[0].expected.as_ref().unwrap(),
            &[(3, "out 1".to_owned()), (4, "out 2".to_owned())]
        );
        assert_eq!(s[1].command, "a \\\n  --b");
        assert_eq!(
            programs(r#"NS="$(kubectl config view)"; kubectl get --raw / | jq -r '.x' # kind"#),
            ["kubectl", "kubectl", "jq"]
        );
        assert_eq!(strip_comment("echo 'a # b' # c"), "echo 'a # b'");
        let err = steps(&parse("f.md", "```console\nout\n```\n")[0]).unwrap_err();
        assert!(err.starts_with("f.md:2: "), "{err}");
    }
}

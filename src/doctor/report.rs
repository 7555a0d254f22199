//! A check's verdict, the evidence it saw and its one fix; printed as text
//! or JSON. Knows nothing of what the checks do.

use serde_json::json;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Passed,
    Failed,
    Skipped,
}

impl Verdict {
    fn name(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::Skipped => "skipped",
        }
    }
}

pub(crate) struct Outcome {
    pub(super) name: &'static str,
    pub(super) verdict: Verdict,
    pub(super) evidence: String,
    /// On failure, the one thing to change; on a skip, the command to run instead.
    pub(super) fix: Option<String>,
}

impl Outcome {
    pub(super) fn passed(name: &'static str, evidence: impl Into<String>) -> Outcome {
        Outcome {
            name,
            verdict: Verdict::Passed,
            evidence: evidence.into(),
            fix: None,
        }
    }
    pub(super) fn failed(name: &'static str, evidence: impl Into<String>, fix: impl Into<String>) -> Outcome {
        Outcome {
            name,
            verdict: Verdict::Failed,
            evidence: evidence.into(),
            fix: Some(fix.into()),
        }
    }
    pub(super) fn skipped(name: &'static str, evidence: impl Into<String>, instead: impl Into<String>) -> Outcome {
        Outcome {
            name,
            verdict: Verdict::Skipped,
            evidence: evidence.into(),
            fix: Some(instead.into()),
        }
    }
}

pub(crate) fn text(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    for (i, o) in outcomes.iter().enumerate() {
        out += &format!(
            "{}. {:<8} {}\n   saw: {}\n",
            i + 1,
            o.verdict.name(),
            o.name,
            o.evidence
        );
        if let Some(fix) = &o.fix {
            let label = if o.verdict == Verdict::Skipped {
                "instead"
            } else {
                "fix"
            };
            out += &format!("   {label}: {fix}\n");
        }
    }
    let failed = outcomes.iter().filter(|o| o.verdict == Verdict::Failed).count();
    out += &format!("{} checks: {failed} failed\n", outcomes.len());
    out
}

pub(crate) fn json(outcomes: &[Outcome]) -> String {
    let checks: Vec<_> = outcomes
        .iter()
        .map(|o| json!({"check": o.name, "verdict": o.verdict.name(), "evidence": o.evidence, "fix": o.fix}))
        .collect();
    let failed = outcomes.iter().any(|o| o.verdict == Verdict::Failed);
    json!({"ok": !failed, "checks": checks}).to_string() + "\n"
}

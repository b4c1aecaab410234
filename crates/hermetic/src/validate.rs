//! `hermetic policy validate`: Access Analyzer-style findings for policy files.

use policy::validate::{validate, Finding, PolicyKind, Severity};
use serde_json::{json, Value};

/// The findings of one file.
#[derive(Debug)]
pub struct FileReport {
    /// The file name as given.
    pub file: String,
    /// The findings, by position.
    pub findings: Vec<Finding>,
}

impl FileReport {
    /// Whether any finding is an `ERROR`.
    pub fn has_error(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// Validates the text of one file.
pub fn validate_file(file: &str, text: &str, kind: PolicyKind) -> FileReport {
    FileReport { file: file.to_string(), findings: validate(text, kind) }
}

/// Human output: one line per finding, `file:line:column: SEVERITY CODE message (path)`.
pub fn render_text(reports: &[FileReport]) -> String {
    let mut out = String::new();
    for r in reports {
        if r.findings.is_empty() {
            out.push_str(&format!("{}: no findings\n", r.file));
        }
        for f in &r.findings {
            out.push_str(&format!(
                "{}:{}:{}: {} {} {} ({})\n",
                r.file,
                f.location.pos.line,
                f.location.pos.column,
                f.severity,
                f.code,
                f.message,
                f.location.path
            ));
        }
    }
    out
}

/// JSON output, shaped like Access Analyzer's `ValidatePolicy` findings.
pub fn render_json(reports: &[FileReport]) -> Value {
    Value::Array(
        reports
            .iter()
            .map(|r| {
                json!({
                    "file": r.file,
                    "findings": r.findings.iter().map(|f| json!({
                        "findingType": f.severity.as_str(),
                        "issueCode": f.code,
                        "findingDetails": f.message,
                        "learnMoreLink": f.learn_more,
                        "locations": [{
                            "path": f.location.path,
                            "span": { "start": { "line": f.location.pos.line, "column": f.location.pos.column } }
                        }],
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

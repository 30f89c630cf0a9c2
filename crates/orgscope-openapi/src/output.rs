//! Machine-readable output: one JSON object per diagnostic (the shape `orgscope check --format
//! json` writes), and SARIF 2.1.0 for code-scanning tools.

use crate::errors::LintError;
use orgscope::diag::{Diagnostic, Severity};
use serde_json::{json, Value};

/// One diagnostic as a JSON line: `file`, `line`, `column`, `severity`, `code`, `message`,
/// `help`.
pub fn json_line(file: &str, d: &Diagnostic) -> String {
    json!({
        "file": file,
        "line": d.span.line,
        "column": d.span.col,
        "severity": d.severity,
        "code": d.code,
        "message": d.message,
        "help": d.help,
    })
    .to_string()
}

/// A SARIF 2.1.0 log of one run over `files` (each file's name and its diagnostics).
pub fn sarif(files: &[(String, Vec<Diagnostic>)]) -> String {
    let rules: Vec<Value> = LintError::CODES
        .iter()
        .map(|code| json!({ "id": code, "name": code }))
        .collect();
    let results: Vec<Value> = files
        .iter()
        .flat_map(|(file, diags)| {
            diags.iter().map(move |d| {
                let mut result = json!({
                    "ruleId": d.code,
                    "level": match d.severity {
                        Severity::Error => "error",
                        Severity::Warning => "warning",
                    },
                    "message": { "text": match &d.help {
                        Some(h) => format!("{}\n{h}", d.message),
                        None => d.message.clone(),
                    } },
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": { "uri": file },
                            "region": { "startLine": d.span.line, "startColumn": d.span.col },
                        }
                    }],
                });
                if let Some(i) = LintError::CODES.iter().position(|c| *c == d.code) {
                    result["ruleIndex"] = json!(i);
                }
                result
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "orgscope",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            } },
            "results": results,
        }],
    })
    .to_string()
}

//! Machine-readable output: one JSON object per diagnostic (the shape `orgscope check --format
//! json` writes), and SARIF 2.1.0 for code-scanning tools.
//!
//! Both are derived structs, not `json!` maps: a map's key order depends on whether anything in
//! the build turns on serde_json's `preserve_order`, and the bytes must not.

use crate::errors::LintError;
use orgscope::diag::{Diagnostic, Severity};
use serde::Serialize;

/// One diagnostic as a JSON line: `file`, `line`, `column`, `severity`, `code`, `message`,
/// `help`.
pub fn json_line(file: &str, d: &Diagnostic) -> String {
    #[derive(Serialize)]
    struct Line<'a> {
        file: &'a str,
        line: u32,
        column: u32,
        severity: Severity,
        code: &'a str,
        message: &'a str,
        help: Option<&'a str>,
    }
    to_string(&Line {
        file,
        line: d.span.line,
        column: d.span.col,
        severity: d.severity,
        code: d.code,
        message: &d.message,
        help: d.help.as_deref(),
    })
}

/// A SARIF 2.1.0 log of one run over `files` (each file's name and its diagnostics).
pub fn sarif(files: &[(String, Vec<Diagnostic>)]) -> String {
    let rules = LintError::CODES
        .iter()
        .map(|&code| Rule {
            id: code,
            name: code,
        })
        .collect();
    let results = files
        .iter()
        .flat_map(|(file, diags)| diags.iter().map(move |d| SarifResult::new(file, d)))
        .collect();
    to_string(&Log {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "orgscope",
                    version: env!("CARGO_PKG_VERSION"),
                    rules,
                },
            },
            results,
        }],
    })
}

/// Serializes a value made only of strings, numbers and derived structs, which cannot fail.
fn to_string(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("plain data serializes")
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
struct Run<'a> {
    tool: Tool,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
struct Driver {
    name: &'static str,
    version: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
struct Rule {
    id: &'static str,
    name: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    level: &'static str,
    message: Message,
    locations: [Location<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    physical_location: PhysicalLocation<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation<'a> {
    artifact_location: ArtifactLocation<'a>,
    region: Region,
}

#[derive(Serialize)]
struct ArtifactLocation<'a> {
    uri: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
}

impl<'a> SarifResult<'a> {
    /// `d`, found in `file`, as a SARIF result pointing at its rule.
    fn new(file: &'a str, d: &'a Diagnostic) -> Self {
        SarifResult {
            rule_id: d.code,
            level: match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            message: Message {
                text: match &d.help {
                    Some(h) => format!("{}\n{h}", d.message),
                    None => d.message.clone(),
                },
            },
            locations: [Location {
                physical_location: PhysicalLocation {
                    artifact_location: ArtifactLocation { uri: file },
                    region: Region {
                        start_line: d.span.line,
                        start_column: d.span.col,
                    },
                },
            }],
            rule_index: LintError::CODES.iter().position(|c| *c == d.code),
        }
    }
}

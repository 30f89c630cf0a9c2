//! `orgscope lint openapi` and `orgscope import openapi`: the organization-ID guideline over
//! OpenAPI documents (crate `orgscope-openapi`), with drift against a policy (`--policy`).
//!
//! Text mode writes rustc-style diagnostics to stderr and a summary line per file with
//! problems; `--format json` one JSON object per diagnostic on stdout; `--format sarif` one
//! SARIF 2.1.0 log on stdout. Exit status: 0 clean (warnings allowed), 1 on errors (or warnings
//! with `--deny-warnings`), 2 when a document, the policy or the configuration cannot be read.

use super::{CLEAN, INVALID, UNREADABLE};
use orgscope::diag::{self, Diagnose, Diagnostic, Severity, Source, Style};
use orgscope::Span;
use orgscope_openapi::{Config, Document, LoadError};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// `orgscope lint …`.
#[derive(Debug, clap::Args)]
pub struct LintArgs {
    #[command(subcommand)]
    kind: LintKind,
}

#[derive(Debug, clap::Subcommand)]
enum LintKind {
    /// Check OpenAPI 3.0/3.1 documents (YAML or JSON) against the organization-ID guideline.
    Openapi(LintOpenapi),
}

/// `orgscope import …`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    kind: ImportKind,
}

#[derive(Debug, clap::Subcommand)]
enum ImportKind {
    /// Write the `service`/`endpoint` declarations of an OpenAPI document, on stdout.
    Openapi(ImportOpenapi),
}

/// What the org concept is called, shared by both commands.
#[derive(Debug, Clone, clap::Args)]
struct Concept {
    /// A configuration file (YAML or JSON): `name`, `list_name`, `header`, `aliases`,
    /// `allow_terms` (docs/openapi.md).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Another name for the org concept in this API (`org`, `organization`…); repeatable.
    #[arg(long = "alias", value_name = "NAME")]
    aliases: Vec<String>,
    /// A deprecated term that means something else in this API (GitHub's `app`); repeatable.
    #[arg(long = "allow-term", value_name = "TERM")]
    allow_terms: Vec<String>,
    /// Largest document read, in bytes.
    #[arg(long, value_name = "BYTES")]
    max_bytes: Option<usize>,
    /// Deepest nesting read.
    #[arg(long, value_name = "LEVELS")]
    max_depth: Option<usize>,
}

#[derive(Debug, clap::Args)]
struct LintOpenapi {
    /// OpenAPI documents (YAML or JSON).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also compare each document with this policy's `service`/`endpoint` declarations.
    #[arg(long, value_name = "POLICY")]
    policy: Option<PathBuf>,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    deny_warnings: bool,
    #[command(flatten)]
    concept: Concept,
}

#[derive(Debug, clap::Args)]
struct ImportOpenapi {
    /// The OpenAPI document (YAML or JSON).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    #[command(flatten)]
    concept: Concept,
}

/// How diagnostics are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Human-readable, on stderr.
    Text,
    /// One JSON object per diagnostic per line, on stdout.
    Json,
    /// One SARIF 2.1.0 log, on stdout.
    Sarif,
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// Prints `error: MESSAGE` on stderr and returns the unreadable status.
fn fail(message: &str) -> i32 {
    let _ = writeln!(
        std::io::stderr(),
        "error: {}",
        diag::escape_non_printing(message)
    );
    UNREADABLE
}

impl Concept {
    fn config(&self) -> Result<Config, String> {
        let mut config = match &self.config {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read `{}`: {e}", shown(p)))?;
                Config::from_text(&text)
                    .map_err(|e| format!("`{}`: {e} [{}]", shown(p), e.code()))?
            }
            None => Config::default(),
        };
        config.aliases.extend(self.aliases.iter().cloned());
        config.allow_terms.extend(self.allow_terms.iter().cloned());
        if let Some(b) = self.max_bytes {
            config.limits.max_bytes = b;
        }
        if let Some(d) = self.max_depth {
            config.limits.max_depth = d;
        }
        Ok(config)
    }
}

/// Reads and loads one document; the error is a diagnostic, with the text when it was read.
fn load(path: &Path, config: &Config) -> Result<Document, Box<Report>> {
    let name = shown(path);
    let unread = |code, message: String| {
        let d = Diagnostic {
            severity: Severity::Error,
            code,
            message,
            span: Span::default(),
            help: None,
        };
        Box::new(Report {
            name: name.clone(),
            source: None,
            diags: vec![d],
        })
    };
    // Too large to read: refused before reading.
    let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
    if bytes > config.limits.max_bytes as u64 {
        let e = orgscope_openapi::TreeError::TooLarge {
            size: usize::try_from(bytes).unwrap_or(usize::MAX),
            limit: config.limits.max_bytes,
        };
        return Err(unread(e.code(), format!("`{name}`: {e}")));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| unread("openapi_unreadable", format!("cannot read `{name}`: {e}")))?;
    Document::load(&name, text.clone(), config).map_err(|e: LoadError| {
        let (line, col) = e.at.unwrap_or((1, 1));
        let d = Diagnostic {
            severity: Severity::Error,
            code: e.error.code(),
            message: e.error.to_string(),
            // Not a byte offset: the renderer places the caret by line and column.
            span: Span {
                start: usize::MAX,
                end: usize::MAX,
                line,
                col,
            },
            help: Some("orgscope reads OpenAPI documents as YAML 1.2 (JSON included)".into()),
        };
        Box::new(Report {
            name: name.clone(),
            source: Some(Source::new(name.clone(), text)),
            diags: vec![d],
        })
    })
}

/// Diagnostics of one file, with the text they point into.
struct Report {
    name: String,
    source: Option<Source>,
    diags: Vec<Diagnostic>,
}

/// Runs `orgscope lint openapi`.
pub fn lint(args: LintArgs) -> i32 {
    let LintKind::Openapi(args) = args.kind;
    let config = match args.concept.config() {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let policy = match &args.policy {
        Some(p) => match std::fs::read_to_string(p) {
            Ok(t) => Some(Source::new(shown(p), t)),
            Err(e) => return fail(&format!("cannot read `{}`: {e}", shown(p))),
        },
        None => None,
    };
    let mut status = CLEAN;
    let mut reports: Vec<Report> = Vec::new();
    let mut policy_diags: Vec<Diagnostic> = Vec::new();
    let mut policy_unreadable = false;
    for path in &args.files {
        let doc = match load(path, &config) {
            Ok(doc) => doc,
            Err(report) => {
                status = UNREADABLE;
                reports.push(*report);
                continue;
            }
        };
        let linted = orgscope_openapi::lint(&doc, &config);
        let mut diags: Vec<Diagnostic> =
            linted.errors.iter().map(Diagnose::to_diagnostic).collect();
        if let Some(src) = &policy {
            let drift = orgscope_openapi::drift(&linted, &doc, src);
            if !drift.syntax.is_empty() {
                policy_unreadable = true;
                policy_diags.extend(drift.syntax);
            }
            diags.extend(drift.document.iter().map(Diagnose::to_diagnostic));
            policy_diags.extend(drift.policy.iter().map(Diagnose::to_diagnostic));
        }
        diags.sort_by_key(|d| (d.span.start, d.severity, d.code));
        reports.push(Report {
            name: doc.source().name().to_string(),
            source: Some(doc.source().clone()),
            diags,
        });
    }
    if let Some(src) = policy {
        policy_diags.sort_by_key(|d| (d.span.start, d.severity, d.code));
        policy_diags.dedup();
        reports.push(Report {
            name: src.name().to_string(),
            source: Some(src),
            diags: policy_diags,
        });
    }
    if policy_unreadable {
        status = UNREADABLE;
    }
    for r in &reports {
        let errors = r.diags.iter().filter(|d| d.is_error()).count();
        let warnings = r.diags.len() - errors;
        if (errors > 0 || (args.deny_warnings && warnings > 0)) && status == CLEAN {
            status = INVALID;
        }
    }
    write(&reports, args.format, args.deny_warnings);
    status
}

fn write(reports: &[Report], format: Format, deny_warnings: bool) {
    let stdout = std::io::stdout();
    let mut stdout = stdout.lock();
    let stderr = std::io::stderr();
    let mut stderr = stderr.lock();
    match format {
        Format::Json => {
            for r in reports {
                for d in &r.diags {
                    let _ = writeln!(stdout, "{}", orgscope_openapi::json_line(&r.name, d));
                }
            }
        }
        Format::Sarif => {
            let files: Vec<(String, Vec<Diagnostic>)> = reports
                .iter()
                .map(|r| (r.name.clone(), r.diags.clone()))
                .collect();
            let _ = writeln!(stdout, "{}", orgscope_openapi::sarif(&files));
        }
        Format::Text => {
            let style = Style {
                color: super::stderr_is_terminal(),
            };
            for r in reports {
                for d in &r.diags {
                    match &r.source {
                        Some(src) => {
                            let _ = writeln!(stderr, "{}", d.render(src, style));
                        }
                        None => {
                            let _ = writeln!(
                                stderr,
                                "error: {}\n",
                                diag::escape_non_printing(&d.message)
                            );
                        }
                    }
                }
                let errors = r.diags.iter().filter(|d| d.is_error()).count();
                let warnings = r.diags.len() - errors;
                if r.diags.is_empty() || r.source.is_none() {
                    continue;
                }
                let count = |n: usize, w: &str| match n {
                    0 => None,
                    1 => Some(format!("1 {w}")),
                    n => Some(format!("{n} {w}s")),
                };
                let parts: Vec<String> = [count(errors, "error"), count(warnings, "warning")]
                    .into_iter()
                    .flatten()
                    .collect();
                let word = if errors > 0 || deny_warnings {
                    "error"
                } else {
                    "warning"
                };
                let _ = writeln!(
                    stderr,
                    "{word}: `{}`: {}",
                    diag::escape_non_printing(&r.name),
                    parts.join(", ")
                );
            }
        }
    }
    let _ = stdout.flush();
}

/// Runs `orgscope import openapi`.
pub fn import(args: ImportArgs) -> i32 {
    let ImportKind::Openapi(args) = args.kind;
    let config = match args.concept.config() {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let doc = match load(&args.file, &config) {
        Ok(doc) => doc,
        Err(report) => {
            write(&[*report], Format::Text, false);
            return UNREADABLE;
        }
    };
    let linted = orgscope_openapi::lint(&doc, &config);
    if let Some(e) = linted.errors.iter().find(|e| e.code() == "openapi_version") {
        write(
            &[Report {
                name: doc.source().name().to_string(),
                source: Some(doc.source().clone()),
                diags: vec![e.to_diagnostic()],
            }],
            Format::Text,
            false,
        );
        return INVALID;
    }
    match orgscope_openapi::import(&linted, &doc) {
        Ok(text) => {
            let _ = std::io::stdout().write_all(text.as_bytes());
            CLEAN
        }
        Err(e) => fail(&format!("{e} [{}]", e.code())),
    }
}

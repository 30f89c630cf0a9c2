//! `orgscope check`: parse and validate policy files, printing diagnostics. Each file is read
//! and checked by the engine's one load path (`orgscope::check_file_with`), under the same
//! policy limits as `eval`.
//!
//! Text mode writes rustc-style diagnostics to stderr, then one summary line per file with
//! problems (nothing for a clean file). JSON mode writes one `JsonDiagnostic` per line to stdout
//! and nothing else there; only unreadable files are reported on stderr. Exit status: 0 clean
//! (warnings allowed), 1 when a policy has errors (or warnings, with `--deny-warnings`), 2 when a
//! file cannot be read or a directory holds no policy — the other files are still checked.
//! A directory stands for every `*.policy` under it, sorted; `-` is standard input, named
//! `<stdin>` in diagnostics (as `fmt -` does).
//!
//! A policy's SQL mapping (docs/data.md) is checked with it: `--sql-mapping FILE` for a single
//! policy, otherwise `NAME.sql.toml` beside `NAME.policy` when it exists. Its diagnostics are
//! reported like the policy's, against the mapping file, once the policy itself has no errors.

use super::{CLEAN, INVALID, UNREADABLE};
use orgscope::diag::{self, Diagnostic, Severity, Source, Style};
use orgscope::{Limits, Policy};
use orgscope_sql::Mapping;
use serde::Serialize;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Arguments of `orgscope check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files to check; a directory means every `*.policy` under it, `-` standard input.
    #[arg(required = true, value_name = "POLICY")]
    files: Vec<PathBuf>,
    /// Output format: rustc-style text on stderr, or one JSON object per diagnostic on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// When to colour text output (`auto`: when stderr is a terminal and NO_COLOR is unset).
    #[arg(long, value_enum, default_value_t = Color::Auto, value_name = "WHEN")]
    color: Color,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    deny_warnings: bool,
    /// The SQL mapping of the (single) policy; by default `NAME.sql.toml` beside `NAME.policy`,
    /// when it exists.
    #[arg(long, value_name = "MAP")]
    sql_mapping: Option<PathBuf>,
    #[command(flatten)]
    policy_limits: super::PolicyLimits,
}

/// How diagnostics are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Human-readable, on stderr.
    Text,
    /// One JSON object per diagnostic per line, on stdout.
    Json,
}

/// When to use ANSI colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Color {
    /// When stderr is a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

pub fn run(args: Args) -> i32 {
    let style = Style {
        color: match args.color {
            Color::Auto => super::stderr_is_terminal(),
            Color::Always => true,
            Color::Never => false,
        },
    };
    let stdout = std::io::stdout();
    let mut stdout = stdout.lock();
    let stderr = std::io::stderr();
    let mut stderr = stderr.lock();
    let limits = args.policy_limits.limits();
    let mut status = CLEAN;
    let (files, missing) = super::policy_files(&args.files);
    for message in missing {
        let _ = writeln!(stderr, "{}: {message}", paint(style, "1;31", "error"));
        status = UNREADABLE;
    }
    if args.sql_mapping.is_some() && files.len() != 1 {
        let _ = writeln!(
            stderr,
            "{}: `--sql-mapping` needs exactly one policy file",
            paint(style, "1;31", "error")
        );
        return UNREADABLE;
    }
    let mut out = Report {
        format: args.format,
        style,
        deny_warnings: args.deny_warnings,
        stdout: &mut stdout,
        stderr: &mut stderr,
    };
    for path in &files {
        let stdin = path.as_os_str() == "-";
        let read = if stdin {
            let input = std::io::stdin();
            if std::io::IsTerminal::is_terminal(&input) {
                let _ = writeln!(
                    out.stderr,
                    "reading a policy from standard input (end it with Ctrl-D)"
                );
            }
            orgscope::check_reader_with("<stdin>", input.lock(), &limits)
        } else {
            orgscope::check_file_with(path, &limits)
        };
        let (src, diagnostics) = match read {
            Ok((src, checked)) => (src, checked.diagnostics),
            Err(e) => {
                out.unreadable(path, &e);
                status = UNREADABLE;
                continue;
            }
        };
        let clean = !diagnostics.iter().any(Diagnostic::is_error);
        if out.file(&src, &diagnostics) && status == CLEAN {
            status = INVALID;
        }
        let map = match &args.sql_mapping {
            Some(m) => m.clone(),
            None => match beside(path) {
                Some(m) => m,
                None => continue,
            },
        };
        if !clean {
            continue;
        }
        let map_src = match read_mapping(&map, &limits) {
            Ok(text) => Source::new(map.display().to_string(), text),
            Err(e) => {
                out.unreadable(&map, &e);
                status = UNREADABLE;
                continue;
            }
        };
        // The policy has no errors, so it loads; its warnings were reported above.
        let Ok(policy) = Policy::from_source_with(src.name(), src.text(), limits) else {
            continue;
        };
        let diagnostics = Mapping::check_source(map_src.text(), &policy);
        if out.file(&map_src, &diagnostics) && status == CLEAN {
            status = INVALID;
        }
    }
    let _ = out.stdout.flush();
    status
}

/// `NAME.sql.toml` beside `NAME.policy`, when that file exists.
fn beside(policy: &Path) -> Option<PathBuf> {
    let stem = policy.file_name()?.to_str()?.strip_suffix(".policy")?;
    let map = policy.with_file_name(format!("{stem}.sql.toml"));
    map.exists().then_some(map)
}

/// A mapping file's text, refused over the policy size limit like a policy.
fn read_mapping(path: &Path, limits: &Limits) -> std::io::Result<String> {
    use std::io::Read as _;
    let limit = limits.max_policy_bytes;
    let mut text = String::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    std::fs::File::open(path)?
        .take(cap)
        .read_to_string(&mut text)?;
    if text.len() > limit {
        return Err(std::io::Error::other(format!(
            "it is over the limit of {limit} bytes"
        )));
    }
    Ok(text)
}

/// Where and how `check` writes each file's diagnostics.
struct Report<'a, O, E> {
    format: Format,
    style: Style,
    deny_warnings: bool,
    stdout: &'a mut O,
    stderr: &'a mut E,
}

impl<O: std::io::Write, E: std::io::Write> Report<'_, O, E> {
    /// Writes one file's diagnostics (and its summary in text mode); whether the file fails.
    fn file(&mut self, src: &Source, diagnostics: &[Diagnostic]) -> bool {
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        let warnings = diagnostics.len() - errors;
        let failed = errors > 0 || (self.deny_warnings && warnings > 0);
        match self.format {
            Format::Json => {
                for d in diagnostics {
                    if let Ok(line) = serde_json::to_string(&JsonDiagnostic::new(d, src)) {
                        let _ = writeln!(self.stdout, "{line}");
                    }
                }
            }
            Format::Text => {
                for d in diagnostics {
                    let _ = writeln!(self.stderr, "{}", d.render(src, self.style));
                }
                if let Some(line) = summary(
                    &diag::escape_non_printing(src.name()),
                    errors,
                    warnings,
                    self.deny_warnings,
                ) {
                    let (word, colour) = if failed {
                        ("error", "1;31")
                    } else {
                        ("warning", "1;33")
                    };
                    let _ = writeln!(self.stderr, "{}{line}", paint(self.style, colour, word));
                }
            }
        }
        failed
    }

    fn unreadable(&mut self, path: &Path, e: &dyn std::fmt::Display) {
        let _ = writeln!(
            self.stderr,
            "{}: cannot read `{}`: {e}",
            paint(self.style, "1;31", "error"),
            diag::escape_non_printing(&path.display().to_string())
        );
    }
}

/// The line after a file's diagnostics, without its leading `error`/`warning` word:
/// ``: `x.policy`: 2 errors, 1 warning``. `None` for a clean file.
fn summary(name: &str, errors: usize, warnings: usize, deny_warnings: bool) -> Option<String> {
    let count = |n: usize, what: &str| {
        if n == 1 {
            format!("1 {what}")
        } else {
            format!("{n} {what}s")
        }
    };
    let mut parts = Vec::new();
    if errors > 0 {
        parts.push(count(errors, "error"));
    }
    if warnings > 0 {
        parts.push(count(warnings, "warning"));
    }
    if parts.is_empty() {
        return None;
    }
    let denied = if errors == 0 && deny_warnings {
        " (denied by `--deny-warnings`)"
    } else {
        ""
    };
    Some(format!(": `{name}`: {}{denied}", parts.join(", ")))
}

fn paint(style: Style, code: &str, text: &str) -> String {
    if style.color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::summary;

    #[test]
    fn summary_counts_errors_and_warnings() {
        assert_eq!(summary("p", 0, 0, false), None);
        assert_eq!(
            summary("p", 1, 2, false).as_deref(),
            Some(": `p`: 1 error, 2 warnings")
        );
        assert_eq!(
            summary("p", 0, 1, true).as_deref(),
            Some(": `p`: 1 warning (denied by `--deny-warnings`)")
        );
    }
}

/// The JSON form of a diagnostic (`orgscope check --format json`): one object per line.
#[derive(Debug, Serialize)]
struct JsonDiagnostic<'a> {
    /// The policy file.
    file: &'a str,
    /// 1-based line.
    line: u32,
    /// 1-based column.
    column: u32,
    /// 1-based line where the span ends.
    end_line: u32,
    /// 1-based column just past the span's last character (the span is empty when it equals
    /// `line`/`column`).
    end_column: u32,
    /// `error` or `warning`.
    severity: Severity,
    /// Stable code.
    code: &'a str,
    /// The message.
    message: &'a str,
    /// How to fix it, if known.
    help: Option<&'a str>,
}

impl<'a> JsonDiagnostic<'a> {
    /// Borrows `d` for serialization.
    fn new(d: &'a Diagnostic, src: &'a Source) -> Self {
        let (end_line, end_column) = src.end_of(d.span);
        JsonDiagnostic {
            file: src.name(),
            line: d.span.line,
            column: d.span.col,
            end_line,
            end_column,
            severity: d.severity,
            code: d.code,
            message: &d.message,
            help: d.help.as_deref(),
        }
    }
}

//! `orgscope test`: run policy test files (requests with expected decisions), with coverage.
//!
//! Text mode writes, per test file, a header line and one `ok`/`FAILED` line per test (a failed
//! test adds the fields that differ and the decision it got), then the coverage report when
//! asked, a list of the failed tests, and last the line `N passed, N failed`. Problems with the
//! files themselves (unreadable, invalid JSON, a policy with errors) go to stderr. JSON mode
//! writes one JSON object per line to stdout, each with a `type`: `test`, `error`, `coverage`
//! and, last, `summary`. Exit status: 0 every test passed, 1 a test failed (or coverage is under
//! `--min-coverage`), 2 a test file or policy could not be read or is invalid, or no test file
//! was found — the other files still run.

use crate::explain;
use orgscope::diag::escape_non_printing;
use orgscope::testing::{self, CaseResult, Coverage, TestFile};
use orgscope::{Decision, Policy};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `orgscope test`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Test files, or directories searched recursively for `*.test.json` (hidden directories
    /// and `target` are skipped). Default: the current directory.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format: text for people, or one JSON object per line.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Report the rules of each policy that no test exercised.
    #[arg(long)]
    coverage: bool,
    /// Fail (exit 1) when a policy's tests exercise less than this percentage of its rules
    /// (implies `--coverage`; `100` denies any uncovered rule).
    #[arg(long, value_name = "PERCENT", value_parser = clap::value_parser!(u8).range(0..=100))]
    min_coverage: Option<u8>,
    /// Run every test file against this policy instead of the one it names (e.g. a rewrite of
    /// the policy against the old one's tests).
    #[arg(long, value_name = "POLICY")]
    policy: Option<PathBuf>,
    /// Run only the tests whose name contains this text.
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// Show the explain trace of every failed test.
    #[arg(long)]
    explain: bool,
}

/// How results are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// For people.
    Text,
    /// One JSON object per line.
    Json,
}

/// Exit status: every test passed.
const PASSED: i32 = 0;
/// Exit status: a test failed, or coverage is too low.
const FAILED: i32 = 1;
/// Exit status: a file could not be run.
const BROKEN: i32 = 2;

/// A policy, loaded once however many test files name it.
struct Loaded {
    policy: Option<Policy>,
    coverage: Option<Coverage>,
}

pub fn run(args: Args) -> i32 {
    let json = args.format == Format::Json;
    let want_coverage = args.coverage || args.min_coverage.is_some();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut status = PASSED;
    let mut errors = 0usize;
    let mut report_error = |out: &mut dyn Write, file: &str, message: &str| {
        errors += 1;
        if json {
            emit(out, &JsonLine::Error { file, message });
        } else {
            eprintln!("error: {}", escape_non_printing(message));
        }
    };

    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let mut files: Vec<PathBuf> = Vec::new();
    for p in &paths {
        let shown = testing::normalize(p);
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let before = files.len();
                crate::walk(&shown, TestFile::SUFFIX, &mut files);
                if files.len() == before {
                    let message = format!(
                        "no test files (`*{}`) under `{}`",
                        TestFile::SUFFIX,
                        p.display()
                    );
                    report_error(&mut out, &p.display().to_string(), &message);
                    status = BROKEN;
                }
            }
            Ok(_) => {
                if !files.contains(&shown) {
                    files.push(shown);
                }
            }
            Err(e) => {
                let message = format!("cannot read `{}`: {e}", p.display());
                report_error(&mut out, &p.display().to_string(), &message);
                status = BROKEN;
            }
        }
    }

    let mut policies: HashMap<PathBuf, Loaded> = HashMap::new();
    let mut order: Vec<PathBuf> = Vec::new();
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut failures: Vec<String> = Vec::new();
    let mut files_shown = 0usize;
    for path in &files {
        let file_name = path.display().to_string();
        let file = match TestFile::load(path) {
            Ok(mut f) => {
                if let Some(p) = &args.policy {
                    f.policy = testing::normalize(p);
                }
                f
            }
            Err(e) => {
                report_error(&mut out, &file_name, &e.to_string());
                status = BROKEN;
                continue;
            }
        };
        let loaded = policies.entry(file.policy.clone()).or_insert_with(|| {
            order.push(file.policy.clone());
            match Policy::from_file(&file.policy) {
                Ok(p) => Loaded {
                    coverage: want_coverage.then(|| Coverage::new(&p)),
                    policy: Some(p),
                },
                Err(e) => {
                    eprint!("{}", e.render(super::stderr_style()));
                    Loaded {
                        policy: None,
                        coverage: None,
                    }
                }
            }
        });
        let Some(policy) = &loaded.policy else {
            let message = format!(
                "{file_name}: cannot run: policy `{}` did not load",
                file.policy.display()
            );
            report_error(&mut out, &file_name, &message);
            status = BROKEN;
            continue;
        };
        let entities = match file.entities(policy) {
            Ok(e) => e,
            Err(e) => {
                report_error(&mut out, &file_name, &e.to_string());
                status = BROKEN;
                continue;
            }
        };
        let tests: Vec<_> = file
            .tests
            .iter()
            .filter(|t| {
                args.filter
                    .as_ref()
                    .is_none_or(|f| t.name.contains(f.as_str()))
            })
            .collect();
        let policy_name = file.policy.display().to_string();
        if !json {
            let n = tests.len();
            let s = if n == 1 { "" } else { "s" };
            let gap = if files_shown > 0 { "\n" } else { "" };
            let _ = writeln!(
                out,
                "{gap}{}: {n} test{s} of {}",
                escape_non_printing(&file_name),
                escape_non_printing(&policy_name)
            );
            files_shown += 1;
        }
        for t in tests {
            let result = t.run(policy, &entities);
            if let Some(c) = &mut loaded.coverage {
                c.record(&result.decision);
            }
            if result.passed() {
                passed += 1;
            } else {
                failed += 1;
                failures.push(format!(
                    "{}: {}",
                    escape_non_printing(&file_name),
                    escape_non_printing(&result.name)
                ));
                if status == PASSED {
                    status = FAILED;
                }
            }
            if json {
                emit(&mut out, &test_json(&file_name, &policy_name, &result));
            } else {
                let _ = write!(out, "{}", test_text(&result, args.explain));
            }
        }
    }

    let loaded_coverage = order
        .iter()
        .filter_map(|p| policies.get(p).and_then(|l| l.coverage.as_ref()));
    let mut coverage_shown = false;
    for c in loaded_coverage {
        let below = args.min_coverage.filter(|&m| !c.meets(m));
        if below.is_some() && status == PASSED {
            status = FAILED;
        }
        if json {
            let uncovered = c.uncovered();
            let line = JsonLine::Coverage {
                policy: c.policy(),
                rules: c.total(),
                covered: c.covered(),
                uncovered: uncovered
                    .iter()
                    .map(|u| JsonRule {
                        rule: &u.rule,
                        text: &u.text,
                    })
                    .collect(),
                min_coverage: args.min_coverage,
                ok: below.is_none(),
            };
            emit(&mut out, &line);
            continue;
        }
        if !coverage_shown {
            let _ = writeln!(out);
            coverage_shown = true;
        }
        let _ = writeln!(
            out,
            "coverage: {}: {} of {} rules exercised ({})",
            escape_non_printing(c.policy()),
            c.covered(),
            c.total(),
            c.percent()
        );
        let uncovered: Vec<_> = c
            .uncovered()
            .into_iter()
            .map(|u| {
                (
                    escape_non_printing(&u.rule).into_owned(),
                    escape_non_printing(&u.text).into_owned(),
                )
            })
            .collect();
        let width = uncovered
            .iter()
            .map(|(rule, _)| rule.chars().count())
            .max()
            .unwrap_or(0);
        for (rule, text) in &uncovered {
            let pad = " ".repeat(width.saturating_sub(rule.chars().count()));
            let _ = writeln!(out, "  not exercised: {rule}{pad}  {text}");
        }
        if let Some(min) = below {
            let _ = writeln!(out, "  below --min-coverage {min}%");
        }
    }

    if json {
        let line = JsonLine::Summary {
            passed,
            failed,
            errors,
        };
        emit(&mut out, &line);
    } else {
        if !failures.is_empty() {
            let _ = writeln!(out, "\nfailed:");
            for f in &failures {
                let _ = writeln!(out, "  {f}");
            }
        }
        if errors > 0 {
            let s = if errors == 1 { "" } else { "s" };
            eprintln!("error: {errors} problem{s} kept tests from running");
        }
        let _ = writeln!(out, "\n{passed} passed, {failed} failed");
    }
    let _ = out.flush();
    status
}

/// One test's lines: `ok  NAME`, or `FAILED  NAME` with the differing fields and the decision.
fn test_text(r: &CaseResult, explain: bool) -> String {
    if r.passed() {
        return format!("ok      {}\n", escape_non_printing(&r.name));
    }
    let mut s = format!("FAILED  {}\n", escape_non_printing(&r.name));
    let mut detail = String::new();
    for p in &r.problems {
        let _ = writeln!(detail, "{}", escape_non_printing(p));
    }
    for m in &r.mismatches {
        let _ = writeln!(detail, "{}", escape_non_printing(&m.field));
        let _ = writeln!(detail, "  expected: {}", explain::show(&m.expected));
        let _ = writeln!(detail, "  actual:   {}", explain::show(&m.actual));
    }
    let decision = serde_json::to_value(&r.decision).unwrap_or_default();
    detail += &if explain {
        explain::render(&decision)
    } else {
        explain::verdict(&decision)
    };
    for line in detail.lines() {
        s.push_str("        ");
        s.push_str(line);
        s.push('\n');
    }
    s
}

fn test_json<'a>(file: &'a str, policy: &'a str, r: &'a CaseResult) -> JsonLine<'a> {
    let failed = !r.passed();
    JsonLine::Test {
        file,
        policy,
        name: &r.name,
        result: if failed { "failed" } else { "ok" },
        problems: failed.then_some(&r.problems[..]).filter(|p| !p.is_empty()),
        mismatches: failed.then(|| {
            r.mismatches
                .iter()
                .map(|m| JsonMismatch {
                    field: &m.field,
                    expected: &m.expected,
                    actual: &m.actual,
                })
                .collect()
        }),
        decision: failed.then(|| {
            Box::new(Decision {
                trace: None,
                ..r.decision.clone()
            })
        }),
    }
}

/// One line of `--format json` output; `type` comes first.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum JsonLine<'a> {
    /// One test's result; a failed test carries the fields that differ and its decision.
    Test {
        file: &'a str,
        policy: &'a str,
        name: &'a str,
        result: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        problems: Option<&'a [String]>,
        #[serde(skip_serializing_if = "Option::is_none")]
        mismatches: Option<Vec<JsonMismatch<'a>>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        decision: Option<Box<Decision<'a>>>,
    },
    /// A file that could not be run.
    Error { file: &'a str, message: &'a str },
    /// One policy's rule coverage.
    Coverage {
        policy: &'a str,
        rules: usize,
        covered: usize,
        uncovered: Vec<JsonRule<'a>>,
        min_coverage: Option<u8>,
        ok: bool,
    },
    /// The totals; always the last line.
    Summary {
        passed: usize,
        failed: usize,
        errors: usize,
    },
}

#[derive(Serialize)]
struct JsonMismatch<'a> {
    field: &'a str,
    expected: &'a Value,
    actual: &'a Value,
}

#[derive(Serialize)]
struct JsonRule<'a> {
    rule: &'a str,
    text: &'a str,
}

fn emit(out: &mut dyn Write, line: &JsonLine<'_>) {
    if let Ok(text) = serde_json::to_string(line) {
        let _ = writeln!(out, "{text}");
    }
}

//! The `orgscope` command line: argument parsing and dispatch, one file per subcommand.

mod check;
mod completions;
mod eval;
mod explain;
mod fmt;
mod openapi;
mod serve;
mod sql;
mod test;

use clap::{Parser, Subcommand};
use orgscope::Limits;
use std::path::{Path, PathBuf};

/// orgscope — multi-org data visibility policies for HTTP APIs.
#[derive(Debug, Parser)]
#[command(name = "orgscope", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse and validate policy files.
    Check(check::Args),
    /// Evaluate request descriptions against a policy.
    Eval(eval::Args),
    /// Format policy files in the canonical layout.
    Fmt(fmt::Args),
    /// Run policy test files.
    Test(test::Args),
    /// Run the decision service (HTTP decide, forward-auth, health, metrics).
    Serve(Box<serve::Args>),
    /// Decisions as SQL: filters, PostgreSQL row-level security, scoped queries.
    Sql(sql::Args),
    /// Print shell completions, or the man page.
    Completions(completions::Args),
    /// Lint API descriptions against the organization-ID guideline.
    Lint(openapi::LintArgs),
    /// Write policy declarations from an API description.
    Import(openapi::ImportArgs),
}

/// Exit status of the linting commands (`check`, `lint`): every file clean (warnings allowed).
const CLEAN: i32 = 0;
/// Exit status: a file has errors (or warnings under `--deny-warnings`).
const INVALID: i32 = 1;
/// Exit status: a file could not be read.
const UNREADABLE: i32 = 2;

fn main() {
    std::process::exit(run());
}

/// Runs the command line and returns the process exit code.
fn run() -> i32 {
    let cli = match Cli::try_parse_from(join_explain_value(std::env::args_os().collect())) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Fmt(args) => fmt::run(args),
        Command::Test(args) => test::run(args),
        Command::Serve(args) => serve::run(*args),
        Command::Sql(args) => sql::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Lint(args) => openapi::lint(args),
        Command::Import(args) => openapi::import(args),
    }
}

/// `eval --explain text` as `eval --explain=text`: the value of `--explain` is optional, so
/// clap takes it only after `=`; a following `json` or `text` is joined to it here (a request
/// file of that name is still read as `./text`). Other subcommands and words are left alone.
fn join_explain_value(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    if args.get(1).is_none_or(|a| a != "eval") {
        return args;
    }
    let mut i = 2;
    while i + 1 < args.len() && args[i] != "--" {
        if args[i] == "--explain" && (args[i + 1] == "json" || args[i + 1] == "text") {
            let value = args.remove(i + 1);
            args[i].push("=");
            args[i].push(value);
        }
        i += 1;
    }
    args
}

/// Every file whose name ends with `suffix` under `dir`, sorted, appended to `out` (each once),
/// skipping hidden directories and `target`. Symbolic links to directories are not entered (no
/// loops).
pub(crate) fn walk(dir: &Path, suffix: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let path = dir.join(&*name);
        let Ok(ty) = e.file_type() else { continue };
        if ty.is_dir() {
            if !name.starts_with('.') && name != "target" {
                walk(&path, suffix, out);
            }
        } else if name.ends_with(suffix)
            && std::fs::metadata(&path).is_ok_and(|m| m.is_file())
            && !out.contains(&path)
        {
            out.push(path);
        }
    }
}

/// The policy files named on a command line: a directory stands for every `*.policy` under it
/// (sorted); anything else, even unreadable, is kept as named so its error names it. Also the
/// errors for the directories with no policy file in them.
pub(crate) fn policy_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<String>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.is_dir() {
            let before = files.len();
            walk(p, ".policy", &mut files);
            if files.len() == before {
                errors.push(format!(
                    "no policy files (`*.policy`) under `{}`",
                    orgscope::diag::escape_non_printing(&p.display().to_string())
                ));
            }
        } else {
            files.push(p.clone());
        }
    }
    (files, errors)
}

/// Whether to colour output written to stderr.
pub(crate) fn stderr_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// The diagnostic style for stderr: colour only on a terminal.
pub(crate) fn stderr_style() -> orgscope::diag::Style {
    orgscope::diag::Style {
        color: stderr_is_terminal(),
    }
}

/// Policy-side limits, for every subcommand that loads a policy.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Policy limits")]
pub(crate) struct PolicyLimits {
    /// Largest policy file accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::DEFAULT.max_policy_bytes)]
    max_policy_bytes: usize,
    /// Most declarations and properties in one policy.
    #[arg(long, value_name = "N", default_value_t = Limits::DEFAULT.max_declarations)]
    max_declarations: usize,
    /// Longest `inherit` chain.
    #[arg(long, value_name = "N", default_value_t = Limits::DEFAULT.max_inheritance_depth)]
    max_inheritance_depth: usize,
    /// Most steps the checker spends looking for overlapping routes and endpoints.
    #[arg(long, value_name = "N", default_value_t = Limits::DEFAULT.max_overlap_steps)]
    max_overlap_steps: usize,
}

/// Request-side limits, for `eval`.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Request limits")]
pub(crate) struct RequestLimits {
    /// Largest request description (one NDJSON line or document), in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::DEFAULT.max_request_bytes)]
    max_request_bytes: usize,
    /// Deepest nesting of JSON arrays and objects in a request.
    #[arg(long, value_name = "N", default_value_t = Limits::DEFAULT.max_json_depth)]
    max_json_depth: usize,
    /// Largest org header value, in bytes (a policy's `max_length` may set less).
    #[arg(long, value_name = "BYTES", default_value_t = Limits::DEFAULT.max_header_bytes)]
    max_header_bytes: usize,
    /// Most orgs in one org header (a policy's `max_items` may set fewer).
    #[arg(long, value_name = "N", default_value_t = Limits::DEFAULT.max_header_items)]
    max_header_items: usize,
    /// Most objects one request may create.
    #[arg(long, value_name = "N", default_value_t = Limits::DEFAULT.max_objects)]
    max_objects: usize,
    /// Most entities in one request description.
    #[arg(long, value_name = "N", default_value_t = Limits::DEFAULT.max_request_entities)]
    max_request_entities: usize,
    /// Most entities in the `--entities` file.
    #[arg(long, value_name = "N", default_value_t = Limits::DEFAULT.max_file_entities)]
    max_file_entities: usize,
}

impl PolicyLimits {
    /// The limits, with the request side at its defaults.
    pub(crate) fn limits(&self) -> Limits {
        Limits {
            max_policy_bytes: self.max_policy_bytes,
            max_declarations: self.max_declarations,
            max_inheritance_depth: self.max_inheritance_depth,
            max_overlap_steps: self.max_overlap_steps,
            ..Limits::DEFAULT
        }
    }

    /// The limits, with the request side from `r`.
    pub(crate) fn with(&self, r: &RequestLimits) -> Limits {
        Limits {
            max_request_bytes: r.max_request_bytes,
            max_json_depth: r.max_json_depth,
            max_header_bytes: r.max_header_bytes,
            max_header_items: r.max_header_items,
            max_objects: r.max_objects,
            max_request_entities: r.max_request_entities,
            max_file_entities: r.max_file_entities,
            ..self.limits()
        }
    }
}

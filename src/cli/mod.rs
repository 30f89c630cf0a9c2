//! Command-line front end: argument parsing and dispatch, one file per subcommand.

mod check;
mod completions;
mod eval;
mod fmt;
mod test;

use clap::{Parser, Subcommand};

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
    /// Print shell completions, or the man page.
    Completions(completions::Args),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
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
        Command::Completions(args) => completions::run(args),
    }
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

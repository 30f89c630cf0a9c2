//! `orgscope check`: parse and validate policy files, printing diagnostics.

/// Arguments of `orgscope check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files to check.
    #[arg(required = true)]
    files: Vec<std::path::PathBuf>,
}

pub fn run(_args: Args) -> i32 {
    0
}

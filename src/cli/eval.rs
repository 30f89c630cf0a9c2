//! `orgscope eval`: evaluate request descriptions (one JSON object, or NDJSON) into decisions.

/// Arguments of `orgscope eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file.
    #[arg(long)]
    policy: std::path::PathBuf,
}

pub fn run(_args: Args) -> i32 {
    0
}

//! `orgscope fmt`: rewrite policy files in the canonical layout, keeping every comment.

/// Arguments of `orgscope fmt`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> i32 {
    eprintln!("error: `orgscope fmt` is not built yet");
    2
}

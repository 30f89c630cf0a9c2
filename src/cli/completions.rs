//! `orgscope completions`: shell completions and the man page, generated from the clap definition.

/// Arguments of `orgscope completions`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> i32 {
    eprintln!("error: `orgscope completions` is not built yet");
    2
}

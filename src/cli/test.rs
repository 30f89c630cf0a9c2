//! `orgscope test`: run policy test files (requests with expected decisions), with coverage.

/// Arguments of `orgscope test`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> i32 {
    eprintln!("error: `orgscope test` is not built yet");
    2
}

//! In-process time of one `Policy::evaluate_json` call, the floor the service load benchmark
//! subtracts from its latencies (bench-compare/service.sh).
//!
//! Usage: `cargo run --release -p orgscope --example eval_json_time POLICY REQUEST MS` prints
//! the decision (`allow`/`deny`) and the median nanoseconds per call over bursts of 1,000 calls
//! run for about MS milliseconds.

use orgscope::{EvalOptions, Policy};
use std::hint::black_box;
use std::time::{Duration, Instant};

const BURST: u32 = 1_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [policy, request, ms] = &args[..] else {
        eprintln!("usage: eval_json_time POLICY REQUEST MS");
        std::process::exit(2);
    };
    let read = |path: &str| {
        std::fs::read_to_string(path).unwrap_or_else(|e| {
            eprintln!("eval_json_time: cannot read `{path}`: {e}");
            std::process::exit(1)
        })
    };
    let policy = Policy::from_source(policy, &read(policy)).unwrap_or_else(|e| {
        eprintln!("eval_json_time: {e}");
        std::process::exit(1)
    });
    let request = read(request);
    let budget = Duration::from_millis(ms.parse().unwrap_or(500));
    let options = EvalOptions::default();
    let allow = policy.evaluate_json(&request, &options).is_allow();
    let mut bursts = Vec::new();
    let start = Instant::now();
    while bursts.is_empty() || start.elapsed() < budget {
        let t = Instant::now();
        for _ in 0..BURST {
            black_box(policy.evaluate_json(black_box(&request), &options));
        }
        bursts.push(t.elapsed().as_nanos() / u128::from(BURST));
    }
    bursts.sort_unstable();
    let median = bursts[bursts.len() / 2];
    println!("{} {median}", if allow { "allow" } else { "deny" });
}

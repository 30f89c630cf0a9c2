//! Decisions across cores: one thread, two threads sharing one `Policy`, two with a `Policy` each.
//!
//! A server shares one `Policy` between its workers, so a decision must not write to memory the
//! policy owns (a shared reference count bounces between cores). The two-thread runs are ratios
//! to the one-thread run of the same round, so a noisy shared machine shows up as a range.
//!
//!   cargo bench -p orgscope --bench threads            # 7 rounds of 400,000 decisions a thread
//!   ROUNDS=3 ITERS=100000 cargo bench -p orgscope --bench threads

use orgscope::{Policy, Request};
use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

const POLICY: &str = "policies/zuora-multi-org.policy";

/// The seed query and the seed create (two-level chain) of the comparison.
const REQUESTS: [(&str, &str); 2] = [
    (
        "query",
        r#"{"method": "POST", "path": "/query/jobs",
        "headers": {"Zuora-Org-Ids": "Asia, China"},
        "user": {"id": "u-1", "orgs": ["Asia", "China", "Japan"]}}"#,
    ),
    (
        "create",
        r#"{"method": "POST", "path": "/v1/action/create",
        "body": {"type": "InvoiceItem", "objects": [{"invoiceId": "I-1"}]},
        "headers": {"Zuora-Working-Org": "Asia"},
        "user": {"id": "u-1", "orgs": ["Asia", "China"]},
        "entities": [{"type": "account", "id": "A-1", "org": "Asia"},
                     {"type": "invoice", "id": "I-1", "org": "Asia"}]}"#,
    ),
];

fn env(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `iters` prebuilt decisions; the time they took.
fn run(policy: &Policy, request: &Request, iters: u32) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        black_box(policy.evaluate(black_box(request)));
    }
    start.elapsed()
}

/// Throughput of `threads` threads, each deciding `iters` times against the policy it is given,
/// relative to one thread: total decisions over the slowest thread's time.
fn parallel(policies: &[&Policy], request: &Request, iters: u32) -> f64 {
    let slowest = thread::scope(|s| {
        let handles: Vec<_> = policies
            .iter()
            .map(|p| s.spawn(move || run(p, request, iters)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a bench thread panicked"))
            .max()
            .unwrap_or_default()
    });
    (policies.len() as f64 * f64::from(iters)) / slowest.as_secs_f64()
}

fn range(v: &[f64]) -> String {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(0.0, f64::max);
    let mut sorted = v.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or_default();
    format!("{median:.2}× (range {lo:.2}–{hi:.2})")
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this once, briefly.
    let quick = !std::env::args().any(|a| a == "--bench");
    let rounds = if quick { 1 } else { env("ROUNDS", 7) };
    let iters = if quick { 1_000 } else { env("ITERS", 400_000) };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let shared = Policy::from_file(root.join(POLICY)).expect("the shipped policy loads");
    let own = Policy::from_file(root.join(POLICY)).expect("the shipped policy loads");
    println!("two threads vs one, {rounds} rounds of {iters} prebuilt decisions a thread");
    println!("| request | 1 thread | 2 threads, one shared Policy | 2 threads, one Policy each |");
    println!("|---|---:|---:|---:|");
    for (name, json) in REQUESTS {
        let request = Request::from_json(json).expect("the request parses");
        assert!(shared.evaluate(&request).is_allow());
        let (mut one, mut sharing, mut each) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let single = parallel(&[&shared], &request, iters);
            one.push(1e9 / single);
            sharing.push(parallel(&[&shared, &shared], &request, iters) / single);
            each.push(parallel(&[&shared, &own], &request, iters) / single);
        }
        println!(
            "| {name} | {} ns/decision | {} | {} |",
            range(&one).replace('×', ""),
            range(&sharing),
            range(&each)
        );
    }
}

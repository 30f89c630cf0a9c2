//! Decisions across cores: one thread, two threads sharing one `Policy`, two with a `Policy` each.
//!
//! A server shares one `Policy` between its workers, so a decision must not write to memory the
//! policy owns (a shared reference count bounces between cores). The two-thread runs are ratios
//! to the one-thread run of the same round, so a noisy shared machine shows up as a range.
//! On a machine whose cores are busy with other work, wall-clock throughput cannot show two
//! cores; the on-CPU time of each thread per decision (Linux `/proc/thread-self/schedstat`) can:
//! if the threads wrote to shared memory, a decision would cost more CPU time when they share
//! a `Policy` than when each has its own.
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

/// The calling thread's time on a CPU so far, in nanoseconds (0 where the kernel does not say).
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// `iters` prebuilt decisions; the wall time they took and the thread's CPU time.
fn run(policy: &Policy, request: &Request, iters: u32) -> (Duration, u64) {
    let (start, cpu) = (Instant::now(), cpu_ns());
    for _ in 0..iters {
        black_box(policy.evaluate(black_box(request)));
    }
    (start.elapsed(), cpu_ns().saturating_sub(cpu))
}

/// Decisions per second of threads each deciding `iters` times against the policy it is given
/// (total decisions over the slowest thread's time), and CPU nanoseconds per decision.
fn parallel(policies: &[&Policy], request: &Request, iters: u32) -> (f64, f64) {
    let runs: Vec<(Duration, u64)> = thread::scope(|s| {
        let handles: Vec<_> = policies
            .iter()
            .map(|p| s.spawn(move || run(p, request, iters)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a bench thread panicked"))
            .collect()
    });
    let slowest = runs.iter().map(|r| r.0).max().unwrap_or_default();
    let decisions = policies.len() as f64 * f64::from(iters);
    let cpu: u64 = runs.iter().map(|r| r.1).sum();
    (decisions / slowest.as_secs_f64(), cpu as f64 / decisions)
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
    println!("| request | 1 thread | 2 threads, one shared Policy | 2 threads, one Policy each | CPU time per decision, shared ÷ one each |");
    println!("|---|---:|---:|---:|---:|");
    for (name, json) in REQUESTS {
        let request = Request::from_json(json).expect("the request parses");
        assert!(shared.evaluate(&request).is_allow());
        let (mut one, mut sharing, mut each, mut cpu) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let (single, _) = parallel(&[&shared], &request, iters);
            let (two_shared, cpu_shared) = parallel(&[&shared, &shared], &request, iters);
            let (two_own, cpu_own) = parallel(&[&shared, &own], &request, iters);
            one.push(1e9 / single);
            sharing.push(two_shared / single);
            each.push(two_own / single);
            cpu.push(cpu_shared / cpu_own);
        }
        println!(
            "| {name} | {} ns/decision | {} | {} | {} |",
            range(&one).replace('×', ""),
            range(&sharing),
            range(&each),
            range(&cpu)
        );
    }
}

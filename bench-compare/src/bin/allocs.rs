//! Heap allocations per orgscope decision, for the benchmark's decisions (a counting global
//! allocator around the system one). Prints a Markdown table.
//!
//! Usage: `allocs` for the table; `allocs --where` also prints, for one decision of each kind,
//! the orgscope frames of every allocation (needs the release profile's line tables).

use bench_compare::{scale, zuora, Scenario, World};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);
static TRACE: AtomicBool = AtomicBool::new(false);

thread_local! {
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

/// Prints the orgscope frames of the current allocation (once per allocation, not reentrant).
fn trace(size: usize) {
    if !TRACE.load(Relaxed) || INSIDE.with(|i| i.replace(true)) {
        return;
    }
    let bt = std::backtrace::Backtrace::force_capture().to_string();
    let mut frames = Vec::new();
    let mut keep = false;
    for line in bt.lines() {
        let line = line.trim();
        if let Some((_, name)) = line.split_once(": ") {
            keep = name.starts_with("orgscope::") || name.starts_with("<orgscope::");
            if keep {
                frames.push(name.to_string());
            }
        } else if keep && line.starts_with("at ") {
            if let Some(last) = frames.last_mut() {
                let at = line.trim_start_matches("at ");
                let at = at.rsplit_once("/src/").map_or(at, |(_, f)| f);
                *last = format!("{last} (src/{at})");
            }
        }
    }
    eprintln!("    alloc {size} B");
    for f in frames.iter().take(4) {
        eprintln!("      {f}");
    }
    INSIDE.with(|i| i.set(false));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(l.size() as u64, Relaxed);
        trace(l.size());
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(n as u64, Relaxed);
        trace(n);
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static A: Counting = Counting;

const N: u64 = 1000;

fn count(f: impl Fn()) -> (f64, f64) {
    let (a0, b0) = (ALLOCS.load(Relaxed), BYTES.load(Relaxed));
    for _ in 0..N {
        f();
    }
    let (a1, b1) = (ALLOCS.load(Relaxed), BYTES.load(Relaxed));
    ((a1 - a0) as f64 / N as f64, (b1 - b0) as f64 / N as f64)
}

fn row(world: &World, s: &Scenario) {
    let p = world.prepare(s);
    let (a, b) = count(|| {
        black_box(world.orgscope_eval(black_box(&p)));
    });
    let (aj, bj) = count(|| {
        black_box(world.orgscope_eval_json(black_box(&p.json)));
    });
    if std::env::args().any(|a| a == "--where") {
        eprintln!("{} (prebuilt):", s.name);
        TRACE.store(true, Relaxed);
        black_box(world.orgscope_eval(black_box(&p)));
        TRACE.store(false, Relaxed);
    }
    let d = world.orgscope_eval(&p);
    println!(
        "| {} | {} | {a:.1} ({b:.0} B) | {aj:.1} ({bj:.0} B) |",
        s.name,
        if d.is_allow() { "allow" } else { "deny" },
    );
}

fn main() {
    println!(
        "| decision | outcome | allocations per decision, prebuilt (bytes) | from JSON (bytes) |"
    );
    println!("|---|---|---:|---:|");
    let z = World::zuora();
    for s in zuora::agreement() {
        row(&z, &s);
    }
    let users = World::generated(scale::users_policy());
    for n in [1, 1000] {
        row(&users, &scale::query_user_orgs(n));
    }
    let g = scale::types_policy(10_000);
    let w = World::generated(g);
    row(&w, &scale::create_last_type(g, true));
}

//! Policy load (`Policy::from_source`: parse + check + compile) of generated policies, by stage, with peak heap, at several sizes.
//!
//! Prints two Markdown tables: the issue's size (10,000 object types, 1,000 orgs, 10,000 routes)
//! by stage, and the whole load at sizes from 1/8 to 2× of it, which shows whether it grows
//! linearly. The parse row is the path a load takes (the hand-written reader for these
//! well-formed files); the pest grammar alone, which reads files with syntax errors, is timed
//! beside it, after a check that both build the same tree, spans included. Stage times are medians over interleaved repetitions; peak heap is the most the
//! load holds at once beyond what was allocated before it (the policy text excluded), counted by
//! this binary's global allocator.
//!
//! Usage: `load [REPS]` (default 5 timed repetitions per size, after one warm-up); `load once`
//! loads the issue's size once and prints nothing, for a profiler (`valgrind --tool=callgrind`).

use bench_compare::Gen;
use orgscope::diag::Source;
use orgscope::Limits;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

/// The system allocator, counting the bytes live now and the most live since the last reset.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        System.dealloc(ptr, layout);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Relaxed);
            grow(new_size);
        }
        p
    }
}

fn grow(size: usize) {
    let live = LIVE.fetch_add(size, Relaxed) + size;
    PEAK.fetch_max(live, Relaxed);
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Milliseconds `f` takes, and the most heap it held at once beyond what was live before it.
fn measure<T>(f: impl FnOnce() -> T) -> (f64, usize, T) {
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let t = Instant::now();
    let out = f();
    let ms = t.elapsed().as_secs_f64() * 1e3;
    (ms, PEAK.load(Relaxed) - before, out)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// One generated policy and its timings: parse, parse by the pest grammar alone, check (on the
/// parsed tree), parse + check with diagnostics sorted (`check_source_with`), and the whole load.
struct Run {
    g: Gen,
    name: String,
    text: String,
    parse: Vec<f64>,
    pest: Vec<f64>,
    check: Vec<f64>,
    parse_check: Vec<f64>,
    load: Vec<f64>,
    peak: usize,
}

impl Run {
    fn new(g: Gen) -> Run {
        Run {
            name: format!("{}.policy", g.name()),
            text: g.orgscope_policy(),
            g,
            parse: Vec::new(),
            pest: Vec::new(),
            check: Vec::new(),
            parse_check: Vec::new(),
            load: Vec::new(),
            peak: 0,
        }
    }

    /// One repetition of every measurement.
    fn once(&mut self, by_stage: bool) {
        let limits = Limits::default();
        if by_stage {
            let src = Source::new(self.name.as_str(), self.text.as_str());
            let (ms, _, (ast, errors)) = measure(|| orgscope::parse::parse(&src));
            assert!(errors.is_empty(), "generated policy must parse");
            self.parse.push(ms);
            let (ms, _, (tree, errors)) = measure(|| orgscope::parse::parse_with_pest(&src));
            assert!(errors.is_empty(), "generated policy must parse with pest");
            self.pest.push(ms);
            drop(tree);
            let (ms, _, found) = measure(|| orgscope::check::check_with(&ast, &limits));
            assert!(found.is_empty(), "generated policy must check");
            self.check.push(ms);
            drop((ast, found));
            let (ms, _, checked) = measure(|| orgscope::check_source_with(&src, &limits));
            assert!(!checked.has_errors());
            self.parse_check.push(ms);
        }
        let (ms, peak, p) = measure(|| orgscope::Policy::from_source(&self.name, &self.text));
        assert!(p.is_ok(), "generated policy must load");
        drop(p);
        self.load.push(ms);
        self.peak = self.peak.max(peak);
    }

    fn mb(&self) -> f64 {
        self.text.len() as f64 / 1e6
    }
}

fn main() {
    let arg = std::env::args().nth(1);
    let issue = Gen {
        orgs: 1000,
        types: 10_000,
        routes: 10_000,
    };
    if arg.as_deref() == Some("once") {
        Run::new(issue).once(false);
        return;
    }
    let reps: usize = arg.and_then(|s| s.parse().ok()).unwrap_or(5).max(1);
    let mut runs: Vec<Run> = [1usize, 2, 4, 8, 16]
        .iter()
        .map(|&f| {
            Run::new(Gen {
                orgs: issue.orgs * f / 8,
                types: issue.types * f / 8,
                routes: issue.routes * f / 8,
            })
        })
        .collect();
    let at_issue = 3;
    // The load reads these files on the fast path, into pest's tree: checked once, untimed.
    for r in &runs {
        let src = Source::new(r.name.as_str(), r.text.as_str());
        let fast =
            orgscope::parse::parse_fast(&src).expect("the fast path reads a generated policy");
        let (tree, _) = orgscope::parse::parse_with_pest(&src);
        assert_eq!(
            format!("{fast:?}"),
            format!("{tree:?}"),
            "the two parsers' trees differ"
        );
    }
    // Warm-up, then the sizes interleaved within each repetition.
    for r in &mut runs {
        r.once(true);
        *r = Run::new(r.g);
    }
    for _ in 0..reps {
        for r in &mut runs {
            r.once(true);
        }
    }

    let r = &runs[at_issue];
    let (parse, pest, check, pc, load) = (
        median(r.parse.clone()),
        median(r.pest.clone()),
        median(r.check.clone()),
        median(r.parse_check.clone()),
        median(r.load.clone()),
    );
    println!(
        "At the issue's size: {} object types, {} orgs, {} routes, a {:.2} MB policy (medians of {reps}):",
        r.g.types,
        r.g.orgs,
        r.g.routes,
        r.mb()
    );
    println!();
    println!("| stage | time | share |");
    println!("|---|---:|---:|");
    let row =
        |stage: &str, ms: f64| println!("| {stage} | {ms:.1} ms | {:.0}% |", ms / load * 100.0);
    // Each row is its own median: the derived compile row carries the others' noise.
    row("parse", parse);
    row(
        "(parse by the pest grammar alone, not part of the load)",
        pest,
    );
    row("check (on the parsed tree)", check);
    row(
        "parse + check + limits, diagnostics sorted (`check_source_with`)",
        pc,
    );
    row("compile (load − the row above)", (load - pc).max(0.0));
    row("**load** (`Policy::from_source`)", load);
    println!();
    println!(
        "Peak heap during the load: {:.1} MB, **{:.1}×** the policy's size.",
        r.peak as f64 / 1e6,
        r.peak as f64 / r.text.len() as f64
    );
    println!();
    println!(
        "| object types | orgs | routes | policy size | load (median of {reps}) | min | per MB | peak heap | × size |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &runs {
        let load = median(r.load.clone());
        let min = r.load.iter().copied().fold(f64::INFINITY, f64::min);
        println!(
            "| {} | {} | {} | {:.2} MB | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} MB | {:.1}× |",
            r.g.types,
            r.g.orgs,
            r.g.routes,
            r.mb(),
            load,
            min,
            load / r.mb(),
            r.peak as f64 / 1e6,
            r.peak as f64 / r.text.len() as f64
        );
    }
}

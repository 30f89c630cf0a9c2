//! Policy load time (parse + check + compile, `Policy::from_source`) of generated policies,
//! at several sizes, to show that it grows linearly. Prints a Markdown table.
//!
//! Usage: `load [REPS]` (default 5 timed repetitions per size, after one warm-up).

use bench_compare::Gen;
use std::time::Instant;

fn main() {
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    println!(
        "| object types | orgs | routes | policy size | load (median of {reps}) | min | per MB |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for f in [1usize, 2, 4, 8, 16] {
        let g = Gen {
            orgs: 125 * f,
            types: 1250 * f,
            routes: 625 * f,
        };
        let text = g.orgscope_policy();
        let name = format!("{}.policy", g.name());
        let once = || {
            let t = Instant::now();
            let p = orgscope::Policy::from_source(&name, &text);
            let el = t.elapsed();
            assert!(p.is_ok(), "generated policy must load");
            drop(p);
            el.as_secs_f64() * 1e3
        };
        once();
        let mut ms: Vec<f64> = (0..reps.max(1)).map(|_| once()).collect();
        ms.sort_by(f64::total_cmp);
        let median = ms[ms.len() / 2];
        let mb = text.len() as f64 / 1e6;
        println!(
            "| {} | {} | {} | {:.2} MB | {:.1} ms | {:.1} ms | {:.1} ms |",
            g.types,
            g.orgs,
            g.routes,
            mb,
            median,
            ms[0],
            median / mb
        );
    }
}

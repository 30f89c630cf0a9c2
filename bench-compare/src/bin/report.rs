//! Turns one criterion run of `benches/compare.rs` into Markdown tables: per-decision medians,
//! throughput, orgscope's throughput ratio to Cedar and regorus, and the targets.
//!
//! Usage: `report CRITERION_DIR` (e.g. `$CARGO_TARGET_DIR/criterion`).

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

const ENGINES: [&str; 4] = ["orgscope", "cedar", "cedar_set", "regorus"];
const MODES: [&str; 2] = ["prebuilt", "json"];

type Results = BTreeMap<(String, String, String), f64>;

fn median_ns(dir: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(dir.join("new/estimates.json")).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v["median"]["point_estimate"].as_f64()
}

fn load(root: &Path) -> Results {
    let mut out = Results::new();
    let Ok(groups) = std::fs::read_dir(root) else {
        return out;
    };
    for g in groups.flatten() {
        let group = g.file_name().to_string_lossy().to_string();
        for e in ENGINES {
            for m in MODES {
                if let Some(ns) = median_ns(&g.path().join(e).join(m)) {
                    out.insert((group.clone(), e.to_string(), m.to_string()), ns);
                }
            }
        }
    }
    out
}

fn time(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

fn rate(ns: f64) -> String {
    let per_s = 1e9 / ns;
    if per_s >= 1e6 {
        format!("{:.2} M/s", per_s / 1e6)
    } else if per_s >= 1e3 {
        format!("{:.1} k/s", per_s / 1e3)
    } else {
        format!("{per_s:.0} /s")
    }
}

fn cell(r: &Results, group: &str, engine: &str, mode: &str) -> String {
    match r.get(&(group.into(), engine.into(), mode.into())) {
        Some(ns) => format!("{} ({})", time(*ns), rate(*ns)),
        None => "–".into(),
    }
}

fn get(r: &Results, group: &str, engine: &str, mode: &str) -> Option<f64> {
    r.get(&(group.into(), engine.into(), mode.into())).copied()
}

/// The fastest Cedar variant for a decision (per-org or one-call).
fn best_cedar(r: &Results, group: &str, mode: &str) -> Option<f64> {
    match (
        get(r, group, "cedar", mode),
        get(r, group, "cedar_set", mode),
    ) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn ratio(peer: Option<f64>, ours: Option<f64>) -> Option<f64> {
    Some(peer? / ours?)
}

fn fmt_ratio(x: Option<f64>) -> String {
    match x {
        Some(x) if x >= 10.0 => format!("{x:.0}×"),
        Some(x) => format!("{x:.1}×"),
        None => "–".into(),
    }
}

fn describe(group: &str) -> String {
    match group {
        "a_query" => "(a) query, `Zuora-Org-Ids: Asia, China`".into(),
        "b_create_invoice" => "(b) create invoice ← account".into(),
        "b_create_chain" => "(b) create invoice_item ← invoice (chain)".into(),
        g => {
            if let Some(n) = g.strip_prefix("c_users_") {
                format!("(c) query, user with {n} orgs")
            } else if let Some(rest) = g.strip_prefix("c_types_") {
                let (t, what) = rest.split_once('_').unwrap_or((rest, ""));
                format!("(c) {what}, {t} object types")
            } else {
                g.to_string()
            }
        }
    }
}

fn order(groups: &[String]) -> Vec<String> {
    let rank = |g: &str| -> (u8, u64, String) {
        let num = |s: &str| s.parse::<u64>().unwrap_or(0);
        match g {
            "a_query" => (0, 0, String::new()),
            "b_create_invoice" => (1, 0, String::new()),
            "b_create_chain" => (2, 0, String::new()),
            _ => {
                if let Some(n) = g.strip_prefix("c_users_") {
                    (3, num(n), String::new())
                } else if let Some(rest) = g.strip_prefix("c_types_") {
                    let (t, what) = rest.split_once('_').unwrap_or((rest, ""));
                    (if what == "query" { 4 } else { 5 }, num(t), what.into())
                } else {
                    (9, 0, g.into())
                }
            }
        }
    };
    let mut v = groups.to_vec();
    v.sort_by_key(|g| rank(g));
    v
}

fn main() {
    let root = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/criterion".into());
    let r = load(Path::new(&root));
    if r.is_empty() {
        eprintln!("report: no criterion results under {root}");
        std::process::exit(1);
    }
    let mut groups: Vec<String> = r.keys().map(|(g, _, _)| g.clone()).collect();
    groups.dedup();
    let groups = order(&groups);

    for mode in MODES {
        println!(
            "\n#### {}\n",
            if mode == "prebuilt" {
                "From a prebuilt request (median per decision, and decisions per second)"
            } else {
                "From the JSON request (parse + evaluate, median and decisions per second)"
            }
        );
        println!("| decision | orgscope | Cedar (per org) | Cedar (one call) | regorus | orgscope ÷ Cedar (best) | orgscope ÷ regorus |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
        for g in &groups {
            let ours = get(&r, g, "orgscope", mode);
            println!(
                "| {} | {} | {} | {} | {} | {} | {} |",
                describe(g),
                cell(&r, g, "orgscope", mode),
                cell(&r, g, "cedar", mode),
                cell(&r, g, "cedar_set", mode),
                cell(&r, g, "regorus", mode),
                fmt_ratio(ratio(best_cedar(&r, g, mode), ours)),
                fmt_ratio(ratio(get(&r, g, "regorus", mode), ours)),
            );
        }
    }

    println!("\n#### Targets (from this run)\n");
    println!("| target | measured | met |");
    println!("|---|---|---|");
    for g in ["a_query", "b_create_invoice", "b_create_chain"] {
        for mode in MODES {
            let ours = get(&r, g, "orgscope", mode);
            let c = ratio(best_cedar(&r, g, mode), ours);
            let o = ratio(get(&r, g, "regorus", mode), ours);
            if let (Some(c), Some(o)) = (c, o) {
                println!(
                    "| {} ({mode}): ≥10× Cedar, ≥20× regorus | {} Cedar, {} regorus | {} |",
                    describe(g),
                    fmt_ratio(Some(c)),
                    fmt_ratio(Some(o)),
                    yes(c >= 10.0 && o >= 20.0)
                );
            }
        }
    }
    if let Some(ns) = get(&r, "a_query", "orgscope", "prebuilt") {
        println!(
            "| (a) prebuilt ≥ 2,000,000 decisions/s on one core | {} | {} |",
            rate(ns),
            yes(1e9 / ns >= 2e6)
        );
    }
    for what in ["query", "create"] {
        let sizes: Vec<(String, f64)> = ["10", "1000", "10000"]
            .iter()
            .filter_map(|t| {
                get(&r, &format!("c_types_{t}_{what}"), "orgscope", "prebuilt")
                    .map(|ns| (t.to_string(), ns))
            })
            .collect();
        if sizes.len() >= 2 {
            let min = sizes.iter().map(|s| s.1).fold(f64::MAX, f64::min);
            let max = sizes.iter().map(|s| s.1).fold(0.0, f64::max);
            println!(
                "| {what} cost independent of #object types and routes (10 → 10,000 types) | {} (max/min {:.2}) | {} |",
                sizes
                    .iter()
                    .map(|(t, ns)| format!("{t}: {}", time(*ns)))
                    .collect::<Vec<_>>()
                    .join(", "),
                max / min,
                yes(max / min <= 1.25)
            );
        }
    }
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "**no**"
    }
}

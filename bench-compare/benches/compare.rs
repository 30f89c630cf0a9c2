//! orgscope vs cedar-policy vs regorus: the same decisions, asserted equal, then timed with the
//! engines interleaved, so that every ratio compares runs made seconds apart.
//!
//! Decisions: `a_query` (`Zuora-Org-Ids: Asia, China` on the shipped Zuora policy),
//! `b_create_invoice` and `b_create_chain` (creates inheriting their parent's org, one and two
//! levels), `c_users_N` (a user with N = 1 to 1,000 orgs in a 1,000-org directory), and
//! `c_types_T_query` / `c_types_T_create` (generated policies with T = 10 to 10,000 object
//! types and T/2 routes).
//!
//! Each round times every engine and mode of a decision in bursts, the engines taking turns, in
//! an order rotated from round to round, and keeps each one's fastest burst; a ratio is computed
//! within each round and reported as its median and range over the rounds. `prebuilt`: each
//! engine's native input is built outside the timed loop (orgscope `Request`, also with a
//! resolved `Principal`; Cedar `Request` + `Entities`; regorus `Value`).
//! `json`: from orgscope's request description, parsed inside the loop (for Cedar, by the
//! application's serde glue).
//!
//!   cargo bench -p bench-compare --bench compare              # everything, Markdown out
//!   cargo bench -p bench-compare --bench compare -- users     # decisions whose name has `users`
//!
//! Environment: `ROUNDS` (default 9), `SAMPLE_MS` (time per engine per round, default 40),
//! `BURSTS` (bursts per engine per round, default 8: the fastest counts).

use bench_compare::{
    rego_eval, rego_eval_json, rvm_eval, rvm_eval_json, scale, zuora, Prepared, World,
};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// How the input reaches the engine.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Prebuilt,
    Json,
}

/// The engines, in table order.
const ENGINES: [&str; 5] = ["orgscope", "principal", "cedar", "rvm", "regorus"];

/// One engine in one mode of one decision, and its time per decision in each round.
struct Timed<'a> {
    engine: &'static str,
    mode: Mode,
    run: Box<dyn FnMut() -> bool + 'a>,
    iters: u32,
    ns: Vec<f64>,
}

/// One decision's results.
struct Case {
    name: String,
    timed: Vec<(&'static str, Mode, Vec<f64>)>,
}

impl Case {
    fn ns(&self, engine: &str, mode: Mode) -> Option<&[f64]> {
        self.timed
            .iter()
            .find(|(e, m, _)| *e == engine && *m == mode)
            .map(|(_, _, ns)| ns.as_slice())
    }

    /// `peer`'s time over `ours`, round by round.
    fn ratios(&self, peer: (&str, Mode), ours: (&str, Mode)) -> Option<Vec<f64>> {
        let (p, o) = (self.ns(peer.0, peer.1)?, self.ns(ours.0, ours.1)?);
        Some(p.iter().zip(o).map(|(p, o)| p / o).collect())
    }
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn time(f: &mut dyn FnMut() -> bool, iters: u32) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        black_box(f());
    }
    start.elapsed()
}

/// Iterations that take about `sample`.
fn calibrate(f: &mut dyn FnMut() -> bool, sample: Duration) -> u32 {
    let mut n = 1u32;
    loop {
        let t = time(f, n);
        if t >= sample / 8 || n >= 1 << 24 {
            let per = t.as_secs_f64() / f64::from(n);
            return ((sample.as_secs_f64() / per) as u32).max(1);
        }
        n *= 4;
    }
}

fn engines<'a>(world: &'a World, p: &'a Prepared) -> Vec<Timed<'a>> {
    let t = |engine, mode, run: Box<dyn FnMut() -> bool + 'a>| Timed {
        engine,
        mode,
        run,
        iters: 0,
        ns: Vec::new(),
    };
    let (mut rego, mut rego_j) = (world.rego.clone(), world.rego.clone());
    let (mut vm, mut vm_j) = (world.new_vm(), world.new_vm());
    use Mode::*;
    vec![
        t(
            "orgscope",
            Prebuilt,
            Box::new(|| world.orgscope_eval(black_box(p)).is_allow()),
        ),
        t(
            "principal",
            Prebuilt,
            Box::new(|| world.orgscope_eval_principal(black_box(p)).is_allow()),
        ),
        t(
            "orgscope",
            Json,
            Box::new(|| world.orgscope_eval_json(black_box(&p.json)).is_allow()),
        ),
        t(
            "cedar",
            Prebuilt,
            Box::new(|| world.cedar.eval(black_box(p.cedar.as_ref()))),
        ),
        t(
            "cedar",
            Json,
            Box::new(|| world.cedar.eval_json(black_box(&p.json))),
        ),
        t(
            "rvm",
            Prebuilt,
            Box::new(move || {
                bench_compare::rego_allows(&rvm_eval(&mut vm, black_box(&p.rego_input).clone()))
            }),
        ),
        t(
            "rvm",
            Json,
            Box::new(move || {
                bench_compare::rego_allows(&rvm_eval_json(&mut vm_j, black_box(&p.json)))
            }),
        ),
        t(
            "regorus",
            Prebuilt,
            Box::new(move || {
                bench_compare::rego_allows(&rego_eval(&mut rego, black_box(&p.rego_input).clone()))
            }),
        ),
        t(
            "regorus",
            Json,
            Box::new(move || {
                bench_compare::rego_allows(&rego_eval_json(&mut rego_j, black_box(&p.json)))
            }),
        ),
    ]
}

/// Times every engine of one decision, interleaved, over `rounds` rounds. Within a round each
/// engine runs `bursts` times, the engines taking turns burst by burst; its time in the round
/// is its fastest burst (other processes can only add time to a burst, never remove it).
fn measure(
    name: &str,
    world: &World,
    p: &Prepared,
    rounds: usize,
    bursts: usize,
    sample: Duration,
) -> Case {
    let mut timed = engines(world, p);
    let burst = sample / bursts.max(1) as u32;
    for t in &mut timed {
        t.iters = calibrate(&mut t.run, burst);
    }
    let n = timed.len();
    for round in 0..rounds {
        let mut best = vec![f64::INFINITY; n];
        for b in 0..bursts.max(1) {
            for i in 0..n {
                let k = (i + round + b) % n;
                let t = &mut timed[k];
                let d = time(&mut t.run, t.iters);
                best[k] = best[k].min(d.as_nanos() as f64 / f64::from(t.iters));
            }
        }
        for (t, ns) in timed.iter_mut().zip(best) {
            t.ns.push(ns);
        }
    }
    eprintln!("bench-compare: timed {name}");
    Case {
        name: name.to_string(),
        timed: timed
            .into_iter()
            .map(|t| (t.engine, t.mode, t.ns))
            .collect(),
    }
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s.get(s.len() / 2).copied().unwrap_or(f64::NAN)
}

fn fmt_time(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

fn fmt_x(x: f64) -> String {
    if x >= 10.0 {
        format!("{x:.0}×")
    } else {
        format!("{x:.2}×")
    }
}

/// `median× (min–max)` of a ratio over the rounds.
fn fmt_ratio(r: Option<Vec<f64>>) -> String {
    match r {
        Some(r) if !r.is_empty() => {
            let lo = r.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = r.iter().copied().fold(0.0, f64::max);
            format!("{} ({}–{})", fmt_x(median(&r)), fmt_x(lo), fmt_x(hi))
        }
        _ => "–".into(),
    }
}

fn describe(name: &str) -> String {
    match name {
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

fn report(cases: &[Case], rounds: usize, bursts: usize, sample: Duration) {
    println!(
        "{rounds} rounds; in each, every engine and mode of a decision runs {bursts} bursts of \
         about {} ms, the engines taking turns burst by burst in an order rotated from round \
         to round, and its time in the round is its fastest burst. Times are medians over the \
         rounds; a ratio is the peer's time over orgscope's in the same round: median \
         (min–max over the rounds).",
        (sample / bursts.max(1) as u32).as_millis()
    );
    for mode in [Mode::Prebuilt, Mode::Json] {
        let m = match mode {
            Mode::Prebuilt => {
                println!("\n#### From prebuilt inputs\n");
                println!("| decision | orgscope | orgscope, cached principal | Cedar | regorus RVM | regorus interpreter | ÷ Cedar | ÷ RVM | ÷ interpreter | Cedar ÷ cached principal |");
                println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
                mode
            }
            Mode::Json => {
                println!("\n#### From the JSON request (parse included)\n");
                println!("| decision | orgscope | Cedar | regorus RVM | regorus interpreter | ÷ Cedar | ÷ RVM | ÷ interpreter |");
                println!("|---|---:|---:|---:|---:|---:|---:|---:|");
                mode
            }
        };
        for c in cases {
            let cells: Vec<String> = ENGINES
                .iter()
                .filter(|e| m == Mode::Prebuilt || **e != "principal")
                .map(|e| c.ns(e, m).map_or("–".into(), |ns| fmt_time(median(ns))))
                .collect();
            let mut ratios: Vec<String> = ["cedar", "rvm", "regorus"]
                .iter()
                .map(|peer| fmt_ratio(c.ratios((peer, m), ("orgscope", m))))
                .collect();
            if m == Mode::Prebuilt {
                ratios.push(fmt_ratio(
                    c.ratios(("cedar", m), ("principal", Mode::Prebuilt)),
                ));
            }
            println!(
                "| {} | {} | {} |",
                describe(&c.name),
                cells.join(" | "),
                ratios.join(" | ")
            );
        }
    }
    targets(cases);
}

fn targets(cases: &[Case]) {
    println!("\n#### Targets (issue 13), from this run\n");
    println!("| target | measured: median (min–max) | met (median / every round) |");
    println!("|---|---|---|");
    let met = |r: &[f64], target: f64| {
        let lo = r.iter().copied().fold(f64::INFINITY, f64::min);
        match (median(r) >= target, lo >= target) {
            (true, true) => "yes / yes",
            (true, false) => "yes / no",
            _ => "**no**",
        }
    };
    for name in ["a_query", "b_create_invoice", "b_create_chain"] {
        let Some(c) = cases.iter().find(|c| c.name == name) else {
            continue;
        };
        for (mode, label, cedar_x, rvm_x) in [
            (Mode::Json, "from JSON", 10.0, 15.0),
            (Mode::Prebuilt, "prebuilt", 10.0, 25.0),
        ] {
            for (peer, x, peer_name) in [("cedar", cedar_x, "Cedar"), ("rvm", rvm_x, "regorus RVM")]
            {
                if let Some(r) = c.ratios((peer, mode), ("orgscope", mode)) {
                    println!(
                        "| {} ({label}): ≥ {x}× {peer_name} | {} | {} |",
                        describe(name),
                        fmt_ratio(Some(r.clone())),
                        met(&r, x)
                    );
                }
            }
        }
    }
    if let Some(c) = cases.iter().find(|c| c.name == "c_users_1000") {
        if let Some(r) = c.ratios(("cedar", Mode::Prebuilt), ("principal", Mode::Prebuilt)) {
            println!(
                "| cached principal with 1,000 orgs no slower than Cedar prebuilt (Cedar ÷ orgscope ≥ 1×) | {} | {} |",
                fmt_ratio(Some(r.clone())),
                met(&r, 1.0)
            );
        }
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs everything once, briefly.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = !args.iter().any(|a| a == "--bench");
    let filter = args.iter().find(|a| !a.starts_with("--")).cloned();
    let rounds = if quick { 1 } else { env("ROUNDS", 9) as usize };
    let sample = Duration::from_millis(if quick { 1 } else { env("SAMPLE_MS", 40) });
    let bursts = if quick { 1 } else { env("BURSTS", 8) as usize };

    // Build every world and assert agreement before timing anything.
    let t0 = Instant::now();
    let zuora_world = World::zuora();
    let mut log = zuora_world.assert_agreement(&zuora::agreement());
    let users = World::generated(scale::users_policy());
    for n in [1, 10, 100, 1000] {
        log +=
            &users.assert_agreement(&[scale::query_user_orgs(n), scale::query_user_orgs_deny(n)]);
    }
    let mut type_worlds = Vec::new();
    for t in [10, 1_000, 10_000] {
        let g = scale::types_policy(t);
        let w = World::generated(g);
        let (query, create) = (scale::query_ten(), scale::create_last_type(g, true));
        log += &w.assert_agreement(&[
            query.clone(),
            create.clone(),
            scale::create_last_type(g, false),
        ]);
        type_worlds.push((t, w, query, create));
    }
    eprintln!(
        "bench-compare: every engine agrees on {} requests (setup {:.1} s):\n{log}",
        log.lines().count(),
        t0.elapsed().as_secs_f64()
    );

    let mut plan: Vec<(String, &World, bench_compare::Scenario)> = vec![
        ("a_query".into(), &zuora_world, zuora::query()),
        (
            "b_create_invoice".into(),
            &zuora_world,
            zuora::create_invoice(),
        ),
        ("b_create_chain".into(), &zuora_world, zuora::create_chain()),
    ];
    for n in [1, 10, 100, 1000] {
        plan.push((format!("c_users_{n}"), &users, scale::query_user_orgs(n)));
    }
    for (t, w, query, create) in &type_worlds {
        plan.push((format!("c_types_{t}_query"), w, query.clone()));
        plan.push((format!("c_types_{t}_create"), w, create.clone()));
    }
    let cases: Vec<Case> = plan
        .iter()
        .filter(|(name, _, _)| filter.as_ref().is_none_or(|f| name.contains(f.as_str())))
        .map(|(name, world, s)| measure(name, world, &world.prepare(s), rounds, bursts, sample))
        .collect();
    report(&cases, rounds, bursts, sample);
}

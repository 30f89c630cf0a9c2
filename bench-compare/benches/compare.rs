//! orgscope vs cedar-policy vs regorus: the same decisions, asserted equal, then timed in one
//! criterion run. Groups (one per decision; functions `ENGINE/prebuilt` and `ENGINE/json`):
//!
//! - `a_query`: `Zuora-Org-Ids: Asia, China` on the shipped Zuora policy;
//! - `b_create_invoice`, `b_create_chain`: creates inheriting their parent's org (one and two
//!   levels);
//! - `c_users_N`: a user with N = 1, 10, 100, 1,000 orgs (generated policy, 1,000 orgs);
//! - `c_types_T_query`, `c_types_T_create`: generated policies with T = 10, 1,000, 10,000
//!   object types and T/2 routes.
//!
//! `prebuilt`: each engine's native request object is built outside the timed loop (orgscope
//! `Request`; Cedar `Request`s + `Entities`; regorus `Value`). `json`: the text is parsed inside
//! the loop (orgscope request description; Cedar's entity/context JSON; the same request
//! description as Rego input). `bench-compare/run.sh` turns the results into tables.
//!
//! Environment: `BENCH_SECS` (measurement time per benchmark, default 1.5), `BENCH_SAMPLES`
//! (default 20).

use bench_compare::{rego_eval, rego_eval_json, scale, zuora, Prepared, World};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

fn bench_decision(c: &mut Criterion, group: &str, world: &World, p: &Prepared) {
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(1));
    g.bench_function(BenchmarkId::new("orgscope", "prebuilt"), |b| {
        b.iter(|| world.orgscope_eval(black_box(p)))
    });
    g.bench_function(BenchmarkId::new("orgscope", "json"), |b| {
        b.iter(|| world.orgscope_eval_json(black_box(&p.json)))
    });
    g.bench_function(BenchmarkId::new("cedar", "prebuilt"), |b| {
        b.iter(|| world.cedar_eval(black_box(&p.cedar)))
    });
    g.bench_function(BenchmarkId::new("cedar", "json"), |b| {
        b.iter(|| world.cedar_eval_json(black_box(&p.cedar_json)))
    });
    if let (Some(set), Some(set_json)) = (&p.cedar_set, &p.cedar_set_json) {
        g.bench_function(BenchmarkId::new("cedar_set", "prebuilt"), |b| {
            b.iter(|| world.cedar_eval(black_box(set)))
        });
        g.bench_function(BenchmarkId::new("cedar_set", "json"), |b| {
            b.iter(|| world.cedar_eval_json(black_box(set_json)))
        });
    }
    let mut engine = world.rego.clone();
    g.bench_function(BenchmarkId::new("regorus", "prebuilt"), |b| {
        b.iter(|| rego_eval(&mut engine, black_box(&p.rego_input).clone()))
    });
    g.bench_function(BenchmarkId::new("regorus", "json"), |b| {
        b.iter(|| rego_eval_json(&mut engine, black_box(&p.json)))
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    // Build every world and assert agreement before timing anything.
    let t0 = std::time::Instant::now();
    let zuora_world = World::zuora();
    let mut log = zuora_world.assert_agreement(&zuora::agreement());

    let users = World::generated(scale::users_policy());
    let mut user_cases = Vec::new();
    for n in [1, 10, 100, 1000] {
        user_cases.push((n, scale::query_user_orgs(n)));
        log +=
            &users.assert_agreement(&[scale::query_user_orgs(n), scale::query_user_orgs_deny(n)]);
    }

    let mut type_worlds = Vec::new();
    for t in [10, 1_000, 10_000] {
        let g = scale::types_policy(t);
        let w = World::generated(g);
        let query = scale::query_ten();
        let create = scale::create_last_type(g, true);
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

    bench_decision(
        c,
        "a_query",
        &zuora_world,
        &zuora_world.prepare(&zuora::query()),
    );
    bench_decision(
        c,
        "b_create_invoice",
        &zuora_world,
        &zuora_world.prepare(&zuora::create_invoice()),
    );
    bench_decision(
        c,
        "b_create_chain",
        &zuora_world,
        &zuora_world.prepare(&zuora::create_chain()),
    );
    for (n, s) in &user_cases {
        bench_decision(c, &format!("c_users_{n}"), &users, &users.prepare(s));
    }
    for (t, w, query, create) in &type_worlds {
        bench_decision(c, &format!("c_types_{t}_query"), w, &w.prepare(query));
        bench_decision(c, &format!("c_types_{t}_create"), w, &w.prepare(create));
    }
}

fn config() -> Criterion {
    let secs: f64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.5);
    let samples: usize = std::env::var("BENCH_SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    Criterion::default()
        .sample_size(samples.max(10))
        .measurement_time(Duration::from_secs_f64(secs))
        .warm_up_time(Duration::from_millis(500))
        .without_plots()
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench
}
criterion_main!(benches);

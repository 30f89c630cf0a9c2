//! Scoping cost: the seed's query job and a typical join, rewritten for a decision.

use criterion::{criterion_group, criterion_main, Criterion};
use orgscope::{EvalOptions, Policy};
use orgscope_sql::{filter, scope, Dialect, Mapping};
use std::hint::black_box;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn bench(c: &mut Criterion) {
    let policy = Policy::from_file(format!("{ROOT}/policies/zuora-multi-org.policy")).unwrap();
    let mapping =
        Mapping::from_file(format!("{ROOT}/policies/zuora-multi-org.sql.toml"), &policy).unwrap();
    let decision = policy.evaluate_json(
        r#"{"method": "POST", "path": "/query/jobs", "headers": {"Zuora-Org-Ids": "Asia, China"},
            "user": {"orgs": ["Asia", "China", "Japan"]}}"#,
        &EvalOptions::new(),
    );
    let seed = "select accountnumber, balance from account";
    let join = "select a.accountnumber, sum(i.amount) from account a \
                join invoice i on i.account_id = a.id where i.amount > 100 \
                group by a.accountnumber order by 2 desc limit 10";
    c.bench_function("scope the seed query", |b| {
        b.iter(|| scope(black_box(seed), &decision, &mapping, Dialect::Postgres).unwrap())
    });
    c.bench_function("scope a join with aggregates", |b| {
        b.iter(|| scope(black_box(join), &decision, &mapping, Dialect::Postgres).unwrap())
    });
    let account = mapping.object(&policy, "account").unwrap();
    c.bench_function("filter", |b| {
        b.iter(|| filter(black_box(&decision), account, Dialect::Postgres))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

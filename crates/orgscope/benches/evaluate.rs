//! `Policy::evaluate` on the shipped policies, with a baseline measured in the same run.
//!
//! The machine is shared and noisy, so compare each figure with `baseline/*` from the same run
//! rather than with absolute numbers: `baseline/subset_check` is the bare work a hand-written
//! check of `Zuora-Org-Ids` ⊆ user orgs would do, `baseline/parse_request` is serde parsing the
//! same request description.

use criterion::{criterion_group, criterion_main, Criterion};
use orgscope::{EvalOptions, Policy, Request};
use std::hint::black_box;

const QUERY: &str = r#"{"method": "POST", "path": "/query/jobs",
    "headers": {"Zuora-Org-Ids": "Asia, China"},
    "user": {"id": "u-1", "orgs": ["Asia", "China", "Japan"]}}"#;

const CHAIN: &str = r#"{"method": "POST", "path": "/v1/action/create",
    "body": {"type": "InvoiceItem", "objects": [{"invoiceId": "I-1"}]},
    "headers": {"Zuora-Working-Org": "Asia"},
    "user": {"id": "u-1", "orgs": ["Asia", "China"]},
    "entities": [{"type": "account", "id": "A-1", "org": "Asia"},
                 {"type": "invoice", "id": "I-1", "org": "Asia"}]}"#;

const ORG_ID_PATH: &str = r#"{"method": "GET", "path": "/v1/organizations/o-42/products",
    "user": {"id": "u-1", "orgs": ["o-1", "o-42", "o-7"]}}"#;

fn bench(c: &mut Criterion) {
    let zuora = Policy::from_file("policies/zuora-multi-org.policy").unwrap();
    let aep = Policy::from_file("policies/aep-organization-id.policy").unwrap();
    let query = Request::from_json(QUERY).unwrap();
    let chain = Request::from_json(CHAIN).unwrap();
    let org_id = Request::from_json(ORG_ID_PATH).unwrap();
    assert!(zuora.evaluate(&query).is_allow());
    assert!(zuora.evaluate(&chain).is_allow());
    assert!(aep.evaluate(&org_id).is_allow());

    let mut g = c.benchmark_group("baseline");
    g.bench_function("subset_check", |b| {
        let user = ["Asia", "China", "Japan"];
        b.iter(|| {
            let header = black_box("Asia, China");
            header.split(',').map(str::trim).all(|o| user.contains(&o))
        })
    });
    g.bench_function("parse_request", |b| {
        b.iter(|| Request::from_json(black_box(QUERY)).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("evaluate");
    g.bench_function("query_org_ids", |b| {
        b.iter(|| zuora.evaluate(black_box(&query)))
    });
    g.bench_function("create_two_level_chain", |b| {
        b.iter(|| zuora.evaluate(black_box(&chain)))
    });
    g.bench_function("org_id_path", |b| {
        b.iter(|| aep.evaluate(black_box(&org_id)))
    });
    g.finish();

    let mut g = c.benchmark_group("evaluate_json");
    g.bench_function("query_org_ids", |b| {
        b.iter(|| zuora.evaluate_json(black_box(QUERY), &EvalOptions::default()))
    });
    g.finish();

    // A create's cost per object, from 1 object and 1 entity to 1,000 of each (issue 13: within
    // 2×). Read each figure divided by its object count.
    let mut g = c.benchmark_group("create_objects_entities");
    for n in [1, 1000] {
        let objects: Vec<_> = (0..n)
            .map(|i| serde_json::json!({"invoiceId": format!("I-{i}")}))
            .collect();
        let entities: Vec<_> = (0..n)
            .map(|i| serde_json::json!({"type": "invoice", "id": format!("I-{i}"), "org": "Asia"}))
            .collect();
        let req = serde_json::json!({
            "method": "POST", "path": "/v1/action/create",
            "body": {"type": "InvoiceItem", "objects": objects},
            "user": {"id": "u-1", "orgs": ["Asia", "China"]},
            "entities": entities,
        });
        let req = Request::from_json(&req.to_string()).unwrap();
        assert!(zuora.evaluate(&req).is_allow());
        g.bench_function(n.to_string(), |b| {
            b.iter(|| zuora.evaluate(black_box(&req)))
        });
    }
    g.finish();

    // The seed query in a directory of 4 to 100,000 orgs (issue 13: within 1.5×): a small
    // user's decision must not pay for the directory's size.
    let shipped = std::fs::read_to_string("policies/zuora-multi-org.policy").unwrap();
    let mut g = c.benchmark_group("directory_size");
    for n in [4, 1000, 100_000] {
        let extra: String = (4..n).map(|i| format!("  org Org{i}\n")).collect();
        let text = shipped.replace("  org Europe\n", &format!("  org Europe\n{extra}"));
        let policy = Policy::from_source("sized.policy", &text).unwrap();
        assert!(policy.evaluate(&query).is_allow());
        g.bench_function(n.to_string(), |b| {
            b.iter(|| policy.evaluate(black_box(&query)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

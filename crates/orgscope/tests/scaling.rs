//! Big inputs stay cheap: policies built here at the sizes of issue 17 load, evaluate and format
//! in bounded time and output, without panicking; and the `#[ignore]`d scaling tier (run with
//! `cargo test --release -- --ignored`) times each family at two sizes 4× apart and fails when
//! the cost grows superlinearly. The seeds of the `big_inputs` fuzz target, a few bytes each
//! that expand to megabytes, are replayed here too.

use orgscope::diag::Source;
use orgscope::format::format;
use orgscope::{Policy, Request};
use std::time::{Duration, Instant};

mod common;
mod growth;

// The fuzz targets' checks and the `big_inputs` expansion (fuzz/src/big.rs refers to `checks`).
#[path = "../../../fuzz/src/big.rs"]
mod big;
#[allow(dead_code)]
#[path = "../../../fuzz/src/checks.rs"]
mod checks;

/// A chain of `n` orgs, each the parent of the next, with `descendant_access on`, and a route
/// whose visibility header names orgs.
fn org_chain(n: usize) -> String {
    let mut p = String::from("orgs {\n  descendant_access on\n  org o0\n");
    for i in 1..n {
        p.push_str(&format!("  org o{i} parent o{}\n", i - 1));
    }
    p.push_str("}\n\nheader X-Org {\n  role visibility\n  list\n  subset_of user.orgs\n}\n\n");
    p.push_str("route GET /a -> query\n");
    p
}

/// Loads the chain and asks for its deepest org as a user of its root (allowed only through
/// descendant access) and of its deepest org's child-less sibling level (denied).
fn load_and_evaluate_chain(n: usize) {
    let policy = Policy::from_source("chain.policy", &org_chain(n)).expect("the chain loads");
    let last = format!("o{}", n - 1);
    let ask = |user_org: &str| {
        let json = format!(
            r#"{{"method":"GET","path":"/a","headers":{{"X-Org":"{last}, o1"}},"user":{{"orgs":["{user_org}"]}}}}"#
        );
        policy.evaluate(&Request::from_json(&json).expect("request"))
    };
    let root = ask("o0");
    assert!(root.is_allow(), "{root:?}");
    assert_eq!(root.visible_org_names(), Some(vec!["o1", last.as_str()]));
    // o2 reaches o{n-1} but not its own ancestor o1.
    assert!(!ask("o2").is_allow());
}

/// One `width`-byte route and `short` short ones.
fn long_and_short_routes(width: usize, short: usize) -> String {
    let mut p = format!("route GET /{} -> query\n", "a".repeat(width));
    for i in 0..short {
        p.push_str(&format!("route GET /r{i} -> query\n"));
    }
    p
}

/// Formats `text`, checking the output is idempotent and at most 10× the input.
fn format_bounded(text: &str) -> String {
    let out = format(&Source::new("big.policy", text)).expect("formats");
    assert!(
        out.len() <= 10 * text.len(),
        "{} bytes formatted to {}",
        text.len(),
        out.len()
    );
    let again = format(&Source::new("big.policy", &out)).expect("formats again");
    assert!(again == out, "formatting is not idempotent");
    out
}

fn assert_under(limit: Duration, what: &str, f: impl FnOnce()) {
    let start = Instant::now();
    f();
    let took = start.elapsed();
    assert!(took < limit, "{what} took {took:?}");
}

#[test]
fn a_20000_org_chain_with_descendant_access_loads_and_evaluates_quickly() {
    assert_under(Duration::from_secs(2), "the 20,000-org chain", || {
        load_and_evaluate_chain(20_000)
    });
}

#[test]
fn a_route_wider_than_65535_formats_without_panicking() {
    let text = format!("route GET /{} -> query\n", "a".repeat(65_535));
    assert_eq!(format_bounded(&text), text);
}

#[test]
fn a_long_route_among_4000_short_ones_does_not_widen_them() {
    let text = long_and_short_routes(60_000, 4_000);
    assert_under(
        Duration::from_secs(2),
        "formatting 163 KB of routes",
        || {
            let out = format_bounded(&text);
            assert!(
                out.contains("\nroute GET /r10   -> query\n"),
                "short routes align"
            );
        },
    );
}

#[test]
fn alignment_is_capped_even_for_the_densest_routes() {
    // The worst case of the column caps: the widest method list and path that still align,
    // and thousands of the shortest routes written without spaces.
    let widest_methods = format!("{}POST", "GET|".repeat(9));
    let mut text = format!("route {widest_methods} /{}->query\n", "p".repeat(79));
    text.push_str(&"route GET /->query\n".repeat(5_000));
    let out = format_bounded(&text);
    let short = format!("route {:<40} {:<80} -> query\n", "GET", "/");
    assert!(out.ends_with(&short), "{}", &out[out.len() - 200..]);
}

#[test]
fn big_inputs_seeds_expand_to_megabytes_and_hold_every_invariant() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/seeds/big_inputs");
    let mut seeds: Vec<_> = std::fs::read_dir(dir)
        .expect("fuzz/seeds/big_inputs")
        .map(|e| e.expect("entry").path())
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty());
    let mut largest = 0;
    for path in seeds {
        let data = std::fs::read(&path).expect("seed");
        largest = largest.max(big::expand(&data).0.len());
        assert_under(Duration::from_secs(10), &path.display().to_string(), || {
            big::big_inputs(&data)
        });
    }
    assert!(largest > 500_000, "the seeds stay small: {largest} bytes");
}

// ------------------------------------------------------------------------------------ scaling

#[test]
#[ignore = "timing: run with cargo test --release -- --ignored"]
fn org_chain_load_scales_linearly() {
    growth::assert_linear("org chain", 5_000, |n| {
        growth::time(|| load_and_evaluate_chain(n)).1
    });
}

#[test]
#[ignore = "timing: run with cargo test --release -- --ignored"]
fn formatting_a_long_route_scales_linearly() {
    growth::assert_linear("one long route", 262_144, |n| {
        let text = format!("route GET /{} -> query\n", "a".repeat(n));
        growth::time(|| format_bounded(&text)).1
    });
}

#[test]
#[ignore = "timing: run with cargo test --release -- --ignored"]
fn formatting_many_routes_beside_a_long_one_scales_linearly() {
    growth::assert_linear("routes beside a long one", 2_000, |n| {
        let text = long_and_short_routes(15 * n, n);
        growth::time(|| format_bounded(&text)).1
    });
}

#[test]
#[ignore = "timing: run with cargo test --release -- --ignored"]
fn loading_many_types_orgs_and_routes_scales_linearly() {
    growth::assert_linear("types, orgs and routes", 2_500, |n| {
        let text = common::many_types(n);
        let (policy, took) = growth::time(|| Policy::from_source("types.policy", &text));
        let last = format!("t{}", n - 1);
        let policy = policy.expect("the policy loads");
        assert_eq!(policy.type_name(&last), Some(last.as_str()));
        took
    });
}

#[test]
#[ignore = "timing: run with cargo test --release -- --ignored"]
fn the_bar_fails_a_quadratic_cost() {
    // The shape of a real regression: each new item compared with every item before it.
    let quadratic = |n: usize| {
        growth::time(|| {
            let mut seen: Vec<String> = Vec::new();
            for i in 0..n {
                let item = std::hint::black_box(format!("o{i}"));
                if !seen.contains(&item) {
                    seen.push(item);
                }
            }
            seen.len()
        })
        .1
    };
    let verdict = growth::linear("a list deduplicated by scanning", 1_000, quadratic);
    assert!(verdict.is_err(), "a quadratic cost passed the bar");
}

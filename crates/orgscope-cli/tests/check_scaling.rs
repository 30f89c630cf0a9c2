//! `orgscope check` on inputs nobody planned for (issue 17): each family of generated policies
//! is checked for the right answer at the size that once showed the problem, and — in the
//! `#[ignore]`d tests, run in CI with `cargo test --release -- --ignored` — for time that grows
//! linearly: a policy 4 times larger may take at most 8 times as long (see `growth`).

mod common;
#[path = "../../orgscope/tests/growth/mod.rs"]
mod growth;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

/// Writes `text` to a scratch file named `name` and returns its path.
fn write(name: &str, text: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("check_scaling");
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write policy");
    path
}

/// `orgscope check ARGS POLICY` on `text`, with how long it took.
fn check(name: &str, text: &str, args: &[&str]) -> (Output, Duration) {
    let path = write(name, text);
    let (out, took) = growth::time(|| {
        common::orgscope()
            .arg("check")
            .args(args)
            .arg(&path)
            .output()
    });
    (out.expect("run orgscope"), took)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Two routes sharing a prefix of `n` segments; they overlap only when `overlap`.
fn long_templates(n: usize, overlap: bool) -> String {
    let prefix = vec!["a"; n].join("/");
    let last = if overlap { "{p}" } else { "y" };
    format!(
        "object account\nroute GET /{prefix}/x -> query account\nroute GET /{prefix}/{last} -> query account\n"
    )
}

/// `n` routes and `n` endpoints, alternately starting with a literal and with a parameter, none
/// overlapping: every literal-first template meets every parameter-first one at its first
/// segment and differs from it at its second.
fn alternating(n: usize) -> String {
    let template = |i: usize| {
        if i.is_multiple_of(2) {
            format!("/l{i}/x")
        } else {
            format!("/{{p}}/y{i}")
        }
    };
    let mut out = String::from("object account\n");
    for i in 0..n {
        out += &format!("route GET {} -> query account\n", template(i));
    }
    out += "service s {\n";
    for i in 0..n {
        out += &format!("  endpoint GET {} {{ unscoped }}\n", template(i));
    }
    out + "}\n"
}

/// `n` padding routes that overlap nothing (as in [`alternating`]), then `/l0/a` and `/{q}/a`,
/// which overlap each other.
fn padded_pair(n: usize) -> String {
    let mut out = String::from("object account\n");
    for i in 0..n {
        if i.is_multiple_of(2) {
            out += &format!("route GET /m{i}/x -> query account\n");
        } else {
            out += &format!("route GET /{{p}}/y{i} -> query account\n");
        }
    }
    out + "route GET /l0/a -> query account\nroute GET /{q}/a -> query account\n"
}

/// An inheritance chain of `n` object types.
fn chain(n: usize) -> String {
    let mut out = String::from("object t0 { label body.org }\n");
    for i in 1..n {
        out += &format!("object t{i} {{ inherit t{} via body.p }}\n", i - 1);
    }
    out + "route GET /x -> query t0\n"
}

#[test]
fn routes_sharing_a_long_prefix() {
    let (out, _) = check("long_apart.policy", &long_templates(320_000, false), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (out, _) = check("long_overlap.policy", &long_templates(320_000, true), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error[overlapping_route]"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn many_routes_and_endpoints_that_do_not_overlap() {
    let text = alternating(50_000);
    assert!(text.len() > 3_000_000);
    let (out, _) = check("alternating.policy", &text, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn an_overlap_after_many_padding_routes_is_found() {
    for n in [1_000, 50_000] {
        let (out, _) = check("padded.policy", &padded_pair(n), &[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{n}: {err}");
        assert!(
            err.contains("error[overlapping_route]: route `GET /{q}/a` overlaps route `GET /l0/a`"),
            "{n}: {err}"
        );
        assert!(!err.contains("overlap_search_gave_up"), "{n}: {err}");
    }
}

#[test]
fn an_exhausted_overlap_search_is_an_error() {
    let (out, _) = check(
        "padded_tight.policy",
        &padded_pair(1_000),
        &["--max-overlap-steps", "5000"],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error[overlap_search_gave_up]: overlap search gave up after 5000 steps"),
        "{err}"
    );
    assert!(err.contains("`--max-overlap-steps`"), "{err}");
}

#[test]
fn long_inheritance_chains_under_a_raised_limit() {
    let (out, _) = check(
        "chain.policy",
        &chain(10_000),
        &["--max-inheritance-depth", "10000"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (out, _) = check(
        "chain_deep.policy",
        &chain(10_000),
        &["--max-inheritance-depth", "9998"],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("inheritance chain from `t9999` is 9999 links long, over the limit of 9998"),
        "{err}"
    );
}

/// Fails when checking the policy of size `4 * n` takes more than 8 times as long as size `n`.
fn linear(family: &str, n: usize, generate: impl Fn(usize) -> String, args: &[&str]) {
    let (small, large) = (generate(n), generate(4 * n));
    growth::assert_linear(family, n, |size| {
        let text = if size == n { &small } else { &large };
        check(&format!("{family}_{size}.policy"), text, args).1
    });
}

#[test]
#[ignore = "timing: run with `cargo test --release -- --ignored`"]
fn scaling_of_long_templates() {
    linear("long", 160_000, |n| long_templates(n, false), &[]);
}

#[test]
#[ignore = "timing: run with `cargo test --release -- --ignored`"]
fn scaling_of_many_templates() {
    linear("alternating", 12_500, alternating, &[]);
}

#[test]
#[ignore = "timing: run with `cargo test --release -- --ignored`"]
fn scaling_of_padding() {
    linear("padded", 25_000, padded_pair, &[]);
}

#[test]
#[ignore = "timing: run with `cargo test --release -- --ignored`"]
fn scaling_of_inheritance_chains() {
    linear(
        "chain",
        10_000,
        chain,
        &["--max-inheritance-depth", "100000"],
    );
}

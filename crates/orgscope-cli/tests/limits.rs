//! Every limit, through the CLI and the crate: over it, a clear error; the batch goes on.

mod common;

use common::{decisions, run};
use orgscope::{Limits, Policy};
use std::process::Output;

const ZUORA: &str = "policies/zuora-multi-org.policy";
const QUERY: &str = r#"{"id":"ok","action":"query","user":{"orgs":["Asia"]}}"#;

fn eval(args: &[&str], stdin: &[u8]) -> Output {
    let mut all = vec!["eval", "--policy", ZUORA];
    all.extend_from_slice(args);
    run(&all, stdin)
}

/// Runs `bad` then a good request; the first must be an `invalid_request` whose message
/// contains `want`, the second must still be answered.
fn refused(args: &[&str], bad: &str, want: &str) {
    let out = eval(args, format!("{bad}\n{QUERY}\n").as_bytes());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ds = decisions(&out);
    assert_eq!(ds.len(), 2, "{ds:?}");
    assert_eq!(ds[0]["errors"][0]["code"], "invalid_request", "{}", ds[0]);
    let msg = ds[0]["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains(want), "{msg}");
    assert_eq!(ds[1]["decision"], "allow");
}

#[test]
fn request_bytes() {
    let big = format!(
        r#"{{"action":"query","user":{{"orgs":["Asia"],"id":"{}"}}}}"#,
        "x".repeat(500)
    );
    refused(
        &["--max-request-bytes", "200"],
        &big,
        "over the limit of 200 bytes",
    );
}

#[test]
fn an_endless_line_costs_bounded_memory() {
    // 64 MiB without a newline, with the default 1 MiB limit: one deny, and the process stays
    // small (it keeps at most the limit of any one line).
    let mut input = vec![b'x'; 64 << 20];
    input.push(b'\n');
    input.extend_from_slice(QUERY.as_bytes());
    let out = eval(&[], &input);
    let ds = decisions(&out);
    assert_eq!(ds.len(), 2);
    assert_eq!(ds[0]["errors"][0]["code"], "invalid_request");
}

#[test]
fn json_depth() {
    let deep = format!(
        r#"{{"action":"query","user":{{"orgs":["Asia"]}},"body":{}{}}}"#,
        "[".repeat(100),
        "]".repeat(100)
    );
    refused(&[], &deep, "nests deeper than 64 levels");
    refused(
        &["--max-json-depth", "3"],
        r#"{"action":"query","user":{"orgs":["Asia"]},"body":{"a":{"b":{}}}}"#,
        "deeper than 3",
    );
}

#[test]
fn header_bytes_and_items() {
    let many = vec!["Asia"; 30].join(",");
    let req = format!(
        r#"{{"action":"query","headers":{{"Zuora-Org-Ids":"{many}"}},"user":{{"orgs":["Asia"]}}}}"#
    );
    refused(&["--max-header-items", "10"], &req, "more than 10 orgs");
    refused(&["--max-header-bytes", "20"], &req, "longer than 20 bytes");
    // The policy's own max_items (100) still applies under a larger engine limit.
    let many = vec!["Asia"; 101].join(",");
    let req = format!(
        r#"{{"action":"query","headers":{{"Zuora-Org-Ids":"{many}"}},"user":{{"orgs":["Asia"]}}}}"#
    );
    refused(&[], &req, "more than 100 orgs");
}

#[test]
fn objects_per_create() {
    let req = r#"{"method":"POST","path":"/v1/action/create","body":{"type":"Account","objects":[{"organizationLabel":"Asia"},{"organizationLabel":"Asia"}]},"user":{"orgs":["Asia"]}}"#;
    refused(&["--max-objects", "1"], req, "more than 1 objects");
}

#[test]
fn entities_per_request_and_per_file() {
    let req = r#"{"action":"query","user":{"orgs":["Asia"]},"entities":[{"type":"account","id":"a","org":null},{"type":"account","id":"b","org":null}]}"#;
    refused(
        &["--max-request-entities", "1"],
        req,
        "more than 1 entities",
    );

    let dir = std::env::temp_dir().join(format!("orgscope-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("e.ndjson");
    std::fs::write(&f, "{\"type\":\"account\",\"id\":\"a\",\"org\":null}\n{\"type\":\"account\",\"id\":\"b\",\"org\":null}\n").unwrap();
    let out = eval(
        &[
            "--max-file-entities",
            "1",
            "--entities",
            f.to_str().unwrap(),
        ],
        QUERY.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2: more than 1 entities"), "{err}");
}

#[test]
fn policy_side_limits_through_the_cli() {
    for (flag, value, code) in [
        ("--max-policy-bytes", "100", "policy_too_large"),
        ("--max-declarations", "5", "too_many_declarations"),
        ("--max-inheritance-depth", "1", "inheritance_too_deep"),
    ] {
        let out = eval(&[flag, value], QUERY.as_bytes());
        assert_eq!(out.status.code(), Some(2), "{flag}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(code), "{flag}: {err}");
    }
}

#[test]
fn limits_through_the_crate() {
    let text = std::fs::read_to_string(std::path::Path::new(common::ROOT).join(ZUORA)).unwrap();
    let tight = Limits {
        max_inheritance_depth: 1,
        ..Limits::default()
    };
    let err = Policy::from_source_with("z.policy", &text, tight).unwrap_err();
    let rendered = err.render(Default::default());
    assert!(rendered.contains("inheritance_too_deep"), "{rendered}");
    assert!(rendered.contains("`invoice_item`"), "{rendered}");

    let small = Limits {
        max_request_bytes: 50,
        ..Limits::default()
    };
    let p = Policy::from_source_with("z.policy", &text, small).unwrap();
    let d = p.evaluate_json(QUERY, &orgscope::EvalOptions::default());
    assert_eq!(d.errors[0].code.as_str(), "invalid_request");
    assert_eq!(
        Policy::from_source("z.policy", &text).unwrap().limits(),
        &Limits::DEFAULT
    );
}

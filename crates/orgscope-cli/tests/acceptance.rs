//! Acceptance tables for the shipped policies, through the real `orgscope eval` binary.
//!
//! Each `tests/acceptance/<policy>.ndjson` line is `{"case", "request", "expect"}`. All requests
//! of a table go through one `orgscope eval` run (NDJSON in, NDJSON out), with
//! `<policy>.entities.ndjson` as `--entities` when it exists. `expect` lists decision fields that
//! must match exactly, plus `code`/`message` (of the first error) and `warning` (a warning code).

mod common;

use serde_json::Value;
use std::path::Path;

fn run_table(policy: &str) {
    let root = Path::new(common::ROOT);
    let table = root.join(format!(
        "crates/orgscope-cli/tests/acceptance/{policy}.ndjson"
    ));
    let text = std::fs::read_to_string(&table).unwrap();
    let rows: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let input: String = rows.iter().map(|r| format!("{}\n", r["request"])).collect();

    let mut cmd = common::orgscope();
    cmd.args(["eval", "--policy", &format!("policies/{policy}.policy")]);
    let entities = format!("crates/orgscope-cli/tests/acceptance/{policy}.entities.ndjson");
    if root.join(&entities).exists() {
        cmd.args(["--entities", &entities]);
    }
    let out = common::run_with_input(cmd, input.as_bytes());
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        common::stderr(&out)
    );
    let decisions = common::decisions(&out);
    assert_eq!(decisions.len(), rows.len(), "one decision per request");

    let mut failures = Vec::new();
    for (row, decision) in rows.iter().zip(&decisions) {
        let case = row["case"].as_str().unwrap();
        for (key, want) in row["expect"].as_object().unwrap() {
            let got = match key.as_str() {
                "code" => &decision["errors"][0]["code"],
                "message" => &decision["errors"][0]["message"],
                "warning" => {
                    let codes: Vec<&Value> = decision["warnings"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|w| &w["code"])
                        .collect();
                    if !codes.contains(&want) {
                        failures.push(format!("{case}: no warning {want} in {decision}"));
                    }
                    continue;
                }
                other => &decision[other],
            };
            if got != want {
                failures.push(format!(
                    "{case}: `{key}` is {got}, expected {want}\n  {decision}"
                ));
            }
        }
        // Fail closed: every deny carries an error and every error means deny.
        let allowed = decision["decision"] == "allow";
        let has_errors = !decision["errors"].as_array().unwrap().is_empty();
        if allowed == has_errors {
            failures.push(format!("{case}: decision and errors disagree: {decision}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

#[test]
fn zuora_multi_org() {
    run_table("zuora-multi-org");
}

#[test]
fn aep_organization_id() {
    run_table("aep-organization-id");
}

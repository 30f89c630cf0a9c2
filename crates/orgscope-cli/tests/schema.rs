//! The JSON Schemas of docs/schema/ against what orgscope really reads and writes: every shipped
//! example request, every acceptance request and every decision the binary gives for them.
//!
//! The schemas use a small part of JSON Schema (`type`, `enum`, `properties`, `required`,
//! `additionalProperties`, `items`, `anyOf`, `pattern`, local `$ref`), checked by the validator
//! below rather than the `jsonschema` crate: that crate brings an HTTP client, a URL parser and
//! some forty other crates into the build of a shared 2-core machine for these seven keywords.
//! The validator refuses any keyword it does not know, so a schema cannot quietly outgrow it.

mod common;

use common::run;
use regex::Regex;
use serde_json::{json, Value};
use std::path::Path;

const REQUEST: &str = "docs/schema/request.schema.json";
const DECISION: &str = "docs/schema/decision.schema.json";

fn root() -> &'static Path {
    Path::new(common::ROOT)
}

fn load(rel: &str) -> Value {
    let text = std::fs::read_to_string(root().join(rel)).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Where `value` breaks `schema` (empty when it conforms), as `path: problem`.
fn validate(root: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        return out.push(format!("{at}: the schema is not an object"));
    };
    for (k, s) in schema {
        match k.as_str() {
            "$schema" | "$id" | "title" | "description" | "$defs" => {}
            "$ref" => {
                let name = s.as_str().and_then(|r| r.strip_prefix("#/$defs/"));
                match name.and_then(|n| root["$defs"].get(n)) {
                    Some(def) => validate(root, def, value, at, out),
                    None => out.push(format!("{at}: unknown $ref {s}")),
                }
            }
            "type" => {
                let types: Vec<&str> = match s {
                    Value::String(t) => vec![t.as_str()],
                    _ => s
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter_map(Value::as_str)
                        .collect(),
                };
                let ok = types.iter().any(|t| match *t {
                    "object" => value.is_object(),
                    "array" => value.is_array(),
                    "string" => value.is_string(),
                    "boolean" => value.is_boolean(),
                    "null" => value.is_null(),
                    "integer" => value.is_u64() || value.is_i64(),
                    "number" => value.is_number(),
                    _ => false,
                });
                if !ok {
                    out.push(format!("{at}: {value} is not of type {s}"));
                }
            }
            "enum" => {
                if !s.as_array().unwrap().contains(value) {
                    out.push(format!("{at}: {value} is not one of {s}"));
                }
            }
            "pattern" => {
                let re = Regex::new(s.as_str().unwrap()).unwrap();
                if value.as_str().is_some_and(|v| !re.is_match(v)) {
                    out.push(format!("{at}: {value} does not match {s}"));
                }
            }
            "required" => {
                for name in s.as_array().unwrap().iter().filter_map(Value::as_str) {
                    if value.as_object().is_some_and(|o| !o.contains_key(name)) {
                        out.push(format!("{at}: `{name}` is missing"));
                    }
                }
            }
            "properties" => {
                for (name, v) in value.as_object().into_iter().flatten() {
                    if let Some(p) = s.get(name) {
                        validate(root, p, v, &format!("{at}.{name}"), out);
                    }
                }
            }
            "additionalProperties" => {
                let declared = schema.get("properties");
                for (name, v) in value.as_object().into_iter().flatten() {
                    if declared.is_some_and(|d| d.get(name).is_some()) {
                        continue;
                    }
                    match s {
                        Value::Bool(false) => out.push(format!("{at}: unknown field `{name}`")),
                        Value::Bool(true) => {}
                        _ => validate(root, s, v, &format!("{at}.{name}"), out),
                    }
                }
            }
            "items" => {
                for (i, v) in value.as_array().into_iter().flatten().enumerate() {
                    validate(root, s, v, &format!("{at}[{i}]"), out);
                }
            }
            "anyOf" => {
                let fits = s.as_array().unwrap().iter().any(|alt| {
                    let mut errs = Vec::new();
                    validate(root, alt, value, at, &mut errs);
                    errs.is_empty()
                });
                if !fits {
                    out.push(format!("{at}: {value} fits none of {s}"));
                }
            }
            other => out.push(format!("{at}: the validator does not know `{other}`")),
        }
    }
}

fn problems(schema: &Value, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    validate(schema, schema, value, "$", &mut out);
    out
}

/// The decisions `orgscope eval --policy POLICY [--entities FILE]` gives for `requests`.
fn decide(policy: &str, entities: Option<&str>, requests: &[Value]) -> Vec<Value> {
    let mut args = vec!["eval", "--policy", policy, "--input", "ndjson"];
    if let Some(e) = entities {
        args.extend(["--entities", e]);
    }
    let input: String = requests.iter().map(|r| format!("{r}\n")).collect();
    let out = run(&args, input.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let ds = common::decisions(&out);
    assert_eq!(ds.len(), requests.len());
    ds
}

fn lines(rel: &str) -> Vec<Value> {
    std::fs::read_to_string(root().join(rel))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn every_shipped_example_request_and_its_decision_conform() {
    let (request, decision) = (load(REQUEST), load(DECISION));
    let requests = lines("examples/requests/zuora-multi-org.ndjson");
    assert!(requests.len() > 5);
    for r in &requests {
        assert_eq!(problems(&request, r), Vec::<String>::new(), "{r}");
    }
    let entities = Some("examples/requests/zuora-entities.ndjson");
    let policy = "policies/zuora-multi-org.policy";
    for (r, d) in requests.iter().zip(decide(policy, entities, &requests)) {
        assert_eq!(problems(&decision, &d), Vec::<String>::new(), "{r} -> {d}");
    }
}

#[test]
fn every_acceptance_request_and_decision_conform() {
    let (request, decision) = (load(REQUEST), load(DECISION));
    for policy in ["zuora-multi-org", "aep-organization-id"] {
        let cases = lines(&format!(
            "crates/orgscope-cli/tests/acceptance/{policy}.ndjson"
        ));
        let requests: Vec<Value> = cases.iter().map(|c| c["request"].clone()).collect();
        let entities = format!("crates/orgscope-cli/tests/acceptance/{policy}.entities.ndjson");
        let entities = root().join(&entities).exists().then_some(entities.as_str());
        let ds = decide(&format!("policies/{policy}.policy"), entities, &requests);
        let mut refused = 0;
        for ((c, r), d) in cases.iter().zip(&requests).zip(&ds) {
            assert_eq!(
                problems(&decision, d),
                Vec::<String>::new(),
                "{} -> {d}",
                c["case"]
            );
            // A description the schema refuses, the engine refuses too.
            if !problems(&request, r).is_empty() {
                refused += 1;
                assert_eq!(
                    d["errors"][0]["code"], "invalid_request",
                    "{}: {r}",
                    c["case"]
                );
            }
        }
        assert!(
            refused < cases.len() / 4,
            "{policy}: {refused} cases off the schema"
        );
    }
}

#[test]
fn the_schemas_refuse_what_the_engine_refuses() {
    let request = load(REQUEST);
    let ok = json!({"method": "GET", "path": "/v1/accounts", "user": {"orgs": ["Asia"]}});
    assert!(problems(&request, &ok).is_empty());
    let bad = [
        json!({"method": "GET"}),
        json!({"user": {"orgs": ["Asia"]}, "usr": {}}),
        json!({"user": {"orgs": "Asia"}}),
        json!({"user": {"orgs": []}, "action": "list"}),
        json!({"user": {"orgs": []}, "headers": {"X": 1}}),
        json!({"user": {"orgs": []}, "entities": [{"type": "account", "id": "A-1"}]}),
        json!({"user": {"orgs": []}, "tenant": {"multi_org": "yes"}}),
    ];
    let ds = decide("policies/zuora-multi-org.policy", None, &bad);
    for (r, d) in bad.iter().zip(&ds) {
        assert!(!problems(&request, r).is_empty(), "the schema accepts {r}");
        assert_eq!(d["errors"][0]["code"], "invalid_request", "{r} -> {d}");
    }
    let decision = load(DECISION);
    let allow = &decide("policies/zuora-multi-org.policy", None, &[ok])[0];
    assert!(problems(&decision, allow).is_empty());
    for (field, value) in [
        ("decision", json!("maybe")),
        ("status", json!(500)),
        ("rule", json!("nowhere")),
    ] {
        let mut d = allow.clone();
        d[field] = value;
        assert!(
            !problems(&decision, &d).is_empty(),
            "the schema accepts {d}"
        );
    }
    let mut unknown = allow.clone();
    unknown["extra"] = json!(1);
    assert!(!problems(&decision, &unknown).is_empty());
}

#[test]
fn the_examples_of_the_reference_page_conform() {
    let text = std::fs::read_to_string(root().join("docs/formats.md")).unwrap();
    let blocks: Vec<Value> = text
        .split("```json\n")
        .skip(1)
        .map(|b| serde_json::from_str(b.split("```").next().unwrap()).unwrap())
        .collect();
    assert_eq!(blocks.len(), 3, "a request, an allow and a deny");
    assert_eq!(problems(&load(REQUEST), &blocks[0]), Vec::<String>::new());
    for d in &blocks[1..] {
        assert_eq!(problems(&load(DECISION), d), Vec::<String>::new(), "{d}");
    }
}

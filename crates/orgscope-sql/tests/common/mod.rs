//! Shared test helpers: the shipped policy and mapping, decisions with chosen visible sets.
#![allow(dead_code)]

use orgscope::{Decision, EvalOptions, Policy};
use orgscope_sql::Mapping;

/// The repository root, where the shipped policies are.
pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The shipped Zuora policy.
pub fn policy() -> Policy {
    Policy::from_file(format!("{ROOT}/policies/zuora-multi-org.policy")).expect("policy")
}

/// The shipped mapping for it.
pub fn mapping(policy: &Policy) -> Mapping {
    Mapping::from_file(format!("{ROOT}/policies/zuora-multi-org.sql.toml"), policy)
        .expect("mapping")
}

/// The seed's query job decided for a user of Asia, China and Japan, with `header` as
/// `Zuora-Org-Ids` (none when empty).
pub fn query_decision<'p>(policy: &'p Policy, header: &str) -> Decision<'p> {
    let headers = if header.is_empty() {
        serde_json::json!({})
    } else {
        serde_json::json!({"Zuora-Org-Ids": header})
    };
    let req = serde_json::json!({
        "method": "POST", "path": "/query/jobs", "headers": headers,
        "user": {"orgs": ["Asia", "China", "Japan"]},
        "body": {"query": "select accountnumber, balance from account"}
    });
    policy.evaluate_json(&req.to_string(), &EvalOptions::new())
}

/// An allow decision with any visible set (names need not be in the policy's directory):
/// a real decision with its visible orgs replaced.
pub fn decision<'p>(policy: &'p Policy, visible: Option<&[&str]>, unlabeled: bool) -> Decision<'p> {
    let mut d = query_decision(policy, "");
    assert!(d.is_allow());
    d.visible_orgs = visible.map(|v| v.iter().map(|o| o.to_string().into()).collect());
    d.include_unlabeled = unlabeled;
    d
}

/// A real deny: the user asks for an org they cannot access.
pub fn deny(policy: &Policy) -> Decision<'_> {
    let req = r#"{"method": "POST", "path": "/query/jobs",
        "headers": {"Zuora-Org-Ids": "Europe"}, "user": {"orgs": ["Asia"]}}"#;
    let d = policy.evaluate_json(req, &EvalOptions::new());
    assert!(!d.is_allow());
    d
}

/// Org names that would break SQL if they were ever spliced into it.
pub const HOSTILE: &[&str] = &[
    "O'Brien",
    "a\"b",
    "back\\slash",
    "x' OR '1'='1",
    "-- comment",
    "/* c */",
    "$1",
    "?",
    "NULL",
    "{a,b}",
    "名前 🚀",
    "semi;colon",
];
#[path = "../../../../testsupport/pg.rs"]
pub mod pg;

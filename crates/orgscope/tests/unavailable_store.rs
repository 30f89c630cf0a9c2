//! A trusted store that cannot answer: every decision that consults it is a 503 deny.

use orgscope::{EntityLookup, EvalOptions, Found, Policy};
use serde_json::json;

struct Down;

impl EntityLookup for Down {
    fn find(&self, _: &str, _: &str) -> Found<'_> {
        Found::Unavailable
    }
}

fn policy() -> Policy {
    Policy::from_file(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../policies/zuora-multi-org.policy"),
    )
    .unwrap()
}

#[test]
fn a_store_that_cannot_answer_denies_with_503() {
    let policy = policy();
    let options = EvalOptions::new().entities(&Down);
    // The request's own entities claim a visible org: they never stand in for the store.
    let entities = json!([{"type": "account", "id": "A-1", "org": "Asia"}]);
    for req in [
        json!({"method": "GET", "path": "/v1/accounts/A-1", "user": {"orgs": ["Asia"]},
               "entities": entities}),
        json!({"method": "POST", "path": "/v1/invoices", "body": {"accountId": "A-1"},
               "user": {"orgs": ["Asia"]}, "entities": entities}),
        json!({"method": "POST", "path": "/v1/invoices", "body": {"accountId": "A-404"},
               "user": {"orgs": ["Asia"]}}),
    ] {
        let d = policy.evaluate_json(&req.to_string(), &options);
        assert!(!d.is_allow(), "{req}");
        assert_eq!(d.status, 503, "{req}");
        assert_eq!(d.errors[0].code.as_str(), "store_unavailable", "{req}");
        // The message names neither the id nor any org.
        let m = &d.errors[0].message;
        assert!(
            !m.contains("A-1") && !m.contains("A-404") && !m.contains("Asia"),
            "{m}"
        );
    }
    // A decision that needs no stored object does not consult the store.
    let query = json!({"method": "POST", "path": "/query/jobs", "user": {"orgs": ["Asia"]}});
    assert!(policy
        .evaluate_json(&query.to_string(), &options)
        .is_allow());
}

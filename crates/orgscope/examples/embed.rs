//! Embedding orgscope in a service: compile the policy once, share it between threads, and let
//! the engine look existing objects up in the service's own store.
//!
//! Run with `cargo run --example embed`.

use orgscope::{EntityLookup, EvalOptions, Found, Policy, Request};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

/// The service's own view of its data: (object type, id) → org (None when unlabeled).
struct Store {
    rows: HashMap<(&'static str, &'static str), Option<&'static str>>,
}

impl EntityLookup for Store {
    fn find(&self, object_type: &str, id: &str) -> Found<'_> {
        match self.rows.get(&(object_type, id)) {
            None => Found::Missing,
            Some(None) => Found::Unlabeled,
            Some(Some(org)) => Found::Org(Cow::Borrowed(org)),
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let policy = Arc::new(Policy::from_file("policies/zuora-multi-org.policy")?);
    let store = Arc::new(Store {
        rows: HashMap::from([
            (("account", "A-1"), Some("Asia")),
            (("account", "A-2"), Some("China")),
            (("invoice", "I-1"), Some("Asia")),
        ]),
    });

    // A request handler on each thread: describe the request, ask the policy, act on the answer.
    let handlers: Vec<_> = [
        ("POST", "/v1/invoices", r#"{"accountId": "A-1"}"#, "Asia"),
        ("POST", "/v1/invoices", r#"{"accountId": "A-2"}"#, "Asia"),
        ("GET", "/v1/accounts/A-2", "null", "China"),
    ]
    .into_iter()
    .map(|(method, path, body, org)| {
        let (policy, store) = (Arc::clone(&policy), Arc::clone(&store));
        std::thread::spawn(move || {
            let request = Request::from_json(&format!(
                r#"{{"method": "{method}", "path": "{path}", "body": {body},
                        "user": {{"id": "u-1", "orgs": ["{org}"]}}}}"#
            ))
            .expect("a well-formed request");
            let decision =
                policy.evaluate_with(&request, &EvalOptions::new().entities(store.as_ref()));
            format!(
                "{method} {path} as {org}: {} {} {}",
                decision.status,
                serde_json::to_string(&decision.labels).unwrap_or_default(),
                decision.errors.first().map_or("", |e| e.message.as_str())
            )
        })
    })
    .collect();
    for h in handlers {
        println!("{}", h.join().map_err(|_| "handler thread panicked")?);
    }
    Ok(())
}

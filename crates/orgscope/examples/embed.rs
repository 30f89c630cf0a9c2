//! Embedding orgscope in a service: compile the policy once, share it between threads, describe
//! each HTTP request with typed values, and let the engine look existing objects up in the
//! service's own store.
//!
//! Run with `cargo run --example embed`; `cargo test` runs its tests.

use orgscope::{Decision, EntityLookup, EvalOptions, Found, Policy, Request, User};
use serde_json::Value;
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

/// Decides one HTTP request: `method`, `path` and the raw `body` come from the end client,
/// `user_orgs` from the service's authentication. The description is built from typed values,
/// never by pasting the client's text into JSON: whatever the body holds stays inside `body`,
/// so it cannot add a field such as `"tenant": {"multi_org": false}` or a second `user`.
fn decide<'p>(
    policy: &'p Policy,
    store: &Store,
    method: &str,
    path: &str,
    body: &[u8],
    user_orgs: &[&str],
) -> Decision<'p> {
    let body = match body {
        [] => None,
        bytes => match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => Some(v),
            Err(e) => return Decision::invalid_request(None, format!("the body is not JSON: {e}")),
        },
    };
    let request = Request {
        method: Some(method.to_string()),
        path: Some(path.to_string()),
        body,
        user: User {
            id: Some("u-1".to_string()),
            orgs: user_orgs.iter().map(|o| o.to_string()).collect(),
            default_org: None,
        },
        ..Request::default()
    };
    policy.evaluate_with(&request, &EvalOptions::new().entities(store))
}

fn policy_and_store() -> Result<(Policy, Store), orgscope::PolicyError> {
    let policy = Policy::from_file("policies/zuora-multi-org.policy")?;
    let store = Store {
        rows: HashMap::from([
            (("account", "A-1"), Some("Asia")),
            (("account", "A-2"), Some("China")),
            (("invoice", "I-1"), Some("Asia")),
        ]),
    };
    Ok((policy, store))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (policy, store) = policy_and_store()?;
    let (policy, store) = (Arc::new(policy), Arc::new(store));

    // A request handler on each thread: describe the request, ask the policy, act on the answer.
    let handlers: Vec<_> = [
        ("POST", "/v1/invoices", r#"{"accountId": "A-1"}"#, "Asia"),
        ("POST", "/v1/invoices", r#"{"accountId": "A-2"}"#, "Asia"),
        ("GET", "/v1/accounts/A-2", "", "China"),
    ]
    .into_iter()
    .map(|(method, path, body, org)| {
        let (policy, store) = (Arc::clone(&policy), Arc::clone(&store));
        std::thread::spawn(move || {
            let decision = decide(&policy, &store, method, path, body.as_bytes(), &[org]);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn create_invoice(body: &str) -> Decision<'static> {
        let (policy, store) = policy_and_store().unwrap();
        decide(
            &policy,
            &store,
            "POST",
            "/v1/invoices",
            body.as_bytes(),
            &["Asia"],
        )
        .into_owned()
    }

    #[test]
    fn a_body_cannot_add_fields_to_the_description() {
        // Spliced into JSON text, this body turned Multi-Org off: an allow with no label.
        let d = create_invoice(r#"{"accountId":"A-4"}, "tenant":{"multi_org":false}"#);
        assert!(!d.is_allow());
        assert_eq!(d.errors[0].code.as_str(), "invalid_request");
        let d = create_invoice(
            r#"{"accountId":"A-2"}, "user": {"orgs": ["China"]}, "x": {"accountId":"A-1"}"#,
        );
        assert!(!d.is_allow());
    }

    #[test]
    fn fields_inside_the_body_stay_in_the_body() {
        let d = create_invoice(r#"{"accountId":"A-1","tenant":{"multi_org":false}}"#);
        assert!(d.is_allow());
        assert_eq!(d.visible_org_names(), Some(vec!["Asia"]));
        assert_eq!(d.labels[0].org.as_deref(), Some("Asia"));
        let d = create_invoice(r#"{"accountId":"A-2","user":{"orgs":["China"]}}"#);
        assert_eq!(d.errors[0].code.as_str(), "parent_not_found");
    }
}

//! `multi_org { lookalike_headers reject }` as properties over generated header names one edit
//! away from a declared org header, through the crate.
//!
//! - with the switch, every such name is denied 400 `invalid_request`, decided by the switch,
//!   with a body that does not depend on the header's value or the user's orgs (no oracle);
//! - with it off (`ignore`, the default), the decision is the one without the header plus an
//!   `org_header_misspelled` warning: it never widens or narrows anything;
//! - requests without a look-alike get the same decision whichever way the switch is set.

use orgscope::{Decision, Policy, Request};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::sync::OnceLock;

const ZUORA: &str = include_str!("../policies/zuora-multi-org.policy");
const DECLARED: [&str; 2] = ["Zuora-Org-Ids", "Zuora-Working-Org"];
const NAMES: [&str; 6] = ["Asia", "China", "Japan", "Narnia", " asia", ""];

/// The shipped policy with the switch set on the `when_disabled` line, so every other rule keeps
/// its `file:line:col`.
fn with_switch(mode: &str) -> Policy {
    let text = ZUORA.replacen(
        "  when_disabled reject\n",
        &format!("  when_disabled reject lookalike_headers {mode}\n"),
        1,
    );
    assert_ne!(
        text, ZUORA,
        "the shipped policy no longer has `when_disabled reject`"
    );
    Policy::from_source("zuora.policy", &text).unwrap()
}

fn shipped() -> &'static Policy {
    static P: OnceLock<Policy> = OnceLock::new();
    P.get_or_init(|| Policy::from_source("zuora.policy", ZUORA).unwrap())
}

fn rejecting() -> &'static Policy {
    static P: OnceLock<Policy> = OnceLock::new();
    P.get_or_init(|| with_switch("reject"))
}

fn ignoring() -> &'static Policy {
    static P: OnceLock<Policy> = OnceLock::new();
    P.get_or_init(|| with_switch("ignore"))
}

/// A header name one edit (insertion, deletion, substitution, swap of neighbours) away from a
/// declared org header, in any case, and not that header itself.
fn lookalike() -> impl Strategy<Value = String> {
    let alphabet: Vec<char> = ('a'..='z')
        .chain('A'..='Z')
        .chain('0'..='9')
        .chain(['-', '_'])
        .collect();
    (
        prop::sample::select(&DECLARED[..]),
        0..4u8,
        any::<prop::sample::Index>(),
        prop::sample::select(alphabet),
        any::<bool>(),
    )
        .prop_map(|(d, op, at, c, upper)| {
            let mut s: Vec<char> = d.chars().collect();
            let i = at.index(s.len());
            match op {
                0 => s.insert(at.index(s.len() + 1), c),
                1 => {
                    s.remove(i);
                }
                2 => s[i] = c,
                _ if i + 1 < s.len() => s.swap(i, i + 1),
                _ => s.swap(i - 1, i),
            }
            let s: String = s.into_iter().collect();
            if upper {
                s.to_ascii_uppercase()
            } else {
                s
            }
        })
        .prop_filter("not a declared header", |s| {
            !DECLARED.iter().any(|d| d.eq_ignore_ascii_case(s))
        })
}

fn name() -> impl Strategy<Value = String> {
    prop::sample::select(&NAMES[..]).prop_map(str::to_string)
}

fn users() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(name(), 0..3)
}

fn target() -> impl Strategy<Value = (&'static str, &'static str, Value)> {
    prop_oneof![
        Just(("POST", "/query/jobs", json!({}))),
        Just(("POST", "/v1/accounts", json!({}))),
        Just(("GET", "/v1/accounts/A-1", json!({}))),
    ]
}

fn decide<'p>(p: &'p Policy, req: &Value) -> Decision<'p> {
    p.evaluate(&Request::from_json(&req.to_string()).unwrap())
}

fn body(d: &Decision) -> String {
    serde_json::to_string(d).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_lookalike_is_denied_with_the_switch_whatever_it_names(
        header in lookalike(),
        value in name(),
        other in name(),
        orgs in users(),
        other_orgs in users(),
        declared in prop::option::of(name()),
        (method, path, b) in target(),
    ) {
        let req = |value: &str, orgs: &[String]| {
            let mut headers = json!({ header.clone(): value });
            if let Some(v) = &declared {
                headers["Zuora-Org-Ids"] = json!(v);
            }
            json!({"method": method, "path": path, "body": b, "headers": headers, "user": {"orgs": orgs}})
        };
        let d = decide(rejecting(), &req(&value, &orgs));
        prop_assert_eq!(d.status, 400, "{}", body(&d));
        prop_assert_eq!(d.errors.len(), 1);
        prop_assert_eq!(d.errors[0].code.as_str(), "invalid_request");
        prop_assert_eq!(d.rule.as_deref(), Some("zuora.policy:11:24"));
        let msg = &d.errors[0].message;
        prop_assert!(msg.contains(&format!("`{}`", header.to_ascii_lowercase())), "{msg}");
        prop_assert!(d.visible_orgs.is_none() && d.labels.is_empty());
        // The same body whatever the header names and whoever asks: no existence oracle.
        let again = decide(rejecting(), &req(&other, &other_orgs));
        prop_assert_eq!(body(&d), body(&again));
    }

    #[test]
    fn without_the_switch_a_lookalike_changes_nothing_but_a_warning(
        header in lookalike(),
        value in name(),
        orgs in users(),
        declared in prop::option::of(name()),
        (method, path, b) in target(),
    ) {
        let mut headers = json!({});
        if let Some(v) = &declared {
            headers["Zuora-Org-Ids"] = json!(v);
        }
        let plain = json!({"method": method, "path": path, "body": b, "headers": headers, "user": {"orgs": orgs}});
        let mut sent = plain.clone();
        sent["headers"][header.as_str()] = json!(value);
        let without = serde_json::to_value(decide(shipped(), &plain)).unwrap();
        for p in [shipped(), ignoring()] {
            let mut with = serde_json::to_value(decide(p, &sent)).unwrap();
            let allowed = with["status"] == 200;
            let warnings = with["warnings"].as_array_mut().unwrap();
            let at = warnings.iter().position(|w| w["code"] == "org_header_misspelled");
            // A deny that comes before the headers are applied has no warning to give.
            prop_assert!(at.is_some() || !allowed, "no warning for `{}`", header);
            if let Some(at) = at {
                warnings.remove(at);
            }
            prop_assert_eq!(&with, &without);
        }
    }

    #[test]
    fn the_switch_leaves_other_requests_alone(
        value in name(),
        orgs in users(),
        working in prop::option::of(name()),
        (method, path, b) in target(),
    ) {
        let mut headers = json!({"Zuora-Org-Ids": value, "X-Request-Id": "r-1"});
        if let Some(w) = &working {
            headers["Zuora-Working-Org"] = json!(w);
        }
        let req = json!({"method": method, "path": path, "body": b, "headers": headers, "user": {"orgs": orgs}});
        let shipped = body(&decide(shipped(), &req));
        prop_assert_eq!(&body(&decide(rejecting(), &req)), &shipped);
        prop_assert_eq!(&body(&decide(ignoring(), &req)), &shipped);
    }
}

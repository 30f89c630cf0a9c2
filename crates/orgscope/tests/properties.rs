//! Security invariants as properties over generated requests, through the crate.
//!
//! - a decision never shows an org the user may not access;
//! - a created label is accessible, and inside `Zuora-Org-Ids` when that is sent;
//! - an unknown org and an inaccessible org are answered with byte-identical bodies;
//! - an object the request cannot see is `not_found`, whether or not it exists;
//! - any error is a deny, with the status its code prescribes; the same input, the same output.

use orgscope::{Decision, Policy, Request};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::sync::OnceLock;

const ZUORA: &str = include_str!("../policies/zuora-multi-org.policy");
const AEP: &str = include_str!("../policies/aep-organization-id.policy");
const ORGS: [&str; 4] = ["Asia", "China", "Japan", "Europe"];
/// Names a request may use: the directory's, one outside it, and odd spellings.
const NAMES: [&str; 7] = ["Asia", "China", "Japan", "Europe", "Narnia", " asia", ""];

fn zuora() -> &'static Policy {
    static P: OnceLock<Policy> = OnceLock::new();
    P.get_or_init(|| Policy::from_source("zuora.policy", ZUORA).unwrap())
}

/// The Zuora policy with `Europe` removed from the directory, on the same lines.
fn zuora_without_europe() -> &'static Policy {
    static P: OnceLock<Policy> = OnceLock::new();
    P.get_or_init(|| {
        let text = ZUORA.replace("  org Europe", "  # gone");
        Policy::from_source("zuora.policy", &text).unwrap()
    })
}

fn aep() -> &'static Policy {
    static P: OnceLock<Policy> = OnceLock::new();
    P.get_or_init(|| Policy::from_source("aep.policy", AEP).unwrap())
}

fn name() -> impl Strategy<Value = String> {
    prop::sample::select(&NAMES[..]).prop_map(str::to_string)
}

fn org_list() -> impl Strategy<Value = String> {
    prop::collection::vec(name(), 0..4).prop_map(|v| v.join(","))
}

fn maybe<T: std::fmt::Debug + Clone>(
    s: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<T>> {
    prop::option::weighted(0.6, s)
}

const ACCOUNTS: [&str; 4] = ["A-0", "A-1", "A-2", "A-missing"];

prop_compose! {
    fn zuora_request()(
        user_orgs in prop::collection::vec(prop::sample::select(&ORGS[..]), 0..4),
        default_org in maybe(name()),
        org_ids in maybe(org_list()),
        working in maybe(name()),
        route in 0usize..6,
        label in maybe(name()),
        account in maybe(prop::sample::select(&ACCOUNTS[..])),
        account_orgs in prop::collection::vec(maybe(prop::sample::select(&ORGS[..])), 3),
        multi_org in maybe(any::<bool>()),
        n_objects in 1usize..3,
    ) -> Value {
        let (method, path) = match route {
            0 => ("POST", "/query/jobs".to_string()),
            1 => ("POST", "/v1/accounts".to_string()),
            2 => ("POST", "/v1/invoices".to_string()),
            3 => ("GET", format!("/v1/accounts/{}", account.unwrap_or("A-0"))),
            4 => ("PUT", format!("/v1/accounts/{}", account.unwrap_or("A-1"))),
            _ => ("POST", "/v1/action/create".to_string()),
        };
        let mut headers = serde_json::Map::new();
        if let Some(ids) = org_ids { headers.insert("Zuora-Org-Ids".into(), json!(ids)); }
        if let Some(w) = working { headers.insert("zuora-working-org".into(), json!(w)); }
        let mut object = serde_json::Map::new();
        if let Some(l) = label { object.insert("organizationLabel".into(), json!(l)); }
        if let Some(a) = account { object.insert("accountId".into(), json!(a)); }
        let body = if route == 5 {
            json!({"type": if account.is_some() { "Invoice" } else { "Account" },
                   "objects": vec![Value::Object(object); n_objects]})
        } else {
            Value::Object(object)
        };
        let entities: Vec<Value> = account_orgs.iter().enumerate()
            .map(|(i, o)| json!({"type": "account", "id": format!("A-{i}"), "org": o}))
            .collect();
        let mut user = json!({"orgs": user_orgs});
        if let Some(d) = default_org { user["default_org"] = json!(d); }
        let mut req = json!({"method": method, "path": path, "headers": headers, "body": body,
                             "user": user, "entities": entities});
        if let Some(m) = multi_org { req["tenant"] = json!({"multi_org": m}); }
        req
    }
}

fn decide(p: &Policy, req: &Value) -> (Request, Decision) {
    let r: Request = serde_json::from_value(req.clone()).unwrap();
    let d = p.evaluate(&r);
    (r, d)
}

fn user_orgs(r: &Request) -> Vec<String> {
    r.user.orgs.clone()
}

/// The orgs named in `Zuora-Org-Ids`, as sent.
fn requested(req: &Value) -> Option<Vec<String>> {
    req["headers"]["Zuora-Org-Ids"].as_str().map(|s| {
        s.split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect()
    })
}

fn assert_fail_closed(d: &Decision) {
    let json = serde_json::to_value(d).unwrap();
    if d.is_allow() {
        assert!(d.errors.is_empty(), "{json}");
        assert_eq!(d.status, 200, "{json}");
    } else {
        assert!(!d.errors.is_empty(), "{json}");
        assert_eq!(d.status, d.errors[0].code.status(), "{json}");
        assert!(d.visible_orgs.is_none() && d.labels.is_empty(), "{json}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn zuora_invariants(req in zuora_request()) {
        let (r, d) = decide(zuora(), &req);
        assert_fail_closed(&d);
        let mine = user_orgs(&r);
        if let Some(visible) = &d.visible_orgs {
            for o in visible {
                prop_assert!(mine.contains(&o.to_string()), "visible {o} not among the user's orgs: {req}");
                if let Some(asked) = requested(&req) {
                    prop_assert!(asked.contains(&o.to_string()), "visible {o} outside Zuora-Org-Ids: {req}");
                }
            }
        }
        for l in &d.labels {
            if let Some(o) = &l.org {
                prop_assert!(mine.contains(&o.to_string()), "label {o} not accessible: {req}");
                if let Some(asked) = requested(&req) {
                    prop_assert!(asked.contains(&o.to_string()), "label {o} outside Zuora-Org-Ids: {req}");
                }
            }
        }
        // Reads of an object in an org outside the visible set are not_found, never 403.
        if r.method.as_deref() == Some("GET") && !d.is_allow() {
            let code = d.errors[0].code.as_str();
            prop_assert!(code != "org_access_denied" || requested(&req).is_some() || req["headers"].get("zuora-working-org").is_some(),
                "a read answered 403 without an org header: {req}");
        }
        // Determinism, down to the bytes.
        let again = zuora().evaluate(&r);
        prop_assert_eq!(serde_json::to_string(&d).unwrap(), serde_json::to_string(&again).unwrap());
    }

    #[test]
    fn unknown_and_inaccessible_orgs_look_the_same(req in zuora_request()) {
        // Europe exists in one policy and not in the other; a user without Europe must not tell.
        let mut req = req;
        let orgs: Vec<Value> = req["user"]["orgs"].as_array().unwrap().iter()
            .filter(|o| *o != "Europe").cloned().collect();
        req["user"]["orgs"] = json!(orgs);
        if req["user"]["default_org"] == "Europe" { req["user"]["default_org"] = json!("Asia"); }
        let (_, with) = decide(zuora(), &req);
        let (_, without) = decide(zuora_without_europe(), &req);
        prop_assert_eq!(serde_json::to_string(&with).unwrap(), serde_json::to_string(&without).unwrap());
    }

    #[test]
    fn invisible_objects_are_not_found_whether_or_not_they_exist(
        id in "[A-Z]-[0-9]{1,3}",
        owner in prop::sample::select(&ORGS[..]),
        mine in prop::collection::vec(prop::sample::select(&ORGS[..]), 1..3),
    ) {
        prop_assume!(!mine.contains(&owner));
        let read = |entities: Value| json!({"method": "GET", "path": format!("/v1/accounts/{id}"),
            "user": {"orgs": mine}, "entities": entities});
        let (_, exists) = decide(zuora(), &read(json!([{"type": "account", "id": id, "org": owner}])));
        let (_, missing) = decide(zuora(), &read(json!([])));
        prop_assert_eq!(exists.errors[0].code.as_str(), "not_found");
        prop_assert_eq!(serde_json::to_string(&exists).unwrap(), serde_json::to_string(&missing).unwrap());
    }

    #[test]
    fn aep_visible_set_is_exactly_one_accessible_org(
        org in "o-[0-9]",
        mine in prop::collection::vec("o-[0-9]", 0..4),
        extra_header in maybe(prop::sample::select(&["Organization-ID", "X-Tenant", "tenantId"][..])),
        extra_value in "o-[0-9]",
        route in 0usize..3,
    ) {
        let mut headers = serde_json::Map::new();
        let mut query = serde_json::Map::new();
        if let Some(h) = extra_header {
            if h == "tenantId" { query.insert(h.into(), json!(extra_value)); } else { headers.insert(h.into(), json!(extra_value)); }
        }
        let (method, path, body) = match route {
            0 => ("GET", format!("/v1/organizations/{org}/products"), json!({})),
            1 => ("POST", "/v1/reports:run".to_string(), json!({"organizationId": org})),
            _ => { headers.insert("Organization-ID".into(), json!(org)); ("GET", "/v1/invoices".to_string(), json!({})) }
        };
        let req = json!({"method": method, "path": path, "headers": headers, "query": query, "body": body, "user": {"orgs": mine}});
        let (_, d) = decide(aep(), &req);
        assert_fail_closed(&d);
        if let Some(v) = &d.visible_orgs {
            prop_assert_eq!(v.len(), 1);
            prop_assert!(mine.contains(&v[0].to_string()));
            prop_assert_eq!(&*v[0], org.as_str());
        }
        if extra_header.is_some() && !(route == 2 && extra_header == Some("Organization-ID")) {
            prop_assert!(!d.is_allow(), "a second org ID place must deny: {req}");
        }
    }
}

#[test]
fn policy_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Policy>();
}

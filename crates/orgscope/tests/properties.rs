//! Security invariants as properties over generated requests, through the crate.
//!
//! - a decision never shows an org the user may not access;
//! - a created label is accessible, and inside `Zuora-Org-Ids` when that is sent;
//! - an unknown org and an inaccessible org are answered with byte-identical bodies;
//! - an object the request cannot see is `not_found`, whether or not it exists;
//! - any error is a deny, with the status its code prescribes; the same input, the same output;
//! - every decision names its rule (but `invalid_request` and `no_route`: nothing decided);
//! - no route ⇒ no allow, whatever `action` says; methods match case-sensitively;
//! - every org-ID occurrence counts, whatever its spelling and JSON type;
//! - clearing a label needs the old org, and only where the type may be unlabeled;
//! - inline entities never override a trusted source; a deny says what would have to change.

use orgscope::{Decision, EntityStore, EvalOptions, Policy, Request};
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
        let text = ZUORA.replacen("  org Europe", "  # gone", 1);
        // If the shipped policy's layout changes, the property must not quietly compare the
        // policy with itself.
        assert_ne!(
            text, ZUORA,
            "`org Europe` is no longer in the shipped policy"
        );
        let policy = Policy::from_source("zuora.policy", &text).unwrap();
        assert!(policy.evaluate(&Request::from_json(
            r#"{"method": "POST", "path": "/query/jobs", "headers": {"Zuora-Org-Ids": "Europe"},
                "user": {"orgs": ["Europe"]}}"#
        ).unwrap()).errors.iter().any(|e| e.code.as_str() == "org_access_denied"));
        policy
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

fn decide<'p>(p: &'p Policy, req: &Value) -> (Request, Decision<'p>) {
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
    let ruleless = ["invalid_request", "no_route"];
    assert!(
        d.rule.is_some()
            || d.errors
                .first()
                .is_some_and(|e| ruleless.contains(&e.code.as_str())),
        "a decision without a rule: {json}"
    );
}

/// The Zuora policy plus an update route for an inheriting type and a type that may be
/// unlabeled.
fn zuora_updates() -> &'static Policy {
    static P: OnceLock<Policy> = OnceLock::new();
    P.get_or_init(|| {
        let text = format!(
            "{ZUORA}\nroute PUT /v1/invoices/{{invoiceId}} -> update invoice id path.invoiceId\n\
             object note {{\n  label body.organizationLabel\n  fallback unlabeled\n}}\n\
             route PUT /v1/notes/{{noteId}} -> update note id path.noteId\n"
        );
        Policy::from_source("zuora.policy", &text).unwrap()
    })
}

/// The routes of the shipped policies, as (method, path with `X` for a parameter).
const ROUTES: [(&str, &str); 12] = [
    ("POST", "/query/jobs"),
    ("POST", "/v1/accounts"),
    ("GET", "/v1/accounts/X"),
    ("PUT", "/v1/accounts/X"),
    ("DELETE", "/v1/accounts/X"),
    ("POST", "/v1/invoices"),
    ("POST", "/v1/action/create"),
    ("GET", "/v1/invoices"),
    ("GET", "/v1/organizations/X/products"),
    ("POST", "/v1/organizations/X/products"),
    ("POST", "/v1/reports:run"),
    ("GET", "/v1/organizations"),
];
const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "DELETE", "PATCH", "get", "post", "Put",
];
const PATHS: [&str; 9] = [
    "/query/jobs",
    "/v1/accounts",
    "/v1/accounts/X",
    "/v1/invoices",
    "/v1/organizations/X/products",
    "/v1/organizations",
    "/v1/healthz",
    "/v1/x",
    "/v1/accounts/X/extra",
];
/// Org-ID spellings a request may use: the guideline's, variants, deprecated aliases.
const SPELLINGS: [&str; 10] = [
    "organizationId",
    "organizationIds",
    "OrganizationId",
    "organization_id",
    "ORGANIZATION-ID",
    "X-Organization-Id",
    "Organization-ID",
    "tenantId",
    "X-Tenant",
    "appId",
];

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
            let first = v.iter().next().unwrap_or_default();
            prop_assert!(mine.contains(&first.to_string()));
            prop_assert_eq!(first, org.as_str());
        }
        if extra_header.is_some() && !(route == 2 && extra_header == Some("Organization-ID")) {
            prop_assert!(!d.is_allow(), "a second org ID place must deny: {req}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_route_means_no_allow(
        method in prop::sample::select(&METHODS[..]),
        path in prop::sample::select(&PATHS[..]),
        action in maybe(prop::sample::select(&["query", "create", "read", "update", "delete"][..])),
        aep_policy in any::<bool>(),
    ) {
        let mut req = json!({"method": method, "path": path.replace('X', "o-1"), "user": {"orgs": ["o-1", "Asia"]},
                             "headers": {"Organization-ID": "o-1"}, "body": {"organizationId": "o-1"}});
        if let Some(a) = action { req["action"] = json!(a); }
        let p = if aep_policy { aep() } else { zuora() };
        let (_, d) = decide(p, &req);
        assert_fail_closed(&d);
        let declared = if aep_policy { &ROUTES[7..] } else { &ROUTES[..7] };
        let healthz = aep_policy && method == "GET" && path == "/v1/healthz";
        if !healthz && !declared.contains(&(method, path)) {
            prop_assert!(!d.is_allow(), "allowed without a route: {req}");
            prop_assert_eq!(d.errors[0].code.as_str(), "no_route", "{}", req);
        }
    }

    #[test]
    fn decisions_without_a_route_name_their_rule(
        action in prop::sample::select(&["query", "create", "read", "update", "delete"][..]),
        object in maybe(prop::sample::select(&["account", "invoice", "custom_object", "nothing"][..])),
        multi_org in maybe(any::<bool>()),
        aep_policy in any::<bool>(),
    ) {
        let mut req = json!({"action": action, "user": {"orgs": ["o-1", "Asia"]}, "body": {"organizationLabel": "Asia"}});
        if let Some(o) = object { req["object"] = json!(o); }
        if let Some(m) = multi_org { req["tenant"] = json!({"multi_org": m}); }
        let (_, d) = decide(if aep_policy { aep() } else { zuora() }, &req);
        assert_fail_closed(&d);
    }

    #[test]
    fn every_org_id_occurrence_counts(
        place in 0usize..3,
        name in prop::sample::select(&SPELLINGS[..]),
        value in prop::sample::select(vec![json!("o-1"), json!("o-2"), json!(9), json!({"id": "o-1"}), json!(["o-1"]), json!(true)]),
    ) {
        // Allowed as it is: the org ID once, in the declared path parameter.
        let mut req = json!({"method": "GET", "path": "/v1/organizations/o-1/products", "user": {"orgs": ["o-1", "o-2"]}});
        prop_assert!(decide(aep(), &req).1.is_allow());
        let text = value.as_str().unwrap_or("o-1");
        match place {
            0 => req["query"] = json!({name: text}),
            1 => req["headers"] = json!({name: text}),
            _ => req["body"] = json!({name: value}),
        }
        let (_, d) = decide(aep(), &req);
        assert_fail_closed(&d);
        prop_assert!(!d.is_allow(), "a second org ID was not counted: {req}");
        let canonical = match place {
            1 => name.eq_ignore_ascii_case("Organization-ID"),
            _ => name == "organizationId" || name == "organizationIds",
        };
        if !canonical {
            prop_assert!(d.warnings.iter().any(|w| w.code == "deprecated_org_id_term")
                || d.errors[0].code.as_str() == "invalid_request", "no deprecation warning: {req}");
        }
    }

    #[test]
    fn clearing_a_label_needs_the_old_org(
        note in any::<bool>(),
        owner in maybe(prop::sample::select(&ORGS[..])),
        mine in prop::collection::vec(prop::sample::select(&ORGS[..]), 0..3),
        cleared in prop::sample::select(vec![json!(null), json!(""), json!("  ")]),
    ) {
        let (ty, path) = if note { ("note", "/v1/notes/N-1") } else { ("account", "/v1/accounts/N-1") };
        let req = json!({"method": "PUT", "path": path, "body": {"organizationLabel": cleared},
                         "user": {"orgs": mine}, "entities": [{"type": ty, "id": "N-1", "org": owner}]});
        let (_, d) = decide(zuora_updates(), &req);
        assert_fail_closed(&d);
        if let (true, Some(o)) = (d.is_allow(), owner) {
            prop_assert!(note, "a label cleared where the type must be labeled: {req}");
            prop_assert!(mine.contains(&o), "a label cleared without access to its org: {req}");
            prop_assert_eq!(d.labels.len(), 1);
            prop_assert!(d.labels[0].org.is_none());
        }
    }

    #[test]
    fn inline_entities_never_override_a_trusted_source(
        stored in maybe(prop::sample::select(&ORGS[..])),
        claimed in maybe(prop::sample::select(&ORGS[..])),
        mine in prop::collection::vec(prop::sample::select(&ORGS[..]), 0..3),
        create in any::<bool>(),
    ) {
        let store = EntityStore::parse(zuora(), &json!({"type": "account", "id": "A-1", "org": stored}).to_string()).unwrap();
        let options = EvalOptions::new().entities(&store);
        let req = |entities: Value| if create {
            json!({"method": "POST", "path": "/v1/invoices", "body": {"accountId": "A-1"}, "user": {"orgs": mine}, "entities": entities})
        } else {
            json!({"method": "GET", "path": "/v1/accounts/A-1", "user": {"orgs": mine}, "entities": entities})
        };
        let eval = |r: Value| zuora().evaluate_json(&r.to_string(), &options);
        let honest = eval(req(json!([])));
        let d = eval(req(json!([{"type": "account", "id": "A-1", "org": claimed}])));
        assert_fail_closed(&d);
        if claimed != stored {
            prop_assert!(!d.is_allow(), "an inline entity overrode the store: {}", req(json!(claimed)));
        }
        if d.is_allow() {
            prop_assert_eq!(serde_json::to_string(&d).unwrap(), serde_json::to_string(&honest).unwrap());
        }
        if let Some(s) = stored.filter(|s| !mine.contains(s) && claimed != Some(*s)) {
            prop_assert!(!serde_json::to_string(&d).unwrap().contains(s), "the stored org leaks: {}", req(json!(claimed)));
        }
        let refused = zuora().evaluate_json(&req(json!([{"type": "account", "id": "A-1", "org": claimed}])).to_string(),
                                            &options.inline_entities(false));
        prop_assert_eq!(refused.errors[0].code.as_str(), "invalid_request");
    }
}

#[test]
fn policy_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Policy>();
}

#[test]
fn a_deny_says_what_would_have_to_change_in_a_typed_field_and_in_the_trace() {
    let r = Request::from_json(
        r#"{"method": "POST", "path": "/v1/accounts", "user": {"orgs": ["Asia", "China"]}}"#,
    )
    .unwrap();
    let d = zuora().evaluate_with(&r, &EvalOptions::new().explain(true));
    let e = &d.errors[0];
    assert_eq!(e.code.as_str(), "org_label_required");
    let hint = e.hint.as_deref().expect("a hint");
    assert!(hint.contains("`body.organizationLabel`"), "{hint}");
    let last = d.trace.as_ref().and_then(|t| t.last()).unwrap();
    assert_eq!(
        last.outcome,
        format!("deny ({}): {}; {hint}", e.code, e.message)
    );
    // Not part of the JSON decision.
    assert!(!serde_json::to_string(&d).unwrap().contains("\"hint\""));
}

#[test]
fn the_default_route_decides_an_unrouted_path_whatever_action_says() {
    let p = Policy::from_source("z.policy", &format!("{ZUORA}\ndefault -> query\n")).unwrap();
    let req = |action: &str| {
        let text = format!(
            r#"{{"method": "DELETE", "path": "/v1/x", "action": "{action}", "user": {{"orgs": ["Asia"]}}}}"#
        );
        p.evaluate(&Request::from_json(&text).unwrap())
    };
    let d = req("query");
    assert!(d.is_allow(), "{d:?}");
    assert_eq!(
        d.rule.as_deref(),
        Some(&*format!("z.policy:{}:1", ZUORA.lines().count() + 2))
    );
    let d = req("delete");
    assert_eq!(d.errors[0].code.as_str(), "invalid_request");
}

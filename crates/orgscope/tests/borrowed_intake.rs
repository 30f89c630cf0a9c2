//! The borrowed intake (`Policy::evaluate_json`, the batch) decides exactly as the owned
//! request does (`Request::intake`, `Request::from_json`, then `Policy::evaluate_with`), over
//! generated descriptions: escaped strings, mixed-case, repeated and duplicate headers, query
//! strings merged into `query`, bodies, entities, unknown fields, and more headers and
//! parameters than the intake keeps in place.

use orgscope::batch::{evaluate_stream, BatchOptions, InputFormat};
use orgscope::{Decision, EntityStore, EvalOptions, Policy, Request};
use proptest::prelude::*;
use serde_json::Value;
use std::sync::OnceLock;

const ZUORA: &str = include_str!("../policies/zuora-multi-org.policy");
const AEP: &str = include_str!("../policies/aep-organization-id.policy");

fn policies() -> &'static [Policy; 2] {
    static P: OnceLock<[Policy; 2]> = OnceLock::new();
    P.get_or_init(|| {
        [
            Policy::from_source("zuora.policy", ZUORA).unwrap(),
            Policy::from_source("aep.policy", AEP).unwrap(),
        ]
    })
}

/// A JSON string for `s`: plain, or with every character `\u`-escaped (the intake must copy it).
fn jstr(s: &str, escaped: bool) -> String {
    if !escaped {
        return serde_json::to_string(s).unwrap();
    }
    let mut out = String::from("\"");
    for unit in s.encode_utf16() {
        out.push_str(&format!("\\u{unit:04x}"));
    }
    out.push('"');
    out
}

/// A string, sometimes escaped.
fn text(choices: &'static [&'static str]) -> impl Strategy<Value = String> {
    (prop::sample::select(choices), prop::bool::weighted(0.2)).prop_map(|(s, e)| jstr(s, e))
}

/// A header or query value: one string or an array of them.
fn values(choices: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => text(choices),
        1 => prop::collection::vec(text(choices), 0..3).prop_map(|v| format!("[{}]", v.join(","))),
    ]
}

/// An object of `names`, entries possibly repeated (a duplicate key, or a repeated header when
/// only the case differs), and sometimes more entries than a few.
fn object(
    names: &'static [&'static str],
    vals: &'static [&'static str],
) -> impl Strategy<Value = String> {
    let entry = (text(names), values(vals)).prop_map(|(k, v)| format!("{k}: {v}"));
    let filler = (0usize..12).prop_map(|i| format!("\"h-{i}\": \"v\""));
    let any = prop_oneof![3 => entry, 1 => filler];
    prop::collection::vec(any, 0..14).prop_map(|e| format!("{{{}}}", e.join(", ")))
}

const ORGS: &[&str] = &[
    "Asia",
    "China",
    "Japan",
    "Europe",
    "Narnia",
    " asia",
    "",
    "o-1",
    "Asia, China",
];
const HEADERS: &[&str] = &[
    "Zuora-Org-Ids",
    "zuora-org-ids",
    "ZUORA-ORG-IDS",
    "Zuora-Entity-Ids",
    "Zuora-Org-Idz",
    "Organization-ID",
    "organization-id",
    "X-Organization-Id",
    "Org-Id",
];
const PARAMS: &[&str] = &["a", "organizationId", "orgId", "organization_id", "x"];
const METHODS: &[&str] = &["GET", "POST", "PATCH", "DELETE", "post", "BREW"];
const PATHS: &[&str] = &[
    "/query/jobs",
    "/v1/invoices",
    "/v1/invoice-items",
    "/v1/accounts/A-1",
    "/v1/accounts/A-2?organizationId=Asia",
    "/v1/invoices?a=1&a=2&organizationId=o-1#frag",
    "/v1/organizations/o-1/products?x=%41&x=+",
    "/v1/organizations/o%2D1/products",
    "/v1/organizations/o%2F1/products",
    "/v1/reports:run?organizationId=o-1",
    "/v1/a/../b",
    "/v1/invoices?bad=%zz",
    "v1/no-slash",
];
const TYPES: &[&str] = &["account", "invoice", "Account", "nope"];
const IDS: &[&str] = &["A-1", "A-2", "I-1"];
const BODY_KEYS: &[&str] = &[
    "accountId",
    "organizationLabel",
    "organizationId",
    "invoiceId",
    // Two more spellings of the org ID: the messages name them in one order however sent.
    "organizationIds",
    "OrganizationId",
];
const BODY_VALUES: &[&str] = &["A-1", "A-2", "I-1", "Asia", "China", "o-1", ""];

fn body() -> impl Strategy<Value = String> {
    let entry = (text(BODY_KEYS), text(BODY_VALUES)).prop_map(|(k, v)| format!("{k}: {v}"));
    prop_oneof![
        prop::collection::vec(entry, 0..4).prop_map(|e| format!("{{{}}}", e.join(", "))),
        Just("null".to_string()),
        Just("[1, {\"a\": 1, \"a\": 2}]".to_string()),
    ]
}

fn entity() -> impl Strategy<Value = String> {
    let org = prop_oneof![text(ORGS), Just("null".to_string())];
    (text(TYPES), text(IDS), org)
        .prop_map(|(t, i, o)| format!(r#"{{"type": {t}, "id": {i}, "org": {o}}}"#))
}

fn field(
    name: &'static str,
    value: impl Strategy<Value = String>,
) -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(0.7, value.prop_map(move |v| format!("\"{name}\": {v}")))
}

prop_compose! {
    fn description()(
        method in field("method", text(METHODS)),
        path in field("path", text(PATHS)),
        headers in field("headers", object(HEADERS, ORGS)),
        query in field("query", object(PARAMS, ORGS)),
        body in field("body", body()),
        user in (prop::collection::vec(text(ORGS), 0..4), prop::option::of(text(ORGS)), prop::option::of(text(IDS)))
            .prop_map(|(orgs, default_org, id)| {
                let mut u = vec![format!("\"orgs\": [{}]", orgs.join(", "))];
                u.extend(default_org.map(|d| format!("\"default_org\": {d}")));
                u.extend(id.map(|i| format!("\"id\": {i}")));
                format!("\"user\": {{{}}}", u.join(", "))
            }),
        tenant in field("tenant", prop::sample::select(&["{\"multi_org\": false}", "{\"multi_org\": true}", "{\"id\": \"t\", \"id\": \"t\"}"][..]).prop_map(str::to_string)),
        action in field("action", text(&["query", "create", "read", "update", "delete"])),
        object in field("object", text(TYPES)),
        entities in field("entities", prop::collection::vec(entity(), 0..11).prop_map(|e| format!("[{}]", e.join(", ")))),
        id in field("id", text(IDS)),
        unknown in prop::option::weighted(0.05, Just("\"usr\": 1".to_string())),
    ) -> String {
        let fields: Vec<String> = [method, path, headers, query, body, Some(user), tenant, action, object, entities, id, unknown]
            .into_iter()
            .flatten()
            .collect();
        format!("{{{}}}", fields.join(", "))
    }
}

/// The owned path's decision: `Request::intake` (and `from_json`, which must agree), then
/// `evaluate_with`.
fn owned<'p>(policy: &'p Policy, text: &str, options: &EvalOptions<'_>) -> Decision<'p> {
    match Request::intake(text.as_bytes(), policy.limits()) {
        Ok(request) => {
            assert_eq!(Request::from_json(text).unwrap(), request, "{text}");
            policy.evaluate_with(&request, options)
        }
        Err(refused) => *refused,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_borrowed_intake_decides_as_the_owned_request(text in description(), explain: bool) {
        for policy in policies() {
            let store = EntityStore::parse(policy, r#"{"type": "account", "id": "A-2", "org": "China"}"#)
                .unwrap_or_default();
            let options = EvalOptions::new().entities(&store).explain(explain);
            let expected = owned(policy, &text, &options);
            prop_assert_eq!(&policy.evaluate_json(&text, &options), &expected, "{}", text);

            let batch = BatchOptions { explain, input: InputFormat::Ndjson, ..BatchOptions::default() };
            let mut out = Vec::new();
            evaluate_stream(policy, &store, text.as_bytes(), &mut out, batch).unwrap();
            let line: Value = serde_json::from_slice(&out).unwrap();
            prop_assert_eq!(line, serde_json::to_value(&expected).unwrap(), "{}", text);
        }
    }
}

#[test]
fn thousands_of_spellings_of_one_header_are_one_repeated_header() {
    // Every spelling of a 16-letter name differs in case only: one repeated header, never a
    // duplicate key (past the few spellings the intake keeps in place).
    let name = "zuoraorgidsabcde";
    let spellings: Vec<String> = (0..4096u32)
        .map(|bits| {
            name.char_indices()
                .map(|(i, c)| {
                    if bits & (1 << (i % 12)) != 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect()
        })
        .collect();
    let headers: Vec<String> = spellings
        .iter()
        .map(|s| format!("\"{s}\": \"Asia\""))
        .collect();
    let text = format!(
        r#"{{"method": "POST", "path": "/query/jobs", "headers": {{{}}}, "user": {{"orgs": ["Asia"]}}}}"#,
        headers.join(", ")
    );
    let policy = &policies()[0];
    let options = EvalOptions::new();
    let expected = owned(policy, &text, &options);
    assert!(expected.is_allow(), "{expected:?}");
    assert_eq!(policy.evaluate_json(&text, &options), expected);

    // The same spelling twice is a duplicate key, on either path, named as it was spelled.
    let twice = text.replacen("\"Asia\"}", "\"Asia\", \"zuoraorgidsabcde\": \"Asia\"}", 1);
    let d = policy.evaluate_json(&twice, &options);
    assert_eq!(d, owned(policy, &twice, &options));
    assert!(
        d.errors[0]
            .message
            .contains("duplicate key `zuoraorgidsabcde`"),
        "{:?}",
        d.errors
    );
}

#[test]
fn org_ids_in_a_body_are_named_in_one_order_however_sent() {
    // A borrowed body is read in the order sent, an owned one's tree sorts its keys: the
    // conflict's message must name the places alike.
    let policy = &policies()[1];
    for body in [
        r#"{"organizationIds": "o-1", "organizationId": "o-2"}"#,
        r#"{"organizationId": "o-2", "organizationIds": "o-1"}"#,
    ] {
        let text = format!(
            r#"{{"method": "GET", "path": "/v1/organizations/o-1/products", "body": {body}, "user": {{"orgs": ["o-1"]}}}}"#
        );
        let options = EvalOptions::new().explain(true);
        let borrowed = policy.evaluate_json(&text, &options);
        assert_eq!(borrowed, owned(policy, &text, &options), "{text}");
        assert!(
            borrowed.errors[0]
                .message
                .contains("body `organizationId`, body `organizationIds`"),
            "{borrowed:?}"
        );
    }
}

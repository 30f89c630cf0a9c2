//! Routes, object types and orgs found through the crate, whatever the shape of the route table,
//! the spelling of the type or the size of the directory: a node with many literal children, an
//! empty endpoint table, a type named as declared, in another case or with `-` for `_`, orgs
//! that share a slot of the small directory's front, and a directory too large for one.

use orgscope::{Policy, Request};
use serde_json::json;

const ZUORA: &str = include_str!("../policies/zuora-multi-org.policy");

fn decide(policy: &Policy, request: serde_json::Value) -> orgscope::Decision<'_> {
    policy.evaluate(&Request::from_json(&request.to_string()).unwrap())
}

/// Twelve literal routes beside a parameter, more than a node scans before it hashes: each
/// path finds its own route; a path that leaves a literal branch backtracks to the parameter.
#[test]
fn every_literal_route_of_a_wide_node_is_found() {
    let mut text = String::from("orgs {\n  org Asia\n}\nobject account {\n  label body.org\n}\n");
    let first_route = text.lines().count() + 1;
    for i in 0..12 {
        text.push_str(&format!("route GET /v1/r{i} -> query\n"));
    }
    text.push_str("route GET /v1/{id}/x -> read account id path.id\n");
    let policy = Policy::from_source("wide.policy", &text).unwrap();
    for i in 0..12 {
        let d = decide(
            &policy,
            json!({"method": "GET", "path": format!("/v1/r{i}"), "user": {"orgs": ["Asia"]}}),
        );
        assert!(d.is_allow(), "r{i}: {d:?}");
        let line = first_route + i;
        assert_eq!(d.rule.as_deref(), Some(&*format!("wide.policy:{line}:1")));
    }
    let d = decide(
        &policy,
        json!({"method": "GET", "path": "/v1/r11/x", "user": {"orgs": ["Asia"]}}),
    );
    assert_eq!(d.errors[0].code.as_str(), "not_found", "{d:?}");
    let line = first_route + 12;
    assert_eq!(d.rule.as_deref(), Some(&*format!("wide.policy:{line}:1")));
    let d = decide(
        &policy,
        json!({"method": "GET", "path": "/v1/r12", "user": {"orgs": ["Asia"]}}),
    );
    assert_eq!(d.errors[0].code.as_str(), "no_route", "{d:?}");
}

/// A type is found by its declared name, in any case, with `-` or without `_`: each spelling
/// labels the same create the same way.
#[test]
fn a_type_is_found_however_it_is_spelled() {
    let policy = Policy::from_source("zuora.policy", ZUORA).unwrap();
    for spelling in [
        "invoice_item",
        "InvoiceItem",
        "invoice-item",
        "invoiceitem",
        "INVOICE_ITEM",
    ] {
        let d = decide(
            &policy,
            json!({"action": "create", "object": spelling, "body": {"invoiceId": "I-1"},
                   "user": {"orgs": ["Asia", "China"]},
                   "entities": [{"type": "Invoice", "id": "I-1", "org": "China"}]}),
        );
        assert!(d.is_allow(), "{spelling}: {d:?}");
        assert_eq!(d.object.as_deref(), Some("invoice_item"));
        assert_eq!(d.labels[0].org.as_deref(), Some("China"), "{spelling}");
    }
    for unknown in ["invoice_items", "", "acount", "tnuocca"] {
        let d = decide(
            &policy,
            json!({"action": "create", "object": unknown, "body": {"organizationLabel": "Asia"},
                   "user": {"orgs": ["Asia"]}}),
        );
        assert_eq!(
            d.errors[0].code.as_str(),
            "invalid_request",
            "{unknown}: {d:?}"
        );
    }
}

/// Orgs named by name or id, in a directory small enough for a front and in one too large:
/// names that fall in the same slot (same length, same first, second and last bytes) are each
/// found, and names of no org (one of them in an occupied slot, one empty) are not.
#[test]
fn every_org_is_found_by_name_or_id_whatever_the_directory_size() {
    for padding in [0, 100] {
        let mut text = String::from("orgs {\n  org Abca\n  org Abda id \"Abea\"\n  org Zz\n");
        for i in 0..padding {
            text.push_str(&format!("  org pad{i}\n"));
        }
        text.push_str("}\nheader Org-Ids {\n  role visibility\n  list\n  subset_of user.orgs\n}\n");
        text.push_str("route GET /q -> query\n");
        let policy = Policy::from_source("orgs.policy", &text).unwrap();
        let user = ["Abca", "Abea", " Zz ", "Abfa", ""];
        let query = |header: &str| {
            decide(
                &policy,
                json!({"method": "GET", "path": "/q", "headers": {"Org-Ids": header},
                       "user": {"orgs": user}}),
            )
        };
        let d = query("Abda, Abca,Zz");
        assert_eq!(
            d.visible_org_names(),
            Some(vec!["Abca", "Abda", "Zz"]),
            "{padding}: {d:?}"
        );
        for unknown in ["Abfa", "Abga", "abca"] {
            let d = query(unknown);
            assert_eq!(
                d.errors[0].code.as_str(),
                "org_access_denied",
                "{unknown}: {d:?}"
            );
        }
    }
}

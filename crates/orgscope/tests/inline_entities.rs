//! A request's own `entities`: the same answers whether they are few (scanned) or many (indexed).

use orgscope::{Policy, Request};
use serde_json::{json, Value};

fn create(objects: &[&str], entities: Vec<Value>) -> Request {
    let objects: Vec<Value> = objects.iter().map(|i| json!({"invoiceId": i})).collect();
    let req = json!({
        "method": "POST", "path": "/v1/action/create",
        "body": {"type": "InvoiceItem", "objects": objects},
        "user": {"id": "u-1", "orgs": ["Asia", "China"]},
        "entities": entities,
    });
    Request::from_json(&req.to_string()).unwrap()
}

#[test]
fn many_entities_answer_as_few_do() {
    let policy = Policy::from_file(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../policies/zuora-multi-org.policy"),
    )
    .unwrap();
    // A type matches whatever its spelling; an id under another type is another object. (The
    // same type and id twice is refused before evaluation: `crates/orgscope-cli/tests/intake.rs`.)
    let few = vec![
        json!({"type": "invoice", "id": "I-1", "org": "Asia"}),
        json!({"type": "Invoice", "id": "I-2", "org": "China"}),
        json!({"type": "account", "id": "I-2", "org": "Asia"}),
    ];
    let padding =
        (0..50).map(|i| json!({"type": "account", "id": format!("A-{i}"), "org": "Asia"}));
    let many: Vec<Value> = few.iter().cloned().chain(padding).collect();
    for objects in [
        &["I-1", "I-2"][..],
        &["I-2", "I-1", "I-2"],
        &["I-3"],
        &["I-1", "A-1"],
    ] {
        let a = policy.evaluate(&create(objects, few.clone()));
        let b = policy.evaluate(&create(objects, many.clone()));
        assert_eq!(a, b, "objects {objects:?}");
    }
    let d = policy.evaluate(&create(&["I-1", "I-2"], many));
    assert!(d.is_allow(), "{d:?}");
    let orgs: Vec<_> = d.labels.iter().map(|l| l.org.as_deref()).collect();
    assert_eq!(orgs, [Some("Asia"), Some("China")]);
}

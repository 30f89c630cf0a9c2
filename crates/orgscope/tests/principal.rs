//! A principal resolved once (`Policy::principal`) decides exactly as the request's own user.

use orgscope::{EvalOptions, Policy, Request, User};

const ZUORA: &str = "policies/zuora-multi-org.policy";

fn zuora() -> Policy {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    Policy::from_file(root.join(ZUORA)).expect("the shipped policy loads")
}

/// A policy with `orgs` in its directory (or none), the two Zuora headers and invoices.
fn policy(orgs: Option<&[&str]>) -> Policy {
    let mut text = String::from("multi_org {\n  default enabled\n  when_disabled reject\n}\n");
    if let Some(orgs) = orgs {
        text.push_str("orgs {\n  descendant_access off\n");
        for o in orgs {
            text.push_str(&format!("  org {o}\n"));
        }
        text.push_str("}\n");
    }
    text.push_str(
        "header Zuora-Org-Ids {\n  role visibility\n  list\n  subset_of user.orgs\n  max_items 2000\n}\n\
         header Zuora-Working-Org {\n  role working_org\n  single\n  member_of user.orgs\n}\n\
         fallback working_org, default_org, single_org\n\
         object account {\n  label body.organizationLabel\n}\n\
         object invoice {\n  label body.organizationLabel\n  inherit account via body.accountId\n}\n\
         route POST /query/jobs -> query\nroute POST /v1/invoices -> create invoice\n\
         route POST /v1/accounts -> create account\n",
    );
    Policy::from_source("principal.policy", &text).expect("the test policy loads")
}

fn request(json: &str) -> Request {
    Request::from_json(json).expect("the request parses")
}

/// Requests of every kind by `orgs` (a JSON list), allowed and denied.
fn requests(orgs: &str, header: &str) -> Vec<Request> {
    [
        format!(r#"{{"method":"POST","path":"/query/jobs","user":{{"orgs":{orgs}}}}}"#),
        format!(r#"{{"method":"POST","path":"/query/jobs","headers":{{"Zuora-Org-Ids":"{header}"}},"user":{{"orgs":{orgs}}}}}"#),
        format!(r#"{{"method":"POST","path":"/query/jobs","headers":{{"Zuora-Org-Ids":"{header}, Narnia"}},"user":{{"orgs":{orgs}}}}}"#),
        format!(r#"{{"method":"POST","path":"/v1/invoices","body":{{"accountId":"A-1"}},"user":{{"orgs":{orgs}}},"entities":[{{"type":"account","id":"A-1","org":"{header}"}}]}}"#),
        format!(r#"{{"method":"POST","path":"/v1/accounts","headers":{{"Zuora-Working-Org":"{header}"}},"user":{{"orgs":{orgs}}}}}"#),
        format!(r#"{{"method":"POST","path":"/v1/accounts","user":{{"orgs":{orgs},"default_org":"{header}"}}}}"#),
        format!(r#"{{"method":"POST","path":"/v1/accounts","user":{{"orgs":{orgs}}}}}"#),
        format!(r#"{{"method":"POST","path":"/nowhere","user":{{"orgs":{orgs}}}}}"#),
    ]
    .iter()
    .map(|j| request(j))
    .collect()
}

fn assert_same(policy: &Policy, requests: &[Request]) -> usize {
    let mut allows = 0;
    for r in requests {
        let principal = policy.principal(&r.user);
        assert_eq!(principal.user(), &r.user);
        for explain in [false, true] {
            let options = EvalOptions::new().explain(explain);
            let expected = policy.evaluate_with(r, &options);
            assert_eq!(
                policy.evaluate_as(&principal, r, &options),
                expected,
                "{r:?}"
            );
            allows += usize::from(expected.is_allow() && !explain);
        }
    }
    allows
}

#[test]
fn a_principal_decides_like_the_requests_user_with_and_without_a_directory() {
    let zuora = zuora();
    let mut allows = assert_same(&zuora, &requests(r#"["Asia","China"]"#, "Asia"));
    allows += assert_same(&zuora, &requests(r#"["Asia"]"#, "Asia"));
    allows += assert_same(
        &zuora,
        &requests(r#"["Japan"," Asia ","Nowhere"]"#, "China"),
    );
    allows += assert_same(&zuora, &requests("[]", "Asia"));
    // No directory: the orgs are the request's text, resolved per decision.
    allows += assert_same(&policy(None), &requests(r#"["Asia","China"]"#, "Asia"));
    assert!(
        allows >= 10,
        "too few allows ({allows}) to compare anything"
    );
}

#[test]
fn a_principal_with_a_thousand_orgs_in_a_large_directory_decides_alike() {
    let names: Vec<String> = (0..1500).map(|i| format!("o{i:04}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let large = policy(Some(&refs));
    let user = serde_json::to_string(&names[..1000]).expect("json");
    for header in ["o0000", "o0999", "o1000", "o1499"] {
        assert_same(&large, &requests(&user, header));
    }
    let allowed = request(&format!(
        r#"{{"method":"POST","path":"/query/jobs","headers":{{"Zuora-Org-Ids":"o0000, o0999"}},"user":{{"orgs":{user}}}}}"#
    ));
    let d = large.evaluate_as(
        &large.principal(&allowed.user),
        &allowed,
        &EvalOptions::new(),
    );
    assert_eq!(d.visible_org_names(), Some(vec!["o0000", "o0999"]));
}

#[test]
fn the_principal_replaces_the_requests_user() {
    let zuora = zuora();
    let asia = User {
        orgs: vec!["Asia".into()],
        ..User::default()
    };
    let principal = zuora.principal(&asia);
    // The request claims China; the principal (what the caller verified) has only Asia.
    let claims_china = request(
        r#"{"method":"POST","path":"/query/jobs","headers":{"Zuora-Org-Ids":"China"},"user":{"orgs":["China"]}}"#,
    );
    assert!(zuora.evaluate(&claims_china).is_allow());
    let d = zuora.evaluate_as(&principal, &claims_china, &EvalOptions::new());
    assert!(!d.is_allow());
    assert_eq!(d.errors[0].code.as_str(), "org_access_denied");
}

#[test]
fn a_principal_from_another_policy_is_resolved_again_never_trusted() {
    // The same user resolves to different interned orgs in each: index 0 is Asia in one and
    // China in the other, so a cached set carried across would grant China.
    let a = policy(Some(&["Asia", "China"]));
    let b = policy(Some(&["China", "Asia"]));
    let from_a = a.principal(&User {
        orgs: vec!["Asia".into()],
        ..User::default()
    });
    let china = request(
        r#"{"method":"POST","path":"/query/jobs","headers":{"Zuora-Org-Ids":"China"},"user":{"orgs":[]}}"#,
    );
    let d = b.evaluate_as(&from_a, &china, &EvalOptions::new());
    assert!(!d.is_allow(), "{d:?}");
    let asia = request(
        r#"{"method":"POST","path":"/query/jobs","headers":{"Zuora-Org-Ids":"Asia"},"user":{"orgs":[]}}"#,
    );
    let d = b.evaluate_as(&from_a, &asia, &EvalOptions::new());
    assert_eq!(d.visible_org_names(), Some(vec!["Asia"]));
}

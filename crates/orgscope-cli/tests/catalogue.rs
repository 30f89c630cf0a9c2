//! The bad-input catalogue for requests: every kind of malformed or refused request, with the
//! exact error code, status and message it must produce. Every error code of SPEC §1–§3 appears.
//! (Malformed policies are catalogued as `tests/cases/check/err_*.policy` fixtures.)
//!
//! Each request goes through the crate (`Policy::evaluate_json`) and through the real binary
//! (`orgscope eval`, one batch per policy); messages from the batch name the line, so the crate's
//! message is compared after dropping the `on line N` wording.

mod common;

use orgscope::{EvalOptions, Policy};
use std::collections::BTreeSet;

struct Case {
    policy: &'static str,
    name: &'static str,
    request: &'static str,
    code: &'static str,
    status: u16,
    message: &'static str,
}

const CASES: &[Case] = &[
    Case {
        policy: "zuora-multi-org",
        name: "not JSON",
        request: r#"hello"#,
        code: "invalid_request",
        status: 400,
        message: r#"the request on line 1 is not a JSON object"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "truncated JSON",
        request: r#"{"user":"#,
        code: "invalid_request",
        status: 400,
        message: r#"invalid request on line 1, column 8: EOF while parsing a value"#,
    },
    Case {
        policy: "zuora-multi-org",
        // A JSON array is a batch of requests, each answered on its own: here, one.
        name: "a JSON array of something other than requests",
        request: r#"[1]"#,
        code: "invalid_request",
        status: 400,
        message: r#"the request on line 1 is not a JSON object"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "missing user",
        request: r#"{"action":"query"}"#,
        code: "invalid_request",
        status: 400,
        message: r#"invalid request on line 1, column 18: missing field `user`"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "user.orgs not an array",
        request: r#"{"action":"query","user":{"orgs":"Asia"}}"#,
        code: "invalid_request",
        status: 400,
        message: r#"invalid request on line 1, column 39: invalid type: string "Asia", expected a sequence"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "unknown top-level field",
        request: r#"{"action":"query","user":{"orgs":["Asia","China"]},"usr":1}"#,
        code: "invalid_request",
        status: 400,
        message: r#"invalid request on line 1, column 56: unknown field `usr`, expected one of `id`, `method`, `path`, `headers`, `query`, `body`, `user`, `tenant`, `action`, `object`, `entities`"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "unknown user field",
        request: r#"{"action":"query","user":{"orgs":[],"role":"admin"}}"#,
        code: "invalid_request",
        status: 400,
        message: r#"invalid request on line 1, column 42: unknown field `role`, expected one of `id`, `orgs`, `default_org`"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "unknown tenant field",
        request: r#"{"action":"query","user":{"orgs":["Asia","China"]},"tenant":{"multiorg":false}}"#,
        code: "invalid_request",
        status: 400,
        message: r#"invalid request on line 1, column 71: unknown field `multiorg`, expected `id` or `multi_org`"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "unknown entity field",
        request: r#"{"action":"query","user":{"orgs":["Asia","China"]},"entities":[{"type":"account","id":"a","org":null,"x":1}]}"#,
        code: "invalid_request",
        status: 400,
        message: r#"invalid request on line 1, column 104: unknown field `x`, expected one of `type`, `id`, `org`"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "entity without org",
        request: r#"{"action":"query","user":{"orgs":["Asia","China"]},"entities":[{"type":"account","id":"a"}]}"#,
        code: "invalid_request",
        status: 400,
        message: r#"invalid request on line 1, column 90: missing field `org`"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "entity of an unknown type",
        request: r#"{"action":"query","user":{"orgs":["Asia","China"]},"entities":[{"type":"acount","id":"a","org":null}]}"#,
        code: "invalid_request",
        status: 400,
        message: r#"entities[0] has unknown object type `acount`"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "unknown action",
        request: r#"{"action":"list","user":{"orgs":["Asia","China"]}}"#,
        code: "invalid_request",
        status: 400,
        message: r#"invalid request on line 1, column 16: unknown variant `list`, expected one of `query`, `create`, `read`, `update`, `delete`"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "header value neither string nor array",
        request: r#"{"action":"query","headers":{"Zuora-Org-Ids":5},"user":{"orgs":["Asia","China"]}}"#,
        code: "invalid_request",
        status: 400,
        message: r#"invalid request on line 1, column 46: invalid type: integer `5`, expected a string or an array of strings"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "unknown HTTP method",
        request: r#"{"method":"FETCH","path":"/query/jobs","user":{"orgs":["Asia","China"]}}"#,
        code: "invalid_request",
        status: 400,
        message: r#"unknown HTTP method `FETCH`"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "path without a leading slash",
        request: r#"{"method":"POST","path":"query/jobs","user":{"orgs":["Asia","China"]}}"#,
        code: "invalid_request",
        status: 400,
        message: r#"path `query/jobs` must start with `/`"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "action disagrees with the route",
        request: r#"{"method":"POST","path":"/query/jobs","action":"create","user":{"orgs":["Asia","China"]}}"#,
        code: "invalid_request",
        status: 400,
        message: r#"the request says `create` but the route `/query/jobs` says `query`"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "object disagrees with the route",
        request: r#"{"method":"POST","path":"/v1/accounts","object":"invoice","user":{"orgs":["Asia","China"]}}"#,
        code: "invalid_request",
        status: 400,
        message: r#"the request says object `invoice` but the route `/v1/accounts` says `account`"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "unknown object type",
        request: r#"{"action":"create","object":"spaceship","user":{"orgs":["Asia","China"]}}"#,
        code: "invalid_request",
        status: 400,
        message: r#"unknown object type `spaceship`"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "create without an object type",
        request: r#"{"action":"create","user":{"orgs":["Asia","China"]}}"#,
        code: "invalid_request",
        status: 400,
        message: r#"the request does not say which object type it acts on"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "read without a route",
        request: r#"{"action":"read","object":"account","user":{"orgs":["Asia","China"]}}"#,
        code: "invalid_request",
        status: 400,
        message: r#"reading an object by id needs a route that says where its id is"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "type field missing in action/create",
        request: r#"{"method":"POST","path":"/v1/action/create","body":{"objects":[{}]},"user":{"orgs":["Asia","China"]}}"#,
        code: "invalid_request",
        status: 400,
        message: r#"`body.type` must name the object type"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "objects not an array",
        request: r#"{"method":"POST","path":"/v1/action/create","body":{"type":"Account","objects":{}},"user":{"orgs":["Asia","China"]}}"#,
        code: "invalid_request",
        status: 400,
        message: r#"`body.objects` must be a non-empty array of objects"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "label field not a string",
        request: r#"{"method":"POST","path":"/v1/accounts","body":{"organizationLabel":["Asia"]},"user":{"orgs":["Asia","China"]}}"#,
        code: "invalid_request",
        status: 400,
        message: r#"`body.organizationLabel` must be a string"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "empty visibility header",
        request: r#"{"action":"query","headers":{"Zuora-Org-Ids":" , "},"user":{"orgs":["Asia","China"]}}"#,
        code: "invalid_request",
        status: 400,
        message: r#"header `Zuora-Org-Ids` names no org"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "two working orgs",
        request: r#"{"action":"query","headers":{"Zuora-Working-Org":["Asia","China"]},"user":{"orgs":["Asia","China"]}}"#,
        code: "invalid_request",
        status: 400,
        message: r#"header `Zuora-Working-Org` takes a single org"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "visibility header naming an inaccessible org",
        request: r#"{"action":"query","headers":{"Zuora-Org-Ids":"Japan"},"user":{"orgs":["Asia","China"]}}"#,
        code: "org_access_denied",
        status: 403,
        message: r#"the user has no access to org `Japan`"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "visibility header naming an unknown org",
        request: r#"{"action":"query","headers":{"Zuora-Org-Ids":"Atlantis"},"user":{"orgs":["Asia","China"]}}"#,
        code: "org_access_denied",
        status: 403,
        message: r#"the user has no access to org `Atlantis`"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "working org outside Zuora-Org-Ids",
        request: r#"{"action":"query","headers":{"Zuora-Org-Ids":"Asia","Zuora-Working-Org":"China"},"user":{"orgs":["Asia","China"]}}"#,
        code: "org_access_denied",
        status: 403,
        message: r#"org `China` is not among the orgs of `Zuora-Org-Ids`"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "no org for a create",
        request: r#"{"method":"POST","path":"/v1/accounts","body":{},"user":{"orgs":["Asia","China"]}}"#,
        code: "org_label_required",
        status: 400,
        message: r#"nothing gives the new `account` an org"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "label conflicting with the parent",
        request: r#"{"method":"POST","path":"/v1/invoices","body":{"accountId":"A","organizationLabel":"China"},"user":{"orgs":["Asia","China"]},"entities":[{"type":"account","id":"A","org":"Asia"}]}"#,
        code: "org_label_conflict",
        status: 400,
        message: r#"label `China` conflicts with `Asia`, the org of account `A`"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "invisible parent",
        request: r#"{"method":"POST","path":"/v1/invoices","body":{"accountId":"A"},"user":{"orgs":["Asia","China"]},"entities":[{"type":"account","id":"A","org":"Japan"}]}"#,
        code: "parent_not_found",
        status: 404,
        message: r#"account `A` was not found"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "missing parent reference",
        request: r#"{"method":"POST","path":"/v1/invoices","body":{},"user":{"orgs":["Asia","China"]}}"#,
        code: "parent_required",
        status: 400,
        message: r#"creating `invoice` needs `body.accountId`"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "org header with Multi-Org off",
        request: r#"{"action":"query","headers":{"Zuora-Working-Org":"Asia"},"user":{"orgs":["Asia","China"]},"tenant":{"multi_org":false}}"#,
        code: "multi_org_disabled",
        status: 400,
        message: r#"header `Zuora-Working-Org` was sent but Multi-Org is disabled for this tenant"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "invisible object",
        request: r#"{"method":"GET","path":"/v1/accounts/A","user":{"orgs":["Asia","China"]},"entities":[{"type":"account","id":"A","org":"Japan"}]}"#,
        code: "not_found",
        status: 404,
        message: r#"account `A` was not found"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "no route",
        request: r#"{"method":"GET","path":"/v2/x","user":{"orgs":["Asia","China"]}}"#,
        code: "no_route",
        status: 404,
        message: r#"no route matches `GET /v2/x`"#,
    },
    Case {
        policy: "zuora-multi-org",
        name: "nothing to route on",
        request: r#"{"user":{"orgs":["Asia","China"]}}"#,
        code: "no_route",
        status: 404,
        message: r#"no route matches the request (it has no method and path, nor an `action`)"#,
    },
    Case {
        policy: "aep-organization-id",
        name: "org ID missing",
        request: r#"{"method":"GET","path":"/v1/invoices","user":{"orgs":["o1"]}}"#,
        code: "org_id_missing",
        status: 400,
        message: r#"`/v1/invoices` needs the org ID in header `Organization-ID`"#,
    },
    Case {
        policy: "aep-organization-id",
        name: "org ID twice, same value",
        request: r#"{"method":"GET","path":"/v1/invoices","headers":{"Organization-ID":"o1"},"query":{"organizationId":"o1"},"user":{"orgs":["o1"]}}"#,
        code: "org_id_ambiguous",
        status: 400,
        message: r#"the org ID was sent 2 times (query `organizationId`, header `organization-id`); send it once, in header `Organization-ID`"#,
    },
    Case {
        policy: "aep-organization-id",
        name: "org ID twice, different values",
        request: r#"{"method":"GET","path":"/v1/invoices","headers":{"Organization-ID":"o1","X-Tenant-Id":"o2"},"user":{"orgs":["o1"]}}"#,
        code: "org_id_conflict",
        status: 400,
        message: r#"the org ID was sent 2 times (header `organization-id`, header `x-tenant-id`); send it once, in header `Organization-ID`"#,
    },
    Case {
        policy: "aep-organization-id",
        name: "org ID in the wrong place",
        request: r#"{"method":"POST","path":"/v1/reports:run","query":{"organizationId":"o1"},"user":{"orgs":["o1"]}}"#,
        code: "org_id_wrong_location",
        status: 400,
        message: r#"the org ID was sent in query `organizationId`, but `/v1/reports:run` takes it in body `organizationId`"#,
    },
    Case {
        policy: "aep-organization-id",
        name: "org ID header on an unscoped endpoint",
        request: r#"{"method":"GET","path":"/v1/healthz","headers":{"Organization-ID":"o1"},"user":{"orgs":["o1"]}}"#,
        code: "org_id_header_forbidden",
        status: 400,
        message: r#"`/v1/healthz` is not org-scoped and takes no org ID header, but `organization-id` was sent"#,
    },
    Case {
        policy: "aep-organization-id",
        name: "org ID the user lacks",
        request: r#"{"method":"GET","path":"/v1/organizations/o2/products","user":{"orgs":["o1"]}}"#,
        code: "org_access_denied",
        status: 403,
        message: r#"the user has no access to org `o2`"#,
    },
];

const ALL_CODES: [&str; 14] = [
    "org_access_denied",
    "org_label_required",
    "org_label_conflict",
    "parent_not_found",
    "parent_required",
    "multi_org_disabled",
    "not_found",
    "org_id_missing",
    "org_id_ambiguous",
    "org_id_conflict",
    "org_id_wrong_location",
    "org_id_header_forbidden",
    "invalid_request",
    "no_route",
];

fn policy_path(name: &str) -> String {
    format!("{}/policies/{name}.policy", common::ROOT)
}

#[test]
fn every_error_code_is_catalogued() {
    let covered: BTreeSet<&str> = CASES.iter().map(|c| c.code).collect();
    let all: BTreeSet<&str> = ALL_CODES.into_iter().collect();
    assert_eq!(covered, all);
}

#[test]
fn catalogue_through_the_binary() {
    let mut failures = Vec::new();
    for policy in ["zuora-multi-org", "aep-organization-id"] {
        let cases: Vec<&Case> = CASES.iter().filter(|c| c.policy == policy).collect();
        let input: String = cases.iter().map(|c| format!("{}\n", c.request)).collect();
        let out = common::run(
            &["eval", "--policy", &policy_path(policy)],
            input.as_bytes(),
        );
        let lines = common::decisions(&out);
        assert_eq!(lines.len(), cases.len());
        for (i, (c, d)) in cases.iter().zip(&lines).enumerate() {
            let line = format!("line {}", i + 1);
            let want = c.message.replace("line 1", &line);
            let got = (
                &d["errors"][0]["code"],
                &d["status"],
                &d["errors"][0]["message"],
            );
            if got.0 != c.code
                || got.1 != c.status
                || got.2 != want.as_str()
                || d["decision"] != "deny"
            {
                failures.push(format!(
                    "{}: {} {} {:?}, expected {} {} {:?}",
                    c.name, got.1, got.0, got.2, c.status, c.code, want
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn catalogue_through_the_crate() {
    let mut failures = Vec::new();
    for c in CASES {
        let policy = Policy::from_file(policy_path(c.policy)).unwrap();
        let d = policy.evaluate_json(c.request, &EvalOptions::default());
        let e = &d.errors[0];
        if e.code.as_str() != c.code
            || d.status != c.status
            || e.message != c.message
            || d.is_allow()
        {
            failures.push(format!(
                "{}: {} {} {:?}",
                c.name, d.status, e.code, e.message
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

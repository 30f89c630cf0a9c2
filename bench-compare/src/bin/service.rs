//! Inputs and answer checks for the service load benchmark (bench-compare/service.sh): the seed
//! decisions as `/v1/decide` bodies, gRPC-framed ext_authz `CheckRequest`s and cedar-agent calls.
//!
//! Usage:
//! - `service write DIR`: writes, for each case (`allow`, `deny`), `decide-CASE.json`,
//!   `check-CASE.grpc` and `cedar-CASE.json`, plus cedar-agent's `cedar-policies.json` and
//!   `cedar-data.json`; prints the case names.
//! - `service check ADDR FILE`: sends the `CheckRequest` framed in FILE to the ext_authz server at
//!   ADDR over real gRPC and prints `allow` (status OK) or `deny` (any other status).

use bench_compare::{zuora, Scenario, World, CEDAR_POLICIES};
use envoy_types::ext_authz::v3::pb::CheckRequest;
use envoy_types::pb::envoy::config::core::v3::{HeaderMap, HeaderValue};
use envoy_types::pb::envoy::service::auth::v3::attribute_context::{HttpRequest, Request};
use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
use envoy_types::pb::envoy::service::auth::v3::AttributeContext;
use prost::Message;
use serde_json::{json, Value};
use std::path::Path;
use std::process::ExitCode;

/// The user every case asks for, in the request description, the identity headers and Cedar.
const USER: &str = "u-1";
const PATH: &str = "/query/jobs";

/// The benchmark's cases: the seed query and one deny (an org the user lacks).
fn cases() -> [(&'static str, Scenario); 2] {
    let orgs = &["Asia", "China", "Japan"][..];
    [
        ("allow", zuora::query()),
        (
            "deny",
            Scenario::query(
                "deny: one inaccessible org (Europe)",
                orgs,
                Some("Asia, Europe"),
                false,
            ),
        ),
    ]
}

/// The `CheckRequest` Envoy sends for the query (`encode_raw_headers`), identity from the
/// trusted headers `orgscope serve --trust-identity-headers` reads.
fn check_request(s: &Scenario) -> CheckRequest {
    let orgs = s.user_orgs.join(",");
    let mut headers = vec![
        (":method", "POST"),
        (":path", PATH),
        (":authority", "api.test"),
        (":scheme", "http"),
        ("x-auth-user", USER),
        ("x-auth-orgs", orgs.as_str()),
    ];
    if let Some(v) = &s.org_ids {
        headers.push(("zuora-org-ids", v));
    }
    let header_map = HeaderMap {
        headers: headers
            .iter()
            .map(|(k, v)| HeaderValue {
                key: k.to_string(),
                value: String::new(),
                raw_value: v.as_bytes().to_vec(),
            })
            .collect(),
    };
    CheckRequest {
        attributes: Some(AttributeContext {
            request: Some(Request {
                http: Some(HttpRequest {
                    method: "POST".into(),
                    path: PATH.into(),
                    host: "api.test".into(),
                    header_map: Some(header_map),
                    ..HttpRequest::default()
                }),
                ..Request::default()
            }),
            ..AttributeContext::default()
        }),
    }
}

/// A gRPC message on the wire: no compression, a 4-byte big-endian length, the protobuf.
fn grpc_frame(message: &impl Message) -> Vec<u8> {
    let body = message.encode_to_vec();
    let mut framed = Vec::with_capacity(5 + body.len());
    framed.push(0);
    framed.extend_from_slice(&(body.len() as u32).to_be_bytes());
    framed.extend_from_slice(&body);
    framed
}

fn org(id: &str) -> Value {
    json!({"__entity": {"type": "Org", "id": id}})
}

/// cedar-agent's best idiomatic call: the user's orgs are in its data store, so the call names
/// the principal, the action and the resource (as bench-compare's `CedarApp` does) and carries
/// only the header's orgs in its context.
fn cedar_call(s: &Scenario) -> Value {
    let mut context = serde_json::Map::new();
    if let Some(orgs) = s.requested_orgs() {
        context.insert("orgIds".into(), orgs.iter().map(|o| org(o)).collect());
    }
    json!({
        "principal": format!("User::\"{USER}\""),
        "action": "Action::\"query\"",
        "resource": "Tenant::\"t\"",
        "context": context,
    })
}

/// cedar-agent's policies file: bench-compare's two policies, each under its `@id`.
fn cedar_policies() -> Result<Value, String> {
    let set: cedar_policy::PolicySet = CEDAR_POLICIES.parse().map_err(|e| format!("{e}"))?;
    let mut out = Vec::new();
    for p in set.policies() {
        let id = p.annotation("id").ok_or("a cedar policy without `@id`")?;
        out.push(json!({"id": id, "content": p.to_string()}));
    }
    Ok(Value::Array(out))
}

/// cedar-agent's data file: the user and its orgs (the same user in every case).
fn cedar_data(s: &Scenario) -> Value {
    let orgs: Vec<Value> = s.user_orgs.iter().map(|o| org(o)).collect();
    json!([{
        "uid": {"type": "User", "id": USER},
        "attrs": {"orgs": orgs},
        "parents": [],
    }])
}

fn write(dir: &Path) -> Result<(), String> {
    let world = World::zuora();
    let cases = cases();
    let put = |name: &str, bytes: &[u8]| {
        std::fs::write(dir.join(name), bytes).map_err(|e| format!("cannot write `{name}`: {e}"))
    };
    for (name, s) in &cases {
        let decide = world.orgscope_json(s);
        let allowed = world.orgscope_eval_json(&decide).is_allow();
        if allowed != s.expect_allow {
            return Err(format!("orgscope answers case `{name}` unexpectedly"));
        }
        if s.user_orgs != cases[0].1.user_orgs {
            return Err(format!("case `{name}` has another user"));
        }
        put(&format!("decide-{name}.json"), decide.as_bytes())?;
        put(
            &format!("check-{name}.grpc"),
            &grpc_frame(&check_request(s)),
        )?;
        put(
            &format!("cedar-{name}.json"),
            cedar_call(s).to_string().as_bytes(),
        )?;
        println!("{name}");
    }
    put(
        "cedar-policies.json",
        cedar_policies()?.to_string().as_bytes(),
    )?;
    put(
        "cedar-data.json",
        cedar_data(&cases[0].1).to_string().as_bytes(),
    )
}

fn check(addr: &str, file: &Path) -> Result<&'static str, String> {
    let bytes =
        std::fs::read(file).map_err(|e| format!("cannot read `{}`: {e}", file.display()))?;
    let body = bytes.get(5..).ok_or("not a gRPC frame")?;
    let request = CheckRequest::decode(body).map_err(|e| format!("not a CheckRequest: {e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("no runtime: {e}"))?;
    runtime.block_on(async {
        let mut client = AuthorizationClient::connect(format!("http://{addr}"))
            .await
            .map_err(|e| format!("cannot connect to `{addr}`: {e}"))?;
        let response = client
            .check(request)
            .await
            .map_err(|e| format!("check failed: {e}"))?
            .into_inner();
        let code = response.status.map_or(-1, |s| s.code);
        Ok(if code == 0 { "allow" } else { "deny" })
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["write", dir] => write(Path::new(dir)),
        ["check", addr, file] => check(addr, Path::new(file)).map(|answer| println!("{answer}")),
        _ => Err("usage: service write DIR | service check ADDR FILE".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("service: {e}");
            ExitCode::FAILURE
        }
    }
}

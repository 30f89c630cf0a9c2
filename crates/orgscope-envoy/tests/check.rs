//! ext_authz against a running service: CheckRequests as Envoy builds them, over real gRPC on
//! loopback and through the crate's API, with the attacks of docs/security.md (gRPC input),
//! and JWT identity and the decision log, which ext_authz shares with the other front doors.

use envoy_types::ext_authz::v3::pb::{
    CheckRequest, CheckResponse, HeaderAppendAction, HttpResponse, OkHttpResponse,
};
use envoy_types::pb::envoy::config::core::v3::{HeaderMap, HeaderValue};
use envoy_types::pb::envoy::service::auth::v3::attribute_context::{HttpRequest, Request};
use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
use envoy_types::pb::envoy::service::auth::v3::AttributeContext;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use orgscope_envoy::ExtAuthz;
use orgscope_server::{Config, DecisionLog, IdentityHeaders, Jwt, JwtAlgorithm, JwtClaims, Server};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const OK: i32 = 0;
const PERMISSION_DENIED: i32 = 7;
const UNAVAILABLE: i32 = 14;
const UNAUTHENTICATED: i32 = 16;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(path)
}

fn config(policy: PathBuf) -> Config {
    let mut c = Config::new(policy);
    c.listen = "127.0.0.1:0".parse().unwrap();
    c.entities = Some(repo(
        "crates/orgscope-cli/tests/acceptance/zuora-multi-org.entities.ndjson",
    ));
    c.identity = Some(IdentityHeaders::default());
    c
}

fn start() -> Server {
    started(config(repo("policies/zuora-multi-org.policy")))
}

/// A service with `config`, once its policy has loaded.
fn started(config: Config) -> Server {
    let server = Server::start(config).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !server.decider().ready() {
        assert!(Instant::now() < deadline, "the policy did not load");
        std::thread::sleep(Duration::from_millis(10));
    }
    server
}

/// A CheckRequest as Envoy sends it with `encode_raw_headers`: pseudo-headers first.
fn check(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> CheckRequest {
    let mut all = vec![
        (":method", method),
        (":path", path),
        (":authority", "api.test"),
        (":scheme", "http"),
    ];
    all.extend_from_slice(headers);
    let header_map = HeaderMap {
        headers: all
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
                    method: method.into(),
                    path: path.into(),
                    host: "api.test".into(),
                    header_map: Some(header_map),
                    raw_body: body.as_bytes().to_vec(),
                    ..HttpRequest::default()
                }),
                ..Request::default()
            }),
            ..AttributeContext::default()
        }),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn decide(server: &Server, request: &CheckRequest) -> CheckResponse {
    let authz = ExtAuthz::new(server.decider());
    runtime().block_on(authz.decide(request))
}

fn code(r: &CheckResponse) -> i32 {
    r.status.as_ref().unwrap().code
}

fn allowed(r: &CheckResponse) -> &OkHttpResponse {
    assert_eq!(code(r), OK, "{r:?}");
    match &r.http_response {
        Some(HttpResponse::OkResponse(ok)) => ok,
        other => panic!("not an allow: {other:?}"),
    }
}

/// The headers an allow sets, as (name, value), each replacing the client's copies.
fn set(ok: &OkHttpResponse) -> Vec<(String, String)> {
    ok.headers
        .iter()
        .map(|h| {
            assert_eq!(
                h.append_action,
                HeaderAppendAction::OverwriteIfExistsOrAdd as i32
            );
            let h = h.header.as_ref().unwrap();
            (h.key.clone(), h.value.clone())
        })
        .collect()
}

/// A deny's status and JSON body.
fn denied(r: &CheckResponse) -> (i32, Value) {
    match &r.http_response {
        Some(HttpResponse::DeniedResponse(d)) => (
            d.status.as_ref().unwrap().code,
            serde_json::from_str(&d.body).unwrap_or(Value::String(d.body.clone())),
        ),
        other => panic!("not a deny: {other:?}"),
    }
}

#[test]
fn allow_sets_the_scope_and_removes_every_client_copy() {
    let s = start();
    let r = decide(
        &s,
        &check(
            "POST",
            "/query/jobs?x=1",
            &[
                ("x-auth-orgs", "Asia,China"),
                ("x-orgscope-visible-orgs", "Forged"),
                ("X-Orgscope-Visible-Orgs", "Forged"),
                ("x-orgscope-anything", "forged"),
                ("x-orgscope-status", "200"),
            ],
            "",
        ),
    );
    let ok = allowed(&r);
    let scope = set(ok);
    let value = |n: &str| scope.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    assert_eq!(value("x-orgscope-visible-orgs"), Some("Asia,China"));
    assert_eq!(value("x-orgscope-include-unlabeled"), Some("true"));
    assert_eq!(value("x-orgscope-labels"), Some("[]"));
    assert!(value("x-orgscope-decision-id").is_some());
    assert!(value("x-orgscope-revision").is_some());
    // Every other x-orgscope-* name the client sent is removed; the ones set replace theirs.
    let mut removed = ok.headers_to_remove.clone();
    removed.sort();
    assert_eq!(removed, ["x-orgscope-anything", "x-orgscope-status"]);

    // Multi-Org off: no visible set, so the client's forged one is removed, not kept.
    let r = decide(
        &s,
        &check(
            "POST",
            "/query/jobs",
            &[
                ("x-auth-orgs", "Asia"),
                ("x-auth-multi-org", "false"),
                ("x-orgscope-visible-orgs", "Japan"),
            ],
            "",
        ),
    );
    let ok = allowed(&r);
    assert!(!set(ok).iter().any(|(k, _)| k == "x-orgscope-visible-orgs"));
    assert_eq!(ok.headers_to_remove, ["x-orgscope-visible-orgs"]);
}

#[test]
fn deny_carries_the_decision_status_and_body() {
    let s = start();
    let asia = [("x-auth-orgs", "Asia")];
    // An object in an org the user cannot see: 404, the same answer as one that does not exist.
    let hidden = decide(&s, &check("GET", "/v1/accounts/A-China", &asia, ""));
    let missing = decide(&s, &check("GET", "/v1/accounts/A-Nowhere", &asia, ""));
    assert_eq!(code(&hidden), PERMISSION_DENIED);
    let (status, body) = denied(&hidden);
    assert_eq!(
        (status, &body["errors"][0]["code"]),
        (404, &"not_found".into())
    );
    assert_eq!(denied(&missing).0, 404);
    // The body decides a create.
    let json = [
        ("x-auth-orgs", "Asia"),
        ("content-type", "application/json"),
    ];
    let create = |body: &str| decide(&s, &check("POST", "/v1/accounts", &json, body));
    assert_eq!(denied(&create(r#"{"organizationLabel":"China"}"#)).0, 403);
    allowed(&create(r#"{"organizationLabel":"Asia"}"#));
    // A body that is not JSON is refused, never read as no body.
    let (status, body) = denied(&create("organizationLabel=Asia"));
    assert_eq!(
        (status, &body["errors"][0]["code"]),
        (400, &"invalid_request".into())
    );
    // A key given twice may be read either way by the upstream: refused, whichever comes first.
    for twice in [
        r#"{"organizationLabel":"China","organizationLabel":"Asia"}"#,
        r#"{"organizationLabel":"Asia","organizationLabel":"China"}"#,
        r#"{"a":{"b":1,"b":2},"organizationLabel":"Asia"}"#,
    ] {
        let (status, body) = denied(&create(twice));
        assert_eq!(
            (status, &body["errors"][0]["code"]),
            (400, &"invalid_request".into()),
            "{twice}"
        );
        assert!(body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("duplicate key"));
    }
}

#[test]
fn identity_is_believed_only_as_the_trusted_layer_sends_it() {
    let s = start();
    // No identity: 401 with no decision detail.
    let r = decide(&s, &check("POST", "/query/jobs", &[], ""));
    assert_eq!(code(&r), UNAUTHENTICATED);
    let (status, body) = denied(&r);
    assert_eq!(status, 401);
    assert!(body.is_string(), "{body}");
    // An identity header sent twice (a layer that appended instead of replacing): 401.
    let twice = [("x-auth-orgs", "Asia"), ("x-auth-orgs", "China")];
    assert_eq!(
        code(&decide(&s, &check("POST", "/query/jobs", &twice, ""))),
        UNAUTHENTICATED
    );
    // A pseudo-header cannot stand for the request line: the typed fields decide.
    let mut r = check(
        "GET",
        "/v1/accounts/A-China",
        &[("x-auth-orgs", "Asia")],
        "",
    );
    let http = r.attributes.as_mut().unwrap().request.as_mut().unwrap();
    let http = http.http.as_mut().unwrap();
    for h in &mut http.header_map.as_mut().unwrap().headers {
        if h.key == ":path" {
            h.raw_value = b"/v1/accounts/A-Asia".to_vec();
        }
    }
    assert_eq!(denied(&decide(&s, &r)).0, 404);
}

#[test]
fn malformed_checks_are_denied() {
    let s = start();
    // No HTTP attributes at all.
    let r = decide(&s, &CheckRequest::default());
    assert_eq!(denied(&r).0, 400);
    // A header name or value that is not HTTP.
    for bad in [("bad name", "v"), ("x-ok", "a\nb")] {
        let r = decide(
            &s,
            &check("GET", "/v1/invoices", &[("x-auth-orgs", "Asia"), bad], ""),
        );
        assert_eq!(denied(&r).0, 400, "{bad:?}");
    }
    // Dot segments or encoded separators the upstream might resolve elsewhere.
    for path in [
        "/v1/accounts/A-Asia/../A-China",
        "/v1/accounts/A-Asia%2F..%2FA-China",
    ] {
        let r = decide(&s, &check("GET", path, &[("x-auth-orgs", "Asia")], ""));
        assert_eq!(denied(&r).0, 400, "{path}");
    }
    // Envoy's merged-header form (without `encode_raw_headers`) is read too.
    let mut r = check("POST", "/query/jobs", &[], "");
    let http = r.attributes.as_mut().unwrap().request.as_mut().unwrap();
    let http = http.http.as_mut().unwrap();
    http.header_map = None;
    http.headers.insert("x-auth-orgs".into(), "Asia".into());
    http.headers
        .insert("x-orgscope-labels".into(), "forged".into());
    let r = decide(&s, &r);
    let ok = allowed(&r);
    assert!(set(ok)
        .iter()
        .any(|(k, v)| k == "x-orgscope-labels" && v == "[]"));
}

#[test]
fn jwt_identity_and_the_decision_log_apply_to_ext_authz() {
    let dir = std::env::temp_dir().join(format!("orgscope-envoy-jwt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret = "0123456789abcdef0123456789abcdef";
    std::fs::write(dir.join("secret"), format!("{secret}\n")).unwrap();
    let log = dir.join("decisions.ndjson");
    let mut c = config(repo("policies/zuora-multi-org.policy"));
    c.identity = None;
    let (iss, aud) = ("https://idp.example", "orgscope");
    let jwt = Jwt::from_file(
        JwtAlgorithm::Hs256,
        &dir.join("secret"),
        Some(iss),
        Some(aud),
        JwtClaims::default(),
    );
    c.jwt = Some(jwt.unwrap());
    c.decision_log = Some(DecisionLog::new(&log, Vec::new()));
    let s = started(c);
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    let claims = json!({"sub": "u-1", "orgs": ["Asia"], "iss": iss, "aud": aud, "exp": exp});
    let sign = |key: &[u8]| {
        let token = encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(key),
        );
        format!("Bearer {}", token.unwrap())
    };
    let good = sign(secret.as_bytes());
    // The token says Asia; identity headers are no identity source here, whatever they say.
    let r = decide(
        &s,
        &check(
            "POST",
            "/query/jobs",
            &[("authorization", &good), ("x-auth-orgs", "China")],
            "",
        ),
    );
    let scope = set(allowed(&r));
    assert!(scope.contains(&("x-orgscope-visible-orgs".into(), "Asia".into())));
    // No token, one signed with another key, identity headers alone: 401, nothing decided.
    let forged = sign(b"another-secret-another-secret-32");
    for headers in [
        vec![],
        vec![("authorization", forged.as_str())],
        vec![("x-auth-orgs", "Asia")],
    ] {
        let r = decide(&s, &check("POST", "/query/jobs", &headers, ""));
        assert_eq!(code(&r), UNAUTHENTICATED, "{headers:?}");
    }
    // The allow is in the decision log, without the token that said who the user is.
    let text = std::fs::read_to_string(&log).unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 1, "{text}");
    assert_eq!(events[0]["decision"]["decision"], "allow");
    assert_eq!(events[0]["request"]["user"]["orgs"], json!(["Asia"]));
    assert!(!text.contains(&good[7..]), "{text}");
    assert!(events[0]["request"]["headers"]
        .get("authorization")
        .is_none());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn no_policy_loaded_is_unavailable() {
    let dir = std::env::temp_dir().join(format!("orgscope-envoy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let broken = dir.join("broken.policy");
    std::fs::write(&broken, "objects {").unwrap();
    let s = Server::start(config(broken)).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let r = decide(
        &s,
        &check("POST", "/query/jobs", &[("x-auth-orgs", "Asia")], ""),
    );
    assert_eq!(code(&r), UNAVAILABLE);
    let (status, body) = denied(&r);
    assert_eq!(
        (status, &body["errors"][0]["code"]),
        (503, &"unavailable".into())
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn checks_over_grpc_are_counted_in_the_metrics() {
    let s = start();
    let rt = runtime();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = rt.spawn(orgscope_envoy::serve(listener, s.decider(), async {
        let _ = stopped.await;
    }));
    let statuses = rt.block_on(async {
        let mut client = AuthorizationClient::connect(format!("http://{addr}"))
            .await
            .unwrap();
        let mut out = Vec::new();
        for (path, orgs) in [("/query/jobs", "Asia"), ("/v1/accounts/A-China", "Asia")] {
            let method = if path == "/query/jobs" { "POST" } else { "GET" };
            let req = check(method, path, &[("x-auth-orgs", orgs)], "");
            out.push(code(&client.check(req).await.unwrap().into_inner()));
        }
        // A message over the limit is refused, never decided (Envoy then denies).
        let big = "x".repeat(orgscope_envoy::MAX_MESSAGE_BYTES + 1);
        let req = check("POST", "/v1/accounts", &[("x-auth-orgs", "Asia")], &big);
        let refused = client.check(req).await.unwrap_err();
        assert_eq!(refused.code(), tonic::Code::OutOfRange, "{refused:?}");
        out
    });
    assert_eq!(statuses, [OK, PERMISSION_DENIED]);
    let _ = stop.send(());
    rt.block_on(serving).unwrap().unwrap();

    let mut conn = std::net::TcpStream::connect(s.addr()).unwrap();
    write!(
        conn,
        "GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    conn.read_to_string(&mut text).unwrap();
    for want in [
        r#"endpoint="ext_authz",result="allow""#,
        r#"endpoint="ext_authz",result="deny",code="not_found""#,
    ] {
        assert!(text.contains(want), "{want} not in {text}");
    }
}

//! The service in process, over real HTTP on loopback: decide, forward-auth, limits, readiness,
//! hot reload and metrics.

mod common;

use common::{check_metrics, decide, eventually, get, repo, send, TempDir};
use orgscope_server::{Config, IdentityHeaders, Server};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

const ZUORA: &str = "policies/zuora-multi-org.policy";
const ENTITIES: &str = "crates/orgscope-cli/tests/acceptance/zuora-multi-org.entities.ndjson";

fn config() -> Config {
    let mut c = Config::new(repo(ZUORA));
    c.listen = "127.0.0.1:0".parse().unwrap();
    c.entities = Some(repo(ENTITIES));
    c.identity = Some(IdentityHeaders::default());
    c
}

fn start(config: Config) -> Server {
    let server = Server::start(config).unwrap();
    let addr = server.addr();
    eventually("the policy to load", || {
        get(addr, "/health/ready").status == 200
    });
    server
}

#[test]
fn decides_one_request() {
    let s = start(config());
    let r = decide(
        s.addr(),
        "application/json",
        r#"{"id": "r-1", "method": "POST", "path": "/v1/invoices",
            "body": {"accountId": "A-Asia"}, "user": {"orgs": ["Asia", "China"]}}"#,
    );
    assert_eq!(r.status, 200);
    let d = r.json();
    assert_eq!(d["id"], "r-1");
    assert_eq!(d["decision"], "allow");
    assert_eq!(
        d["labels"],
        json!([{"org": "Asia", "source": "inherited", "from": "account A-Asia"}])
    );
    assert_eq!(r.header("x-orgscope-revision").map(str::len), Some(12));
    assert!(r.header("x-orgscope-decision-id").is_some());

    // The trusted store decides what exists: an object the user cannot see is 404.
    let d = decide(
        s.addr(),
        "application/json",
        r#"{"method": "GET", "path": "/v1/accounts/A-China", "user": {"orgs": ["Asia"]}}"#,
    )
    .json();
    assert_eq!(
        (d["decision"].as_str(), d["status"].as_u64()),
        (Some("deny"), Some(404))
    );
    // A request's own entities cannot contradict the trusted store: claiming the China account
    // is in Asia gets the same 404, never an allow (docs/security.md).
    let forged = decide(
        s.addr(),
        "application/json",
        r#"{"method": "GET", "path": "/v1/accounts/A-China", "user": {"orgs": ["Asia"]},
            "entities": [{"type": "account", "id": "A-China", "org": "Asia"}]}"#,
    )
    .json();
    assert_eq!(forged["decision"], "deny");
    assert_eq!(forged["errors"], d["errors"]);
    // Malformed input is an answered deny, never an error page.
    for bad in ["", "{", "[1]", "{\"user\": {\"orgs\": []}, \"usr\": 1}"] {
        let d = decide(s.addr(), "application/json", bad).json();
        assert_eq!(d["errors"][0]["code"], "invalid_request", "{bad}");
    }
    let r = send(s.addr(), "POST", "/v1/decide", &[], &[0xff, 0xfe]);
    assert_eq!(r.json()["errors"][0]["code"], "invalid_request");
    let r = get(s.addr(), "/v1/decide");
    assert_eq!((r.status, r.header("allow")), (405, Some("POST")));
    assert_eq!(get(s.addr(), "/nope").status, 404);
}

#[test]
fn decides_ndjson_in_order() {
    let s = start(config());
    let lines: Vec<String> = (0..200)
        .map(|i| {
            let org = ["Asia", "China", "Japan"][i % 3];
            json!({"id": i, "method": "POST", "path": "/query/jobs",
                   "headers": {"Zuora-Org-Ids": org}, "user": {"orgs": ["Asia", "China"]}})
            .to_string()
        })
        .collect();
    let body = format!("{}\n\nnot json\n", lines.join("\n"));
    // Declared NDJSON, and undeclared but several lines: the same answers.
    for ct in ["application/x-ndjson", "text/plain"] {
        let r = decide(s.addr(), ct, &body);
        assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
        let out = r.lines();
        assert_eq!(out.len(), 201, "one decision per non-blank line ({ct})");
        for (i, d) in out.iter().take(200).enumerate() {
            assert_eq!(d["id"], i);
            assert_eq!(d["decision"], if i % 3 == 2 { "deny" } else { "allow" });
        }
        assert_eq!(out[200]["errors"][0]["code"], "invalid_request");
    }
    // A pretty-printed document is one request.
    let pretty = serde_json::to_string_pretty(&json!({"method": "POST", "path": "/query/jobs",
        "user": {"orgs": ["Asia"]}}))
    .unwrap();
    assert_eq!(
        decide(s.addr(), "application/json", &pretty).json()["decision"],
        "allow"
    );
}

/// Opens an NDJSON batch, sends one line and reads its decision: the batch's body stays open,
/// so the batch holds its slot until the connection is dropped.
fn open_batch(
    addr: std::net::SocketAddr,
) -> (std::net::TcpStream, BufReader<std::net::TcpStream>, Value) {
    let mut conn = common::connect(addr);
    let head = "POST /v1/decide HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-ndjson\r\n\
                transfer-encoding: chunked\r\nconnection: close\r\n\r\n";
    conn.write_all(head.as_bytes()).unwrap();
    let line = "{\"id\": 1, \"method\": \"POST\", \"path\": \"/query/jobs\", \"user\": {\"orgs\": [\"Asia\"]}}\n";
    conn.write_all(format!("{:x}\r\n{line}\r\n", line.len()).as_bytes())
        .unwrap();
    let mut r = BufReader::new(conn.try_clone().unwrap());
    let mut status = String::new();
    r.read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let mut h = String::new();
    while r.read_line(&mut h).unwrap() > 2 {
        h.clear();
    }
    let first = common::read_chunk(&mut r).unwrap();
    (conn, r, serde_json::from_slice(&first).unwrap())
}

#[test]
fn ndjson_answers_stream_before_the_batch_ends() {
    let s = start(config());
    // The first decision arrives while the request body is still open.
    let (mut conn, mut r, d) = open_batch(s.addr());
    assert_eq!(
        (d["id"].as_u64(), d["decision"].as_str()),
        (Some(1), Some("allow"))
    );
    conn.write_all(b"0\r\n\r\n").unwrap();
    assert_eq!(common::read_chunk(&mut r), None);
}

#[test]
fn limits_refuse_oversized_input() {
    let mut c = config();
    c.max_body_bytes = 4096;
    c.limits.max_request_bytes = 300;
    let s = start(c);
    let small = r#"{"method": "POST", "path": "/query/jobs", "user": {"orgs": ["Asia"]}}"#;
    let big = format!(
        r#"{{"method": "POST", "path": "/query/jobs", "body": "{}", "user": {{"orgs": ["Asia"]}}}}"#,
        "x".repeat(400)
    );
    let out = decide(
        s.addr(),
        "application/x-ndjson",
        &format!("{small}\n{big}\n{small}\n"),
    )
    .lines();
    let codes: Vec<&str> = out
        .iter()
        .map(|d| d["decision"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["allow", "deny", "allow"]);
    assert!(out[1]["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("over the limit of 300 bytes"));
    // A whole body over the cap: 413 for one document; a batch ends with a deny line.
    assert_eq!(
        decide(s.addr(), "application/json", &" ".repeat(5000)).status,
        413
    );
    let many = format!("{small}\n").repeat(100);
    let out = decide(s.addr(), "application/x-ndjson", &many).lines();
    assert!(out.len() < 100);
    let last = out.last().unwrap();
    assert!(last["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("batch is over the limit"));
}

#[test]
fn at_capacity_requests_get_503_and_a_stalled_batch_frees_its_slot() {
    let mut c = config();
    c.max_concurrency = 1;
    c.timeout = Duration::from_millis(300);
    let s = start(c);
    let q = r#"{"method": "POST", "path": "/query/jobs", "user": {"orgs": ["Asia"]}}"#;
    // Hold the only slot with a batch that keeps sending a line every 100 ms for 800 ms (within
    // the time limit each time), then stalls.
    let (conn, mut held, _) = open_batch(s.addr());
    let mut feed = conn.try_clone().unwrap();
    let feeder = std::thread::spawn(move || {
        let line = format!("{q}\n");
        for _ in 0..8 {
            std::thread::sleep(Duration::from_millis(100));
            feed.write_all(format!("{:x}\r\n{line}\r\n", line.len()).as_bytes())
                .unwrap();
        }
    });
    std::thread::sleep(Duration::from_millis(50));
    let r = decide(s.addr(), "application/json", q);
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["decision"], "deny");
    assert!(get(s.addr(), "/metrics")
        .text()
        .contains("orgscope_unavailable_total 1"));
    feeder.join().unwrap();
    // The stalled batch is ended with a deny line after its decisions, and its slot serves again.
    let mut last = Value::Null;
    for _ in 0..20 {
        let chunk = common::read_chunk(&mut held).expect("the batch's end");
        let text = String::from_utf8(chunk).unwrap();
        last = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        if last["decision"] == "deny" {
            break;
        }
    }
    assert!(
        last["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("stalled"),
        "{last}"
    );
    assert_eq!(common::read_chunk(&mut held), None);
    assert_eq!(
        decide(s.addr(), "application/json", q).json()["decision"],
        "allow"
    );
}

fn auth(s: &Server, target: &str, headers: &[(&str, &str)]) -> common::Reply {
    send(s.addr(), "GET", target, headers, b"")
}

#[test]
fn forward_auth_allows_with_scope_headers() {
    let s = start(config());
    let r = auth(
        &s,
        "/v1/forward-auth",
        &[
            ("x-forwarded-method", "POST"),
            ("x-forwarded-uri", "/query/jobs?x=1"),
            ("x-auth-user", "u-1"),
            ("x-auth-orgs", "Asia, China, Japan"),
            ("zuora-org-ids", "Asia, China"),
            // Forged by the client: never echoed, never believed.
            ("x-orgscope-visible-orgs", "Japan"),
            ("x-orgscope-include-unlabeled", "false"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.all("x-orgscope-visible-orgs"), ["Asia,China"]);
    assert_eq!(r.all("x-orgscope-include-unlabeled"), ["true"]);
    assert_eq!(r.header("x-orgscope-labels"), Some("[]"));
    assert!(r.header("x-orgscope-decision-id").is_some());

    // A create: the label travels to the upstream.
    let r = auth(
        &s,
        "/v1/forward-auth",
        &[
            ("x-forwarded-method", "POST"),
            ("x-forwarded-uri", "/v1/accounts"),
            ("x-auth-orgs", "Asia,China"),
            ("zuora-working-org", "China"),
        ],
    );
    let labels: Value = serde_json::from_str(r.header("x-orgscope-labels").unwrap()).unwrap();
    assert_eq!(labels, json!([{"org": "China", "source": "working_org"}]));

    // Multi-Org off: no visible set, so no visible-orgs header at all.
    let r = auth(
        &s,
        "/v1/forward-auth",
        &[
            ("x-forwarded-method", "POST"),
            ("x-forwarded-uri", "/query/jobs"),
            ("x-auth-orgs", "Asia"),
            ("x-auth-multi-org", "false"),
            ("x-orgscope-visible-orgs", "Japan"),
        ],
    );
    assert_eq!(r.status, 200);
    assert!(r.all("x-orgscope-visible-orgs").is_empty());
}

#[test]
fn forward_auth_denies_with_the_decision_status() {
    let s = start(config());
    let base = [("x-forwarded-method", "GET"), ("x-auth-orgs", "Asia")];
    let with = |uri: &'static str, extra: &[(&'static str, &'static str)]| {
        let mut h = base.to_vec();
        h.push(("x-forwarded-uri", uri));
        h.extend_from_slice(extra);
        h
    };
    let r = auth(&s, "/v1/forward-auth", &with("/v1/accounts/A-China", &[]));
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["errors"][0]["code"], "not_found");
    let r = auth(
        &s,
        "/v1/forward-auth",
        &[
            ("x-forwarded-method", "POST"),
            ("x-forwarded-uri", "/query/jobs"),
            ("x-auth-orgs", "Asia"),
            ("zuora-org-ids", "China"),
        ],
    );
    assert_eq!(
        (r.status, r.json()["errors"][0]["code"].as_str()),
        (403, Some("org_access_denied"))
    );
    // nginx mode: 403, the real status beside it.
    let r = auth(
        &s,
        "/v1/forward-auth?mode=nginx",
        &[
            ("x-original-method", "GET"),
            ("x-original-uri", "/v1/accounts/A-China"),
            ("x-auth-orgs", "Asia"),
        ],
    );
    assert_eq!(
        (r.status, r.header("x-orgscope-status")),
        (403, Some("404"))
    );
    assert_eq!(r.header("x-orgscope-code"), Some("not_found"));
    // Each mode reads only its own gateway's headers: a client's X-Original-URI does not
    // replace the request line Caddy or Traefik set.
    let r = auth(
        &s,
        "/v1/forward-auth",
        &with(
            "/v1/accounts/A-China",
            &[("x-original-uri", "/v1/accounts/A-Asia")],
        ),
    );
    assert_eq!(r.status, 404);
    // No request line at all, or a repeated one: a deny.
    let r = auth(&s, "/v1/forward-auth", &base);
    assert_eq!(
        (r.status, r.json()["errors"][0]["code"].as_str()),
        (400, Some("invalid_request"))
    );
}

#[test]
fn forward_auth_decodes_the_query() {
    let mut c = config();
    c.policy = repo("policies/aep-organization-id.policy");
    c.entities = None;
    let s = start(c);
    let q = |uri: &'static str| {
        auth(
            &s,
            "/v1/forward-auth",
            &[
                ("x-forwarded-method", "GET"),
                ("x-forwarded-uri", uri),
                ("x-auth-orgs", "o-1,o-2"),
            ],
        )
    };
    let r = q("/v1/organizations?organizationIds=o%2D1");
    assert_eq!(r.status, 200, "{}", r.text());
    let r = q("/v1/invoices?organizationId=o-1&organizationId=o-2");
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["errors"][0]["code"], "org_id_conflict");
    let r = q("/v1/invoices?organizationId=%zz");
    assert_eq!(r.json()["errors"][0]["code"], "invalid_request");
}

#[test]
fn forward_auth_trusts_identity_only_when_configured() {
    let mut c = config();
    c.identity = None;
    let s = start(c);
    let r = auth(
        &s,
        "/v1/forward-auth",
        &[
            ("x-forwarded-method", "POST"),
            ("x-forwarded-uri", "/query/jobs"),
            ("x-auth-orgs", "Asia"),
        ],
    );
    assert_eq!(r.status, 401);
    drop(s);

    let s = start(config());
    let h = [
        ("x-forwarded-method", "POST"),
        ("x-forwarded-uri", "/query/jobs"),
    ];
    // No orgs header, or an empty one (a gateway's unset variable): no identity.
    assert_eq!(auth(&s, "/v1/forward-auth", &h).status, 401);
    let mut empty = h.to_vec();
    empty.extend([("x-auth-orgs", " , "), ("x-auth-multi-org", "")]);
    assert_eq!(auth(&s, "/v1/forward-auth", &empty).status, 401);
    // An identity header sent twice (a layer that appended instead of replacing): 401.
    let mut twice = h.to_vec();
    twice.extend([("x-auth-orgs", "Asia"), ("x-auth-orgs", "China")]);
    assert_eq!(auth(&s, "/v1/forward-auth", &twice).status, 401);
    // The reserved prefix cannot be an identity source: a client's x-orgscope-* is dropped.
    let mut forged = h.to_vec();
    forged.push(("x-orgscope-user-orgs", "Asia"));
    assert_eq!(auth(&s, "/v1/forward-auth", &forged).status, 401);
    let metrics = get(s.addr(), "/metrics").text();
    assert!(
        metrics.contains("orgscope_unauthenticated_total 4"),
        "{metrics}"
    );
}

#[test]
fn readiness_waits_for_a_good_policy_and_reload_keeps_the_last_good_one() {
    let dir = TempDir::new("reload");
    let policy = dir.path("p.policy");
    std::fs::write(&policy, "this is not a policy").unwrap();
    let mut c = config();
    c.policy = policy.clone();
    c.entities = None;
    c.watch_interval = Some(Duration::from_millis(50));
    let s = Server::start(c).unwrap();
    let addr = s.addr();
    let query = r#"{"method": "POST", "path": "/query/jobs", "user": {"orgs": ["Asia"]}}"#;
    // Alive, not ready, and no decision but a 503 deny.
    assert_eq!(get(addr, "/health").status, 200);
    assert_eq!(get(addr, "/health/ready").status, 503);
    let r = decide(addr, "application/json", query);
    assert_eq!(
        (r.status, r.json()["decision"].as_str()),
        (503, Some("deny"))
    );
    // nginx mode: 403 with the real 503 beside it (the snippet maps it back).
    let nginx = [
        ("x-original-method", "POST"),
        ("x-original-uri", "/query/jobs"),
        ("x-auth-orgs", "Asia"),
    ];
    let r = send(addr, "GET", "/v1/forward-auth?mode=nginx", &nginx, b"");
    assert_eq!(
        (r.status, r.header("x-orgscope-status")),
        (403, Some("503"))
    );

    // A good policy appears: picked up, ready.
    std::fs::copy(repo(ZUORA), &policy).unwrap();
    eventually("readiness", || get(addr, "/health/ready").status == 200);
    let r = decide(addr, "application/json", query);
    assert_eq!(r.json()["decision"], "allow");
    let first = r.header("x-orgscope-revision").unwrap().to_string();

    // A broken edit: the previous revision keeps serving, and the failure is counted.
    std::fs::write(&policy, "objects {").unwrap();
    eventually("the failed reload", || {
        get(addr, "/metrics")
            .text()
            .contains("orgscope_policy_reload_failures_total 2")
    });
    let r = decide(addr, "application/json", query);
    assert_eq!(r.header("x-orgscope-revision"), Some(first.as_str()));
    assert_eq!(r.json()["decision"], "allow");
    assert_eq!(get(addr, "/health/ready").status, 200);

    // A good change: a new revision, and decisions by the new policy.
    std::fs::copy(repo("policies/aep-organization-id.policy"), &policy).unwrap();
    eventually("the new revision", || {
        decide(addr, "application/json", query).header("x-orgscope-revision")
            != Some(first.as_str())
    });
    assert_eq!(
        decide(addr, "application/json", query).json()["errors"][0]["code"],
        "no_route"
    );
    let metrics = get(addr, "/metrics").text();
    check_metrics(&metrics);
    assert!(
        metrics.contains("orgscope_policy_reloads_total 2"),
        "{metrics}"
    );
}

#[test]
fn metrics_count_decisions() {
    let s = start(config());
    let q = r#"{"method": "POST", "path": "/query/jobs", "headers": {"Zuora-Org-Ids": "China"}, "user": {"orgs": ["Asia"]}}"#;
    decide(s.addr(), "application/json", q);
    decide(s.addr(), "application/json", q);
    let text = get(s.addr(), "/metrics").text();
    check_metrics(&text);
    assert!(text.contains(
        "orgscope_decisions_total{endpoint=\"decide\",result=\"deny\",code=\"org_access_denied\"} 2"
    ), "{text}");
    assert!(text.contains("orgscope_decision_duration_seconds_count 2"));
    let revision = decide(s.addr(), "application/json", q)
        .header("x-orgscope-revision")
        .unwrap()
        .to_string();
    assert!(text.contains(&format!(
        "orgscope_policy_info{{revision=\"{revision}\"}} 1"
    )));
}

#[test]
fn reload_under_load_never_fails_a_request() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let dir = TempDir::new("load");
    let policy = dir.path("p.policy");
    let text = std::fs::read_to_string(repo(ZUORA)).unwrap();
    std::fs::write(&policy, &text).unwrap();
    let mut c = config();
    c.policy = policy.clone();
    c.watch_interval = Some(Duration::from_millis(20));
    let s = start(c);
    let addr = s.addr();
    let serving = |addr| {
        get(addr, "/health/ready")
            .text()
            .trim()
            .strip_prefix("ready ")
            .unwrap()
            .to_string()
    };
    let good = Arc::new(Mutex::new(vec![serving(addr)]));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                let q = r#"{"method": "POST", "path": "/query/jobs", "user": {"orgs": ["Asia"]}}"#;
                for _ in 0..20_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let r = decide(addr, "application/json", q);
                    assert_eq!(
                        (r.status, r.json()["decision"].as_str()),
                        (200, Some("allow"))
                    );
                    seen.push(
                        r.header("x-orgscope-revision")
                            .expect("a revision")
                            .to_string(),
                    );
                }
                seen
            })
        })
        .collect();
    for round in 0..6 {
        // Alternate good edits (same decisions, a new revision) with broken ones.
        let before = serving(addr);
        if round % 2 == 0 {
            // Written whole then renamed, as deployments replace files: never seen half-written.
            let tmp = dir.path("p.tmp");
            std::fs::write(&tmp, format!("{text}\n# edit {round}\n")).unwrap();
            std::fs::rename(&tmp, &policy).unwrap();
            eventually("the new revision", || serving(addr) != before);
            good.lock().unwrap().push(serving(addr));
        } else {
            let failures = |addr| {
                let m = get(addr, "/metrics").text();
                m.lines().find_map(|l| {
                    l.strip_prefix("orgscope_policy_reload_failures_total ")
                        .map(str::to_string)
                })
            };
            let was = failures(addr);
            std::fs::write(&policy, "objects {").unwrap();
            eventually("the failed reload", || failures(addr) != was);
            assert_eq!(serving(addr), before);
        }
    }
    stop.store(true, Ordering::Relaxed);
    let good = good.lock().unwrap().clone();
    let mut total = 0;
    for c in clients {
        let seen = c.join().expect("no request failed");
        total += seen.len();
        for r in seen {
            assert!(
                good.contains(&r),
                "revision {r} is not one that loaded: {good:?}"
            );
        }
    }
    assert!(total > 0);
}

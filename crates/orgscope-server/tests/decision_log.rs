//! The decision log over real HTTP: one NDJSON event per decision, and (a property) the
//! masked fields' values never appear in the log's bytes, wherever else the request or the
//! decision repeats them.

mod common;

use common::{decide, eventually, get, repo, send, TempDir};
use orgscope_server::{Config, DecisionLog, IdentityHeaders, Server};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

const ZUORA: &str = "policies/zuora-multi-org.policy";
const ENTITIES: &str = "crates/orgscope-cli/tests/acceptance/zuora-multi-org.entities.ndjson";

/// One service for the whole file, logging to a file; each test reads what it appended.
struct Logged {
    server: Server,
    log: PathBuf,
    _dir: TempDir,
}

fn logged() -> &'static Logged {
    static ONE: OnceLock<Logged> = OnceLock::new();
    ONE.get_or_init(|| {
        let dir = TempDir::new("decision-log");
        let log = dir.path("decisions.ndjson");
        let mut c = Config::new(repo(ZUORA));
        c.listen = "127.0.0.1:0".parse().unwrap();
        c.entities = Some(repo(ENTITIES));
        c.identity = Some(IdentityHeaders::default());
        c.decision_log = Some(DecisionLog::new(
            &log,
            vec![
                "/body/accountId".into(),
                "/headers/Authorization".into(),
                "/user/id".into(),
                "/query/token".into(),
                "/body/card".into(),
            ],
        ));
        let server = Server::start(c).unwrap();
        let addr = server.addr();
        eventually("the policy to load", || {
            get(addr, "/health/ready").status == 200
        });
        Logged {
            server,
            log,
            _dir: dir,
        }
    })
}

/// Runs `ask` and returns the log bytes it appended (requests run one at a time per test, but
/// tests run in parallel: each looks only for its own events, by a marker).
fn appended(marker: &str, ask: impl FnOnce()) -> Vec<Value> {
    let l = logged();
    ask();
    let text = std::fs::read_to_string(&l.log).unwrap();
    text.lines()
        .filter(|line| line.contains(marker))
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn one_event_per_decision_with_its_fields() {
    let l = logged();
    let events = appended("evt-batch", || {
        let batch = (0..3)
            .map(|i| {
                json!({"id": format!("evt-batch-{i}"), "method": "GET",
                       "path": "/v1/accounts/A-Asia", "user": {"orgs": ["Asia"]}})
                .to_string()
            })
            .collect::<Vec<_>>()
            .join("\n");
        let r = decide(l.server.addr(), "application/x-ndjson", &batch);
        assert_eq!(r.lines().len(), 3);
    });
    assert_eq!(events.len(), 3, "{events:?}");
    for e in &events {
        assert_eq!(e["decision"]["decision"], "allow");
        assert_eq!(e["revision"].as_str().map(str::len), Some(12));
        assert!(e["id"].as_str().is_some_and(|id| !id.is_empty()));
        assert!(
            e["time"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z') && t.len() == 27),
            "{e}"
        );
        assert!(e["latency_us"].is_u64());
        assert_eq!(e["request"]["path"], "/v1/accounts/A-Asia");
    }
    // Forward-auth decisions are logged with the description the service built, and the
    // identity headers are not in it.
    let events = appended("evt-forward", || {
        let r = send(
            l.server.addr(),
            "GET",
            "/v1/forward-auth",
            &[
                ("x-forwarded-method", "GET"),
                ("x-forwarded-uri", "/v1/accounts/A-Asia?evt-forward=1"),
                ("x-auth-orgs", "Asia"),
                ("x-auth-user", "u-7"),
            ],
            b"",
        );
        assert_eq!(r.status, 200);
        let id = r.header("x-orgscope-decision-id").unwrap().to_string();
        assert!(std::fs::read_to_string(&l.log).unwrap().contains(&id));
    });
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e["request"]["user"]["id"], "***");
    assert_eq!(e["request"]["user"]["orgs"], json!(["Asia"]));
    assert!(e["request"]["headers"].get("x-auth-orgs").is_none(), "{e}");
}

/// Values a masked field may hold: anything printable but `*` (the mask itself), with JSON's
/// special characters and non-ASCII.
fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9 é\"\\\\/<>ü-]{6,24}"
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn masked_values_never_appear_in_the_log(
        account in secret(),
        user in secret(),
        token in secret(),
        card in secret(),
        allow in any::<bool>(),
    ) {
        let l = logged();
        static N: AtomicUsize = AtomicUsize::new(0);
        let marker = format!("mark-{}-end", N.fetch_add(1, Ordering::SeqCst));
        // The account id is masked, but the decision repeats it (a label's `from`, or the
        // not-found message): it is cut out there too.
        let account_id = if allow { "A-Asia".to_string() } else { account.clone() };
        let req = json!({
            "id": marker, "method": "POST", "path": "/v1/invoices",
            "headers": {"authorization": token},
            "query": {"token": token},
            "user": {"id": user, "orgs": ["Asia"]},
            "body": {"accountId": account_id, "card": {"number": card, "holder": [card]}},
        });
        let events = appended(&marker, || {
            let d = decide(l.server.addr(), "application/json", &req.to_string()).json();
            assert_eq!(d["decision"] == "allow", allow, "{d}");
        });
        prop_assert_eq!(events.len(), 1);
        let bytes = std::fs::read(&l.log).unwrap();
        let mut secrets = vec![user.clone(), token.clone(), card.clone()];
        if !allow {
            secrets.push(account.clone());
        }
        for s in &secrets {
            let escaped = serde_json::to_string(s).unwrap();
            let escaped = &escaped[1..escaped.len() - 1];
            for needle in [s.as_bytes(), escaped.as_bytes()] {
                prop_assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "{:?} is in the log", s
                );
            }
        }
        let e = &events[0];
        prop_assert_eq!(&e["request"]["user"]["id"], "***");
        prop_assert_eq!(&e["request"]["headers"]["authorization"], "***");
        prop_assert_eq!(&e["request"]["body"]["card"], "***");
        prop_assert_eq!(&e["request"]["body"]["accountId"], "***");
    }
}

//! Trusted entity stores over real HTTP: SQLite and a throwaway PostgreSQL give the same
//! decisions as the entities file over the acceptance table; a PostgreSQL stopped or stalled
//! mid-run, or a SQLite database locked or too slow, turns answers into 503 `store_unavailable`,
//! never into an allow.

mod common;
#[path = "../../../testsupport/pg.rs"]
mod pg;

use common::{decide, eventually, get, repo, send, TempDir};
use orgscope_server::{Config, IdentityHeaders, Server};
use serde_json::Value;
use std::path::PathBuf;

const ZUORA: &str = "policies/zuora-multi-org.policy";
const ENTITIES: &str = "crates/orgscope-cli/tests/acceptance/zuora-multi-org.entities.ndjson";
const TABLE: &str = "crates/orgscope-cli/tests/acceptance/zuora-multi-org.ndjson";

/// The object types of the acceptance entities and the table each is kept in.
const TYPES: [(&str, &str); 4] = [
    ("account", "accounts"),
    ("invoice", "invoices"),
    ("product", "products"),
    ("custom_object", "custom_objects"),
];

fn config() -> Config {
    let mut c = Config::new(repo(ZUORA));
    c.listen = "127.0.0.1:0".parse().unwrap();
    c.identity = Some(IdentityHeaders::default());
    c.watch_interval = None;
    c
}

fn start(config: Config) -> Server {
    let server = Server::start(config).unwrap();
    let addr = server.addr();
    eventually("the policy and its stores to load", || {
        get(addr, "/health/ready").status == 200
    });
    server
}

/// The acceptance requests, one NDJSON batch.
fn requests() -> Vec<String> {
    std::fs::read_to_string(repo(TABLE))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["request"].to_string())
        .collect()
}

fn decisions(server: &Server, requests: &[String]) -> Vec<Value> {
    requests
        .iter()
        .map(|r| decide(server.addr(), "application/json", r).json())
        .collect()
}

/// The decisions with the entities file as the trusted store: what every store must match.
fn reference(requests: &[String]) -> Vec<Value> {
    let mut c = config();
    c.entities = Some(repo(ENTITIES));
    decisions(&start(c), requests)
}

/// The acceptance entities as (type, id, org).
fn entities() -> Vec<(String, String, Option<String>)> {
    std::fs::read_to_string(repo(ENTITIES))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let e: Value = serde_json::from_str(l).unwrap();
            (
                e["type"].as_str().unwrap().to_ascii_lowercase(),
                e["id"].as_str().unwrap().to_string(),
                e["org"].as_str().map(str::to_string),
            )
        })
        .collect()
}

fn objects(store: &str, table_prefix: &str, id: &str, org: &str) -> String {
    TYPES
        .iter()
        .map(|(ty, table)| {
            format!(
                "[objects.{ty}]\nstore = \"{store}\"\ntable = \"{table_prefix}{table}\"\n\
                 id = \"{id}\"\norg = \"{org}\"\n\n"
            )
        })
        .collect()
}

fn write_stores(dir: &TempDir, text: &str) -> PathBuf {
    let path = dir.path("stores.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn assert_same(got: &[Value], want: &[Value], requests: &[String], store: &str) {
    assert_eq!(got.len(), want.len());
    for ((g, w), r) in got.iter().zip(want).zip(requests) {
        assert_eq!(g, w, "{store}: {r}");
    }
}

#[test]
fn sqlite_created_from_the_entities_file_decides_as_the_file_does() {
    let requests = requests();
    let want = reference(&requests);
    let dir = TempDir::new("sqlite-store");
    let text = format!(
        "[sqlite]\npath = \"entities.db\"\nseed = \"{}\"\n\n{}",
        repo(ENTITIES).display(),
        objects("sqlite", "", "id", "org")
    );
    let mut c = config();
    c.stores = Some(write_stores(&dir, &text));
    let server = start(c);
    assert!(
        dir.path("entities.db").exists(),
        "the seed created the database"
    );
    assert_same(&decisions(&server, &requests), &want, &requests, "sqlite");
    drop(server);
    // A second start opens the database made by the first (the seed is not read again).
    std::fs::write(dir.path("seed-gone.ndjson"), "").unwrap();
    let mut c = config();
    c.stores = Some(write_stores(
        &dir,
        &text.replace(&repo(ENTITIES).display().to_string(), "seed-gone.ndjson"),
    ));
    let server = start(c);
    assert_same(
        &decisions(&server, &requests),
        &want,
        &requests,
        "sqlite reopened",
    );
}

/// One read of account `A-Asia` (in Asia) by a user of Asia: its decision.
fn read_a_asia(server: &Server) -> Value {
    let read = r#"{"method": "GET", "path": "/v1/accounts/A-Asia", "user": {"orgs": ["Asia"]}}"#;
    decide(server.addr(), "application/json", read).json()
}

fn assert_unavailable(d: &Value) {
    assert_eq!(
        (&d["decision"], &d["status"], &d["errors"][0]["code"]),
        (&"deny".into(), &503.into(), &"store_unavailable".into()),
        "{d}"
    );
}

#[test]
fn sqlite_locked_or_too_slow_answers_503_then_recovers() {
    let dir = TempDir::new("sqlite-slow");
    // 1M accounts in a table with no index on its id: each lookup is a full scan, tens of
    // milliseconds, far past a 5 ms limit and well within a 5 s one.
    let db = rusqlite::Connection::open(dir.path("slow.db")).unwrap();
    db.execute_batch("CREATE TABLE accounts (id TEXT, org TEXT); BEGIN;")
        .unwrap();
    {
        let mut insert = db
            .prepare("INSERT INTO accounts VALUES (?1, 'China')")
            .unwrap();
        for i in 0..1_000_000 {
            insert.execute([format!("A-{i}")]).unwrap();
        }
    }
    db.execute_batch("INSERT INTO accounts VALUES ('A-Asia', 'Asia'); COMMIT;")
        .unwrap();
    let stores = |db: &str, timeout_ms: u64| {
        let text = format!(
            "timeout_ms = {timeout_ms}\n[sqlite]\npath = \"{db}\"\n\n\
             [objects.account]\nstore = \"sqlite\"\ntable = \"accounts\"\nid = \"id\"\norg = \"org\"\n"
        );
        let mut c = config();
        c.stores = Some(write_stores(&dir, &text));
        start(c)
    };
    assert_unavailable(&read_a_asia(&stores("slow.db", 5)));
    assert_eq!(read_a_asia(&stores("slow.db", 5000))["decision"], "allow");

    // A writer holding a small database's exclusive lock: the read waits past the limit, then
    // 503; once the writer commits, the answer is back.
    let small = rusqlite::Connection::open(dir.path("small.db")).unwrap();
    small
        .execute_batch(
            "CREATE TABLE accounts (id TEXT PRIMARY KEY, org TEXT);
             INSERT INTO accounts VALUES ('A-Asia', 'Asia');",
        )
        .unwrap();
    let server = stores("small.db", 100);
    assert_eq!(read_a_asia(&server)["decision"], "allow");
    small.execute_batch("BEGIN EXCLUSIVE").unwrap();
    assert_unavailable(&read_a_asia(&server));
    small.execute_batch("COMMIT").unwrap();
    assert_eq!(read_a_asia(&server)["decision"], "allow");
}

#[test]
fn a_bad_stores_file_never_serves() {
    let dir = TempDir::new("bad-stores");
    for (bad, why) in [
        ("[objects.acount]\nstore = \"sqlite\"\ntable = \"t\"\n[sqlite]\npath = \"x.db\"\n", "object type"),
        ("[objects.account]\nstore = \"sqlite\"\ntable = \"t; DROP TABLE t\"\n[sqlite]\npath = \"x.db\"\n", "letters"),
        ("[objects.account]\nstore = \"postgres\"\ntable = \"t\"\n", "does not configure"),
        ("[objects.account]\nstore = \"sqlite\"\ntable = \"t\"\n[sqlite]\npath = \"missing.db\"\n", "missing.db"),
        ("[sqlite]\npath = \"x.db\"\nsurprise = 1\n", "surprise"),
    ] {
        let mut c = config();
        c.stores = Some(write_stores(&dir, bad));
        let server = Server::start(c).unwrap();
        let err = server.reload().unwrap_err();
        assert!(err.contains(why), "{why}: {err}");
        assert_eq!(get(server.addr(), "/health/ready").status, 503, "{bad}");
        // Not ready is a 503 deny, never an allow.
        let d = decide(
            server.addr(),
            "application/json",
            r#"{"method": "GET", "path": "/v1/accounts/A-Asia", "user": {"orgs": ["Asia"]}}"#,
        );
        assert_eq!(d.status, 503);
        assert_eq!(d.json()["decision"], "deny");
    }
}

#[test]
fn postgres_decides_as_the_file_does_and_fails_closed_when_stopped() {
    let requests = requests();
    let want = reference(&requests);
    let cluster = pg::Cluster::start();
    let mut db = cluster.connect("postgres");
    db.batch_execute("CREATE SCHEMA app").unwrap();
    for (_, table) in TYPES {
        db.batch_execute(&format!(
            "CREATE TABLE app.{table} (object_id text PRIMARY KEY, tenant_org text)"
        ))
        .unwrap();
    }
    for (ty, id, org) in entities() {
        let table = TYPES.iter().find(|(t, _)| *t == ty).unwrap().1;
        db.execute(
            &format!("INSERT INTO app.{table} VALUES ($1, $2)"),
            &[&id, &org],
        )
        .unwrap();
    }
    let dir = TempDir::new("pg-store");
    let text = format!(
        "timeout_ms = 300\n[postgres]\nurl = \"host=127.0.0.1 port={} user=postgres dbname=postgres\"\npool = 2\n\n{}",
        cluster.port,
        objects("postgres", "app.", "object_id", "tenant_org")
    );
    let mut c = config();
    c.stores = Some(write_stores(&dir, &text));
    let server = start(c);
    assert_same(&decisions(&server, &requests), &want, &requests, "postgres");

    // A table locked by a long transaction: lookups wait past the store's time limit.
    let mut locker = cluster.connect("postgres");
    let mut tx = locker.transaction().unwrap();
    tx.batch_execute("LOCK TABLE app.accounts IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let read = r#"{"method": "GET", "path": "/v1/accounts/A-Asia", "user": {"orgs": ["Asia"]}}"#;
    let d = decide(server.addr(), "application/json", read).json();
    assert_eq!(d["decision"], "deny", "{d}");
    assert_eq!(d["status"], 503, "{d}");
    assert_eq!(d["errors"][0]["code"], "store_unavailable", "{d}");
    tx.rollback().unwrap();
    assert_eq!(
        decide(server.addr(), "application/json", read).json()["decision"],
        "allow"
    );

    // Stopped mid-run: every answer is the file's answer where no store is consulted, or a 503
    // deny; never an allow the file would not give, and never a 404 that could be an oracle.
    cluster.stop();
    let got = decisions(&server, &requests);
    let mut unavailable = 0;
    for ((g, w), r) in got.iter().zip(&want).zip(&requests) {
        if g != w {
            assert_eq!(g["decision"], "deny", "{r}: {g}");
            assert_eq!(g["status"], 503, "{r}: {g}");
            assert_eq!(g["errors"][0]["code"], "store_unavailable", "{r}: {g}");
            unavailable += 1;
        }
    }
    assert!(
        unavailable >= 5,
        "only {unavailable} answers consulted the store"
    );
    // Through forward-auth in nginx mode: a 403 carrying the real 503.
    let r = send(
        server.addr(),
        "GET",
        "/v1/forward-auth?mode=nginx",
        &[
            ("x-original-method", "GET"),
            ("x-original-uri", "/v1/accounts/A-Asia"),
            ("x-auth-orgs", "Asia"),
        ],
        b"",
    );
    assert_eq!(
        (r.status, r.header("x-orgscope-status")),
        (403, Some("503"))
    );
    assert!(r.header("x-orgscope-visible-orgs").is_none());

    // Back up: the broken connections are replaced on their next use.
    cluster.resume();
    eventually("the store to answer again", || {
        decide(server.addr(), "application/json", read).json()["decision"] == "allow"
    });
    assert_same(
        &decisions(&server, &requests),
        &want,
        &requests,
        "postgres resumed",
    );
}

#[test]
fn an_unreachable_postgres_is_not_ready() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = TempDir::new("pg-down");
    let text = format!(
        "timeout_ms = 300\n[postgres]\nurl = \"host=127.0.0.1 port={port} user=postgres\"\n\n{}",
        objects("postgres", "", "id", "org")
    );
    let mut c = config();
    c.stores = Some(write_stores(&dir, &text));
    let server = Server::start(c).unwrap();
    assert!(server.reload().unwrap_err().contains("postgres"));
    assert_eq!(get(server.addr(), "/health/ready").status, 503);
}

#[test]
fn the_quick_start_stores_file_serves_the_example_entities() {
    let mut c = config();
    c.stores = Some(repo("examples/zuora-stores.toml"));
    let server = start(c);
    let ask = |account: &str| {
        let req = format!(
            r#"{{"method": "POST", "path": "/v1/invoices", "body": {{"accountId": "{account}"}},
                "user": {{"orgs": ["Asia"]}}}}"#
        );
        decide(server.addr(), "application/json", &req).json()
    };
    let d = ask("A-1");
    assert_eq!(d["labels"][0]["org"], "Asia", "{d}");
    assert_eq!(ask("A-2")["status"], 404);
}

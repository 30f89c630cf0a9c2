//! `orgscope sql filter|rls|scope` through the real binary, on the seed's query job.

mod common;

use common::{run, stderr, stdout};
use serde_json::{json, Value};
use std::process::Output;

const POLICY: &str = "policies/zuora-multi-org.policy";
const MAP: &str = "policies/zuora-multi-org.sql.toml";

/// The seed's query job, from a user of Asia, China and Japan asking for Asia and China.
const QUERY_JOB: &str = r#"{"method": "POST", "path": "/query/jobs",
  "headers": {"Zuora-Org-Ids": "Asia, China"}, "user": {"orgs": ["Asia", "China", "Japan"]},
  "body": {"query": "select accountnumber, balance from account"}}"#;
const DENIED: &str = r#"{"method": "POST", "path": "/query/jobs",
  "headers": {"Zuora-Org-Ids": "China"}, "user": {"orgs": ["Asia"]},
  "body": {"query": "select accountnumber, balance from account"}}"#;

fn sql(args: &[&str], request: &str) -> Output {
    let mut all = vec!["sql"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--policy", POLICY, "--map", MAP]);
    run(&all, request.as_bytes())
}

fn json_out(out: &Output) -> Value {
    assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
    serde_json::from_str(&stdout(out)).expect("JSON on stdout")
}

#[test]
fn filter_prints_a_parameterized_predicate() {
    let out = sql(
        &["filter", "--request", "-", "--object", "Account"],
        QUERY_JOB,
    );
    assert_eq!(
        json_out(&out),
        json!({"sql": "(\"org_label\" = ANY($1) OR \"org_label\" IS NULL)", "params": [["Asia", "China"]]})
    );
    let out = sql(
        &[
            "filter",
            "--request",
            "-",
            "--object",
            "invoice",
            "--dialect",
            "sqlite",
        ],
        QUERY_JOB,
    );
    assert_eq!(
        json_out(&out),
        json!({"sql": "(\"org_label\" IN (?, ?) OR \"org_label\" IS NULL)", "params": ["Asia", "China"]})
    );
    let out = sql(&["filter", "--request", "-", "--object", "account"], DENIED);
    assert_eq!(json_out(&out), json!({"sql": "FALSE", "params": []}));
}

#[test]
fn filter_errors_exit_2_with_a_message() {
    let out = sql(
        &["filter", "--request", "-", "--object", "custom_object"],
        QUERY_JOB,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("object type `custom_object` has no table"),
        "{}",
        stderr(&out)
    );
    let out = run(
        &[
            "sql",
            "filter",
            "--policy",
            POLICY,
            "--map",
            "policies/nope.sql.toml",
            "--request",
            "-",
            "--object",
            "account",
        ],
        QUERY_JOB.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read `policies/nope.sql.toml`"),
        "{}",
        stderr(&out)
    );
    let out = sql(
        &[
            "filter",
            "--request",
            "-",
            "--object",
            "account",
            "--dialect",
            "oracle",
        ],
        QUERY_JOB,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown dialect `oracle`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_bad_mapping_is_reported_with_its_position() {
    let dir = std::env::temp_dir().join(format!("orgscope-sql-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let map = dir.join("bad.sql.toml");
    std::fs::write(
        &map,
        "[objects.acount]\ntable = \"account\"\norg_column = \"org\"\n",
    )
    .unwrap();
    let out = run(
        &[
            "sql",
            "rls",
            "--policy",
            POLICY,
            "--map",
            map.to_str().unwrap(),
        ],
        b"",
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("error[unknown_type]: the policy declares no object type `acount`"),
        "{err}"
    );
    assert!(err.contains("bad.sql.toml:1:10"), "{err}");
}

#[test]
fn rls_prints_ddl_and_the_settings_of_a_request() {
    let out = sql(&["rls"], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let ddl = stdout(&out);
    for line in [
        "ALTER TABLE \"account\" ENABLE ROW LEVEL SECURITY;",
        "ALTER TABLE \"account\" FORCE ROW LEVEL SECURITY;",
        "CREATE POLICY \"orgscope_visible\" ON \"invoice\" FOR ALL",
    ] {
        assert!(ddl.contains(line), "{ddl}");
    }
    let out = sql(&["rls", "--request", "-"], QUERY_JOB);
    let v = json_out(&out);
    assert!(v["sql"]
        .as_str()
        .unwrap()
        .starts_with("SELECT set_config('orgscope.visible_orgs', $1, true)"));
    assert_eq!(
        v["params"],
        json!(["{\"Asia\",\"China\"}", "on", "{}", "off"])
    );
}

#[test]
fn scope_rewrites_the_seed_query_job() {
    // The query comes from the request's `body.query`.
    let out = sql(&["scope", "--request", "-"], QUERY_JOB);
    assert_eq!(
        json_out(&out),
        json!({
            "sql": "SELECT accountnumber, balance FROM (SELECT * FROM account AS orgscope_t WHERE (orgscope_t.\"org_label\" = ANY($1) OR orgscope_t.\"org_label\" IS NULL)) AS account",
            "params": [["Asia", "China"]]
        })
    );
    let out = sql(
        &[
            "scope",
            "--request",
            "-",
            "--dialect",
            "sqlite",
            "select count(*) from invoice i join account a on a.id = i.account_id",
        ],
        QUERY_JOB,
    );
    let v = json_out(&out);
    assert_eq!(v["params"], json!(["Asia", "China"]));
    assert_eq!(
        v["sql"].as_str().unwrap().matches("IN (?1, ?2)").count(),
        2,
        "{v}"
    );
}

#[test]
fn scope_refuses_with_a_code_and_exit_1() {
    for (query, code) in [
        ("delete from account", "not_a_query"),
        ("select * from secrets", "unmapped_table"),
        ("select pg_read_file('/etc/passwd')", "function_not_allowed"),
        ("select 1; select 2", "not_a_query"),
        ("select * from", "parse_error"),
    ] {
        let out = sql(&["scope", "--request", "-", query], QUERY_JOB);
        assert_eq!(out.status.code(), Some(1), "{query}");
        assert!(
            stderr(&out).starts_with(&format!("error[{code}]: ")),
            "{query}: {}",
            stderr(&out)
        );
        assert!(stdout(&out).is_empty());
    }
    let out = sql(&["scope", "--request", "-"], DENIED);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("error[denied]") && err.contains("org_access_denied"),
        "{err}"
    );
}

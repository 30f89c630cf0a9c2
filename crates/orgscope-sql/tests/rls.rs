//! Row-level security on a real PostgreSQL cluster: a non-owner role sees the visible rows only,
//! writes outside the create labels are rejected, and without the settings nothing is visible.

mod common;

use common::pg::Cluster;
use common::*;
use orgscope_sql::rls;

/// A cluster with an `account` table (4 rows: Asia, China, unlabeled, Japan), the mapping's row
/// level security applied, and a role `app` that may read and write it but does not own it.
fn setup() -> (Cluster, postgres::Client) {
    let cluster = Cluster::start();
    let mut admin = cluster.connect("postgres");
    let policy = policy();
    let ddl = rls::ddl(&mapping(&policy));
    let tables: String = [
        "account",
        "contact",
        "invoice",
        "payment",
        "subscription",
        "product",
        "credit_memo",
        "invoice_item",
        "product_rate_plan",
    ]
    .iter()
    .map(|t| format!("CREATE TABLE {t} (id int PRIMARY KEY, org_label text, balance int);"))
    .collect();
    admin
        .batch_execute(&format!(
            "{tables}
             CREATE INDEX ON account (org_label);
             INSERT INTO account VALUES (1, 'Asia', 10), (2, 'China', 20), (3, NULL, 30), (4, 'Japan', 40);
             CREATE ROLE app LOGIN;
             GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO app;
             {ddl}"
        ))
        .unwrap();
    let app = cluster.connect("app");
    (cluster, app)
}

fn ids(tx: &mut postgres::Transaction<'_>) -> Vec<i32> {
    tx.query("SELECT id FROM account ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// PostgreSQL refuses `sql`'s row under the policy's WITH CHECK.
fn assert_refused(tx: &mut postgres::Transaction<'_>, sql: &str) {
    let e = tx.execute(sql, &[]).unwrap_err();
    let message = e.as_db_error().map(|d| d.message().to_string());
    assert!(
        message
            .as_deref()
            .is_some_and(|m| m.contains("violates row-level security policy")),
        "{sql}: {e:?}"
    );
}

fn set(tx: &mut postgres::Transaction<'_>, s: &rls::Settings) {
    let [a, b, c, d] = &s.params;
    set_raw(tx, [a, b, c, d]);
}

/// Runs [`rls::SET_SETTINGS`] with `p` as they are, as a buggy or hostile caller might.
fn set_raw(tx: &mut postgres::Transaction<'_>, p: [&str; 4]) {
    tx.query(rls::SET_SETTINGS, &[&p[0], &p[1], &p[2], &p[3]])
        .unwrap();
}

#[test]
fn rls_shows_the_visible_rows_and_checks_the_labels() {
    let (_cluster, mut app) = setup();
    let policy = policy();

    // The seed's query job with `Zuora-Org-Ids: Asia, China`.
    let mut tx = app.transaction().unwrap();
    set(
        &mut tx,
        &rls::settings(&query_decision(&policy, "Asia, China")).unwrap(),
    );
    assert_eq!(ids(&mut tx), vec![1, 2, 3]);
    // A query decision creates nothing: every insert fails WITH CHECK.
    assert_refused(&mut tx, "INSERT INTO account VALUES (5, 'Asia', 1)");
    tx.rollback().unwrap();

    // A create in Asia: Asia rows may be written, Japan rows may not.
    let create = policy.evaluate_json(
        r#"{"method": "POST", "path": "/v1/accounts", "headers": {"Zuora-Org-Ids": "Asia"},
            "body": {"organizationLabel": "Asia"}, "user": {"orgs": ["Asia", "Japan"]}}"#,
        &Default::default(),
    );
    assert!(create.is_allow(), "{create:?}");
    let mut tx = app.transaction().unwrap();
    set(&mut tx, &rls::settings(&create).unwrap());
    tx.execute("INSERT INTO account VALUES (5, 'Asia', 1)", &[])
        .unwrap();
    assert_refused(&mut tx, "INSERT INTO account VALUES (6, 'Japan', 1)");
    tx.rollback().unwrap();

    // A deny sees nothing.
    let mut tx = app.transaction().unwrap();
    set(&mut tx, &rls::settings(&deny(&policy)).unwrap());
    assert!(ids(&mut tx).is_empty());
    tx.commit().unwrap();

    // Without the settings (never set, or set in a transaction that ended): nothing.
    let mut tx = app.transaction().unwrap();
    assert!(ids(&mut tx).is_empty());
    assert_refused(&mut tx, "INSERT INTO account VALUES (7, NULL, 1)");
    tx.rollback().unwrap();
    let mut fresh = _cluster.connect("app");
    let mut tx = fresh.transaction().unwrap();
    assert!(ids(&mut tx).is_empty());
}

#[test]
fn multi_org_off_cannot_be_expressed_and_hostile_names_stay_data() {
    let (_cluster, mut app) = setup();
    let policy = policy();
    assert!(rls::settings(&decision(&policy, None, true)).is_err());

    // Hostile names are parameters of a fixed statement and match only themselves.
    let mut admin = _cluster.connect("postgres");
    for (i, name) in HOSTILE.iter().enumerate() {
        admin
            .execute(
                "INSERT INTO account VALUES ($1, $2, 0)",
                &[&(100 + i as i32), name],
            )
            .unwrap();
    }
    let s = rls::settings(&decision(&policy, Some(HOSTILE), false)).unwrap();
    assert_eq!(s.sql, rls::SET_SETTINGS);
    let mut tx = app.transaction().unwrap();
    set(&mut tx, &s);
    assert_eq!(
        ids(&mut tx),
        (100..100 + HOSTILE.len() as i32).collect::<Vec<_>>()
    );
    tx.commit().unwrap();
    // NUL cannot be stored in PostgreSQL text: setting it fails, and the transaction sees nothing.
    let s = rls::settings(&decision(&policy, Some(&["Asia\0"]), false)).unwrap();
    let mut tx = app.transaction().unwrap();
    let p = &s.params;
    assert!(tx.query(s.sql, &[&p[0], &p[1], &p[2], &p[3]]).is_err());
}

#[test]
fn the_policy_uses_the_org_index_and_rechecks_no_row_against_the_visible_set() {
    let (_cluster, mut app) = setup();
    let mut admin = _cluster.connect("postgres");
    admin
        .batch_execute(
            "INSERT INTO account SELECT g, 'org' || (g % 500), g FROM generate_series(10, 100000) g;
             ANALYZE account;",
        )
        .unwrap();
    let mut tx = app.transaction().unwrap();
    set(
        &mut tx,
        &rls::settings(&decision(&policy(), Some(&["org7", "org9"]), false)).unwrap(),
    );
    let plan: Vec<String> = tx
        .query("EXPLAIN SELECT * FROM account", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let plan = plan.join("\n");
    assert!(plan.contains("account_org_label_idx"), "{plan}");
    // The index answers the visible set exactly: no row is compared with it again, only the
    // unlabeled gate (a NULL test) is left to filter rows.
    let filters: Vec<&str> = plan
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("Filter:"))
        .collect();
    assert!(
        filters
            .iter()
            .all(|f| !f.contains("ANY") && f.contains("IS NOT NULL")),
        "{plan}"
    );
}

#[test]
fn unlabeled_rows_follow_their_settings_alone() {
    let (_cluster, mut app) = setup();
    // Unlabeled rows only: no org is visible, and only an unlabeled row may be written.
    let mut tx = app.transaction().unwrap();
    set_raw(&mut tx, ["{}", "on", "{}", "on"]);
    assert_eq!(ids(&mut tx), vec![3]);
    tx.execute("INSERT INTO account VALUES (5, NULL, 1)", &[])
        .unwrap();
    assert_refused(&mut tx, "INSERT INTO account VALUES (6, 'Asia', 1)");
    tx.rollback().unwrap();
    // An org without unlabeled rows: the unlabeled row is hidden and cannot be written.
    let mut tx = app.transaction().unwrap();
    set_raw(&mut tx, [r#"{"Japan"}"#, "off", r#"{"Japan"}"#, "off"]);
    assert_eq!(ids(&mut tx), vec![4]);
    assert_refused(&mut tx, "INSERT INTO account VALUES (5, NULL, 1)");
    tx.rollback().unwrap();
    // Any value other than `on` hides unlabeled rows.
    let mut tx = app.transaction().unwrap();
    set_raw(&mut tx, ["{}", "true", "{}", "ON"]);
    assert!(ids(&mut tx).is_empty());
    assert_refused(&mut tx, "INSERT INTO account VALUES (5, NULL, 1)");
}

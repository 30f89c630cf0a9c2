//! Filters on a real SQLite database: the predicate selects exactly the visible rows.

mod common;

use common::*;
use orgscope_sql::{filter, Dialect, Filter, Param};
use rusqlite::{params_from_iter, Connection};

/// An `account` table with one row per org (None: unlabeled), ids from 1.
fn sqlite(orgs: &[Option<&str>]) -> Connection {
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch("CREATE TABLE account (id INTEGER PRIMARY KEY, org_label TEXT, balance INT)")
        .unwrap();
    for (i, org) in orgs.iter().enumerate() {
        db.execute(
            "INSERT INTO account (id, org_label, balance) VALUES (?1, ?2, ?3)",
            rusqlite::params![i as i64 + 1, org, 100 * (i as i64 + 1)],
        )
        .unwrap();
    }
    db
}

/// The ids a filter selects from `account`.
fn select(db: &Connection, f: &Filter) -> Vec<i64> {
    let sql = format!("SELECT id FROM account WHERE {} ORDER BY id", f.sql());
    let params: Vec<String> = f
        .params()
        .iter()
        .map(|p| match p {
            Param::Text(s) => s.clone(),
            Param::TextArray(_) => panic!("sqlite takes one text per org"),
        })
        .collect();
    let mut stmt = db.prepare(&sql).unwrap();
    let rows = stmt
        .query_map(params_from_iter(params), |r| r.get(0))
        .unwrap();
    rows.map(Result::unwrap).collect()
}

const ORGS: &[Option<&str>] = &[
    Some("Asia"),
    Some("China"),
    None,
    Some("Japan"),
    Some("Asia"),
];

#[test]
fn the_seed_query_sees_its_orgs_and_unlabeled_rows() {
    let policy = policy();
    let mapping = mapping(&policy);
    let account = mapping.object(&policy, "Account").unwrap();
    let db = sqlite(ORGS);
    let d = query_decision(&policy, "Asia, China");
    let f = filter(&d, account, Dialect::Sqlite);
    assert_eq!(f.sql(), r#"("org_label" IN (?, ?) OR "org_label" IS NULL)"#);
    assert_eq!(select(&db, &f), vec![1, 2, 3, 5]);
    let pg = filter(&d, account, Dialect::Postgres);
    assert_eq!(
        pg.sql(),
        r#"("org_label" = ANY($1) OR "org_label" IS NULL)"#
    );
    assert_eq!(
        pg.params(),
        &[Param::TextArray(vec!["Asia".into(), "China".into()])]
    );
}

#[test]
fn without_unlabeled_rows_only_the_visible_orgs() {
    let policy = policy();
    let mapping = mapping(&policy);
    let account = mapping.object(&policy, "account").unwrap();
    let d = decision(&policy, Some(&["Japan"]), false);
    let f = filter(&d, account, Dialect::Sqlite);
    assert_eq!(f.sql(), r#""org_label" IN (?)"#);
    assert_eq!(select(&sqlite(ORGS), &f), vec![4]);
}

#[test]
fn a_deny_is_deny_all_and_multi_org_off_is_allow_all() {
    let policy = policy();
    let mapping = mapping(&policy);
    let account = mapping.object(&policy, "account").unwrap();
    let db = sqlite(ORGS);
    let denied = filter(&deny(&policy), account, Dialect::Sqlite);
    assert_eq!(denied, Filter::DenyAll);
    assert!(select(&db, &denied).is_empty());
    let all = filter(&decision(&policy, None, true), account, Dialect::Postgres);
    assert_eq!(all, Filter::AllowAll);
    assert_eq!(select(&db, &all), vec![1, 2, 3, 4, 5]);
    // Nothing visible but unlabeled rows: no parameter at all.
    let none = filter(
        &decision(&policy, Some(&[]), true),
        account,
        Dialect::Sqlite,
    );
    assert_eq!(none.sql(), r#""org_label" IS NULL"#);
    assert_eq!(select(&db, &none), vec![3]);
    let nothing = filter(
        &decision(&policy, Some(&[]), false),
        account,
        Dialect::Sqlite,
    );
    assert_eq!(nothing, Filter::DenyAll);
}

#[test]
fn hostile_org_names_never_change_the_sql_text() {
    let policy = policy();
    let mapping = mapping(&policy);
    let account = mapping.object(&policy, "account").unwrap();
    let plain: Vec<String> = (0..HOSTILE.len()).map(|i| format!("org{i}")).collect();
    let plain: Vec<&str> = plain.iter().map(String::as_str).collect();
    for dialect in [Dialect::Postgres, Dialect::Sqlite] {
        let expected = filter(&decision(&policy, Some(&plain), true), account, dialect);
        let hostile = filter(&decision(&policy, Some(HOSTILE), true), account, dialect);
        assert_eq!(hostile.sql(), expected.sql(), "{dialect}");
        assert_ne!(hostile.params(), expected.params());
    }
    // Bound, the names select exactly their rows (NUL too: SQLite text may hold it).
    let mut names: Vec<&str> = HOSTILE.to_vec();
    names.push("nul\0byte");
    let rows: Vec<Option<&str>> = names
        .iter()
        .map(|n| Some(*n))
        .chain([Some("other")])
        .collect();
    let db = sqlite(&rows);
    let f = filter(
        &decision(&policy, Some(&names), false),
        account,
        Dialect::Sqlite,
    );
    assert_eq!(
        select(&db, &f),
        (1..=names.len() as i64).collect::<Vec<_>>()
    );
}

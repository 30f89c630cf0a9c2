//! The differential property: on a database holding every org's rows, a scoped query returns
//! exactly what the original query returns on a database holding only the visible rows — for
//! random rows, random decisions and every query of `corpus.sql`, on SQLite and PostgreSQL.

mod common;

use common::pg::Cluster;
use common::*;
use orgscope::Decision;
use orgscope_sql::{scope, Dialect, Mapping, Param};
use proptest::prelude::*;

/// The orgs rows are labeled with (one hostile), and the queries.
const ORGS: &[&str] = &["Asia", "China", "Japan", "O'Brien \"x\" \\ --"];
const CORPUS: &str = include_str!("corpus.sql");

const SCHEMA: &str = "
CREATE TABLE account (id INTEGER PRIMARY KEY, accountnumber TEXT, org_label TEXT, balance INTEGER);
CREATE TABLE invoice (id INTEGER PRIMARY KEY, account_id INTEGER, org_label TEXT, amount INTEGER);
CREATE TABLE product (id INTEGER PRIMARY KEY, org_label TEXT, name TEXT, price INTEGER);
CREATE TABLE custom_object (id INTEGER PRIMARY KEY, name TEXT);";

type Org = Option<usize>;

#[derive(Debug, Clone)]
struct Data {
    accounts: Vec<(Org, i32)>,
    invoices: Vec<(i32, Org, i32)>,
    products: Vec<(Org, i32)>,
    customs: usize,
}

/// One row to insert: table, then values (`None`: NULL).
enum V {
    I(i32),
    T(Option<String>),
}

impl Data {
    /// The rows `keep` lets through, as INSERTs of `(table, values)`.
    fn rows(&self, keep: &dyn Fn(Org) -> bool) -> Vec<(&'static str, Vec<V>)> {
        let org = |o: Org| V::T(o.map(|i| ORGS[i].to_string()));
        let mut out = Vec::new();
        for (i, (o, balance)) in self.accounts.iter().enumerate() {
            let id = i as i32 + 1;
            let number = format!("{}{id}", if balance % 2 == 0 { "A" } else { "B" });
            if keep(*o) {
                out.push((
                    "account",
                    vec![V::I(id), V::T(Some(number)), org(*o), V::I(*balance)],
                ));
            }
        }
        for (i, (account, o, amount)) in self.invoices.iter().enumerate() {
            if keep(*o) {
                let id = i as i32 + 1;
                out.push((
                    "invoice",
                    vec![V::I(id), V::I(*account), org(*o), V::I(*amount)],
                ));
            }
        }
        for (i, (o, price)) in self.products.iter().enumerate() {
            if keep(*o) {
                let name = V::T(Some(format!("p{}", price % 3)));
                out.push((
                    "product",
                    vec![V::I(i as i32 + 1), org(*o), name, V::I(*price)],
                ));
            }
        }
        for i in 0..self.customs {
            out.push((
                "custom_object",
                vec![V::I(i as i32 + 1), V::T(Some(format!("c{i}")))],
            ));
        }
        out
    }
}

fn data() -> impl Strategy<Value = Data> {
    let org = || prop::option::weighted(0.8, 0..ORGS.len());
    (
        prop::collection::vec((org(), 0..100i32), 0..10),
        prop::collection::vec((1..12i32, org(), 0..100i32), 0..12),
        prop::collection::vec((org(), 0..100i32), 0..6),
        0..4usize,
    )
        .prop_map(|(accounts, invoices, products, customs)| Data {
            accounts,
            invoices,
            products,
            customs,
        })
}

/// A visible set (None: Multi-Org off) and whether unlabeled rows are visible.
fn visibility() -> impl Strategy<Value = (Option<Vec<bool>>, bool)> {
    (
        prop::option::weighted(0.9, prop::collection::vec(any::<bool>(), ORGS.len())),
        any::<bool>(),
    )
}

struct Case {
    decision: Decision<'static>,
    keep: Box<dyn Fn(Org) -> bool>,
}

fn case(policy: &orgscope::Policy, visible: &Option<Vec<bool>>, unlabeled: bool) -> Case {
    let names: Option<Vec<&str>> = visible.as_ref().map(|mask| {
        ORGS.iter()
            .zip(mask)
            .filter(|(_, m)| **m)
            .map(|(o, _)| *o)
            .collect()
    });
    let decision = decision(policy, names.as_deref(), unlabeled).into_owned();
    let mask = visible.clone();
    let keep = Box::new(move |o: Org| match (&mask, o) {
        (None, _) => true,
        (Some(_), None) => unlabeled,
        (Some(m), Some(i)) => m[i],
    });
    Case { decision, keep }
}

fn queries() -> Vec<&'static str> {
    CORPUS.lines().filter(|l| !l.trim().is_empty()).collect()
}

fn sqlite_db(rows: &[(&'static str, Vec<V>)]) -> rusqlite::Connection {
    let db = rusqlite::Connection::open_in_memory().unwrap();
    db.execute_batch(SCHEMA).unwrap();
    for (table, values) in rows {
        let marks = vec!["?"; values.len()].join(", ");
        let params: Vec<rusqlite::types::Value> = values
            .iter()
            .map(|v| match v {
                V::I(i) => rusqlite::types::Value::Integer(*i as i64),
                V::T(Some(s)) => rusqlite::types::Value::Text(s.clone()),
                V::T(None) => rusqlite::types::Value::Null,
            })
            .collect();
        db.execute(
            &format!("INSERT INTO {table} VALUES ({marks})"),
            rusqlite::params_from_iter(params),
        )
        .unwrap();
    }
    db
}

fn sqlite_rows(db: &rusqlite::Connection, sql: &str, params: &[Param]) -> Vec<String> {
    let params: Vec<String> = params
        .iter()
        .map(|p| match p {
            Param::Text(s) => s.clone(),
            Param::TextArray(_) => panic!("sqlite takes text parameters"),
        })
        .collect();
    let mut stmt = db.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let n = stmt.column_count();
    let mut rows: Vec<String> = stmt
        .query_map(rusqlite::params_from_iter(params), |r| {
            Ok((0..n)
                .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                .collect::<Vec<_>>()
                .join("|"))
        })
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .map(Result::unwrap)
        .collect();
    rows.sort();
    rows
}

fn sqlite_check(mapping: &Mapping, data: &Data, case: &Case) -> Result<(), TestCaseError> {
    let full = sqlite_db(&data.rows(&|_| true));
    let visible = sqlite_db(&data.rows(&case.keep));
    for q in queries() {
        let scoped = scope(q, &case.decision, mapping, Dialect::Sqlite)
            .unwrap_or_else(|e| panic!("{q}: {e}"));
        let expected = sqlite_rows(&visible, q, &[]);
        let got = sqlite_rows(&full, &scoped.sql, &scoped.params);
        prop_assert_eq!(got, expected, "{}\n{}", q, scoped.sql);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn scoped_queries_see_exactly_the_visible_rows_on_sqlite(
        data in data(),
        (visible, unlabeled) in visibility(),
    ) {
        let policy = policy();
        let mapping = mapping(&policy);
        sqlite_check(&mapping, &data, &case(&policy, &visible, unlabeled))?;
    }
}

fn pg_load(client: &mut postgres::Client, schema: &str, rows: &[(&'static str, Vec<V>)]) {
    client
        .batch_execute(&format!(
            "SET search_path TO {schema}; TRUNCATE account, invoice, product, custom_object;"
        ))
        .unwrap();
    for (table, values) in rows {
        let marks: Vec<String> = (1..=values.len()).map(|i| format!("${i}")).collect();
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = values
            .iter()
            .map(|v| match v {
                V::I(i) => i as &(dyn postgres::types::ToSql + Sync),
                V::T(s) => s as &(dyn postgres::types::ToSql + Sync),
            })
            .collect();
        client
            .execute(
                &format!("INSERT INTO {table} VALUES ({})", marks.join(", ")),
                &params,
            )
            .unwrap();
    }
}

fn pg_rows(
    client: &mut postgres::Client,
    schema: &str,
    sql: &str,
    params: &[Param],
) -> Vec<String> {
    client
        .batch_execute(&format!("SET search_path TO {schema}"))
        .unwrap();
    let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params
        .iter()
        .map(|p| match p {
            Param::TextArray(a) => a as &(dyn postgres::types::ToSql + Sync),
            Param::Text(s) => s as &(dyn postgres::types::ToSql + Sync),
        })
        .collect();
    let wrapped = format!("SELECT row_to_json(q)::text FROM ({sql}) AS q");
    let mut rows: Vec<String> = client
        .query(&wrapped, &params)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|r| r.get(0))
        .collect();
    rows.sort();
    rows
}

#[test]
fn scoped_queries_see_exactly_the_visible_rows_on_postgres() {
    let cluster = Cluster::start();
    let mut client = cluster.connect("postgres");
    client
        .batch_execute(&format!(
            "CREATE SCHEMA full_db; SET search_path TO full_db; {SCHEMA}
             CREATE SCHEMA visible_db; SET search_path TO visible_db; {SCHEMA}"
        ))
        .unwrap();
    let policy = policy();
    let mapping = mapping(&policy);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 16,
        ..ProptestConfig::default()
    });
    let client = std::cell::RefCell::new(client);
    runner
        .run(&(data(), visibility()), |(data, (visible, unlabeled))| {
            let case = case(&policy, &visible, unlabeled);
            let mut client = client.borrow_mut();
            pg_load(&mut client, "full_db", &data.rows(&|_| true));
            pg_load(&mut client, "visible_db", &data.rows(&case.keep));
            for q in queries() {
                let scoped = scope(q, &case.decision, &mapping, Dialect::Postgres)
                    .unwrap_or_else(|e| panic!("{q}: {e}"));
                let expected = pg_rows(&mut client, "visible_db", q, &[]);
                let got = pg_rows(&mut client, "full_db", &scoped.sql, &scoped.params);
                prop_assert_eq!(got, expected, "{}\n{}", q, scoped.sql);
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_corpus_is_large_and_varied() {
    let q = queries();
    assert!(q.len() >= 50, "{} queries", q.len());
    for needle in [
        "JOIN", "WITH", "UNION", "OVER", "GROUP BY", "EXISTS", "(SELECT",
    ] {
        assert!(q.iter().any(|s| s.contains(needle)), "no {needle}");
    }
}

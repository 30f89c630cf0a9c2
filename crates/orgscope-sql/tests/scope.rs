//! Scoping through the crate: every mapped reference filtered, names resolved as the database
//! would, and everything that cannot be scoped safely refused with a stable code.

mod common;

use common::*;
use orgscope_sql::{scope, Dialect, Mapping, ScopeError, MAX_QUERY_BYTES};

fn scoped(query: &str, dialect: Dialect) -> Result<String, ScopeError> {
    let policy = policy();
    let d = query_decision(&policy, "Asia, China");
    scope(query, &d, &mapping(&policy), dialect).map(|s| s.sql)
}

fn refused(query: &str, dialect: Dialect) -> &'static str {
    match scoped(query, dialect) {
        Ok(sql) => panic!("{query} was scoped as {sql}"),
        Err(e) => {
            assert!(!e.message.is_empty() && !e.message.ends_with('.'));
            e.code
        }
    }
}

const BOTH: [Dialect; 2] = [Dialect::Postgres, Dialect::Sqlite];

#[test]
fn every_reference_of_a_mapped_table_is_filtered() {
    let q = "WITH recent AS (SELECT * FROM invoice WHERE amount > 1) \
             SELECT a.id FROM account a JOIN recent r ON r.account_id = a.id \
             WHERE EXISTS (SELECT 1 FROM payment p WHERE p.id = a.id) \
             UNION SELECT id FROM (SELECT id FROM product) AS x";
    for d in BOTH {
        let sql = scoped(q, d).unwrap();
        assert_eq!(sql.matches("AS orgscope_t WHERE").count(), 4, "{sql}");
        // Aliases are kept, and a table without one keeps its name.
        assert!(sql.contains(") AS a JOIN recent AS r"), "{sql}");
        assert!(
            sql.contains("FROM (SELECT * FROM payment AS orgscope_t WHERE"),
            "{sql}"
        );
    }
}

#[test]
fn schema_qualified_and_quoted_names_resolve_as_the_database_does() {
    let sql = scoped("SELECT account.id FROM public.account", Dialect::Postgres).unwrap();
    assert!(
        sql.contains("FROM public.account AS orgscope_t") && sql.ends_with(") AS account"),
        "{sql}"
    );
    // PostgreSQL keeps the case of quoted names: `"Account"` is another table.
    assert_eq!(
        refused(r#"SELECT * FROM "Account""#, Dialect::Postgres),
        "unmapped_table"
    );
    let sql = scoped(r#"SELECT * FROM "ACCOUNT""#, Dialect::Sqlite).unwrap();
    assert!(sql.contains("orgscope_t"), "{sql}");
    let sql = scoped("SELECT * FROM ACCOUNT", Dialect::Postgres).unwrap();
    assert!(sql.contains("orgscope_t"), "{sql}");
    // Unscoped tables need their exact schema; three-part names are refused.
    assert!(scoped("SELECT * FROM custom_object", Dialect::Postgres).is_ok());
    assert_eq!(
        refused("SELECT * FROM other.custom_object", Dialect::Postgres),
        "unmapped_table"
    );
    assert_eq!(
        refused("SELECT * FROM db.public.account", Dialect::Postgres),
        "unsupported"
    );
}

#[test]
fn ctes_are_resolved_and_never_hide_a_table() {
    for d in BOTH {
        // A CTE may not take a mapped or unscoped table's name.
        assert_eq!(
            refused("WITH account AS (SELECT 1) SELECT * FROM account", d),
            "cte_shadows_table"
        );
        assert_eq!(
            refused(
                "WITH account AS (SELECT * FROM account) SELECT * FROM account",
                d
            ),
            "cte_shadows_table"
        );
        // A CTE is visible in nested subqueries...
        assert!(scoped(
            "WITH s AS (SELECT 1 AS x) SELECT * FROM (SELECT * FROM s) AS t",
            d
        )
        .is_ok());
        // ...but not outside the query that defines it: there `s` is a real, unmapped table.
        assert_eq!(
            refused(
                "SELECT * FROM (WITH s AS (SELECT 1 AS x) SELECT * FROM s) AS t, s",
                d
            ),
            "unmapped_table"
        );
        // Where dialects differ (a CTE used in its own body without RECURSIVE, or before it is
        // defined), the reference is refused.
        assert_eq!(
            refused("WITH s AS (SELECT * FROM s) SELECT * FROM s", d),
            "ambiguous_reference"
        );
        assert_eq!(
            refused(
                "WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a",
                d
            ),
            "ambiguous_reference"
        );
        assert!(scoped("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3) SELECT * FROM n", d).is_ok());
        assert!(scoped(
            "WITH a AS (SELECT 1 AS x), b AS (SELECT * FROM a) SELECT * FROM b",
            d
        )
        .is_ok());
    }
}

#[test]
fn only_one_read_only_query_is_scoped() {
    for d in BOTH {
        for q in [
            "DELETE FROM account",
            "UPDATE account SET balance = 0",
            "INSERT INTO account (id) VALUES (1)",
            "DROP TABLE account",
            "EXPLAIN SELECT * FROM account",
            "SELECT 1; SELECT 2",
            "",
        ] {
            assert_eq!(refused(q, d), "not_a_query", "{q}");
        }
        assert_eq!(
            refused("SELECT * FROM account FOR UPDATE", d),
            "not_read_only"
        );
        assert_eq!(refused("SELECT 1 FROM", d), "parse_error");
    }
    assert_eq!(
        refused("SELECT * INTO copy FROM account", Dialect::Postgres),
        "not_read_only"
    );
    assert_eq!(
        refused(
            "WITH d AS (DELETE FROM account RETURNING *) SELECT * FROM d",
            Dialect::Postgres
        ),
        "not_read_only"
    );
}

#[test]
fn functions_off_the_allow_list_and_table_functions_are_refused() {
    for d in BOTH {
        for q in [
            "SELECT pg_read_file('/etc/passwd')",
            "SELECT pg_catalog.pg_read_file('x')",
            "SELECT lo_import('/etc/passwd')",
            "SELECT query_to_xml('select * from account', true, true, '')",
            "SELECT current_setting('orgscope.visible_orgs')",
            "SELECT set_config('orgscope.visible_orgs', '{Japan}', true)",
            "SELECT id FROM account WHERE my_function(id)",
            "SELECT * FROM generate_series(1, 3)",
            "SELECT * FROM dblink('host=x', 'select 1') AS t(a int)",
            "SELECT load_extension('x')",
        ] {
            assert_eq!(refused(q, d), "function_not_allowed", "{q}");
        }
        assert!(scoped(
            "SELECT count(*), max(balance), lower(accountnumber) FROM account",
            d
        )
        .is_ok());
    }
    // A mapping may allow more functions, never those that read outside the query.
    let policy = policy();
    let m = Mapping::from_source(
        "m.sql.toml",
        "[query]\nfunctions = [\"my_function\"]\n",
        &policy,
    )
    .unwrap();
    let d = query_decision(&policy, "Asia");
    assert!(scope("SELECT my_function(1)", &d, &m, Dialect::Postgres).is_ok());
}

#[test]
fn bind_parameters_denies_and_oversized_queries_are_refused() {
    assert_eq!(
        refused("SELECT * FROM account WHERE id = $1", Dialect::Postgres),
        "bind_parameter"
    );
    assert_eq!(
        refused("SELECT * FROM account WHERE id = ?", Dialect::Sqlite),
        "bind_parameter"
    );
    let policy = policy();
    let m = mapping(&policy);
    let e = scope("SELECT 1", &deny(&policy), &m, Dialect::Postgres).unwrap_err();
    assert_eq!(e.code, "denied");
    let big = format!("SELECT 1{}", " ".repeat(MAX_QUERY_BYTES));
    let d = query_decision(&policy, "Asia");
    assert_eq!(
        scope(&big, &d, &m, Dialect::Postgres).unwrap_err().code,
        "query_too_large"
    );
    // Deep nesting is a parse error, not a stack overflow.
    let deep = format!("SELECT {}1{}", "(".repeat(5000), ")".repeat(5000));
    assert_eq!(
        scope(&deep, &d, &m, Dialect::Postgres).unwrap_err().code,
        "parse_error"
    );
}

#[test]
fn hostile_org_names_never_change_the_scoped_sql() {
    let policy = policy();
    let m = mapping(&policy);
    let plain: Vec<String> = (0..HOSTILE.len()).map(|i| format!("org{i}")).collect();
    let plain: Vec<&str> = plain.iter().map(String::as_str).collect();
    let q = "SELECT a.id FROM account a JOIN invoice i ON i.account_id = a.id";
    for d in BOTH {
        let expected = scope(q, &decision(&policy, Some(&plain), true), &m, d).unwrap();
        let hostile = scope(q, &decision(&policy, Some(HOSTILE), true), &m, d).unwrap();
        assert_eq!(hostile.sql, expected.sql);
        assert_ne!(hostile.params, expected.params);
    }
}

#[test]
fn multi_org_off_leaves_tables_unfiltered_but_still_checked() {
    let policy = policy();
    let m = mapping(&policy);
    let off = decision(&policy, None, true);
    let s = scope("SELECT * FROM account", &off, &m, Dialect::Postgres).unwrap();
    assert_eq!(
        (s.sql.as_str(), s.params.len()),
        ("SELECT * FROM account", 0)
    );
    let e = scope("SELECT * FROM secrets", &off, &m, Dialect::Postgres).unwrap_err();
    assert_eq!(e.code, "unmapped_table");
}

/// docs/data.md's worked example: the seed's query job, scoped, on its four accounts.
#[test]
fn the_worked_example_of_the_docs_returns_its_rows() {
    let db = rusqlite::Connection::open_in_memory().unwrap();
    db.execute_batch(
        "CREATE TABLE account (id INTEGER PRIMARY KEY, accountnumber TEXT, org_label TEXT, balance INT);
         INSERT INTO account VALUES (1, 'A-001', 'Asia', 100), (2, 'A-002', 'China', 250),
                                    (3, 'A-003', 'Japan', 75), (4, 'A-004', NULL, 40);",
    )
    .unwrap();
    let policy = policy();
    let s = scope(
        "select accountnumber, balance from account",
        &query_decision(&policy, "Asia, China"),
        &mapping(&policy),
        Dialect::Sqlite,
    )
    .unwrap();
    let params: Vec<String> = s
        .params
        .iter()
        .map(|p| match p {
            orgscope_sql::Param::Text(t) => t.clone(),
            orgscope_sql::Param::TextArray(_) => unreachable!("sqlite"),
        })
        .collect();
    let mut stmt = db.prepare(&s.sql).unwrap();
    let rows: Vec<(String, i64)> = stmt
        .query_map(rusqlite::params_from_iter(params), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        rows,
        [
            ("A-001".into(), 100),
            ("A-002".into(), 250),
            ("A-004".into(), 40)
        ]
    );
}

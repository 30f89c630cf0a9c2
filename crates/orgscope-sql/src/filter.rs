//! Decisions as SQL predicates: allow-all, deny-all, or org-column conditions on bind parameters.

use crate::ident;
use crate::{Dialect, MappedTable};
use orgscope::Decision;
use serde::Serialize;

/// What a decision lets a query see of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// Every row: Multi-Org is off for the request (`visible_orgs` is null).
    AllowAll,
    /// No row: the decision is a deny, or nothing is visible.
    DenyAll,
    /// The rows a predicate selects.
    Where(Predicate),
}

/// A `WHERE` condition and its bind parameters. Org names are only ever in `params`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Predicate {
    /// The condition, e.g. `("org_label" = ANY($1) OR "org_label" IS NULL)`.
    pub sql: String,
    /// The values to bind, in order.
    pub params: Vec<Param>,
}

/// One bind parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Param {
    /// A text value (SQLite: one org).
    Text(String),
    /// A `text[]` value (PostgreSQL: the visible orgs).
    TextArray(Vec<String>),
}

/// How the org parameters are written.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Placeholders {
    /// PostgreSQL `$n`: one `text[]` parameter.
    Dollar(usize),
    /// SQLite `?`: one per org, in order.
    Anonymous,
    /// SQLite `?1`…`?n`: one per org, repeatable in one statement.
    Numbered,
}

impl Filter {
    /// The condition as SQL: `TRUE`, `FALSE`, or the predicate.
    pub fn sql(&self) -> &str {
        match self {
            Filter::AllowAll => "TRUE",
            Filter::DenyAll => "FALSE",
            Filter::Where(p) => &p.sql,
        }
    }

    /// The bind parameters (none for allow-all and deny-all).
    pub fn params(&self) -> &[Param] {
        match self {
            Filter::Where(p) => &p.params,
            _ => &[],
        }
    }
}

/// The filter a decision puts on `table`'s rows, its org column unqualified. A deny is deny-all
/// (fail closed); a null `visible_orgs` (Multi-Org off) is allow-all.
///
/// ```
/// use orgscope::Policy;
/// use orgscope_sql::{filter, Dialect, Mapping};
///
/// let policy = Policy::from_file("../../policies/zuora-multi-org.policy")?;
/// let mapping = Mapping::from_file("../../policies/zuora-multi-org.sql.toml", &policy)?;
/// let decision = policy.evaluate_json(r#"{"method": "POST", "path": "/query/jobs",
///     "headers": {"Zuora-Org-Ids": "Asia"}, "user": {"orgs": ["Asia", "China"]}}"#,
///     &Default::default());
/// let account = mapping.object(&policy, "account").unwrap();
/// let f = filter(&decision, account, Dialect::Postgres);
/// assert_eq!(f.sql(), r#"("org_label" = ANY($1) OR "org_label" IS NULL)"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn filter(decision: &Decision, table: &MappedTable, dialect: Dialect) -> Filter {
    let style = match dialect {
        Dialect::Postgres => Placeholders::Dollar(1),
        Dialect::Sqlite => Placeholders::Anonymous,
    };
    filter_with(decision, &ident::quote(&table.org_column), style)
}

/// The filter on an org column written as `column` (already quoted and qualified as needed).
pub(crate) fn filter_with(decision: &Decision, column: &str, style: Placeholders) -> Filter {
    if !decision.is_allow() {
        return Filter::DenyAll;
    }
    let Some(orgs) = decision.visible_org_names() else {
        return Filter::AllowAll;
    };
    let unlabeled = decision.include_unlabeled;
    if orgs.is_empty() {
        return match unlabeled {
            true => Filter::Where(Predicate {
                sql: format!("{column} IS NULL"),
                params: Vec::new(),
            }),
            false => Filter::DenyAll,
        };
    }
    let (mut sql, params) = match style {
        Placeholders::Dollar(n) => (
            format!("{column} = ANY(${n})"),
            vec![Param::TextArray(
                orgs.iter().map(|o| o.to_string()).collect(),
            )],
        ),
        Placeholders::Anonymous | Placeholders::Numbered => {
            let marks: Vec<String> = (1..=orgs.len())
                .map(|i| match style {
                    Placeholders::Numbered => format!("?{i}"),
                    _ => "?".to_string(),
                })
                .collect();
            (
                format!("{column} IN ({})", marks.join(", ")),
                orgs.iter().map(|o| Param::Text(o.to_string())).collect(),
            )
        }
    };
    if unlabeled {
        // Parenthesized, so the predicate can be AND-ed into any WHERE.
        sql = format!("({sql} OR {column} IS NULL)");
    }
    Filter::Where(Predicate { sql, params })
}

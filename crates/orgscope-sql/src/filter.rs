//! Decisions as SQL predicates: allow-all, deny-all, or org-column conditions on bind parameters.

use crate::ident;
use crate::{Dialect, MappedTable};
use orgscope::Decision;
use serde::Serialize;
use sqlparser::ast::{BinaryOperator, Expr, Value};

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
    let column = Expr::Identifier(ident::quoted_ident(&table.org_column));
    match visibility(decision, column, style) {
        Visibility::All => Filter::AllowAll,
        Visibility::Nothing => Filter::DenyAll,
        Visibility::Rows(expr, params) => Filter::Where(Predicate {
            sql: expr.to_string(),
            params,
        }),
    }
}

/// What a decision makes visible of a table, as a condition on its org column.
pub(crate) enum Visibility {
    /// Every row (Multi-Org off).
    All,
    /// No row (a deny, or nothing visible).
    Nothing,
    /// The rows the condition selects, with its bind parameters; org names only in those.
    Rows(Box<Expr>, Vec<Param>),
}

/// The condition a decision puts on an org column written as `column`, built as an AST so a
/// scoped query can splice it in without parsing text.
pub(crate) fn visibility(decision: &Decision, column: Expr, style: Placeholders) -> Visibility {
    if !decision.is_allow() {
        return Visibility::Nothing;
    }
    let Some(orgs) = &decision.visible_orgs else {
        return Visibility::All;
    };
    let unlabeled = decision.include_unlabeled;
    let is_null = || Expr::IsNull(Box::new(column.clone()));
    if orgs.is_empty() {
        return match unlabeled {
            true => Visibility::Rows(Box::new(is_null()), Vec::new()),
            false => Visibility::Nothing,
        };
    }
    let placeholder = |p: String| Expr::value(Value::Placeholder(p));
    let (test, params) = match style {
        Placeholders::Dollar(n) => (
            Expr::AnyOp {
                left: Box::new(column.clone()),
                compare_op: BinaryOperator::Eq,
                right: Box::new(placeholder(format!("${n}"))),
                is_some: false,
            },
            vec![Param::TextArray(
                orgs.iter().map(|o| o.to_string()).collect(),
            )],
        ),
        Placeholders::Anonymous | Placeholders::Numbered => (
            Expr::InList {
                expr: Box::new(column.clone()),
                list: (1..=orgs.len())
                    .map(|i| {
                        placeholder(match style {
                            Placeholders::Numbered => format!("?{i}"),
                            _ => "?".to_string(),
                        })
                    })
                    .collect(),
                negated: false,
            },
            orgs.iter().map(|o| Param::Text(o.to_string())).collect(),
        ),
    };
    if !unlabeled {
        return Visibility::Rows(Box::new(test), params);
    }
    // Parenthesized, so the predicate can be AND-ed into any WHERE.
    let either = Expr::BinaryOp {
        left: Box::new(test),
        op: BinaryOperator::Or,
        right: Box::new(is_null()),
    };
    Visibility::Rows(Box::new(Expr::Nested(Box::new(either))), params)
}

//! Scoped queries: a caller's SELECT with every mapped table replaced by its visible rows.
//!
//! Each reference `t [AS a]` to a mapped table becomes `(SELECT * FROM t AS orgscope_t WHERE
//! <predicate>) AS a`, so joins, outer joins and correlation keep their meaning while only
//! visible rows exist. Names resolve as the database would: a reference that can only be a CTE
//! is left alone, one that could be either is refused. What cannot be scoped safely is refused:
//! anything but one query, unmapped tables, functions off the allow-list, bind parameters.

use crate::filter::{visibility, Param, Placeholders, Visibility};
use crate::{ident, Dialect, Mapping};
use orgscope::Decision;
use serde::Serialize;
use sqlparser::ast::{
    Expr, Ident, ObjectName, ObjectNamePart, Query, SetExpr, Statement, TableAlias, TableFactor,
    Value, VisitMut, VisitorMut,
};
use sqlparser::dialect::{GenericDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::OnceLock;

/// The longest query text accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 64 * 1024;

/// The alias of the table inside each derived table, so the predicate's column cannot resolve
/// to an outer query's column.
const INNER_ALIAS: &str = "orgscope_t";

/// Functions a scoped query may call without the mapping allowing them: aggregates, window
/// functions and scalar functions that compute on their arguments only.
const BUILTIN_FUNCTIONS: &[&str] = &[
    "abs",
    "avg",
    "array_agg",
    "bool_and",
    "bool_or",
    "ceil",
    "ceiling",
    "char_length",
    "coalesce",
    "concat",
    "concat_ws",
    "count",
    "cume_dist",
    "current_date",
    "current_time",
    "current_timestamp",
    "date",
    "date_trunc",
    "datetime",
    "dense_rank",
    "every",
    "first_value",
    "floor",
    "greatest",
    "group_concat",
    "ifnull",
    "iif",
    "instr",
    "julianday",
    "lag",
    "last_value",
    "lead",
    "least",
    "left",
    "length",
    "lower",
    "lpad",
    "ltrim",
    "max",
    "min",
    "mod",
    "nth_value",
    "ntile",
    "nullif",
    "percent_rank",
    "position",
    "power",
    "printf",
    "rank",
    "replace",
    "reverse",
    "right",
    "round",
    "row_number",
    "rpad",
    "rtrim",
    "sign",
    "sqrt",
    "strftime",
    "string_agg",
    "strpos",
    "substr",
    "substring",
    "sum",
    "time",
    "to_char",
    "total",
    "trim",
    "trunc",
    "typeof",
    "upper",
];

/// A query scoped to a decision: run `sql` with `params` bound.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScopedQuery {
    /// The rewritten query.
    pub sql: String,
    /// The values to bind, in order (none when no mapped table is read, or Multi-Org is off).
    pub params: Vec<Param>,
}

/// Why a query cannot be scoped; the query must not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ScopeError {
    /// Stable code, e.g. `unmapped_table`.
    pub code: &'static str,
    /// Lowercase, user input in backticks.
    pub message: String,
}

fn refuse<T>(code: &'static str, message: String) -> Result<T, ScopeError> {
    Err(ScopeError { code, message })
}

/// Rewrites `query` so it reads only what `decision` makes visible of every mapped table.
///
/// ```
/// use orgscope::Policy;
/// use orgscope_sql::{scope, Dialect, Mapping};
///
/// let policy = Policy::from_file("../../policies/zuora-multi-org.policy")?;
/// let mapping = Mapping::from_file("../../policies/zuora-multi-org.sql.toml", &policy)?;
/// let decision = policy.evaluate_json(r#"{"method": "POST", "path": "/query/jobs",
///     "headers": {"Zuora-Org-Ids": "Asia"}, "user": {"orgs": ["Asia", "China"]}}"#,
///     &Default::default());
/// let scoped = scope("select accountnumber, balance from account", &decision, &mapping,
///     Dialect::Postgres)?;
/// assert_eq!(scoped.sql, "SELECT accountnumber, balance FROM (SELECT * FROM account AS \
///     orgscope_t WHERE (orgscope_t.\"org_label\" = ANY($1) OR orgscope_t.\"org_label\" IS NULL)) \
///     AS account");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn scope(
    query: &str,
    decision: &Decision,
    mapping: &Mapping,
    dialect: Dialect,
) -> Result<ScopedQuery, ScopeError> {
    if !decision.is_allow() {
        return refuse("denied", "the request is denied: no query may run".into());
    }
    if query.len() > MAX_QUERY_BYTES {
        return refuse(
            "query_too_large",
            format!("the query is over the limit of {MAX_QUERY_BYTES} bytes"),
        );
    }
    let mut statements = parse(query, dialect)
        .map_err(|e| ScopeError {
            code: "parse_error",
            message: format!("the query does not parse: {}", lower_first(&e)),
        })?
        .into_iter();
    let mut statement = match (statements.next(), statements.next()) {
        (Some(s @ Statement::Query(_)), None) => s,
        (None, _) => return refuse("not_a_query", "the query text is empty".into()),
        _ => {
            return refuse(
                "not_a_query",
                "only a single SELECT query can be scoped".into(),
            )
        }
    };
    let style = match dialect {
        Dialect::Postgres => Placeholders::Dollar(1),
        Dialect::Sqlite => Placeholders::Numbered,
    };
    let mut scoper = Scoper {
        decision,
        mapping,
        dialect,
        style,
        frames: Vec::new(),
        predicates: HashMap::new(),
        params: None,
    };
    if let ControlFlow::Break(e) = statement.visit(&mut scoper) {
        return Err(e);
    }
    Ok(ScopedQuery {
        sql: statement.to_string(),
        params: scoper.params.unwrap_or_default(),
    })
}

fn parse(sql: &str, dialect: Dialect) -> Result<Vec<Statement>, String> {
    let statements = match dialect {
        Dialect::Postgres => Parser::parse_sql(&PostgreSqlDialect {}, sql),
        Dialect::Sqlite => Parser::parse_sql(&SQLiteDialect {}, sql),
    };
    statements.map_err(|e| e.to_string())
}

fn lower_first(s: &str) -> String {
    let s = s.strip_prefix("sql parser error: ").unwrap_or(s);
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

/// The CTE names one query defines, and where the walk is in it.
struct Frame {
    ctes: Vec<String>,
    recursive: bool,
    /// The CTE bodies are visited first, in order: how many are done.
    next_cte: usize,
    /// When this query is the body of CTE `i` of the frame below: `i`.
    cte_of_parent: Option<usize>,
}

/// What a one-part table name denotes where it is used.
enum Resolved {
    Cte,
    Table,
}

struct Scoper<'a> {
    decision: &'a Decision<'a>,
    mapping: &'a Mapping,
    dialect: Dialect,
    style: Placeholders,
    frames: Vec<Frame>,
    /// The predicate per mapped table (index in the mapping), built once; `None` when every
    /// row is visible.
    predicates: HashMap<usize, Option<Expr>>,
    /// The predicate's parameters, once a mapped table was scoped.
    params: Option<Vec<Param>>,
}

impl Scoper<'_> {
    /// An identifier as the database compares it: PostgreSQL folds unquoted names to lowercase
    /// and keeps quoted ones; SQLite ignores ASCII case.
    fn norm(&self, id: &Ident) -> String {
        match (self.dialect, id.quote_style) {
            (Dialect::Postgres, Some(_)) => id.value.clone(),
            _ => id.value.to_ascii_lowercase(),
        }
    }

    fn parts(&self, name: &ObjectName) -> Result<Vec<String>, ScopeError> {
        name.0
            .iter()
            .map(|p| match p {
                ObjectNamePart::Identifier(id) => Ok(self.norm(id)),
                ObjectNamePart::Function(_) => {
                    refuse("unsupported", format!("the name `{name}` cannot be scoped"))
                }
            })
            .collect()
    }

    /// Whether a one-part name is a CTE here: searched from the innermost query out; inside the
    /// body of CTE `i`, the CTEs before it are visible, itself only when `RECURSIVE`, and a later
    /// one (or itself otherwise) is ambiguous between the dialects, so refused.
    fn resolve(&self, name: &str) -> Result<Resolved, ScopeError> {
        let mut limit = None;
        for frame in self.frames.iter().rev() {
            let visible = limit.unwrap_or(frame.ctes.len());
            if let Some(j) = frame.ctes.iter().position(|c| c == name) {
                if j < visible || (j == visible && frame.recursive) {
                    return Ok(Resolved::Cte);
                }
                return refuse(
                    "ambiguous_reference",
                    format!("`{name}` is used before its CTE is defined"),
                );
            }
            limit = frame.cte_of_parent;
        }
        Ok(Resolved::Table)
    }

    fn check_function(&self, name: &ObjectName) -> Result<(), ScopeError> {
        let joined = self.parts(name)?.join(".");
        if BUILTIN_FUNCTIONS.contains(&joined.as_str()) || self.mapping.allows_function(&joined) {
            return Ok(());
        }
        let why = if crate::mapping::is_dangerous(&joined) {
            "reads outside the query"
        } else {
            "is not on the allow-list"
        };
        refuse("function_not_allowed", format!("function `{name}` {why}"))
    }

    /// Scopes one table reference in place.
    fn table(&mut self, factor: &mut TableFactor) -> Result<(), ScopeError> {
        let TableFactor::Table {
            name,
            alias,
            args,
            with_hints,
            version,
            partitions,
            json_path,
            sample,
            index_hints,
            ..
        } = factor
        else {
            return match factor {
                TableFactor::Derived { .. } | TableFactor::NestedJoin { .. } => Ok(()),
                other => refuse("unsupported", format!("`{other}` in FROM cannot be scoped")),
            };
        };
        if args.is_some() {
            return self.check_function(name);
        }
        if !with_hints.is_empty()
            || version.is_some()
            || !partitions.is_empty()
            || json_path.is_some()
            || sample.is_some()
            || !index_hints.is_empty()
        {
            return refuse(
                "unsupported",
                format!("table modifiers on `{name}` cannot be scoped"),
            );
        }
        let parts = self.parts(name)?;
        let (schema, table) = match parts.as_slice() {
            [t] => {
                if let Resolved::Cte = self.resolve(t)? {
                    return Ok(());
                }
                (None, t.as_str())
            }
            [s, t] => (Some(s.as_str()), t.as_str()),
            _ => {
                return refuse(
                    "unsupported",
                    format!("`{name}`: names of more than two parts cannot be scoped"),
                )
            }
        };
        let Some(index) = self
            .mapping
            .tables()
            .iter()
            .position(|t| t.table.may_be(schema, table))
        else {
            if self.mapping.is_unscoped(schema, table) {
                return Ok(());
            }
            return refuse(
                "unmapped_table",
                format!("table `{name}` is not in the mapping"),
            );
        };
        let Some(subquery) = self.template(index)? else {
            return Ok(());
        };
        let alias = alias.take().unwrap_or_else(|| TableAlias {
            name: name_ident(name),
            columns: Vec::new(),
        });
        let mut subquery = subquery;
        set_inner_table(&mut subquery, name.clone());
        *factor = TableFactor::Derived {
            lateral: false,
            subquery: Box::new(subquery),
            alias: Some(alias),
        };
        Ok(())
    }

    /// `SELECT * FROM _ AS orgscope_t WHERE <predicate>` for mapped table `index`, or None when
    /// every row is visible. Built from AST nodes, never by parsing text: scoping cost is the
    /// caller's query, not the predicate.
    fn template(&mut self, index: usize) -> Result<Option<Query>, ScopeError> {
        let predicate = match self.predicates.get(&index) {
            Some(p) => p.clone(),
            None => {
                let p = self.predicate(index);
                self.predicates.insert(index, p.clone());
                p
            }
        };
        let Some(predicate) = predicate else {
            return Ok(None);
        };
        let mut query = skeleton()?;
        if let SetExpr::Select(select) = query.body.as_mut() {
            select.selection = Some(predicate);
        }
        Ok(Some(query))
    }

    /// The visibility predicate on mapped table `index`'s org column, `None` when every row
    /// is visible; records its parameters.
    fn predicate(&mut self, index: usize) -> Option<Expr> {
        let table = self.mapping.tables().get(index)?;
        let column = Expr::CompoundIdentifier(vec![
            Ident::new(INNER_ALIAS),
            ident::quoted_ident(&table.org_column),
        ]);
        match visibility(self.decision, column, self.style) {
            Visibility::All => None,
            Visibility::Nothing => Some(Expr::value(Value::Boolean(false))),
            Visibility::Rows(expr, params) => {
                self.params = Some(params);
                Some(*expr)
            }
        }
    }

    /// Refuses what a query may do besides reading: data-modifying CTEs, `SELECT INTO`,
    /// locking clauses, `TABLE t`.
    fn check_query(&self, query: &Query) -> Result<(), ScopeError> {
        if !query.locks.is_empty() {
            return refuse(
                "not_read_only",
                "locking clauses (`FOR UPDATE`) are refused".into(),
            );
        }
        check_set_expr(&query.body)
    }
}

fn check_set_expr(body: &SetExpr) -> Result<(), ScopeError> {
    match body {
        SetExpr::Select(s) if s.into.is_some() => refuse(
            "not_read_only",
            "`SELECT INTO` creates a table and is refused".into(),
        ),
        SetExpr::Select(_) | SetExpr::Query(_) | SetExpr::Values(_) => Ok(()),
        SetExpr::SetOperation { left, right, .. } => {
            check_set_expr(left)?;
            check_set_expr(right)
        }
        SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => refuse(
            "not_read_only",
            "data-modifying statements inside a query are refused".into(),
        ),
        other => refuse("unsupported", format!("`{other}` cannot be scoped")),
    }
}

/// The last part of a table name, as the alias a derived table keeps.
fn name_ident(name: &ObjectName) -> Ident {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(id)) => id.clone(),
        _ => Ident::new(name.to_string()),
    }
}

/// `SELECT * FROM orgscope_t AS orgscope_t`, parsed once per process.
fn skeleton() -> Result<Query, ScopeError> {
    static SKELETON: OnceLock<Option<Query>> = OnceLock::new();
    SKELETON
        .get_or_init(|| {
            let text = format!("SELECT * FROM {INNER_ALIAS} AS {INNER_ALIAS}");
            match Parser::parse_sql(&GenericDialect {}, &text).ok()?.pop() {
                Some(Statement::Query(q)) => Some(*q),
                _ => None,
            }
        })
        .clone()
        .ok_or_else(|| ScopeError {
            code: "internal",
            message: "the scoping template does not parse".into(),
        })
}

/// Puts the caller's table name into a template's `FROM`.
fn set_inner_table(query: &mut Query, table: ObjectName) {
    if let SetExpr::Select(select) = query.body.as_mut() {
        if let Some(TableFactor::Table { name, .. }) =
            select.from.first_mut().map(|f| &mut f.relation)
        {
            *name = table;
        }
    }
}

impl VisitorMut for Scoper<'_> {
    type Break = ScopeError;

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<ScopeError> {
        let result = self.check_query(query).and_then(|()| {
            let (ctes, recursive) = match &query.with {
                Some(w) => (
                    w.cte_tables
                        .iter()
                        .map(|c| self.norm(&c.alias.name))
                        .collect(),
                    w.recursive,
                ),
                None => (Vec::new(), false),
            };
            for c in &ctes {
                if self
                    .mapping
                    .tables()
                    .iter()
                    .any(|t| t.table.may_be(None, c))
                    || self.mapping.is_unscoped(None, c)
                {
                    return refuse(
                        "cte_shadows_table",
                        format!("the CTE `{c}` has the name of a mapped table"),
                    );
                }
            }
            let cte_of_parent = self
                .frames
                .last()
                .filter(|p| p.next_cte < p.ctes.len())
                .map(|p| p.next_cte);
            self.frames.push(Frame {
                ctes,
                recursive,
                next_cte: 0,
                cte_of_parent,
            });
            Ok(())
        });
        into_flow(result)
    }

    fn post_visit_query(&mut self, _query: &mut Query) -> ControlFlow<ScopeError> {
        if let Some(frame) = self.frames.pop() {
            if let (Some(_), Some(parent)) = (frame.cte_of_parent, self.frames.last_mut()) {
                parent.next_cte += 1;
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<ScopeError> {
        into_flow(self.table(factor))
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<ScopeError> {
        match expr {
            Expr::Function(f) => into_flow(self.check_function(&f.name)),
            _ => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_value(&mut self, value: &mut Value) -> ControlFlow<ScopeError> {
        match value {
            Value::Placeholder(p) => into_flow(refuse(
                "bind_parameter",
                format!("the query has a bind parameter `{p}`; scoped queries take none"),
            )),
            _ => ControlFlow::Continue(()),
        }
    }
}

fn into_flow(result: Result<(), ScopeError>) -> ControlFlow<ScopeError> {
    match result {
        Ok(()) => ControlFlow::Continue(()),
        Err(e) => ControlFlow::Break(e),
    }
}

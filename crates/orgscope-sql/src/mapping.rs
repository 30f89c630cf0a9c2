//! The mapping file: which table and which org column hold each object type of a policy.

use crate::ident;
use orgscope::ast::{Item, ObjectProp};
use orgscope::diag::{Diagnostic, Severity, Source, Style};
use orgscope::{Policy, Span};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// Functions that read outside the query (files, other databases, large objects, settings,
/// SQL text run as a query): a mapping may never allow them.
const DANGEROUS_FUNCTIONS: &[&str] = &[
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "pg_stat_file",
    "pg_ls_logdir",
    "pg_ls_waldir",
    "current_setting",
    "set_config",
    "query_to_xml",
    "query_to_xml_and_xmlschema",
    "table_to_xml",
    "cursor_to_xml",
    "schema_to_xml",
    "database_to_xml",
    "load_extension",
    "readfile",
    "writefile",
    "edit",
    "fts3_tokenizer",
];

/// Function name prefixes that read outside the query (`dblink*`, large objects `lo_*`).
const DANGEROUS_PREFIXES: &[&str] = &["dblink", "lo_", "pg_read_", "pg_ls_", "pg_file"];

/// Whether a function reads outside the query and can never be allowed.
pub(crate) fn is_dangerous(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name);
    DANGEROUS_FUNCTIONS.contains(&last) || DANGEROUS_PREFIXES.iter().any(|p| last.starts_with(p))
}

/// An object type the policy declares: its name first, then its aliases.
struct Declared {
    names: Vec<String>,
    shared: bool,
}

/// The policy's object types, in declaration order, read from its syntax tree (the compiled
/// policy does not expose them).
fn declared_types(policy: &Policy) -> Vec<Declared> {
    let (ast, _) = orgscope::parse::parse(policy.source());
    ast.items
        .iter()
        .filter_map(|item| match item {
            Item::Object(o) => Some(o),
            _ => None,
        })
        .map(|o| {
            let mut names = vec![o.name.node.clone()];
            let mut shared = false;
            for prop in &o.props {
                match &prop.node {
                    ObjectProp::Shared => shared = true,
                    ObjectProp::Alias(aliases) => {
                        names.extend(aliases.iter().map(|a| a.node.clone()))
                    }
                    _ => {}
                }
            }
            Declared { names, shared }
        })
        .collect()
}

/// The candidate closest to `name` by edit distance (ASCII case ignored), if close enough to
/// be a typo: at most one edit per three characters, as the policy checker suggests.
fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    const MAX_LEN: usize = 64;
    if name.len() > MAX_LEN {
        return None;
    }
    let limit = (name.chars().count() / 3).max(1);
    let name = name.to_ascii_lowercase();
    candidates
        .filter(|c| c.len() <= MAX_LEN)
        .map(|c| (strsim::osa_distance(&name, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// A table: an optional schema and a name, both plain lowercase identifiers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableName {
    /// The schema, when the mapping names one.
    pub schema: Option<String>,
    /// The table.
    pub name: String,
}

impl TableName {
    /// The name quoted for SQL: `"schema"."name"` or `"name"`.
    pub fn quoted(&self) -> String {
        match &self.schema {
            Some(s) => format!("{}.{}", ident::quote(s), ident::quote(&self.name)),
            None => ident::quote(&self.name),
        }
    }

    /// Whether a reference `[schema.]name` may denote this table: the names agree and the
    /// schemas do when both are given. Loose on purpose: a reference that may be this table is
    /// treated as this table.
    pub(crate) fn may_be(&self, schema: Option<&str>, name: &str) -> bool {
        self.name == name
            && match (schema, &self.schema) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }

    fn parse(text: &str) -> Option<TableName> {
        let (schema, name) = match text.split_once('.') {
            Some((s, n)) => (Some(s), n),
            None => (None, text),
        };
        (ident::is_plain(name) && schema.is_none_or(ident::is_plain)).then(|| TableName {
            schema: schema.map(str::to_string),
            name: name.to_string(),
        })
    }
}

impl std::fmt::Display for TableName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(s) => write!(f, "{s}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// Where one object type's rows live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedTable {
    /// The object type's declared name in the policy.
    pub object: String,
    /// The table.
    pub table: TableName,
    /// The column holding the row's org (NULL for unlabeled rows).
    pub org_column: String,
    /// The column holding the row's id, when given.
    pub id_column: Option<String>,
}

/// A validated mapping: object types to tables, and what scoped queries may use besides.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    tables: Vec<MappedTable>,
    unscoped: Vec<TableName>,
    functions: Vec<String>,
}

/// Why a mapping could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// The file could not be read.
    #[error("cannot read `{path}`: {error}")]
    Io {
        /// The path as given.
        path: String,
        /// The underlying error.
        error: std::io::Error,
    },
    /// The mapping has errors, each pointing into the file.
    #[error("`{}` has {} error(s)", mapping.name(), diagnostics.len())]
    Invalid {
        /// The mapping text, for rendering.
        mapping: Box<Source>,
        /// Every error, in file order.
        diagnostics: Vec<Diagnostic>,
    },
}

impl MappingError {
    /// The errors rendered rustc-style (or the I/O error as one line).
    pub fn render(&self, style: Style) -> String {
        match self {
            MappingError::Io { .. } => format!("error: {self}\n"),
            MappingError::Invalid {
                mapping,
                diagnostics,
            } => diagnostics
                .iter()
                .map(|d| d.render(mapping, style))
                .collect(),
        }
    }

    /// The stable codes of the errors (`unreadable_mapping` for an I/O error).
    pub fn codes(&self) -> Vec<&'static str> {
        match self {
            MappingError::Io { .. } => vec!["unreadable_mapping"],
            MappingError::Invalid { diagnostics, .. } => {
                diagnostics.iter().map(|d| d.code).collect()
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    #[serde(default)]
    objects: BTreeMap<Spanned<String>, RawObject>,
    #[serde(default)]
    query: RawQuery,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawObject {
    table: Spanned<String>,
    org_column: Spanned<String>,
    id_column: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawQuery {
    #[serde(default)]
    unscoped_tables: Vec<Spanned<String>>,
    #[serde(default)]
    functions: Vec<Spanned<String>>,
}

/// Collects diagnostics against one source text.
struct Errors<'a> {
    text: &'a str,
    list: Vec<Diagnostic>,
}

impl Errors<'_> {
    fn push(&mut self, code: &'static str, range: Range<usize>, message: String, help: &str) {
        self.report(Severity::Error, code, range, message, help);
    }

    fn report(
        &mut self,
        severity: Severity,
        code: &'static str,
        range: Range<usize>,
        message: String,
        help: &str,
    ) {
        let start = range.start.min(self.text.len());
        let before = self.text.get(..start).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        self.list.push(Diagnostic {
            severity,
            code,
            message,
            span: Span {
                start,
                end: range.end.max(start),
                line: u32::try_from(line).unwrap_or(u32::MAX),
                col: u32::try_from(col).unwrap_or(u32::MAX),
            },
            help: (!help.is_empty()).then(|| help.to_string()),
        });
    }

    fn ident(&mut self, s: &Spanned<String>, what: &str) -> String {
        if !ident::is_plain(s.get_ref()) {
            self.bad_ident(s, what);
        }
        s.get_ref().clone()
    }

    fn table(&mut self, s: &Spanned<String>) -> Option<TableName> {
        let t = TableName::parse(s.get_ref());
        if t.is_none() {
            self.bad_ident(s, "table");
        }
        t
    }

    fn bad_ident(&mut self, s: &Spanned<String>, what: &str) {
        self.push(
            "bad_identifier",
            s.span(),
            format!("`{}` is not a valid {what} name", s.get_ref()),
            "names are lowercase letters, digits and `_`, starting with a letter or `_`, at most 63 bytes; a table may be `schema.table`",
        );
    }
}

impl Mapping {
    /// Reads and validates a mapping file against `policy`.
    pub fn from_file(path: impl AsRef<Path>, policy: &Policy) -> Result<Mapping, MappingError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| MappingError::Io {
            path: name.clone(),
            error,
        })?;
        Mapping::from_source(&name, &text, policy)
    }

    /// Parses and validates mapping text (TOML, docs/data.md); `name` is the file name errors
    /// cite. Warnings ([`Mapping::check_source`]) do not stop it loading.
    pub fn from_source(name: &str, text: &str, policy: &Policy) -> Result<Mapping, MappingError> {
        let (mapping, mut diagnostics) = Mapping::checked(text, policy);
        diagnostics.retain(Diagnostic::is_error);
        if diagnostics.is_empty() {
            return Ok(mapping);
        }
        Err(MappingError::Invalid {
            mapping: Box::new(Source::new(name, text)),
            diagnostics,
        })
    }

    /// Every diagnostic of mapping text against `policy`, errors and warnings, in file order:
    /// what `orgscope check` reports for a policy's mapping.
    pub fn check_source(text: &str, policy: &Policy) -> Vec<Diagnostic> {
        Mapping::checked(text, policy).1
    }

    fn checked(text: &str, policy: &Policy) -> (Mapping, Vec<Diagnostic>) {
        let mut errors = Errors {
            text,
            list: Vec::new(),
        };
        let mapping = match toml::from_str::<RawMapping>(text) {
            Ok(raw) => Mapping::validate(raw, policy, &mut errors),
            Err(e) => {
                let message = e.message().trim().to_lowercase();
                errors.push("invalid_mapping", e.span().unwrap_or(0..0), message, "");
                Mapping::default()
            }
        };
        errors.list.sort_by_key(|d| d.span.start);
        (mapping, errors.list)
    }

    fn validate(raw: RawMapping, policy: &Policy, errors: &mut Errors<'_>) -> Mapping {
        let mut objects: Vec<_> = raw.objects.into_iter().collect();
        objects.sort_by_key(|(k, _)| k.span().start);
        let declared = declared_types(policy);
        let mut mapping = Mapping::default();
        for (key, obj) in objects {
            let object = match policy.type_name(key.get_ref()) {
                Some(t) => t.to_string(),
                None => {
                    let names = declared.iter().flat_map(|t| &t.names).map(String::as_str);
                    let help = match closest(key.get_ref(), names) {
                        Some(c) => format!("did you mean `{c}`?"),
                        None => {
                            "map the types the policy's `object` blocks declare (or their aliases)"
                                .into()
                        }
                    };
                    errors.push(
                        "unknown_type",
                        key.span(),
                        format!("the policy declares no object type `{}`", key.get_ref()),
                        &help,
                    );
                    continue;
                }
            };
            if declared
                .iter()
                .any(|t| t.shared && t.names.first() == Some(&object))
            {
                errors.push(
                    "shared_type",
                    key.span(),
                    format!("object type `{object}` is shared: its rows have no org"),
                    "list its table in `query.unscoped_tables` instead",
                );
                continue;
            }
            if mapping.tables.iter().any(|t| t.object == object) {
                errors.push(
                    "duplicate_type",
                    key.span(),
                    format!("object type `{object}` is mapped twice"),
                    "",
                );
                continue;
            }
            let org_column = errors.ident(&obj.org_column, "column");
            let id_column = obj.id_column.as_ref().map(|c| errors.ident(c, "column"));
            let Some(table) = errors.table(&obj.table) else {
                continue;
            };
            if mapping.find(&table).is_some() {
                errors.push(
                    "duplicate_table",
                    obj.table.span(),
                    format!("table `{table}` is mapped twice"),
                    "each table holds one object type; a schema-less name matches that table in every schema",
                );
                continue;
            }
            mapping.tables.push(MappedTable {
                object,
                table,
                org_column,
                id_column,
            });
        }
        for s in &raw.query.unscoped_tables {
            let Some(table) = errors.table(s) else {
                continue;
            };
            if mapping.find(&table).is_some() || mapping.unscoped.contains(&table) {
                errors.push(
                    "duplicate_table",
                    s.span(),
                    format!("table `{table}` is listed twice"),
                    "a table is either mapped to an object type or unscoped, once",
                );
                continue;
            }
            mapping.unscoped.push(table);
        }
        for f in &raw.query.functions {
            let name = f.get_ref().to_ascii_lowercase();
            let plain = name.split('.').all(ident::is_plain) && name.split('.').count() <= 2;
            if !plain {
                errors.bad_ident(f, "function");
            } else if is_dangerous(&name) {
                errors.push(
                    "dangerous_function",
                    f.span(),
                    format!("`{}` reads outside the query and cannot be allowed", f.get_ref()),
                    "functions that read files, settings, other databases or run SQL text would bypass scoping",
                );
            } else {
                mapping.functions.push(name);
            }
        }
        // Only a mapping without errors is complete enough to say what it lacks: a misspelt
        // key would otherwise be reported twice.
        let complete = errors.list.is_empty();
        for t in declared.iter().filter(|t| complete && !t.shared) {
            let Some(name) = t.names.first() else {
                continue;
            };
            if !mapping.tables.iter().any(|m| &m.object == name) {
                errors.report(
                    Severity::Warning,
                    "unmapped_type",
                    0..0,
                    format!("object type `{name}` is labeled by the policy but not mapped"),
                    &format!("filters, row-level security and scoped queries cannot reach its rows; add `[objects.{name}]` with its table and org column"),
                );
            }
        }
        mapping
    }

    /// The mapped tables, in file order.
    pub fn tables(&self) -> &[MappedTable] {
        &self.tables
    }

    /// The table holding an object type, given its name or an alias as the policy resolves it.
    pub fn object(&self, policy: &Policy, object: &str) -> Option<&MappedTable> {
        let name = policy.type_name(object)?;
        self.tables.iter().find(|t| t.object == name)
    }

    /// The mapped table a reference `[schema.]name` may denote.
    pub(crate) fn lookup(&self, schema: Option<&str>, name: &str) -> Option<&MappedTable> {
        self.tables.iter().find(|t| t.table.may_be(schema, name))
    }

    /// Whether a reference names a table listed as unscoped (schemas must agree exactly).
    pub(crate) fn is_unscoped(&self, schema: Option<&str>, name: &str) -> bool {
        self.unscoped
            .iter()
            .any(|t| t.name == name && t.schema.as_deref() == schema)
    }

    /// Whether a scoped query may call `name` (lowercase, as written) beyond the built-in list.
    pub(crate) fn allows_function(&self, name: &str) -> bool {
        self.functions.iter().any(|f| f == name)
    }

    fn find(&self, table: &TableName) -> Option<&MappedTable> {
        self.lookup(table.schema.as_deref(), &table.name)
    }
}

//! The organization-ID guideline (SPEC §1.2) over a document's operations: each operation's
//! org-ID locations across path, query, header, cookie and body (`$ref`s resolved), then the
//! same rules `orgscope check` applies to a policy's endpoints, and deprecated terms.

use crate::errors::{LintError, Loc};
use crate::tree::{NodeId, Pos, Tree};
use crate::{Config, Document};
use orgscope::terms::{self, type_key, Spelling};
use std::collections::HashSet;

/// The HTTP methods an OpenAPI path item can hold, lower case as there, with the policy's
/// spelling (the policy language has no `TRACE`).
const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

/// How a name spells the org ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Exactly the configured name for its location.
    Canonical,
    /// Another spelling of it (`OrganizationId`, `X-Organization-Id`).
    Variant,
    /// A deprecated term or a configured alias (`tenantId`, `org`).
    Alias,
}

/// One place an operation takes an org ID.
#[derive(Debug, Clone)]
pub struct OrgId {
    /// Where.
    pub loc: Loc,
    /// The parameter, header, cookie or property name.
    pub name: String,
    /// Where the name is written.
    pub pos: Pos,
    /// How it is spelled.
    pub class: Class,
    /// A list of org IDs (`organizationIds`).
    pub plural: bool,
}

/// One operation, as the guideline sees it.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Upper-case method.
    pub method: String,
    /// The path template as written.
    pub path: String,
    /// The method's key.
    pub pos: Pos,
    /// Whether it is org-scoped (declared with `x-orgscope-scoped`, else inferred).
    pub scoped: bool,
    /// Whether its service is legacy (`x-orgscope-legacy`).
    pub legacy: bool,
    /// `x-orgscope-justification`, if any, and where.
    pub justification: Option<(String, Pos)>,
    /// Its org-ID locations, in document order.
    pub org_ids: Vec<OrgId>,
}

impl Operation {
    /// `GET /path`.
    pub fn endpoint(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// The result of linting one document.
#[derive(Debug, Clone, Default)]
pub struct Linted {
    /// Every problem, in document order.
    pub errors: Vec<LintError>,
    /// Every operation.
    pub operations: Vec<Operation>,
    /// The service name (`x-orgscope-service`, else the title as an identifier).
    pub service: String,
}

/// A walk over one document.
struct Linter<'a> {
    doc: &'a Document,
    tree: &'a Tree,
    config: &'a Config,
    errors: Vec<LintError>,
    /// Problems already reported: a shared node (a `$ref`'d parameter) is reported once per
    /// message, and messages that depend on the operation name it.
    reported: HashSet<(usize, &'static str, String)>,
}

/// Lints `doc`.
pub fn lint(doc: &Document, config: &Config) -> Linted {
    let tree = &doc.tree;
    let mut l = Linter {
        doc,
        tree,
        config,
        errors: Vec::new(),
        reported: HashSet::new(),
    };
    let root = tree.root;
    let version = tree.get(root, "openapi");
    let ok = version
        .and_then(|v| tree.str(v))
        .is_some_and(|v| v.starts_with("3.0") || v.starts_with("3.1"));
    if !ok {
        let at = version.map_or(tree.pos(root), |v| tree.pos(v));
        l.errors.push(LintError::NotOpenApi {
            span: doc.span(at, 1),
        });
        return Linted {
            errors: l.errors,
            ..Linted::default()
        };
    }
    let service = service_name(tree);
    let root_legacy = flag(tree, root, "x-orgscope-legacy");
    let root_scoped = flag(tree, root, "x-orgscope-scoped");
    let mut operations = Vec::new();
    if let Some(paths) = tree.get(root, "paths") {
        for entry in tree.entries(paths) {
            let Some(item) = l.deref(entry.value) else {
                continue;
            };
            l.template_terms(&entry.key, entry.pos);
            let legacy = flag(tree, item, "x-orgscope-legacy").or(root_legacy);
            let scoped = flag(tree, item, "x-orgscope-scoped").or(root_scoped);
            let shared = tree.get(item, "parameters");
            for m in tree.entries(item) {
                if !METHODS.contains(&m.key.as_str()) {
                    continue;
                }
                let Some(op) = l.deref(m.value) else { continue };
                let mut o = l.operation(
                    &entry.key,
                    entry.pos,
                    m.key.as_str(),
                    m.pos,
                    item,
                    op,
                    shared,
                );
                o.legacy = flag(tree, op, "x-orgscope-legacy")
                    .or(legacy)
                    .unwrap_or(false);
                let declared = flag(tree, op, "x-orgscope-scoped").or(scoped);
                o.scoped = declared.unwrap_or_else(|| o.org_ids.iter().any(|i| !i.plural));
                l.rules(&o, &service);
                operations.push(o);
            }
        }
    }
    l.component_terms();
    l.errors.sort_by_key(|e| {
        let s = orgscope::diag::Diagnose::span(e);
        (s.start, orgscope::diag::Diagnose::code(e))
    });
    Linted {
        errors: l.errors,
        operations,
        service,
    }
}

/// A boolean extension, when present.
fn flag(tree: &Tree, id: NodeId, key: &str) -> Option<bool> {
    tree.get(id, key)
        .and_then(|v| tree.str(v))
        .and_then(|s| match s {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        })
}

/// `x-orgscope-service`, else the title as a policy identifier (`GitHub v3 REST API` →
/// `github_v3_rest_api`), else `api`.
fn service_name(tree: &Tree) -> String {
    let root = tree.root;
    let named = tree
        .get(root, "x-orgscope-service")
        .or_else(|| tree.get(root, "info").and_then(|i| tree.get(i, "title")))
        .and_then(|v| tree.str(v))
        .unwrap_or("");
    let mut out = String::new();
    for c in named.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_string();
    match out.chars().next() {
        None => "api".into(),
        Some(c) if c.is_ascii_digit() => format!("api_{out}"),
        Some(_) if orgscope::is_reserved(&out) => format!("{out}_api"),
        Some(_) => out,
    }
}

/// A JSON pointer's tokens, unescaped (`~1` → `/`, `~0` → `~`, `%7B` → `{`).
fn pointer_tokens(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|t| percent_decode(t).replace("~1", "/").replace("~0", "~"))
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (c, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Linter<'_> {
    fn push(&mut self, e: LintError) {
        let s = orgscope::diag::Diagnose::span(&e);
        if self
            .reported
            .insert((s.start, orgscope::diag::Diagnose::code(&e), e.to_string()))
        {
            self.errors.push(e);
        }
    }

    /// `id`, or what its `$ref` chain leads to; `None` (reported) for a reference that cannot be
    /// followed.
    fn deref(&mut self, mut id: NodeId) -> Option<NodeId> {
        let tree = self.tree;
        let mut seen = Vec::new();
        loop {
            let Some(r) = tree.get(id, "$ref") else {
                return Some(id);
            };
            let Some(target) = tree.str(r) else {
                return Some(id);
            };
            let span = self.doc.span(tree.pos(r), target.chars().count().max(1));
            if seen.contains(&id) {
                self.push(LintError::RefCycle {
                    span,
                    target: target.to_string(),
                });
                return None;
            }
            seen.push(id);
            let Some(pointer) = target.strip_prefix('#') else {
                self.push(LintError::RefExternal {
                    span,
                    target: target.to_string(),
                });
                return None;
            };
            let mut at = Some(tree.root);
            for token in pointer_tokens(pointer) {
                at = at.and_then(|n| {
                    tree.get(n, &token).or_else(|| {
                        token
                            .parse::<usize>()
                            .ok()
                            .and_then(|i| tree.items(n).get(i).copied())
                    })
                });
            }
            match at {
                Some(next) => id = next,
                None => {
                    self.push(LintError::RefUnresolved {
                        span,
                        target: target.to_string(),
                    });
                    return None;
                }
            }
        }
    }

    /// How `name`, in `loc`, spells the org ID, and whether it is a list.
    fn classify(&self, name: &str, loc: Loc) -> Option<(Class, bool)> {
        let c = self.config;
        if loc == Loc::Header && name == c.header {
            return Some((Class::Canonical, false));
        }
        if loc != Loc::Header && (name == c.name || name == c.list_name) {
            return Some((Class::Canonical, name == c.list_name));
        }
        let k = type_key(name);
        let bare = k.strip_prefix('x').unwrap_or(&k);
        if c.allow_terms.iter().any(|t| type_key(t) == k) {
            return None;
        }
        let own = [&c.name, &c.list_name, &c.header];
        if own.iter().any(|n| {
            let n = type_key(n);
            n == k || n == bare
        }) || terms::spelling(name) == Some(Spelling::Variant)
        {
            return Some((
                Class::Variant,
                k == type_key(&c.list_name) || k.ends_with('s'),
            ));
        }
        for a in &c.aliases {
            let a = type_key(a);
            for key in [k.as_str(), bare] {
                if key == a || key == format!("{a}id") {
                    return Some((Class::Alias, false));
                }
                if key == format!("{a}s") || key == format!("{a}ids") {
                    return Some((Class::Alias, true));
                }
            }
        }
        (terms::spelling(name) == Some(Spelling::Alias)).then(|| (Class::Alias, k.ends_with('s')))
    }

    fn deprecated(&mut self, term: &str, pos: Pos, offset: usize) {
        let allowed = self
            .config
            .allow_terms
            .iter()
            .any(|t| type_key(t) == type_key(term));
        if terms::is_deprecated(term) && !allowed {
            let mut pos = pos;
            pos.index += offset;
            pos.col += u32::try_from(offset).unwrap_or(0);
            self.push(LintError::DeprecatedTerm {
                span: self.doc.span(pos, term.chars().count()),
                term: term.to_string(),
            });
        }
    }

    /// Deprecated terms in a path template's segments and parameters.
    fn template_terms(&mut self, path: &str, pos: Pos) {
        let pos = self.unquoted(pos);
        let mut off = 0;
        for seg in path.split('/') {
            let inner = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}'));
            match inner {
                Some(p) => self.deprecated(p, pos, off + 1),
                None => {
                    let mut w = off;
                    for word in seg.split(':') {
                        self.deprecated(word, pos, w);
                        w += word.chars().count() + 1;
                    }
                }
            }
            off += seg.chars().count() + 1;
        }
    }

    /// The operation's org-ID locations.
    #[allow(clippy::too_many_arguments)]
    fn operation(
        &mut self,
        path: &str,
        path_pos: Pos,
        method: &str,
        pos: Pos,
        item: NodeId,
        op: NodeId,
        shared: Option<NodeId>,
    ) -> Operation {
        let tree = self.tree;
        let mut org_ids: Vec<OrgId> = Vec::new();
        let mut justification = tree
            .get(op, "x-orgscope-justification")
            .or_else(|| tree.get(item, "x-orgscope-justification"))
            .and_then(|j| tree.str(j).map(|s| (s.to_string(), tree.pos(j))));
        // Operation parameters override path-item ones with the same name and location.
        let mut params: Vec<(String, Loc, Pos, NodeId)> = Vec::new();
        for list in [tree.get(op, "parameters"), shared].into_iter().flatten() {
            for &p in tree.items(list) {
                let Some(p) = self.deref(p) else { continue };
                let name_node = tree.get(p, "name");
                let Some(name) = name_node.and_then(|n| tree.str(n)) else {
                    continue;
                };
                let loc = match tree.get(p, "in").and_then(|n| tree.str(n)) {
                    Some("path") => Loc::Path,
                    Some("query") => Loc::Query,
                    Some("header") => Loc::Header,
                    Some("cookie") => Loc::Cookie,
                    _ => continue,
                };
                let at = name_node.map_or(tree.pos(p), |n| tree.pos(n));
                self.deprecated_at_name(name, at);
                if !params.iter().any(|(n, l, ..)| n == name && *l == loc) {
                    params.push((name.to_string(), loc, at, p));
                }
            }
        }
        for (name, loc, at, p) in &params {
            if let Some((class, plural)) = self.classify(name, *loc) {
                if justification.is_none() {
                    justification = tree
                        .get(*p, "x-orgscope-justification")
                        .and_then(|j| tree.str(j).map(|s| (s.to_string(), tree.pos(j))));
                }
                org_ids.push(OrgId {
                    loc: *loc,
                    name: name.clone(),
                    pos: *at,
                    class,
                    plural,
                });
            }
        }
        // A template parameter the document forgot to declare is still where the org ID is.
        for seg in path.split('/') {
            let Some(p) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
                continue;
            };
            if org_ids.iter().any(|o| o.loc == Loc::Path && o.name == p) {
                continue;
            }
            if let Some((class, plural)) = self.classify(p, Loc::Path) {
                org_ids.push(OrgId {
                    loc: Loc::Path,
                    name: p.to_string(),
                    pos: path_pos,
                    class,
                    plural,
                });
            }
        }
        if let Some(body) = tree.get(op, "requestBody").and_then(|b| self.deref(b)) {
            let mut visited = HashSet::new();
            let mut props = Vec::new();
            if let Some(content) = tree.get(body, "content") {
                for media in tree.entries(content) {
                    if let Some(schema) = tree.get(media.value, "schema") {
                        self.properties(schema, &mut visited, &mut props, 0);
                    }
                }
            }
            for (name, at) in props {
                if org_ids.iter().any(|o| o.loc == Loc::Body && o.name == name) {
                    continue;
                }
                if let Some((class, plural)) = self.classify(&name, Loc::Body) {
                    org_ids.push(OrgId {
                        loc: Loc::Body,
                        name,
                        pos: at,
                        class,
                        plural,
                    });
                }
            }
        }
        // The first is the preferred place the operation uses (path, then query…), so that the
        // others are the ones reported.
        org_ids.sort_by_key(|o| (o.loc, o.pos.index));
        Operation {
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            pos,
            scoped: false,
            legacy: false,
            justification,
            org_ids,
        }
    }

    fn deprecated_at_name(&mut self, name: &str, at: Pos) {
        let at = self.unquoted(at);
        self.deprecated(name, at, 0);
    }

    /// `pos`, moved past the opening quote of a quoted scalar (JSON's keys and strings).
    fn unquoted(&self, mut pos: Pos) -> Pos {
        if matches!(self.doc.char_at(pos), Some('"' | '\'')) {
            pos.index += 1;
            pos.col += 1;
        }
        pos
    }

    /// A body schema's top-level properties, through `$ref`, `allOf`, `oneOf` and `anyOf`.
    fn properties(
        &mut self,
        schema: NodeId,
        visited: &mut HashSet<NodeId>,
        out: &mut Vec<(String, Pos)>,
        depth: usize,
    ) {
        let Some(schema) = self.deref(schema) else {
            return;
        };
        if depth > self.config.limits.max_depth || !visited.insert(schema) {
            return;
        }
        let tree = self.tree;
        if let Some(props) = tree.get(schema, "properties") {
            for p in tree.entries(props) {
                out.push((p.key.clone(), p.pos));
            }
        }
        for combinator in ["allOf", "oneOf", "anyOf"] {
            if let Some(list) = tree.get(schema, combinator) {
                for &s in tree.items(list) {
                    self.properties(s, visited, out, depth + 1);
                }
            }
        }
    }

    /// Deprecated terms among every schema's property names and every component parameter.
    fn component_terms(&mut self) {
        let tree = self.tree;
        let mut visited = vec![false; tree.nodes.len()];
        let mut stack = vec![tree.root];
        while let Some(id) = stack.pop() {
            match visited.get_mut(id) {
                Some(v) if !*v => *v = true,
                _ => continue,
            }
            for e in tree.entries(id) {
                if e.key == "properties" {
                    for p in tree.entries(e.value) {
                        self.deprecated_at_name(&p.key, p.pos);
                    }
                }
                if e.key == "name" && tree.get(id, "in").is_some() {
                    if let Some(name) = tree.str(e.value) {
                        self.deprecated_at_name(name, tree.pos(e.value));
                    }
                }
                // Examples are data, not names the API defines.
                if !matches!(e.key.as_str(), "example" | "examples" | "x-examples") {
                    stack.push(e.value);
                }
            }
            stack.extend(tree.items(id).iter().copied());
        }
    }

    /// The guideline's rules for one operation.
    fn rules(&mut self, o: &Operation, service: &str) {
        let endpoint = o.endpoint();
        let span_of = |l: &Self, i: &OrgId| l.doc.span(l.unquoted(i.pos), i.name.chars().count());
        if o.scoped {
            match o.org_ids.first() {
                None => self.push(LintError::OrgIdMissingLocation {
                    span: self.doc.span(o.pos, o.method.len()),
                    endpoint: endpoint.clone(),
                }),
                Some(first) => {
                    let described = format!(
                        "{} `{}` at line {}",
                        first.loc.word(),
                        first.name,
                        first.pos.line
                    );
                    for i in o.org_ids.iter().skip(1) {
                        self.push(LintError::OrgIdMultipleLocations {
                            span: span_of(self, i),
                            endpoint: endpoint.clone(),
                            first: described.clone(),
                        });
                    }
                }
            }
        }
        for i in &o.org_ids {
            let span = span_of(self, i);
            match i.loc {
                Loc::Header if !o.scoped => self.push(LintError::OrgIdHeaderUnscoped {
                    span,
                    endpoint: endpoint.clone(),
                }),
                Loc::Header if !o.legacy => self.push(LintError::OrgIdHeaderInNewService {
                    span,
                    service: service.to_string(),
                }),
                Loc::Header => {
                    if i.name != self.config.header {
                        self.push(LintError::OrgIdHeaderName {
                            span,
                            name: i.name.clone(),
                            expected: self.config.header.clone(),
                        });
                    }
                }
                Loc::Cookie => self.push(LintError::OrgIdCookie { span }),
                loc => {
                    let c = self.config;
                    let expected = if o.scoped || !i.plural {
                        &c.name
                    } else {
                        &c.list_name
                    };
                    let ok = if o.scoped {
                        i.name == c.name
                    } else {
                        i.name == c.name || i.name == c.list_name
                    };
                    if !ok {
                        self.push(LintError::OrgIdName {
                            span,
                            name: i.name.clone(),
                            location: loc,
                            expected: expected.clone(),
                        });
                    }
                    if o.scoped && matches!(loc, Loc::Query | Loc::Body) {
                        match &o.justification {
                            None => self.push(LintError::OrgIdJustificationRequired {
                                span,
                                location: loc,
                                endpoint: endpoint.clone(),
                                blank: false,
                            }),
                            Some((j, at)) if j.trim().is_empty() => {
                                self.push(LintError::OrgIdJustificationRequired {
                                    span: self.doc.span(*at, 1),
                                    location: loc,
                                    endpoint: endpoint.clone(),
                                    blank: true,
                                })
                            }
                            Some(_) => {}
                        }
                    }
                }
            }
        }
    }
}

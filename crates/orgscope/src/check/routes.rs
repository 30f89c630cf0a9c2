//! Routes and the parts endpoints share with them: methods, path templates, targets, fields,
//! and the registry that reports a template repeating or overlapping an earlier one.

use super::paths::{Clash, PathIndex};
use super::{sub_span, CheckError, Checker};
use crate::syntax::ast::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// The byte ranges of a template's segments inside its text (`/` + segments joined by `/`).
fn segment_ranges(path: &PathTemplate) -> Vec<(usize, usize)> {
    let mut off = 1;
    path.segments
        .iter()
        .map(|s| {
            let len = match s {
                Segment::Literal(l) => l.len(),
                Segment::Param(p) => p.len() + 2,
            };
            let r = (off, off + len);
            off += len + 1;
            r
        })
        .collect()
}

impl Checker {
    /// Every route and the `default` route: methods, template, target, and clashes between
    /// templates.
    pub(super) fn routes(&mut self, policy: &Policy, types: &HashMap<&str, &Object>) {
        let n = policy.items.iter().filter(|i| matches!(i, Item::Route(_)));
        let mut routes = Templates::new(Kind::Route, n.count());
        for item in &policy.items {
            match item {
                Item::Route(r) => {
                    self.methods(&r.methods);
                    self.template(&r.path);
                    self.target(&r.target, Some(&r.path), types);
                    self.clash(&mut routes, &r.methods, &r.path, r.span.line);
                }
                Item::DefaultRoute(d) => self.target(&d.target, None, types),
                _ => {}
            }
        }
    }

    pub(super) fn methods(&mut self, methods: &[Spanned<Method>]) {
        let mut seen = HashSet::default();
        for m in methods {
            if !seen.insert(m.node) {
                self.push(CheckError::DuplicateMethod {
                    span: m.span,
                    method: m.node,
                });
            }
        }
    }

    /// Empty segments, repeated parameters and deprecated terms in a path template.
    pub(super) fn template(&mut self, path: &PathTemplate) {
        let ranges = segment_ranges(path);
        let mut params: HashSet<&str> = HashSet::default();
        // Each repeated name once: a template of 20 000 `{a}` is one mistake, not 19 999.
        let mut reported: HashSet<&str> = HashSet::default();
        let mut empty_reported = false;
        let count = path.segments.len();
        for (i, (seg, &(from, to))) in path.segments.iter().zip(&ranges).enumerate() {
            match seg {
                Segment::Literal(l) if l.is_empty() => {
                    if !empty_reported {
                        empty_reported = true;
                        let trailing = i + 1 == count;
                        let end = if trailing { from } else { from + 1 };
                        self.push(CheckError::EmptyPathSegment {
                            span: sub_span(path.span, from.saturating_sub(1), end),
                            path: path.to_string(),
                            trailing,
                        });
                    }
                }
                Segment::Literal(l) => {
                    // Custom methods (`reports:run`) are checked word by word.
                    let mut off = from;
                    for word in l.split(':') {
                        self.deprecated(word, sub_span(path.span, off, off + word.len()));
                        off += word.len() + 1;
                    }
                }
                Segment::Param(p) => {
                    let span = sub_span(path.span, from, to);
                    if !params.insert(p) && reported.insert(p) {
                        self.push(CheckError::DuplicatePathParam {
                            span,
                            param: p.clone(),
                            path: path.to_string(),
                        });
                    }
                    self.deprecated(p, sub_span(path.span, from + 1, to.saturating_sub(1)));
                }
            }
        }
    }

    /// Deprecated terms among a field's keys.
    pub(super) fn field_terms(&mut self, f: &Field) {
        let mut off = match f.root {
            FieldRoot::Body | FieldRoot::Path => 5,
            FieldRoot::Query => 6,
        };
        for k in &f.keys {
            self.deprecated(k, sub_span(f.span, off, off + k.len()));
            off += k.len() + 1;
        }
    }

    /// A `path.X` field must name a parameter of the route's template.
    pub(super) fn path_field(&mut self, f: &Field, path: Option<&PathTemplate>) {
        if f.root != FieldRoot::Path {
            return;
        }
        let params: Vec<String> = path
            .map(|p| {
                p.segments
                    .iter()
                    .filter_map(|s| match s {
                        Segment::Param(p) => Some(p.clone()),
                        Segment::Literal(_) => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let ok = matches!(f.keys.as_slice(), [k] if params.contains(k));
        if !ok {
            self.push(CheckError::UnknownPathParam {
                span: f.span,
                field: f.to_string(),
                template: match path {
                    Some(p) => format!("path `{p}`"),
                    None => "the `default` route".to_string(),
                },
                params,
            });
        }
    }

    pub(super) fn target(
        &mut self,
        t: &Target,
        path: Option<&PathTemplate>,
        types: &HashMap<&str, &Object>,
    ) {
        let action = t.action.node;
        if let Some(o) = &t.object {
            match &o.node {
                ObjectRef::Named(name) => {
                    if !types.contains_key(name.as_str()) && !self.broken_types.contains(name) {
                        let mut names: Vec<&str> = types.keys().copied().collect();
                        names.sort_unstable();
                        let suggestion = self.suggest(name, names);
                        self.push(CheckError::UnknownObjectType {
                            span: o.span,
                            name: name.clone(),
                            suggestion,
                        });
                    }
                }
                ObjectRef::FromField(f) => {
                    self.path_field(f, path);
                    self.field_terms(f);
                }
            }
        }
        let mut seen = HashMap::default();
        let mut has_id = false;
        for o in &t.opts {
            let (kw, f) = match &o.node {
                TargetOpt::Id(f) => ("id", f),
                TargetOpt::Objects(f) => ("objects", f),
            };
            self.once(&mut seen, kw, o.span, || {
                format!("this `{}` route", action.keyword())
            });
            match &o.node {
                TargetOpt::Id(_) => {
                    has_id = true;
                    if !action.is_by_id() {
                        self.push(CheckError::IdNotAllowed {
                            span: o.span,
                            action,
                        });
                    }
                }
                TargetOpt::Objects(_) => {
                    if action != Action::Create {
                        self.push(CheckError::ObjectsRequiresCreate {
                            span: o.span,
                            action,
                        });
                    }
                }
            }
            self.path_field(f, path);
            self.field_terms(f);
        }
        if action.is_by_id() && !has_id {
            let param = path.and_then(|p| {
                p.segments.iter().rev().find_map(|s| match s {
                    Segment::Param(p) => Some(p.clone()),
                    Segment::Literal(_) => None,
                })
            });
            self.push(CheckError::MissingIdField {
                span: t.action.span,
                action,
                param,
            });
        }
    }
}

/// Whether a [`Templates`] holds routes or endpoints: two namespaces with codes of their own.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Route,
    Endpoint,
}

/// The routes (or endpoints) declared so far, to report each new one that repeats or overlaps
/// an earlier one.
pub(super) struct Templates<'p> {
    kind: Kind,
    index: PathIndex<'p>,
    /// Each template, with its line.
    seen: Vec<(&'p PathTemplate, u32)>,
}

impl Templates<'_> {
    /// Room for `n` templates: a large policy's lists are not left with a grown vector's slack.
    pub(super) fn new(kind: Kind, n: usize) -> Self {
        Templates {
            kind,
            index: PathIndex::with_capacity(n),
            seen: Vec::with_capacity(n),
        }
    }
}

impl Checker {
    /// Registers a route's or endpoint's template, reporting a repeat of an earlier one, an
    /// overlap with one, or that the overlap search ran out of steps.
    pub(super) fn clash<'p>(
        &mut self,
        templates: &mut Templates<'p>,
        methods: &[Spanned<Method>],
        path: &'p PathTemplate,
        line: u32,
    ) {
        let ms: Vec<Method> = methods.iter().map(|m| m.node).collect();
        let span = path.span;
        let route = templates.kind == Kind::Route;
        let entry = templates.seen.len();
        let clash = templates
            .index
            .add(&ms, &path.segments, entry, &mut self.overlap_budget);
        let error = match clash {
            Some(Clash::Duplicate(m, i)) => templates.seen.get(i).map(|&(_, first_line)| {
                let this = format!("{} {path}", m.as_str());
                if route {
                    CheckError::DuplicateRoute {
                        span,
                        route: this,
                        first_line,
                    }
                } else {
                    CheckError::DuplicateEndpoint {
                        span,
                        endpoint: this,
                        first_line,
                    }
                }
            }),
            Some(Clash::Overlap(m, i, example)) => {
                templates.seen.get(i).map(|&(other, other_line)| {
                    let this = format!("{} {path}", m.as_str());
                    let other = format!("{} {other}", m.as_str());
                    if route {
                        CheckError::OverlappingRoute {
                            span,
                            route: this,
                            other,
                            example,
                            other_line,
                        }
                    } else {
                        CheckError::OverlappingEndpoint {
                            span,
                            endpoint: this,
                            other,
                            example,
                            other_line,
                        }
                    }
                })
            }
            Some(Clash::GaveUp(steps)) => Some(CheckError::OverlapSearchGaveUp { span, steps }),
            None => None,
        };
        if let Some(e) = error {
            self.push(e);
        }
        templates.seen.push((path, line));
    }
}

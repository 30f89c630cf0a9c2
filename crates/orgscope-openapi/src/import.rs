//! A document's operations as a policy's `service`/`endpoint` declarations (in the formatter's
//! layout), and the drift between a document and a policy's endpoints.

use crate::errors::{LintError, Loc};
use crate::lint::{Linted, Operation};
use crate::Document;
use orgscope::ast::{EndpointProp, Item, Location, Segment};
use orgscope::diag::{Diagnose, Diagnostic, Source};
use std::collections::{HashMap, HashSet};

/// Why declarations could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The formatter refused the generated text (a bug here, reported rather than written).
    #[error("the generated declarations did not format: {0}")]
    Format(String),
}

impl ImportError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Format(_) => "import_format",
        }
    }
}

/// A name as the policy language writes it after `org_id LOCATION`: bare when it can be.
fn policy_name(name: &str) -> String {
    let mut chars = name.chars();
    let bare = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        name.to_string()
    } else {
        quote(name)
    }
}

/// A policy string literal.
fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `c` may appear in a literal path segment of a policy template.
fn literal_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.:~%@!$&'()*+,;=".contains(c)
}

/// The policy template for an OpenAPI path, or why there is none.
fn template(path: &str) -> Result<String, &'static str> {
    if path == "/" {
        return Ok(path.to_string());
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err("the path does not start with `/`");
    };
    let mut out = String::new();
    for seg in rest.split('/') {
        out.push('/');
        if let Some(p) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            if p.is_empty() || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err("a parameter name the policy language cannot write");
            }
            out.push_str(seg);
        } else if seg.is_empty() {
            return Err("an empty segment");
        } else if !seg.chars().all(literal_char) {
            return Err("a parameter that does not fill its segment, or a character the policy language cannot write");
        } else {
            out.push_str(seg);
        }
    }
    Ok(out)
}

/// The declaration lines inside one endpoint's braces.
fn props(o: &Operation) -> Vec<String> {
    let mut lines = Vec::new();
    if !o.scoped {
        lines.push("unscoped".to_string());
    }
    for i in &o.org_ids {
        let loc = match i.loc {
            Loc::Path => "path",
            Loc::Query => "query",
            Loc::Header => "header",
            Loc::Body => "body",
            Loc::Cookie => {
                lines.push(format!(
                    "# the org ID is also in the cookie `{}`, which a policy cannot declare",
                    i.name.replace(['\n', '\r'], " ")
                ));
                continue;
            }
        };
        lines.push(format!("org_id {loc} {}", policy_name(&i.name)));
    }
    if let Some((j, _)) = &o.justification {
        lines.push(format!("justification {}", quote(j)));
    }
    lines
}

/// The `service`/`endpoint` declarations for `linted`'s operations, in the formatter's
/// canonical layout. Operations on one path with the same declarations share an endpoint;
/// operations a policy cannot express are listed in comments.
pub fn import(linted: &Linted, doc: &Document) -> Result<String, ImportError> {
    let mut text = format!(
        "# Imported from `{}` by `orgscope import openapi`.\n",
        doc.source().name().replace(['\n', '\r'], " ")
    );
    for legacy in [false, true] {
        // (template, props) → methods, in first-seen order.
        let mut endpoints: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
        let mut skipped = Vec::new();
        for o in linted.operations.iter().filter(|o| o.legacy == legacy) {
            let path = match template(&o.path) {
                Ok(p) => p,
                Err(why) => {
                    skipped.push(format!(
                        "# not imported: `{}`: {why}",
                        o.endpoint().replace(['\n', '\r'], " ")
                    ));
                    continue;
                }
            };
            let props = props(o);
            match endpoints
                .iter_mut()
                .find(|(p, pr, _)| *p == path && *pr == props)
            {
                Some((_, _, methods)) => methods.push(o.method.clone()),
                None => endpoints.push((path, props, vec![o.method.clone()])),
            }
        }
        if endpoints.is_empty() && skipped.is_empty() {
            continue;
        }
        let name = if legacy && linted.operations.iter().any(|o| !o.legacy) {
            format!("{}_legacy", linted.service)
        } else {
            linted.service.clone()
        };
        text.push('\n');
        if legacy {
            text.push_str("legacy ");
        }
        text.push_str(&format!("service {name} {{\n"));
        for line in skipped {
            text.push_str(&format!("  {line}\n"));
        }
        for (path, props, methods) in endpoints {
            text.push_str(&format!("  endpoint {} {path} {{\n", methods.join("|")));
            for p in props {
                text.push_str(&format!("    {p}\n"));
            }
            text.push_str("  }\n");
        }
        text.push_str("}\n");
    }
    orgscope::format::format(&Source::new("import", text))
        .map_err(|e| ImportError::Format(e.to_string()))
}

/// Drift between a document and a policy: problems in each, or the policy's own syntax errors.
#[derive(Debug, Clone, Default)]
pub struct Drift {
    /// Pointing into the document.
    pub document: Vec<LintError>,
    /// Pointing into the policy.
    pub policy: Vec<LintError>,
    /// The policy's syntax errors (nothing is compared then).
    pub syntax: Vec<Diagnostic>,
}

/// `GET /a/{}`: a method and a template with parameter names left out.
fn key(method: &str, segments: impl Iterator<Item = Option<String>>) -> String {
    let mut k = method.to_string();
    k.push(' ');
    let mut any = false;
    for s in segments {
        any = true;
        k.push('/');
        k.push_str(s.as_deref().unwrap_or("{}"));
    }
    if !any {
        k.push('/');
    }
    k
}

fn doc_key(o: &Operation) -> String {
    let segs = o.path.strip_prefix('/').unwrap_or(&o.path);
    let segs: Vec<Option<String>> = if segs.is_empty() {
        Vec::new()
    } else {
        segs.split('/')
            .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_string()))
            .collect()
    };
    key(&o.method, segs.into_iter())
}

/// How a set of locations reads in a message: "path `organizationId`", "nowhere".
fn describe(scoped: bool, locations: &[(Loc, String)]) -> String {
    let mut s = if locations.is_empty() {
        "nowhere".to_string()
    } else {
        locations
            .iter()
            .map(|(l, n)| format!("{} `{n}`", l.word()))
            .collect::<Vec<_>>()
            .join(" and ")
    };
    if !scoped {
        s.push_str(" (not org-scoped)");
    }
    s
}

/// Compares a document's operations with the endpoints `policy` declares.
pub fn drift(linted: &Linted, doc: &Document, policy: &Source) -> Drift {
    let (ast, errors) = orgscope::parse::parse(policy);
    if !errors.is_empty() {
        return Drift {
            syntax: errors.iter().map(Diagnose::to_diagnostic).collect(),
            ..Drift::default()
        };
    }
    let mut out = Drift::default();
    // key → (scoped, sorted locations, span of the path)
    let mut declared = HashMap::new();
    for item in &ast.items {
        let Item::Service(s) = item else { continue };
        for e in &s.endpoints {
            let mut scoped = true;
            let mut locs = Vec::new();
            for p in &e.props {
                match &p.node {
                    EndpointProp::Unscoped => scoped = false,
                    EndpointProp::OrgId { location, name } => {
                        let loc = match location.node {
                            Location::Path => Loc::Path,
                            Location::Query => Loc::Query,
                            Location::Body => Loc::Body,
                            Location::Header => Loc::Header,
                        };
                        locs.push((loc, name.node.clone()));
                    }
                    EndpointProp::Justification(_) => {}
                }
            }
            locs.sort();
            for m in &e.methods {
                let segs = e.path.segments.iter().map(|s| match s {
                    Segment::Literal(l) => Some(l.clone()),
                    Segment::Param(_) => None,
                });
                declared.insert(
                    key(m.node.as_str(), segs),
                    (scoped, locs.clone(), e.path.span, e.path.to_string()),
                );
            }
        }
    }
    let mut seen = HashSet::new();
    for o in &linted.operations {
        let k = doc_key(o);
        let span = doc.span(o.pos, o.method.len());
        match declared.get(&k) {
            None => out.document.push(LintError::DriftNotInPolicy {
                span,
                endpoint: o.endpoint(),
            }),
            Some((scoped, locs, _, _)) => {
                seen.insert(k);
                let mut mine: Vec<(Loc, String)> = o
                    .org_ids
                    .iter()
                    .filter(|i| i.loc != Loc::Cookie)
                    .map(|i| (i.loc, i.name.clone()))
                    .collect();
                mine.sort();
                if *scoped != o.scoped || *locs != mine {
                    out.document.push(LintError::DriftLocation {
                        span,
                        endpoint: o.endpoint(),
                        document: describe(o.scoped, &mine),
                        policy: describe(*scoped, locs),
                    });
                }
            }
        }
    }
    let mut missing: Vec<_> = declared
        .iter()
        .filter(|(k, _)| !seen.contains(*k))
        .collect();
    missing.sort_by_key(|(k, (_, _, span, _))| (span.start, (*k).clone()));
    for (k, (_, _, span, path)) in missing {
        let method = k.split(' ').next().unwrap_or("");
        out.policy.push(LintError::DriftNotInDocument {
            span: *span,
            endpoint: format!("{method} {path}"),
            document: doc.source().name().to_string(),
        });
    }
    out
}

//! Stage 5 — eval: a compiled policy applied to one request description → one decision.
//!
//! Evaluation only reads the compiled policy. Every failure is a [`Deny`] carrying its code and
//! the rule that decided; any error means deny. Orgs the user cannot access and orgs that do not
//! exist are answered with the same code and the same message shape, and objects that are not
//! visible are `not_found` whether or not they exist, so no answer is an existence oracle.

mod fields;
mod label;
mod lookup;
mod org_id;
mod scope;
mod target;
mod trace;

use crate::compile::orgset::{Org, OrgSet};
use crate::compile::{Compiled, EndpointRule, RouteRule, RuleId, Segments, TypeIdx};
use crate::decision::{Decision, DecisionError, Effect, ErrorCode, Labels, VisibleOrgs};
use crate::request::{Request, Text, User};
use crate::syntax::ast::{Action, Method};
use std::borrow::Cow;
use trace::Tracer;

pub use lookup::{EntityLookup, Found, NoEntities};
pub(crate) use scope::accessible_orgs;

/// A refusal: the error of the decision, plus what would have to change (for explain).
struct Deny {
    code: ErrorCode,
    message: String,
    rule: Option<RuleId>,
    hint: Option<String>,
}

impl Deny {
    fn new(code: ErrorCode, message: String, rule: Option<RuleId>) -> Deny {
        Deny {
            code,
            message,
            rule,
            hint: None,
        }
    }

    fn hint(mut self, hint: String) -> Deny {
        self.hint = Some(hint);
        self
    }

    fn invalid(message: String, rule: Option<RuleId>) -> Deny {
        Deny::new(ErrorCode::InvalidRequest, message, rule)
    }
}

type Res<T> = Result<T, Deny>;

/// The request's scope: what it may see and where new objects may go.
struct Scope<'r> {
    visible: OrgSet<'r>,
    working: Option<Org<'r>>,
    /// The org of an org-scoped endpoint: labels every create.
    endpoint_org: Option<Org<'r>>,
}

/// What the request does, once routes and the description agree.
struct Target<'r> {
    action: Option<Action>,
    /// The declared type, or the name the request gave for an undeclared one.
    object: Option<Result<TypeIdx, &'r str>>,
    route: Option<&'r RouteRule>,
    /// The endpoint of the organization-ID rules the method and path matched.
    endpoint: Option<&'r EndpointRule>,
}

/// What an allowed request may see (None when not org-scoped) and the labels it gives.
struct Allowed<'p, 'r> {
    visible: Option<OrgSet<'r>>,
    labels: Labels<'p>,
}

/// The outcome of one evaluation: what the request does (as far as it was worked out) and
/// whether it is allowed.
struct Outcome<'p, 'r> {
    action: Option<Action>,
    object: Option<Result<TypeIdx, &'r str>>,
    verdict: Res<Allowed<'p, 'r>>,
}

/// Who asks: the user, and their accessible orgs when already resolved ([`crate::Principal`]).
pub(crate) struct Who<'r, S: Text> {
    pub user: &'r User<S>,
    pub accessible: Option<&'r OrgSet<'static>>,
}

/// One evaluation: the policy (`'p`, which names in the decision borrow) and the request.
struct Ctx<'p, 'r, S: Text> {
    p: &'p Compiled,
    req: &'r Request<S>,
    who: Who<'r, S>,
    lookup: &'r dyn EntityLookup,
    segments: Segments<'r>,
    /// Parameter names of the matched route or endpoint template, per segment.
    params: &'r [Option<String>],
    trace: Tracer<'r>,
    accessible: OrgSet<'r>,
    /// Whether the request may carry its own `entities`.
    inline_entities: bool,
    /// The request's entities indexed, once a lookup needs it (see `Ctx::find`).
    entity_index: std::cell::OnceCell<lookup::EntityIndex<'r, S>>,
}

/// Evaluates one request against a compiled policy.
pub(crate) fn evaluate<'p, S: Text>(
    p: &'p Compiled,
    req: &Request<S>,
    who: Who<'_, S>,
    lookup: &dyn EntityLookup,
    explain: bool,
    inline_entities: bool,
) -> Decision<'p> {
    let mut cx = Ctx {
        p,
        req,
        who,
        lookup,
        segments: Segments::default(),
        params: &[],
        trace: Tracer::new(p, explain),
        accessible: OrgSet::empty(None),
        inline_entities,
        entity_index: std::cell::OnceCell::new(),
    };
    let outcome = cx.run();
    let object = outcome.object.and_then(|o| match o {
        Ok(t) => p.object(t).map(|t| Cow::Borrowed(&*t.name)),
        Err(name) => Some(Cow::Owned(String::from(name))),
    });
    let rule = |r: Option<RuleId>| r.and_then(|r| p.rule(r)).map(Cow::Borrowed);
    let mut trace = cx.trace;
    let verdict = match outcome.verdict {
        // Fail closed: an allow is granted by a rule of the policy, never by its silence.
        Ok(_) if trace.decided.is_none() => Err(Deny::new(
            ErrorCode::NoRoute,
            "no rule of the policy decides the request".to_string(),
            None,
        )),
        v => v,
    };
    // Each arm builds the decision where it is returned: assigning fields after the match
    // would copy the whole decision once more.
    match verdict {
        Ok(allowed) => {
            trace.step(trace.decided, "decision", || "allow".to_string());
            Decision {
                id: req.id.clone(),
                decision: Effect::Allow,
                status: 200,
                action: outcome.action,
                object,
                rule: rule(trace.decided),
                visible_orgs: allowed.visible.map(|v| visible_names(p, &v)),
                include_unlabeled: true,
                labels: allowed.labels,
                errors: Vec::new(),
                warnings: trace.warnings,
                trace: trace.steps,
            }
        }
        Err(deny) => {
            // Formatted only when explaining: most batches deny often and explain never.
            trace.step(deny.rule, "decision", || match &deny.hint {
                Some(h) => format!("deny ({}): {}; {h}", deny.code, deny.message),
                None => format!("deny ({}): {}", deny.code, deny.message),
            });
            let mut d = Decision::deny_with(
                req.id.clone(),
                DecisionError {
                    code: deny.code,
                    message: deny.message,
                    rule: rule(deny.rule),
                    hint: deny.hint,
                },
            );
            d.action = outcome.action;
            d.object = object;
            d.warnings = trace.warnings;
            d.trace = trace.steps;
            d
        }
    }
}

/// The org's name (empty for an index outside the directory, which compile never makes).
fn org_name<'s>(p: &'s Compiled, o: Org<'s>) -> &'s str {
    match (o, &p.directory) {
        (Org::Known(i), Some(d)) => d.name(i).map_or("", |n| n),
        (Org::Opaque(s), _) => s,
        (Org::Known(_), None) => "",
    }
}

/// The org's name for a decision: borrowed from the policy's directory, copied only when it
/// is the request's own text (a policy without a directory).
fn org_text<'p>(p: &'p Compiled, o: Org<'_>) -> Cow<'p, str> {
    match o {
        Org::Known(i) => Cow::Borrowed(org_name(p, Org::Known(i))),
        Org::Opaque(s) => Cow::Owned(String::from(s)),
    }
}

/// The visible orgs, in canonical order: a small directory's set as it is, named only when
/// read (this runs on every allow), any other named now.
fn visible_names<'p>(p: &'p Compiled, v: &OrgSet<'_>) -> VisibleOrgs<'p> {
    match (v, &p.directory) {
        (OrgSet::Small(bits), Some(d)) => VisibleOrgs::bits(*bits, &d.names),
        _ => v.iter().map(|o| org_text(p, o)).collect(),
    }
}

/// `str::trim`, with the common case decided byte by byte: org names are trimmed on every
/// decision, and `trim` walks chars. `trim_ascii` misses only the vertical tab and non-ASCII
/// white space, so an end byte that could start either takes the full `trim`.
pub(super) fn trim(s: &str) -> &str {
    let t = s.trim_ascii();
    let unsure = |b: &u8| !b.is_ascii() || *b == 0x0b;
    match (t.as_bytes().first(), t.as_bytes().last()) {
        (Some(a), Some(z)) if unsure(a) || unsure(z) => t.trim(),
        _ => t,
    }
}

/// The org `s` names, if it exists: interned with a directory, else the text itself.
fn resolve<'r>(p: &Compiled, s: &'r str) -> Option<Org<'r>> {
    let s = trim(s);
    if s.is_empty() {
        return None;
    }
    match &p.directory {
        Some(d) => d.resolve(s).map(Org::Known),
        None => Some(Org::Opaque(s)),
    }
}

impl<'p: 'r, 'r, S: Text> Ctx<'p, 'r, S> {
    fn name<'s>(&'s self, o: Org<'s>) -> &'s str {
        org_name(self.p, o)
    }

    /// The org a request names, if it exists. Callers answer "unknown" and "no access" alike.
    fn resolve(&self, s: &'r str) -> Option<Org<'r>> {
        resolve(self.p, s)
    }

    /// Like [`Self::resolve`] for text that may not borrow from the request (e.g. a number).
    fn resolve_owned(&self, raw: &str) -> Option<Org<'r>> {
        let raw = trim(raw);
        match &self.p.directory {
            Some(d) => d.resolve(raw).map(Org::Known),
            None => self.accessible.find_opaque(raw),
        }
    }

    fn run(&mut self) -> Outcome<'p, 'r> {
        let target = match self.prepare() {
            Ok(t) => t,
            Err(deny) => {
                return Outcome {
                    action: None,
                    object: None,
                    verdict: Err(deny),
                }
            }
        };
        let verdict = self.decide(&target);
        Outcome {
            action: target.action,
            object: target.object,
            verdict,
        }
    }

    /// Reads method and path, checks the entities, and works out the target.
    fn prepare(&mut self) -> Res<Target<'r>> {
        let req = self.req;
        // RFC 9110: methods are case-sensitive, so `post` is a method no route declares.
        let method = match req.method.as_deref() {
            None => None,
            // Exact spellings first: `parse` compares ignoring case, the rare case.
            Some(m) => match Method::ALL.into_iter().find(|k| k.as_str() == m) {
                Some(known) => Some(known),
                None if Method::parse(m).is_some() => None,
                None => return Err(Deny::invalid(format!("unknown HTTP method `{m}`"), None)),
            },
        };
        // The path was cut at `?` and `#` when the request was prepared (`request::prepare`).
        if let Some(path) = req.path.as_deref() {
            let Some(rest) = path.strip_prefix('/') else {
                return Err(Deny::invalid(
                    format!("path `{path}` must start with `/`"),
                    None,
                ));
            };
            let rest = rest.strip_suffix('/').unwrap_or(rest);
            self.segments = Segments::new(rest);
        }
        self.check_entities()?;
        self.target(method)
    }

    /// Scope and labels of a request whose target is known.
    fn decide(&mut self, target: &Target<'r>) -> Res<Allowed<'p, 'r>> {
        let req = self.req;
        let multi_org = req
            .tenant
            .as_ref()
            .and_then(|t| t.multi_org)
            .unwrap_or(self.p.multi_org_default);
        self.trace.step(self.p.multi_org_rule, "multi_org", || {
            if multi_org { "enabled" } else { "disabled" }.to_string()
        });
        if !multi_org {
            self.disabled_headers()?;
            if target.endpoint.is_none() {
                return self.unscoped(target);
            }
        }

        self.accessible = self.accessible_orgs();
        let scope = match target.endpoint {
            Some(e) => self.org_id_scope(e)?,
            None => self.header_scope()?,
        };
        let by_id = matches!(
            target.action,
            Some(Action::Read | Action::Update | Action::Delete)
        );
        // Empty scope is a deny; a by-id request answers it as it answers any invisible object.
        if scope.visible.len() == 0 && !by_id {
            return Err(self.nothing_visible());
        }
        let labels = match target.action {
            None | Some(Action::Query) => Labels::new(),
            Some(Action::Create) => self.create(target, &scope)?,
            Some(Action::Read | Action::Update | Action::Delete) => self.by_id(target, &scope)?,
        };
        let object_rule = match target.object {
            Some(Ok(t)) => self.p.object(t).map(|ty| ty.rule),
            _ => None,
        };
        self.trace.decided = self.trace.decided.or(self.scope_rule()).or(object_rule);
        Ok(Allowed {
            visible: Some(scope.visible),
            labels,
        })
    }

    /// Entities in the request must name declared types: a typo must not hide a parent.
    fn check_entities(&self) -> Res<()> {
        if !self.inline_entities && !self.req.entities.is_empty() {
            return Err(Deny::invalid(
                "the request carries `entities`, but existing objects come only from trusted sources here".to_string(),
                None,
            ));
        }
        let max = self.p.limits.max_request_entities;
        if self.req.entities.len() > max {
            return Err(Deny::invalid(
                format!("the request lists more than {max} entities"),
                None,
            ));
        }
        for (i, e) in self.req.entities.iter().enumerate() {
            if self.p.resolve_type(&e.object_type).is_none() {
                return Err(Deny::invalid(
                    format!("entities[{i}] has unknown object type `{}`", e.object_type),
                    None,
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn trim_is_str_trim(s in "[ \\t\\n\\x0b\\x0c\\r\\u{85}\\u{a0}\\u{3000}a-cé]{0,8}") {
            prop_assert_eq!(super::trim(&s), s.trim());
        }
    }
}

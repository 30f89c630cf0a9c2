//! Stage 5 — eval: a compiled policy applied to one request description → one decision.
//!
//! Evaluation only reads the compiled policy. Every failure is a [`Deny`] carrying its code and
//! the rule that decided; any error means deny. Orgs the user cannot access and orgs that do not
//! exist are answered with the same code and the same message shape, and objects that are not
//! visible are `not_found` whether or not they exist, so no answer is an existence oracle.

use crate::compile::orgset::{Org, OrgSet};
use crate::compile::{
    Compiled, EndpointRule, FieldPath, HeaderRule, ObjSpec, ObjectType, RouteRule, RuleId,
    Segments, TypeIdx,
};
use crate::decision::{
    Decision, DecisionError, Effect, ErrorCode, Label, LabelSource, TraceStep, Warning,
};
use crate::request::Request;
use crate::syntax::ast::{Action, FallbackSource, Location, Method};
use crate::terms;
use serde_json::Value;
use std::borrow::Cow;
use std::sync::Arc;

/// What an embedder's store knows of one existing object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found<'a> {
    /// No such object.
    Missing,
    /// The object exists and has no org label (visible to every org).
    Unlabeled,
    /// The object exists in this org (a name or id of the directory, or an opaque org).
    Org(Cow<'a, str>),
}

/// Looks up existing objects' orgs; implement it over your own store.
///
/// Consulted for parents of creates and targets of reads, updates and deletes, after the
/// request's own `entities`.
pub trait EntityLookup {
    /// The org of the object of type `object_type` (the policy's type name) with this id.
    fn find(&self, object_type: &str, id: &str) -> Found<'_>;
}

/// A lookup that knows no objects: only the request's `entities` count.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEntities;

impl EntityLookup for NoEntities {
    fn find(&self, _: &str, _: &str) -> Found<'_> {
        Found::Missing
    }
}

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
}

struct Ctx<'r> {
    p: &'r Compiled,
    req: &'r Request,
    lookup: &'r dyn EntityLookup,
    segments: Segments<'r>,
    /// Parameter names of the matched route or endpoint template, per segment.
    params: &'r [Option<String>],
    trace: Option<Vec<TraceStep>>,
    warnings: Vec<Warning>,
    decided: Option<RuleId>,
    accessible: OrgSet<'r>,
}

/// Evaluates one request against a compiled policy.
pub(crate) fn evaluate(
    p: &Compiled,
    req: &Request,
    lookup: &dyn EntityLookup,
    explain: bool,
) -> Decision {
    let mut cx = Ctx {
        p,
        req,
        lookup,
        segments: Segments::default(),
        params: &[],
        trace: explain.then(Vec::new),
        warnings: Vec::new(),
        decided: None,
        accessible: OrgSet::empty(None),
    };
    let mut action = None;
    let mut object = None;
    let result = cx.run(&mut action, &mut object);
    let object = object.and_then(|o| match o {
        Ok(t) => p.object(t).map(|t| Arc::clone(&t.name)),
        Err(name) => Some(Arc::from(name)),
    });
    let rule = |r: Option<RuleId>| r.and_then(|r| p.rule(r).cloned());
    let mut d = match result {
        Ok((visible, labels)) => {
            cx.step(cx.decided, "decision", |_| "allow".to_string());
            Decision {
                id: req.id.clone(),
                decision: Effect::Allow,
                status: 200,
                action,
                object,
                rule: rule(cx.decided),
                visible_orgs: visible.map(|v| v.iter().map(|o| cx.org_text(o)).collect()),
                include_unlabeled: true,
                labels,
                errors: Vec::new(),
                warnings: Vec::new(),
                trace: None,
            }
        }
        Err(deny) => {
            let outcome = match &deny.hint {
                Some(h) => format!("deny ({}): {}; {h}", deny.code, deny.message),
                None => format!("deny ({}): {}", deny.code, deny.message),
            };
            cx.step(deny.rule, "decision", |_| outcome);
            let mut d = Decision::deny_with(
                req.id.clone(),
                DecisionError {
                    code: deny.code,
                    message: deny.message,
                    rule: rule(deny.rule),
                },
            );
            d.action = action;
            d.object = object;
            d
        }
    };
    d.warnings = cx.warnings;
    d.trace = cx.trace;
    d
}

impl<'r> Ctx<'r> {
    /// Records a trace step; the outcome is only formatted when explaining.
    fn step(&mut self, rule: Option<RuleId>, step: &str, outcome: impl FnOnce(&Self) -> String) {
        if self.trace.is_none() {
            return;
        }
        let outcome = outcome(self);
        let rule = rule.and_then(|r| self.p.rule(r).cloned());
        if let Some(t) = &mut self.trace {
            t.push(TraceStep {
                rule,
                step: step.to_string(),
                outcome,
            });
        }
    }

    fn warn(&mut self, code: &'static str, message: String) {
        self.warnings.push(Warning { code, message });
    }

    fn name<'s>(&'s self, o: Org<'s>) -> &'s str {
        match (o, &self.p.directory) {
            (Org::Known(i), Some(d)) => d.name(i).map_or("", |n| n),
            (Org::Opaque(s), _) => s,
            (Org::Known(_), None) => "",
        }
    }

    /// The org's name for a decision: shared with the policy when it is in the directory.
    fn org_text(&self, o: Org<'_>) -> Arc<str> {
        match (o, &self.p.directory) {
            (Org::Known(i), Some(d)) => d.name(i).cloned().unwrap_or_else(|| Arc::from("")),
            _ => Arc::from(self.name(o)),
        }
    }

    /// The org a request names, if it exists. Callers answer "unknown" and "no access" alike.
    fn resolve(&self, s: &'r str) -> Option<Org<'r>> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        match &self.p.directory {
            Some(d) => d.resolve(s).map(Org::Known),
            None => Some(Org::Opaque(s)),
        }
    }

    fn run(
        &mut self,
        action_out: &mut Option<Action>,
        object_out: &mut Option<Result<TypeIdx, &'r str>>,
    ) -> Res<(Option<OrgSet<'r>>, Vec<Label>)> {
        let req = self.req;
        let method = req.method.as_deref().map(|m| {
            Method::parse(m)
                .ok_or_else(|| Deny::invalid(format!("unknown HTTP method `{m}`"), None))
        });
        let method = method.transpose()?;
        if let Some(path) = req.path.as_deref() {
            let path = path.split(['?', '#']).next().unwrap_or("");
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

        let endpoint = match (method, &req.path) {
            (Some(m), Some(_)) => self.p.endpoints.find(m, self.segments),
            _ => None,
        };
        if let Some(e) = endpoint {
            self.params = &e.params;
            self.decided = Some(e.rule);
            self.step(Some(e.rule), "endpoint", |_| {
                format!("matched `{}` of service `{}`", e.template, e.service)
            });
        }
        let target = self.target(method, endpoint.is_some())?;
        *action_out = target.action;
        *object_out = target.object;

        let multi_org = req
            .tenant
            .as_ref()
            .and_then(|t| t.multi_org)
            .unwrap_or(self.p.multi_org_default);
        self.step(self.p.multi_org_rule, "multi_org", |_| {
            if multi_org { "enabled" } else { "disabled" }.to_string()
        });
        if !multi_org {
            return self.multi_org_off(&target, endpoint);
        }

        self.accessible = self.accessible_orgs();
        let scope = match endpoint {
            Some(e) => self.org_id_scope(e)?,
            None => self.header_scope()?,
        };
        let labels = match target.action {
            None | Some(Action::Query) => Vec::new(),
            Some(Action::Create) => self.create(&target, &scope)?,
            Some(Action::Read | Action::Update | Action::Delete) => self.by_id(&target, &scope)?,
        };
        Ok((Some(scope.visible), labels))
    }

    /// Entities in the request must name declared types: a typo must not hide a parent.
    fn check_entities(&self) -> Res<()> {
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

    /// Works out action and object from the matched route, the request, or the default route.
    fn target(&mut self, method: Option<Method>, has_endpoint: bool) -> Res<Target<'r>> {
        let req = self.req;
        let route = match (method, &req.path) {
            (Some(m), Some(_)) => self.p.routes.find(m, self.segments),
            _ => None,
        };
        let route = match route {
            Some(r) => {
                self.step(Some(r.rule), "route", |_| {
                    format!("matched `{}` -> {}", r.template, r.action.keyword())
                });
                if !has_endpoint {
                    self.params = &r.params;
                }
                Some(r)
            }
            None if req.action.is_none() => self.p.default_route.as_ref().inspect(|r| {
                self.step(Some(r.rule), "route", |_| {
                    "no route matched; using the default".into()
                })
            }),
            None => None,
        };
        let given_object = match &req.object {
            Some(o) => Some(self.p.resolve_type(o).ok_or(o.as_str())),
            None => None,
        };
        let Some(route) = route else {
            if req.action.is_none() && !has_endpoint {
                let what = match (&req.method, &req.path) {
                    (Some(m), Some(p)) => format!("`{m} {p}`"),
                    _ => "the request (it has no method and path, nor an `action`)".to_string(),
                };
                return Err(Deny::new(
                    ErrorCode::NoRoute,
                    format!("no route matches {what}"),
                    None,
                ));
            }
            return Ok(Target {
                action: req.action,
                object: given_object,
                route: None,
            });
        };
        if let Some(a) = req.action.filter(|a| *a != route.action) {
            return Err(Deny::invalid(
                format!(
                    "the request says `{}` but the route `{}` says `{}`",
                    a.keyword(),
                    route.template,
                    route.action.keyword()
                ),
                Some(route.rule),
            ));
        }
        let object = match &route.object {
            ObjSpec::None => given_object,
            ObjSpec::Named(t) => Some(Ok(*t)),
            ObjSpec::FromField(f) => {
                let body = req.body.as_ref();
                let name = match self.field(f, body)? {
                    Some(Cow::Borrowed(n)) => n,
                    _ => {
                        return Err(Deny::invalid(
                            format!("`{}` must name the object type", f.text),
                            Some(route.rule),
                        ))
                    }
                };
                Some(self.p.resolve_type(name).ok_or(name))
            }
        };
        if let (Some(Ok(route_t)), Some(given)) = (object, given_object) {
            if given != Ok(route_t) {
                let given = req.object.as_deref().unwrap_or_default();
                return Err(Deny::invalid(
                    format!(
                        "the request says object `{given}` but the route `{}` says `{}`",
                        route.template,
                        self.p.object(route_t).map_or("", |t| &*t.name)
                    ),
                    Some(route.rule),
                ));
            }
        }
        self.decided = Some(route.rule);
        Ok(Target {
            action: Some(route.action),
            object,
            route: Some(route),
        })
    }

    /// Multi-Org off: nothing is org-scoped; org headers are refused or dropped.
    fn multi_org_off(
        &mut self,
        target: &Target<'r>,
        endpoint: Option<&EndpointRule>,
    ) -> Res<(Option<OrgSet<'r>>, Vec<Label>)> {
        let p = self.p;
        let declared = p
            .headers
            .iter()
            .find(|h| self.req.header_values(&h.name).next().is_some())
            .map(|h| (h.name.clone(), Some(h.rule)));
        let org_id_header = || {
            self.req
                .headers
                .keys()
                .find(|k| k.eq_ignore_ascii_case(terms::ORG_ID_HEADER) || terms::is_deprecated(k))
                .map(|k| (k.clone(), endpoint.map(|e| e.rule)))
        };
        let sent = declared.or_else(|| endpoint.and_then(|_| org_id_header()));
        if let Some((name, rule)) = sent {
            match p.when_disabled {
                crate::syntax::ast::DisabledMode::Reject => {
                    return Err(Deny::new(
                        ErrorCode::MultiOrgDisabled,
                        format!(
                            "header `{name}` was sent but Multi-Org is disabled for this tenant"
                        ),
                        p.multi_org_rule.or(rule),
                    )
                    .hint("send the request without org headers".to_string()))
                }
                crate::syntax::ast::DisabledMode::Ignore => self.warn(
                    "org_header_ignored",
                    format!("header `{name}` was ignored because Multi-Org is disabled"),
                ),
            }
        }
        let labels = match target.action {
            Some(Action::Create) => {
                let shared =
                    matches!(target.object, Some(Ok(t)) if p.object(t).is_some_and(|t| t.shared));
                let n = self.objects(target)?.len();
                let source = if shared {
                    LabelSource::Shared
                } else {
                    LabelSource::None
                };
                vec![
                    Label {
                        org: None,
                        source,
                        from: None,
                    };
                    n
                ]
            }
            _ => Vec::new(),
        };
        self.decided = self.decided.or(p.multi_org_rule);
        Ok((None, labels))
    }

    /// The user's orgs (with descendants when the directory grants them), in canonical order.
    fn accessible_orgs(&self) -> OrgSet<'r> {
        let d = self.p.directory.as_ref();
        let mut set = OrgSet::empty(d.map(|d| d.names.len()));
        for o in &self.req.user.orgs {
            let Some(org) = self.resolve(o) else { continue };
            set.insert(org);
            if let (Some(d), Org::Known(i)) = (d, org) {
                for &c in d.descendants(i) {
                    set.insert(Org::Known(c));
                }
            }
        }
        set.normalize();
        set
    }

    fn no_access(&self, raw: &str, rule: RuleId) -> Deny {
        Deny::new(
            ErrorCode::OrgAccessDenied,
            format!("the user has no access to org `{}`", raw.trim()),
            Some(rule),
        )
        .hint(format!("the user would need access to `{}`", raw.trim()))
    }

    /// Resolves an org the request names and requires the user to have access to it.
    fn accessible(&self, raw: &'r str, rule: RuleId) -> Res<Org<'r>> {
        match self.resolve(raw) {
            Some(o) if self.accessible.contains(o) => Ok(o),
            _ => Err(self.no_access(raw, rule)),
        }
    }

    /// The orgs a header names, each one accessible, enforcing its declared shape and limits.
    /// Items are comma-separated across repeated values, trimmed; empty items are ignored
    /// (RFC 9110 list syntax). Returns None when the header is absent.
    fn header_orgs(&self, h: &'r HeaderRule) -> Res<Option<OrgSet<'r>>> {
        let invalid = |m: String| Deny::invalid(m, Some(h.rule));
        let items = || {
            self.req
                .header_values(&h.name)
                .flat_map(|v| v.split(','))
                .map(str::trim)
        };
        // One pass for the shape and limits, so a malformed header is `invalid_request`
        // before any org in it is looked at.
        let (mut present, mut bytes, mut count, mut first, mut single) = (false, 0, 0, "", true);
        for v in self.req.header_values(&h.name) {
            present = true;
            bytes += v.len();
        }
        if !present {
            return Ok(None);
        }
        for item in items().filter(|i| !i.is_empty()) {
            if count == 0 {
                first = item;
            }
            single &= item == first;
            count += 1;
        }
        // The policy's own limits apply when stricter than the engine-wide ones.
        let limits = &self.p.limits;
        let max_length = h.max_length.map_or(limits.max_header_bytes as u64, |m| {
            m.min(limits.max_header_bytes as u64)
        });
        let max_items = h.max_items.map_or(limits.max_header_items as u64, |m| {
            m.min(limits.max_header_items as u64)
        });
        if let Some(max) = Some(max_length).filter(|&m| bytes as u64 > m) {
            return Err(invalid(format!(
                "header `{}` is longer than {max} bytes",
                h.name
            )));
        }
        if count == 0 {
            return Err(invalid(format!("header `{}` names no org", h.name)));
        }
        if let Some(max) = Some(max_items).filter(|&m| count as u64 > m) {
            return Err(invalid(format!(
                "header `{}` names more than {max} orgs",
                h.name
            )));
        }
        if !h.list && !single {
            return Err(invalid(format!("header `{}` takes a single org", h.name)));
        }
        let mut set = OrgSet::empty(self.p.directory.as_ref().map(|d| d.names.len()));
        for item in items().filter(|i| !i.is_empty()) {
            set.insert(self.accessible(item, h.access_rule)?);
        }
        set.normalize();
        Ok(Some(set))
    }

    /// Multi-Org headers: the visibility filter and the working org.
    fn header_scope(&mut self) -> Res<Scope<'r>> {
        let p = self.p;
        let mut filter: Option<(&HeaderRule, OrgSet<'r>)> = None;
        if let Some(h) = p.header(p.visibility) {
            if let Some(requested) = self.header_orgs(h)? {
                self.decided = Some(h.rule);
                self.step(Some(h.access_rule), "visibility header", |_| {
                    format!(
                        "`{}` narrows the visible set to {} org(s)",
                        h.name,
                        requested.len()
                    )
                });
                filter = Some((h, requested));
            }
        }
        let mut working = None;
        if let Some(h) = p.header(p.working_org) {
            if let Some(org) = self.header_orgs(h)?.and_then(|set| set.only()) {
                if let Some((f, visible)) = &filter {
                    if !visible.contains(org) {
                        return Err(self.outside(self.name(org), f, h.access_rule));
                    }
                }
                self.step(Some(h.access_rule), "working org header", |_| {
                    format!("`{}` names an accessible org", h.name)
                });
                working = Some(org);
            }
        }
        let visible = match filter {
            Some((_, requested)) => requested,
            None => self.accessible.clone(),
        };
        Ok(Scope {
            visible,
            working,
            endpoint_org: None,
        })
    }

    fn outside(&self, raw: &str, filter: &HeaderRule, rule: RuleId) -> Deny {
        Deny::new(
            ErrorCode::OrgAccessDenied,
            format!(
                "org `{}` is not among the orgs of `{}`",
                raw.trim(),
                filter.name
            ),
            Some(rule),
        )
        .hint(format!(
            "`{}` would need to include `{}`",
            filter.name,
            raw.trim()
        ))
    }

    /// The organization-ID rules of SPEC §1.2 for a matched endpoint.
    fn org_id_scope(&mut self, e: &'r EndpointRule) -> Res<Scope<'r>> {
        let found = self.org_id_occurrences();
        if !e.scoped {
            if let Some((_, name, _)) = found.iter().find(|(l, _, _)| *l == Location::Header) {
                return Err(Deny::new(
                    ErrorCode::OrgIdHeaderForbidden,
                    format!(
                        "`{}` is not org-scoped and takes no org ID header, but `{name}` was sent",
                        e.template
                    ),
                    Some(e.rule),
                ));
            }
            for (loc, name, _) in &found {
                if terms::is_deprecated(name) {
                    let m = format!(
                        "{} `{name}` is a deprecated term; use `organizationId(s)`",
                        loc.keyword()
                    );
                    self.warn("deprecated_org_id_term", m);
                }
            }
            let mut visible = self.accessible.clone();
            if let Some((loc, name)) = &e.org_id {
                let mut requested = OrgSet::empty(self.p.directory.as_ref().map(|d| d.names.len()));
                let mut any = false;
                let values = found
                    .iter()
                    .filter(|(l, n, _)| l == loc && n == name)
                    .flat_map(|(_, _, v)| v.split(','))
                    .map(str::trim)
                    .filter(|v| !v.is_empty());
                for v in values {
                    requested.insert(self.accessible(v, e.org_id_rule)?);
                    any = true;
                }
                if any {
                    requested.normalize();
                    visible = requested;
                    self.decided = Some(e.org_id_rule);
                }
            }
            return Ok(Scope {
                visible,
                working: None,
                endpoint_org: None,
            });
        }
        let declared = e.org_id.as_ref();
        let where_declared = declared.map_or_else(
            || "its declared location".to_string(),
            |(l, n)| format!("{} `{n}`", l.keyword()),
        );
        let rule = Some(e.org_id_rule);
        let places = || {
            found
                .iter()
                .map(|(l, n, _)| format!("{} `{n}`", l.keyword()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (loc, name, value) = match found.as_slice() {
            [] => {
                return Err(Deny::new(
                    ErrorCode::OrgIdMissing,
                    format!("`{}` needs the org ID in {where_declared}", e.template),
                    rule,
                ))
            }
            [one] => *one,
            [first, rest @ ..] => {
                let code = if rest.iter().all(|(_, _, v)| v == &first.2) {
                    ErrorCode::OrgIdAmbiguous
                } else {
                    ErrorCode::OrgIdConflict
                };
                return Err(Deny::new(
                    code,
                    format!(
                        "the org ID was sent {} times ({}); send it once, in {where_declared}",
                        found.len(),
                        places()
                    ),
                    rule,
                ));
            }
        };
        let at_declared = declared.is_some_and(|(l, n)| {
            *l == loc
                && if loc == Location::Header {
                    n.eq_ignore_ascii_case(name)
                } else {
                    n == name
                }
        });
        if !at_declared {
            return Err(Deny::new(
                ErrorCode::OrgIdWrongLocation,
                format!(
                    "the org ID was sent in {} `{name}`, but `{}` takes it in {where_declared}",
                    loc.keyword(),
                    e.template
                ),
                rule,
            ));
        }
        let org = self.accessible(value, e.org_id_rule)?;
        self.decided = Some(e.org_id_rule);
        self.step(rule, "org ID", |_| {
            format!("{where_declared} names an org the user may access")
        });
        let mut visible = OrgSet::empty(self.p.directory.as_ref().map(|d| d.names.len()));
        visible.insert(org);
        Ok(Scope {
            visible,
            working: None,
            endpoint_org: Some(org),
        })
    }

    /// Every place the request carries an org ID or one of its deprecated aliases.
    fn org_id_occurrences(&self) -> Vec<(Location, &'r str, &'r str)> {
        let req = self.req;
        let is_term = |k: &str| terms::is_org_id_name(k) || terms::is_deprecated(k);
        let mut out: Vec<(Location, &'r str, &'r str)> = Vec::new();
        for (param, value) in self.params.iter().zip(self.segments) {
            if let Some(name) = param.as_deref().filter(|n| is_term(n)) {
                out.push((Location::Path, name, value));
            }
        }
        for (k, values) in &req.query {
            if is_term(k) {
                out.extend(values.iter().map(|v| (Location::Query, k.as_str(), v)));
            }
        }
        if let Some(Value::Object(map)) = &req.body {
            for (k, v) in map {
                if is_term(k) {
                    match v {
                        Value::String(s) => out.push((Location::Body, k.as_str(), s.as_str())),
                        Value::Array(a) => out.extend(
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(|s| (Location::Body, k.as_str(), s)),
                        ),
                        _ => {}
                    }
                }
            }
        }
        for (k, values) in &req.headers {
            if k.eq_ignore_ascii_case(terms::ORG_ID_HEADER) || terms::is_deprecated(k) {
                out.extend(values.iter().map(|v| (Location::Header, k.as_str(), v)));
            }
        }
        out.retain(|(_, _, v)| !v.trim().is_empty());
        out
    }

    /// Reads a field of the request: `body.*` from `body` (the object being created), `path.*`
    /// from the matched template, `query.*` from the query. Null and "" count as absent.
    fn field<'v>(&self, f: &FieldPath, body: Option<&'v Value>) -> Res<Option<Cow<'v, str>>>
    where
        'r: 'v,
    {
        let text = |v: &'v Value| -> Res<Option<Cow<'v, str>>> {
            match v {
                Value::Null => Ok(None),
                Value::String(s) if s.trim().is_empty() => Ok(None),
                Value::String(s) => Ok(Some(Cow::Borrowed(s.as_str()))),
                Value::Number(n) => Ok(Some(Cow::Owned(n.to_string()))),
                _ => Err(Deny::invalid(
                    format!("`{}` must be a string", f.text),
                    None,
                )),
            }
        };
        match f.root {
            crate::syntax::ast::FieldRoot::Body => {
                let mut v = body;
                for k in &f.keys {
                    v = v.and_then(|v| v.get(k));
                }
                v.map_or(Ok(None), text)
            }
            crate::syntax::ast::FieldRoot::Path => {
                let key = f.keys.first().map(String::as_str);
                let value = self
                    .params
                    .iter()
                    .zip(self.segments)
                    .find(|(p, _)| p.as_deref() == key)
                    .map(|(_, v)| Cow::Borrowed(v));
                Ok(value)
            }
            crate::syntax::ast::FieldRoot::Query => {
                let key = f.keys.first().map_or("", String::as_str);
                let Some(values) = self.req.query.get(key) else {
                    return Ok(None);
                };
                let mut it = values.iter().filter(|v| !v.trim().is_empty());
                match (it.next(), it.next()) {
                    (Some(v), None) => Ok(Some(Cow::Borrowed(v))),
                    (None, _) => Ok(None),
                    (Some(_), Some(_)) => Err(Deny::invalid(
                        format!("query parameter `{key}` was given more than once"),
                        None,
                    )),
                }
            }
        }
    }

    /// The bodies of the objects a create makes: each element of the route's `objects`
    /// field, or the body itself.
    fn objects(&self, target: &Target<'r>) -> Res<Objects<'r>> {
        let body = self.req.body.as_ref();
        let Some(f) = target.route.and_then(|r| r.objects.as_ref()) else {
            return Ok(Objects::One(body));
        };
        let mut v = body;
        for k in &f.keys {
            v = v.and_then(|v| v.get(k));
        }
        match v {
            Some(Value::Array(items)) if items.len() > self.p.limits.max_objects => {
                Err(Deny::invalid(
                    format!(
                        "`{}` has more than {} objects",
                        f.text, self.p.limits.max_objects
                    ),
                    target.route.map(|r| r.rule),
                ))
            }
            Some(Value::Array(items)) if !items.is_empty() => Ok(Objects::Many(items)),
            _ => Err(Deny::invalid(
                format!("`{}` must be a non-empty array of objects", f.text),
                target.route.map(|r| r.rule),
            )),
        }
    }

    fn object_type(&self, target: &Target<'r>) -> Res<(TypeIdx, &'r ObjectType)> {
        match target.object {
            Some(Ok(t)) => match self.p.object(t) {
                Some(o) => Ok((t, o)),
                None => Err(Deny::invalid("unknown object type".to_string(), None)),
            },
            Some(Err(name)) => Err(Deny::invalid(
                format!("unknown object type `{name}`"),
                target.route.map(|r| r.rule),
            )),
            None => Err(Deny::invalid(
                "the request does not say which object type it acts on".to_string(),
                target.route.map(|r| r.rule),
            )),
        }
    }

    fn create(&mut self, target: &Target<'r>, scope: &Scope<'r>) -> Res<Vec<Label>> {
        let objects = self.objects(target)?;
        if let Some(org) = scope.endpoint_org {
            let label = Label {
                org: Some(self.org_text(org)),
                source: LabelSource::Explicit,
                from: None,
            };
            return Ok(vec![label; objects.len()]);
        }
        let (_, ty) = self.object_type(target)?;
        let many = target.route.is_some_and(|r| r.objects.is_some());
        let mut labels = Vec::with_capacity(objects.len());
        for (i, obj) in objects.iter().enumerate() {
            match self.label_one(ty, obj, scope) {
                Ok(l) => labels.push(l),
                Err(mut d) if many => {
                    d.message = format!("objects[{i}]: {}", d.message);
                    return Err(d);
                }
                Err(d) => return Err(d),
            }
        }
        Ok(labels)
    }

    /// The label of one new object: explicit → inherited → fallbacks → `org_label_required`.
    fn label_one(
        &mut self,
        ty: &'r ObjectType,
        obj: Option<&'r Value>,
        scope: &Scope<'r>,
    ) -> Res<Label> {
        if ty.shared {
            self.decided = Some(ty.rule);
            self.step(Some(ty.rule), "shared type", |_| {
                format!("`{}` is tenant-wide and never labeled", ty.name)
            });
            return Ok(Label {
                org: None,
                source: LabelSource::Shared,
                from: None,
            });
        }
        let explicit = match &ty.label {
            Some((f, r)) => self.field(f, obj)?.map(|v| (v, *r)),
            None => None,
        };
        let inherited = self.inherit(ty, obj, scope)?;
        if let Some((raw, rule)) = explicit {
            let org = self.label_org(&raw, rule, scope)?;
            if let Some((parent_org, from, _)) = &inherited {
                if *parent_org != org {
                    return Err(Deny::new(
                        ErrorCode::OrgLabelConflict,
                        format!(
                            "label `{}` conflicts with `{}`, the org of {}",
                            raw.trim(),
                            self.name(*parent_org),
                            quote_id(from)
                        ),
                        Some(rule),
                    )
                    .hint(format!(
                        "drop the label or set it to `{}`",
                        self.name(*parent_org)
                    )));
                }
            }
            self.decided = Some(rule);
            self.step(Some(rule), "explicit label", |_| {
                format!("labels the object `{}`", raw.trim())
            });
            return Ok(self.label(org, LabelSource::Explicit, None));
        }
        if let Some((org, from, rule)) = inherited {
            self.decided = Some(rule);
            self.step(Some(rule), "inherit", |cx| {
                format!("takes `{}` from {from}", cx.name(org))
            });
            return Ok(self.label(org, LabelSource::Inherited, Some(from)));
        }
        for &(source, rule) in &ty.fallbacks {
            let chosen = match source {
                FallbackSource::WorkingOrg => scope.working.map(|o| (o, LabelSource::WorkingOrg)),
                FallbackSource::DefaultOrg => match self.req.user.default_org.as_deref() {
                    Some(d) if !d.trim().is_empty() => {
                        Some((self.label_org(d, rule, scope)?, LabelSource::DefaultOrg))
                    }
                    _ => None,
                },
                FallbackSource::SingleOrg => self
                    .accessible
                    .only()
                    .filter(|o| scope.visible.contains(*o))
                    .map(|o| (o, LabelSource::SingleOrg)),
                FallbackSource::Unlabeled => {
                    self.decided = Some(rule);
                    self.step(Some(rule), "fallback unlabeled", |_| {
                        "leaves the object unlabeled".into()
                    });
                    return Ok(Label {
                        org: None,
                        source: LabelSource::None,
                        from: None,
                    });
                }
            };
            match chosen {
                Some((org, src)) => {
                    self.decided = Some(rule);
                    self.step(
                        Some(rule),
                        &format!("fallback {}", source.keyword()),
                        |cx| format!("labels the object `{}`", cx.name(org)),
                    );
                    return Ok(self.label(org, src, None));
                }
                None => self.step(
                    Some(rule),
                    &format!("fallback {}", source.keyword()),
                    |_| "does not apply".to_string(),
                ),
            }
        }
        let mut ways: Vec<String> = Vec::new();
        if let Some((f, _)) = &ty.label {
            ways.push(format!("set `{}`", f.text));
        }
        for (s, _) in &ty.fallbacks {
            match s {
                FallbackSource::WorkingOrg => {
                    if let Some(h) = self.p.header(self.p.working_org) {
                        ways.push(format!("send `{}`", h.name));
                    }
                }
                FallbackSource::DefaultOrg => ways.push("give the user a `default_org`".into()),
                _ => {}
            }
        }
        let mut deny = Deny::new(
            ErrorCode::OrgLabelRequired,
            format!("nothing gives the new `{}` an org", ty.name),
            Some(ty.rule),
        );
        if !ways.is_empty() {
            deny = deny.hint(crate::diag::one_of(&ways));
        }
        Err(deny)
    }

    fn label(&self, org: Org<'_>, source: LabelSource, from: Option<String>) -> Label {
        Label {
            org: Some(self.org_text(org)),
            source,
            from,
        }
    }

    /// An org chosen for a label: accessible, and inside the visible set.
    fn label_org(&self, raw: &str, rule: RuleId, scope: &Scope<'r>) -> Res<Org<'r>> {
        let found = self.resolve_owned(raw);
        match found {
            Some(o) if self.accessible.contains(o) => {
                if scope.visible.contains(o) {
                    Ok(o)
                } else {
                    match self.p.header(self.p.visibility) {
                        Some(f) => Err(self.outside(raw, f, rule)),
                        None => Err(self.no_access(raw, rule)),
                    }
                }
            }
            _ => Err(self.no_access(raw, rule)),
        }
    }

    /// Like [`Self::resolve`] for text that may not borrow from the request (e.g. a number).
    fn resolve_owned(&self, raw: &str) -> Option<Org<'r>> {
        let raw = raw.trim();
        match &self.p.directory {
            Some(d) => d.resolve(raw).map(Org::Known),
            None => self.accessible.find_opaque(raw),
        }
    }

    /// The inherited org: the first `inherit` rule whose reference is present decides.
    fn inherit(
        &mut self,
        ty: &'r ObjectType,
        obj: Option<&'r Value>,
        scope: &Scope<'r>,
    ) -> Res<Option<(Org<'r>, String, RuleId)>> {
        let mut required: Option<&FieldPath> = None;
        let mut required_rule = ty.rule;
        for inh in &ty.inherits {
            let Some(id) = self.field(&inh.via, obj)? else {
                if !inh.optional && required.is_none() {
                    required = Some(&inh.via);
                    required_rule = inh.rule;
                }
                continue;
            };
            let Some(parent) = self.p.object(inh.parent) else {
                continue;
            };
            let mut from = String::with_capacity(parent.name.len() + 1 + id.len());
            from.push_str(&parent.name);
            from.push(' ');
            from.push_str(&id);
            let not_found = || {
                Deny::new(
                    ErrorCode::ParentNotFound,
                    format!("{} `{id}` was not found", parent.name),
                    Some(inh.rule),
                )
            };
            match self.find(inh.parent, &id) {
                Found::Missing => return Err(not_found()),
                Found::Unlabeled => {
                    self.step(Some(inh.rule), "inherit", |_| {
                        format!("{from} is unlabeled; trying the fallbacks")
                    });
                    return Ok(None);
                }
                Found::Org(o) => {
                    let org = self.resolve_owned(&o);
                    // An opaque org outside the user's orgs is never visible.
                    match org {
                        Some(org) if scope.visible.contains(org) || parent.shared => {
                            return Ok(Some((org, from, inh.rule)))
                        }
                        _ => return Err(not_found()),
                    }
                }
            }
        }
        match required {
            Some(f) => Err(Deny::new(
                ErrorCode::ParentRequired,
                format!("creating `{}` needs `{}`", ty.name, f.text),
                Some(required_rule),
            )
            .hint(format!("send `{}`", f.text))),
            None => Ok(None),
        }
    }

    /// Looks an existing object up: the request's entities first, then the embedder's store.
    fn find(&self, t: TypeIdx, id: &str) -> Found<'r> {
        let p = self.p;
        let name = p.object(t).map(|ty| &*ty.name);
        // Most entities spell the type as declared: compare before resolving the spelling.
        if let Some(e) = self.req.entities.iter().find(|e| {
            e.id == id
                && (name == Some(e.object_type.as_str())
                    || p.resolve_type(&e.object_type) == Some(t))
        }) {
            return match &e.org {
                Some(o) => Found::Org(Cow::Borrowed(o.as_str())),
                None => Found::Unlabeled,
            };
        }
        match name {
            Some(name) => self.lookup.find(name, id),
            None => Found::Missing,
        }
    }

    /// Read, update or delete of one object: allowed only when it is visible.
    fn by_id(&mut self, target: &Target<'r>, scope: &Scope<'r>) -> Res<Vec<Label>> {
        let (t, ty) = self.object_type(target)?;
        let route = target.route.ok_or_else(|| {
            Deny::invalid(
                "reading an object by id needs a route that says where its id is".to_string(),
                None,
            )
        })?;
        let id = match &route.id {
            Some(f) => self.field(f, self.req.body.as_ref())?,
            None => None,
        };
        let Some(id) = id else {
            return Err(Deny::invalid(
                format!("the request does not carry the `{}` id", ty.name),
                Some(route.rule),
            ));
        };
        let not_found = || {
            Deny::new(
                ErrorCode::NotFound,
                format!("{} `{id}` was not found", ty.name),
                Some(route.rule),
            )
        };
        let current = match self.find(t, &id) {
            Found::Missing => return Err(not_found()),
            Found::Unlabeled => None,
            Found::Org(_) if ty.shared => None,
            Found::Org(o) => match self.resolve_owned(&o) {
                Some(org) if scope.visible.contains(org) => Some(org),
                _ => return Err(not_found()),
            },
        };
        self.step(Some(route.rule), "target object", |_| {
            format!("{} `{id}` is visible", ty.name)
        });
        if target.action != Some(Action::Update) || ty.shared {
            return Ok(Vec::new());
        }
        let Some((f, rule)) = &ty.label else {
            return Ok(Vec::new());
        };
        match self.field(f, self.req.body.as_ref())? {
            Some(raw) => {
                let new = self.label_org(&raw, *rule, scope)?;
                if Some(new) == current {
                    return Ok(Vec::new());
                }
                self.decided = Some(*rule);
                self.step(Some(*rule), "relabel", |cx| {
                    format!("moves the object to `{}`", cx.name(new))
                });
                Ok(vec![self.label(new, LabelSource::Explicit, None)])
            }
            None => Ok(Vec::new()),
        }
    }
}

/// `account A-1` → ``account `A-1` `` for messages (the decision's `from` stays plain).
fn quote_id(from: &str) -> String {
    match from.split_once(' ') {
        Some((ty, id)) => format!("{ty} `{id}`"),
        None => format!("`{from}`"),
    }
}

/// The objects one create makes: the body, or each element of the route's `objects` array.
enum Objects<'r> {
    One(Option<&'r Value>),
    Many(&'r [Value]),
}

impl<'r> Objects<'r> {
    fn len(&self) -> usize {
        match self {
            Objects::One(_) => 1,
            Objects::Many(items) => items.len(),
        }
    }

    fn iter(&self) -> impl Iterator<Item = Option<&'r Value>> + '_ {
        let (one, many) = match *self {
            Objects::One(body) => (Some(body), &[][..]),
            Objects::Many(items) => (None, items),
        };
        one.into_iter().chain(many.iter().map(Some))
    }
}

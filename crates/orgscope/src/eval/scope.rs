//! The Multi-Org scope: the user's orgs, the visibility and working-org headers, Multi-Org off.

use super::{org_name, Allowed, Ctx, Deny, Res, Scope, Target};
use crate::compile::orgset::{Org, OrgSet};
use crate::compile::{Compiled, HeaderRule, RuleId};
use crate::decision::{ErrorCode, Label, LabelSource, Labels};
use crate::request::{Text, User};
use crate::syntax::ast::{Action, DisabledMode, Role};

/// The user's orgs (with descendants when the directory grants them), in canonical order.
pub(crate) fn accessible_orgs<'r, S: Text>(p: &Compiled, user: &'r User<S>) -> OrgSet<'r> {
    match &p.directory {
        // A user may have thousands of orgs, in a directory too large for a front: the loop
        // calls the hash map alone.
        Some(d) if d.hashes() => insert_orgs(p, user, |s| {
            let s = super::trim(s);
            (!s.is_empty())
                .then(|| d.hashed(s))
                .flatten()
                .map(Org::Known)
        }),
        _ => insert_orgs(p, user, |s| super::resolve(p, s)),
    }
}

/// [`accessible_orgs`], each org resolved by `resolve`.
fn insert_orgs<'r, S: Text>(
    p: &Compiled,
    user: &'r User<S>,
    resolve: impl Fn(&'r str) -> Option<Org<'r>>,
) -> OrgSet<'r> {
    let d = p.directory.as_ref();
    let mut set = OrgSet::empty(d.map(|d| d.names.len()));
    for o in &user.orgs {
        let Some(org) = resolve(o) else {
            continue;
        };
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

/// Each item of a comma-separated header value (RFC 9110 list syntax), trimmed, empty items
/// skipped. A plain loop: this runs on every decision, and iterator adapters cost more here.
fn for_each_item<'v>(value: &'v str, mut f: impl FnMut(&'v str)) {
    let mut rest = value;
    loop {
        let (item, tail) = match rest.bytes().position(|b| b == b',') {
            Some(at) => (rest.get(..at).unwrap_or(""), rest.get(at + 1..)),
            None => (rest, None),
        };
        let item = super::trim(item);
        if !item.is_empty() {
            f(item);
        }
        match tail {
            Some(t) => rest = t,
            None => return,
        }
    }
}

impl<'p: 'r, 'r, S: Text> Ctx<'p, 'r, S> {
    /// Multi-Org off: the Zuora-style org headers are refused or dropped. The org-ID header of
    /// SPEC §1.2 is not one of them: those rules apply whether or not Multi-Org is on.
    pub(super) fn disabled_headers(&mut self) -> Res<()> {
        let p = self.p;
        let sent = p
            .headers
            .iter()
            .find(|h| h.role != Role::OrgId && self.req.header_values(&h.key).next().is_some());
        let Some(h) = sent else { return Ok(()) };
        match p.when_disabled {
            DisabledMode::Reject => Err(Deny::new(
                ErrorCode::MultiOrgDisabled,
                format!(
                    "header `{}` was sent but Multi-Org is disabled for this tenant",
                    h.name
                ),
                p.multi_org_rule.or(Some(h.rule)),
            )
            .hint("send the request without org headers".to_string())),
            DisabledMode::Ignore => {
                self.trace.warn(
                    "org_header_ignored",
                    format!(
                        "header `{}` was ignored because Multi-Org is disabled",
                        h.name
                    ),
                );
                Ok(())
            }
        }
    }

    /// Multi-Org off, no endpoint of the organization-ID rules: nothing is org-scoped.
    pub(super) fn unscoped(&mut self, target: &Target<'r>) -> Res<Allowed<'p, 'r>> {
        let p = self.p;
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
                let label = Label {
                    org: None,
                    source,
                    from: None,
                };
                std::iter::repeat_n(label, n).collect()
            }
            _ => Labels::new(),
        };
        self.trace.decided = self.trace.decided.or(p.multi_org_rule);
        Ok(Allowed {
            visible: None,
            labels,
        })
    }

    /// The user's orgs, as resolved for the principal or now.
    pub(super) fn accessible_orgs(&self) -> OrgSet<'r> {
        match self.who.accessible {
            Some(cached) => cached.clone(),
            None => accessible_orgs(self.p, self.who.user),
        }
    }

    pub(super) fn no_access(&self, raw: &str, rule: RuleId) -> Deny {
        Deny::new(
            ErrorCode::OrgAccessDenied,
            format!("the user has no access to org `{}`", raw.trim()),
            Some(rule),
        )
        .hint(format!("the user would need access to `{}`", raw.trim()))
    }

    /// Resolves an org the request names and requires the user to have access to it.
    pub(super) fn accessible(&self, raw: &'r str, rule: RuleId) -> Res<Org<'r>> {
        match self.resolve(raw) {
            Some(o) if self.accessible.contains(o) => Ok(o),
            _ => Err(self.no_access(raw, rule)),
        }
    }

    /// The orgs a header names, each one accessible, enforcing its declared shape and limits.
    /// Items are comma-separated across repeated values, trimmed; empty items are ignored
    /// (RFC 9110 list syntax). Returns None when the header is absent.
    pub(super) fn header_orgs(&self, h: &'r HeaderRule) -> Res<Option<OrgSet<'r>>> {
        // An absent header (most requests send one org header or none) costs a look, not a pass.
        let mut values = self.req.header_values(&h.key);
        let Some(value) = values.next() else {
            return Ok(None);
        };
        let invalid = |m: String| Deny::invalid(m, Some(h.rule));
        // One pass for the shape and limits, so a malformed header is `invalid_request`
        // before any org in it is looked at.
        let (mut bytes, mut count, mut first, mut single) = (0, 0, "", true);
        // The first items, kept for the second pass: most headers name a few orgs.
        let mut kept = [""; 8];
        for v in std::iter::once(value).chain(values) {
            bytes += v.len();
            for_each_item(v, |item| {
                if count == 0 {
                    first = item;
                }
                // Compared only where it matters: most org headers are lists.
                single &= h.list || item == first;
                if let Some(slot) = kept.get_mut(count) {
                    *slot = item;
                }
                count += 1;
            });
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
        if let Some(items) = kept.get(..count) {
            // The common case, a plain loop that stops at the first org the user lacks.
            for &item in items {
                set.insert(self.accessible(item, h.access_rule)?);
            }
        } else {
            let mut denied = None;
            let mut add = |item| {
                if denied.is_none() {
                    match self.accessible(item, h.access_rule) {
                        Ok(org) => set.insert(org),
                        Err(deny) => denied = Some(deny),
                    }
                }
            };
            self.req
                .header_values(&h.key)
                .for_each(|v| for_each_item(v, &mut add));
            if let Some(deny) = denied {
                return Err(deny);
            }
        }
        set.normalize();
        Ok(Some(set))
    }

    /// Multi-Org headers: the visibility filter and the working org.
    pub(super) fn header_scope(&mut self) -> Res<Scope<'r>> {
        let p = self.p;
        self.lookalike_headers()?;
        let mut filter: Option<(&HeaderRule, OrgSet<'r>)> = None;
        if let Some(h) = p.header(p.visibility) {
            if let Some(requested) = self.header_orgs(h)? {
                self.trace.decided = Some(h.rule);
                self.trace
                    .step(Some(h.access_rule), "visibility header", || {
                        let names: Vec<_> = requested.iter().map(|o| org_name(p, o)).collect();
                        format!(
                            "`{}` narrows the visible set to {}",
                            h.name,
                            names.join(", ")
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
                self.trace
                    .step(Some(h.access_rule), "working org header", || {
                        format!("`{}` names accessible org `{}`", h.name, org_name(p, org))
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

    /// A header one edit away from a declared org header would be ignored like any other,
    /// silently widening a query to every accessible org. Under `lookalike_headers reject` it is
    /// a malformed description, refused before any org is looked at; otherwise a warning.
    /// Either way the message names only what the request sent and what the policy declares.
    fn lookalike_headers(&mut self) -> Res<()> {
        let p = self.p;
        for (k, _) in self.req.header_entries() {
            let near = p.headers.iter().find(|h| {
                h.role != Role::OrgId
                    && h.name.len().abs_diff(k.len()) <= 1
                    && *k != h.key
                    && !h.name.eq_ignore_ascii_case(k)
                    && crate::check::suggest::edit_distance(k, &h.name) == 1
            });
            let Some(h) = near else { continue };
            match p.lookalike_headers {
                (DisabledMode::Reject, rule) => {
                    return Err(Deny::invalid(
                        format!("header `{k}` is not declared: it looks like `{}`", h.name),
                        rule,
                    )
                    .hint(format!("send `{}`, or leave the header out", h.name)));
                }
                (DisabledMode::Ignore, _) => self.trace.warn(
                    "org_header_misspelled",
                    format!(
                        "header `{k}` was ignored: it is not the declared `{}`",
                        h.name
                    ),
                ),
            }
        }
        Ok(())
    }

    /// The rule that scopes a request no other rule decided: the visibility header's
    /// declaration (absent, it lets the user's orgs through), else the Multi-Org switch.
    pub(super) fn scope_rule(&self) -> Option<RuleId> {
        let p = self.p;
        p.header(p.visibility).map(|h| h.rule).or(p.multi_org_rule)
    }

    /// Empty scope is a deny: a user none of whose orgs exist sees nothing, and is told so in
    /// the same words whatever the orgs were (no existence oracle).
    pub(super) fn nothing_visible(&self) -> Deny {
        Deny::new(
            ErrorCode::OrgAccessDenied,
            "the user has no access to any org".to_string(),
            self.trace.decided.or(self.scope_rule()),
        )
        .hint("the user would need access to at least one org".to_string())
    }

    pub(super) fn outside(&self, raw: &str, filter: &HeaderRule, rule: RuleId) -> Deny {
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
}

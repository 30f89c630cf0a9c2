//! The Multi-Org scope: the user's orgs, the visibility and working-org headers, Multi-Org off.

use super::{Allowed, Ctx, Deny, Res, Scope, Target};
use crate::compile::orgset::{Org, OrgSet};
use crate::compile::{HeaderRule, RuleId};
use crate::decision::{ErrorCode, Label, LabelSource};
use crate::syntax::ast::{Action, DisabledMode};
use crate::terms;

impl<'r> Ctx<'r> {
    /// Multi-Org off: nothing is org-scoped; org headers are refused or dropped.
    pub(super) fn multi_org_off(&mut self, target: &Target<'r>) -> Res<Allowed<'r>> {
        let endpoint = target.endpoint;
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
                DisabledMode::Reject => {
                    return Err(Deny::new(
                        ErrorCode::MultiOrgDisabled,
                        format!(
                            "header `{name}` was sent but Multi-Org is disabled for this tenant"
                        ),
                        p.multi_org_rule.or(rule),
                    )
                    .hint("send the request without org headers".to_string()))
                }
                DisabledMode::Ignore => self.trace.warn(
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
        self.trace.decided = self.trace.decided.or(p.multi_org_rule);
        Ok(Allowed {
            visible: None,
            labels,
        })
    }

    /// The user's orgs (with descendants when the directory grants them), in canonical order.
    pub(super) fn accessible_orgs(&self) -> OrgSet<'r> {
        let d = self.p.directory.as_ref();
        let mut set = OrgSet::empty(d.map(|d| d.names.len()));
        for o in &self.req.user.orgs {
            let Some(org) = self.resolve(o) else { continue };
            set.insert(org);
            if let (Some(d), Org::Known(i)) = (d, org) {
                for &c in d.descendants.get(i as usize).map_or(&[][..], Vec::as_slice) {
                    set.insert(Org::Known(c));
                }
            }
        }
        set.normalize();
        set
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
    pub(super) fn header_scope(&mut self) -> Res<Scope<'r>> {
        let p = self.p;
        let mut filter: Option<(&HeaderRule, OrgSet<'r>)> = None;
        if let Some(h) = p.header(p.visibility) {
            if let Some(requested) = self.header_orgs(h)? {
                self.trace.decided = Some(h.rule);
                self.trace
                    .step(Some(h.access_rule), "visibility header", || {
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
                self.trace
                    .step(Some(h.access_rule), "working org header", || {
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

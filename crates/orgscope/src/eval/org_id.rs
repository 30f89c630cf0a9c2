//! The organization-ID rules of SPEC §1.2 at request time: one org ID, in the declared place.

use super::{Ctx, Deny, Res, Scope};
use crate::compile::orgset::OrgSet;
use crate::compile::EndpointRule;
use crate::decision::ErrorCode;
use crate::request::Text;
use crate::syntax::ast::Location;
use crate::terms::{self, spelling, Spelling};

impl<'p: 'r, 'r, S: Text> Ctx<'p, 'r, S> {
    /// The organization-ID rules of SPEC §1.2 for a matched endpoint.
    pub(super) fn org_id_scope(&mut self, e: &'r EndpointRule) -> Res<Scope<'r>> {
        let found = self.org_id_occurrences()?;
        self.warn_spellings(&found);
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
            // Every org ID counts: one the user may not access is refused wherever it is.
            let named = found
                .iter()
                .flat_map(|(_, _, v)| v.split(','))
                .map(str::trim);
            for v in named.filter(|v| !v.is_empty()) {
                self.accessible(v, e.org_id_rule)?;
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
                    self.trace.decided = Some(e.org_id_rule);
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
        self.trace.decide(e.org_id_rule, "org ID", || {
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

    /// Every place the request carries an org ID, however spelled: the guideline's names, any
    /// case or `-`/`_` variant of them, an `X-` prefixed header, and the deprecated aliases. A
    /// body value must be a string (or a list of strings): anything else is malformed.
    pub(super) fn org_id_occurrences(&self) -> Res<Vec<(Location, &'r str, &'r str)>> {
        let req = self.req;
        let mut out: Vec<(Location, &'r str, &'r str)> = Vec::new();
        for (param, value) in self.params.iter().zip(self.segments) {
            if let Some(name) = param.as_deref().filter(|n| spelling(n).is_some()) {
                out.push((Location::Path, name, value));
            }
        }
        for (k, values) in req.query_entries() {
            if spelling(k).is_some() {
                out.extend(values.iter().map(|v| (Location::Query, k, v)));
            }
        }
        let in_body = out.len();
        if let Some(members) = self.body().and_then(|b| b.entries()) {
            for (k, v) in members.filter(|(k, _)| spelling(k).is_some()) {
                let malformed = || {
                    Deny::invalid(
                        format!("body `{k}` must be an org ID string (or a list of them)"),
                        None,
                    )
                };
                if let Some(s) = v.as_str() {
                    out.push((Location::Body, k, s));
                } else if let Some(items) = v.items() {
                    for item in items {
                        let s = item.as_str().ok_or_else(malformed)?;
                        out.push((Location::Body, k, s));
                    }
                } else if !v.is_null() {
                    return Err(malformed());
                }
            }
            // In the order of the keys (a tree's, serde_json's maps being sorted; text reads
            // in the order sent), which the messages follow. Stable: a list keeps its order.
            if let Some(found) = out.get_mut(in_body..) {
                found.sort_by_key(|(_, k, _)| *k);
            }
        }
        for (k, values) in req.header_entries() {
            if spelling(k).is_some() {
                out.extend(values.iter().map(|v| (Location::Header, k, v)));
            }
        }
        out.retain(|(_, _, v)| !v.trim().is_empty());
        Ok(out)
    }

    /// A deprecation warning for each name spelled other than the guideline says.
    fn warn_spellings(&mut self, found: &[(Location, &'r str, &'r str)]) {
        for (i, (loc, name, _)) in found.iter().enumerate() {
            let repeated = found.iter().take(i).any(|(l, n, _)| l == loc && n == name);
            let m = match spelling(name) {
                Some(Spelling::Alias) => {
                    format!(
                        "{} `{name}` is a deprecated term; use `organizationId(s)`",
                        loc.keyword()
                    )
                }
                Some(Spelling::Variant) if !is_canonical(*loc, name) => {
                    let canonical = match loc {
                        Location::Header => terms::ORG_ID_HEADER,
                        _ => "organizationId(s)",
                    };
                    format!(
                        "{} `{name}` is a deprecated spelling of the org ID; use `{canonical}`",
                        loc.keyword()
                    )
                }
                _ => continue,
            };
            if !repeated {
                self.trace.warn("deprecated_org_id_term", m);
            }
        }
    }
}

/// The guideline's own spelling for the location (header names match case-insensitively).
fn is_canonical(loc: Location, name: &str) -> bool {
    match loc {
        Location::Header => name.eq_ignore_ascii_case(terms::ORG_ID_HEADER),
        _ => terms::is_org_id_name(name),
    }
}

//! Labelling creates: explicit label, inheritance from a parent, fallbacks (SPEC §1.1).

use super::{org_name, Ctx, Deny, Res, Scope, Target};
use crate::compile::orgset::Org;
use crate::compile::{FieldPath, ObjectType, RuleId};
use crate::decision::{ErrorCode, Label, LabelSource, Labels};
use crate::eval::lookup::{self, Found};
use crate::json::Json;
use crate::request::Text;
use crate::syntax::ast::FallbackSource;

impl<'p: 'r, 'r, S: Text> Ctx<'p, 'r, S> {
    pub(super) fn create(&mut self, target: &Target<'r>, scope: &Scope<'r>) -> Res<Labels<'p>> {
        let objects = self.objects(target)?;
        if let Some(org) = scope.endpoint_org {
            let label = Label {
                org: Some(super::org_text(self.p, org)),
                source: LabelSource::Explicit,
                from: None,
            };
            return Ok(std::iter::repeat_n(label, objects.len()).collect());
        }
        let (_, ty) = self.object_type(target)?;
        let many = target.route.is_some_and(|r| r.objects.is_some());
        let mut labels = Labels::with_capacity(objects.len());
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
    pub(super) fn label_one(
        &mut self,
        ty: &'r ObjectType,
        obj: Option<Json<'r>>,
        scope: &Scope<'r>,
    ) -> Res<Label<'p>> {
        if ty.shared {
            self.trace.decide(ty.rule, "shared type", || {
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
            self.agrees(&raw, org, inherited.as_ref(), rule)?;
            let p = self.p;
            self.trace.decide(rule, "explicit label", || {
                format!("labels the object `{}`", org_name(p, org))
            });
            return Ok(self.label(org, LabelSource::Explicit, None));
        }
        if let Some((org, from, rule)) = inherited {
            let p = self.p;
            self.trace.decide(rule, "inherit", || {
                format!("takes `{}` from {from}", org_name(p, org))
            });
            return Ok(self.label(org, LabelSource::Inherited, Some(from)));
        }
        for &(source, rule) in &ty.fallbacks {
            let chosen = match source {
                FallbackSource::WorkingOrg => scope.working.map(|o| (o, LabelSource::WorkingOrg)),
                FallbackSource::DefaultOrg => match self.who.user.default_org.as_deref() {
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
                    self.trace.decide(rule, "fallback unlabeled", || {
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
                    let p = self.p;
                    self.trace
                        .decide(rule, format_args!("fallback {}", source.keyword()), || {
                            format!("labels the object `{}`", org_name(p, org))
                        });
                    return Ok(self.label(org, src, None));
                }
                None => self.trace.step(
                    Some(rule),
                    format_args!("fallback {}", source.keyword()),
                    || "does not apply".to_string(),
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

    /// An explicit label must agree with the org the parent gives.
    fn agrees(
        &self,
        raw: &str,
        org: Org<'r>,
        inherited: Option<&(Org<'r>, String, RuleId)>,
        rule: RuleId,
    ) -> Res<()> {
        match inherited {
            Some((parent_org, from, _)) if *parent_org != org => Err(Deny::new(
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
            ))),
            _ => Ok(()),
        }
    }

    /// The labels an update gives its (visible) object: a new explicit label, a cleared one,
    /// or a new parent. Access to the old org is given: only a visible object gets here, and
    /// the visible set holds only orgs the user may access.
    pub(super) fn relabel(
        &mut self,
        ty: &'r ObjectType,
        current: Option<Org<'r>>,
        scope: &Scope<'r>,
    ) -> Res<Labels<'p>> {
        let body = self.body();
        let mut new_parent = false;
        for inh in &ty.inherits {
            if !inh.optional && self.cleared(&inh.via, body) {
                return Err(Deny::new(
                    ErrorCode::ParentRequired,
                    format!("an update cannot clear `{}` of `{}`", inh.via.text, ty.name),
                    Some(inh.rule),
                )
                .hint(format!(
                    "leave `{}` out, or name the new parent",
                    inh.via.text
                )));
            }
            new_parent |= self.field(&inh.via, body)?.is_some();
        }
        // A changed parent reference is checked as on create: the parent must be visible.
        let inherited = match new_parent {
            true => self.inherit(ty, body, scope)?,
            false => None,
        };
        if let Some((f, rule)) = &ty.label {
            if let Some(raw) = self.field(f, body)? {
                let new = self.label_org(&raw, *rule, scope)?;
                self.agrees(&raw, new, inherited.as_ref(), *rule)?;
                return Ok(self.moved(current, new, *rule, LabelSource::Explicit, None));
            }
            if self.cleared(f, body) && current.is_some() {
                return self.declassify(ty, f, *rule).map(Labels::from);
            }
        }
        Ok(match inherited {
            Some((org, from, rule)) => {
                self.moved(current, org, rule, LabelSource::Inherited, Some(from))
            }
            None => Labels::new(),
        })
    }

    /// The label of an update that moves its object to `new` (none when it stays).
    fn moved(
        &mut self,
        current: Option<Org<'r>>,
        new: Org<'r>,
        rule: RuleId,
        source: LabelSource,
        from: Option<String>,
    ) -> Labels<'p> {
        if Some(new) == current {
            return Labels::new();
        }
        let p = self.p;
        self.trace.decide(rule, "relabel", || {
            format!("moves the object to `{}`", org_name(p, new))
        });
        self.label(new, source, from).into()
    }

    /// Clearing the label of a labeled object is a relabel to "unlabeled" (visible to every
    /// org): allowed only where the type may be unlabeled at all.
    fn declassify(&mut self, ty: &'r ObjectType, f: &FieldPath, rule: RuleId) -> Res<Label<'p>> {
        let unlabeled = ty
            .fallbacks
            .iter()
            .find(|(s, _)| *s == FallbackSource::Unlabeled);
        let Some(&(_, allowed_by)) = unlabeled else {
            return Err(Deny::new(
                ErrorCode::OrgLabelRequired,
                format!(
                    "`{}` objects must keep an org label; clearing `{}` would make this one visible to every org",
                    ty.name, f.text
                ),
                Some(rule),
            )
            .hint(format!("set `{}` to an org instead of clearing it", f.text)));
        };
        self.trace.decide(allowed_by, "relabel", || {
            "leaves the object unlabeled".into()
        });
        Ok(Label {
            org: None,
            source: LabelSource::None,
            from: None,
        })
    }

    pub(super) fn label(
        &self,
        org: Org<'_>,
        source: LabelSource,
        from: Option<String>,
    ) -> Label<'p> {
        Label {
            org: Some(super::org_text(self.p, org)),
            source,
            from,
        }
    }

    /// An org chosen for a label: accessible, and inside the visible set.
    pub(super) fn label_org(&self, raw: &str, rule: RuleId, scope: &Scope<'r>) -> Res<Org<'r>> {
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

    /// The inherited org: the first `inherit` rule whose reference is present decides.
    pub(super) fn inherit(
        &mut self,
        ty: &'r ObjectType,
        obj: Option<Json<'r>>,
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
            let (found, contradicted) = self.find(inh.parent, &id);
            let org = match found {
                Found::Unavailable => {
                    return Err(lookup::store_unavailable(&parent.name, inh.rule))
                }
                Found::Missing => return Err(not_found()),
                Found::Unlabeled => None,
                // An opaque org outside the user's orgs is never visible.
                Found::Org(o) => match self.resolve_owned(&o) {
                    Some(org) if scope.visible.contains(org) || parent.shared => Some(org),
                    _ => return Err(not_found()),
                },
            };
            if contradicted {
                return Err(self.contradicted(&parent.name, &id, inh.rule));
            }
            let Some(org) = org else {
                self.trace.step(Some(inh.rule), "inherit", || {
                    format!("{from} is unlabeled; trying the fallbacks")
                });
                return Ok(None);
            };
            return Ok(Some((org, from, inh.rule)));
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
}

/// `account A-1` → ``account `A-1` `` for messages (the decision's `from` stays plain).
fn quote_id(from: &str) -> String {
    match from.split_once(' ') {
        Some((ty, id)) => format!("{ty} `{id}`"),
        None => format!("`{from}`"),
    }
}

//! Header declarations: names, roles, cardinality, access constraints and limits.

use super::{CheckError, Checker};
use crate::syntax::ast::*;
use crate::terms;
use rustc_hash::FxHashMap as HashMap;

impl Checker {
    pub(super) fn headers(&mut self, headers: &[&Header], services: &[&Service]) {
        // Endpoint org ID headers, for role conflicts: lower-case name → line.
        let mut org_id_headers: HashMap<String, u32> = HashMap::default();
        for s in services {
            for e in &s.endpoints {
                for p in &e.props {
                    if let EndpointProp::OrgId { location, name } = &p.node {
                        if location.node == Location::Header {
                            org_id_headers
                                .entry(name.node.to_ascii_lowercase())
                                .or_insert(name.span.line);
                        }
                    }
                }
            }
        }

        let mut names: HashMap<String, &Header> = HashMap::default();
        let mut roles: HashMap<Role, (&Header, u32)> = HashMap::default();
        for h in headers {
            let hname = &h.name.node;
            self.deprecated(hname, h.name.span);
            let key = hname.to_ascii_lowercase();
            let duplicate = match names.get(&key) {
                Some(first) => {
                    self.push(CheckError::DuplicateHeader {
                        span: h.name.span,
                        name: hname.clone(),
                        first: first.name.node.clone(),
                        first_line: first.name.span.line,
                    });
                    true
                }
                None => {
                    names.insert(key.clone(), h);
                    false
                }
            };

            let mut seen = HashMap::default();
            let mut role: Option<(Role, Span)> = None;
            let mut cardinality: Option<(bool, Span)> = None;
            let mut subset: Option<Span> = None;
            let mut member: Option<Span> = None;
            for p in &h.props {
                let owner = || format!("header `{hname}`");
                match p.node {
                    HeaderProp::Role(r) => {
                        self.once(&mut seen, "role", p.span, owner);
                        role.get_or_insert((r, p.span));
                    }
                    HeaderProp::List | HeaderProp::Single => {
                        let is_list = p.node == HeaderProp::List;
                        match cardinality {
                            Some((first_list, first)) if first_list != is_list => {
                                self.push(CheckError::ListAndSingle {
                                    span: p.span,
                                    header: hname.clone(),
                                    first_line: first.line,
                                })
                            }
                            Some(_) => self.once(
                                &mut seen,
                                if is_list { "list" } else { "single" },
                                p.span,
                                owner,
                            ),
                            None => {
                                self.once(
                                    &mut seen,
                                    if is_list { "list" } else { "single" },
                                    p.span,
                                    owner,
                                );
                                cardinality = Some((is_list, p.span));
                            }
                        }
                    }
                    HeaderProp::SubsetOfUserOrgs => {
                        self.once(&mut seen, "subset_of", p.span, owner);
                        subset.get_or_insert(p.span);
                    }
                    HeaderProp::MemberOfUserOrgs => {
                        self.once(&mut seen, "member_of", p.span, owner);
                        member.get_or_insert(p.span);
                    }
                    HeaderProp::MaxItems(n) | HeaderProp::MaxLength(n) => {
                        let kw = if matches!(p.node, HeaderProp::MaxItems(_)) {
                            "max_items"
                        } else {
                            "max_length"
                        };
                        self.once(&mut seen, kw, p.span, owner);
                        if n == 0 {
                            self.push(CheckError::ZeroLimit {
                                span: p.span,
                                prop: kw,
                                header: hname.clone(),
                            });
                        }
                    }
                }
            }

            let Some((role, role_span)) = role else {
                self.push(CheckError::MissingRole {
                    span: h.name.span,
                    header: hname.clone(),
                });
                continue;
            };
            if role == Role::OrgId && hname != terms::ORG_ID_HEADER {
                self.push(CheckError::OrgIdHeaderName {
                    span: h.name.span,
                    name: hname.clone(),
                });
            }
            if matches!(role, Role::Visibility | Role::WorkingOrg) && !duplicate {
                match roles.get(&role) {
                    Some((first, line)) => self.push(CheckError::DuplicateHeaderRole {
                        span: role_span,
                        header: hname.clone(),
                        role,
                        first: first.name.node.clone(),
                        first_line: *line,
                    }),
                    None => {
                        roles.insert(role, (h, role_span.line));
                    }
                }
                if let Some(&line) = org_id_headers.get(&key) {
                    self.push(CheckError::HeaderRoleConflict {
                        span: role_span,
                        header: hname.clone(),
                        role,
                        endpoint_line: line,
                    });
                }
            }

            // A header without `list`/`single` carries a single org.
            let is_list = cardinality.is_some_and(|(l, _)| l);
            if is_list && matches!(role, Role::WorkingOrg | Role::OrgId) {
                if let Some((_, span)) = cardinality {
                    self.push(CheckError::RoleRequiresSingle {
                        span,
                        header: hname.clone(),
                        role,
                    });
                }
                continue;
            }
            let (right, wrong, right_kw, wrong_kw, kind) = if is_list {
                (
                    subset,
                    member,
                    "subset_of user.orgs",
                    "member_of user.orgs",
                    "list",
                )
            } else {
                (
                    member,
                    subset,
                    "member_of user.orgs",
                    "subset_of user.orgs",
                    "single-value",
                )
            };
            if let Some(span) = wrong {
                self.push(CheckError::WrongAccessConstraint {
                    span,
                    header: hname.clone(),
                    constraint: wrong_kw,
                    kind,
                    expected: right_kw,
                });
            } else if right.is_none() {
                self.push(CheckError::MissingAccessConstraint {
                    span: h.name.span,
                    header: hname.clone(),
                    expected: right_kw,
                });
            }
        }
    }
}

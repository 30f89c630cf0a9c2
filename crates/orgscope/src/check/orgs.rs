//! The org directory: names and ids requests cannot send, duplicate names, id collisions,
//! unknown parents and hierarchy cycles.

use super::graph::find_cycles;
use super::{CheckError, Checker};
use crate::syntax::ast::*;
use rustc_hash::FxHashMap as HashMap;

impl Checker {
    pub(super) fn orgs_block(&mut self, o: &Orgs) {
        let mut seen = HashMap::default();
        for e in &o.entries {
            if let OrgsEntry::DescendantAccess(d) = e {
                self.once(&mut seen, "descendant_access", d.span, || {
                    "the `orgs` block".to_string()
                });
            }
        }
    }

    /// An org name or id a request could never send: empty, padded with whitespace (requests
    /// are trimmed), or with a comma while a list header splits at commas.
    fn org_name(&mut self, value: &str, span: Span, id_of: Option<&str>) {
        let what = |with_value: bool| match (id_of, with_value) {
            (None, false) => "org name".to_string(),
            (None, true) => format!("org name `{value}`"),
            (Some(org), false) => format!("id of org `{org}`"),
            (Some(org), true) => format!("id `{value}` of org `{org}`"),
        };
        if value.trim().is_empty() {
            self.push(CheckError::EmptyOrgName {
                span,
                what: what(false),
            });
        } else if value.trim() != value {
            self.push(CheckError::PaddedOrgName {
                span,
                what: what(true),
                value: value.to_string(),
            });
        } else if let (true, Some(header)) = (value.contains(','), &self.list_header) {
            let header = header.clone();
            self.push(CheckError::CommaInOrgName {
                span,
                what: what(true),
                header,
            });
        }
    }

    pub(super) fn orgs(&mut self, orgs: &[&OrgDecl]) {
        // Names first, so that ids and parents can refer to orgs declared later.
        let mut by_name: HashMap<&str, &OrgDecl> = HashMap::default();
        for org in orgs {
            self.org_name(&org.name.node, org.name.span, None);
            match by_name.get(org.name.node.as_str()) {
                Some(first) => self.push(CheckError::DuplicateOrg {
                    span: org.name.span,
                    name: org.name.node.clone(),
                    first_line: first.name.span.line,
                }),
                None => {
                    by_name.insert(&org.name.node, org);
                }
            }
        }

        let mut ids: HashMap<&str, &OrgDecl> = HashMap::default();
        let mut parents: HashMap<&str, &Name> = HashMap::default();
        for org in orgs {
            let mut seen = HashMap::default();
            for p in &org.props {
                let owner = || format!("org `{}`", org.name.node);
                match &p.node {
                    OrgProp::Id(id) => {
                        self.org_name(id, p.span, Some(&org.name.node));
                        self.once(&mut seen, "id", p.span, owner);
                        if let Some(other) = by_name.get(id.as_str()) {
                            if other.name.node != org.name.node {
                                self.push(CheckError::OrgIdCollision {
                                    span: p.span,
                                    id: id.clone(),
                                    org: org.name.node.clone(),
                                    what: "name",
                                    other: other.name.node.clone(),
                                    other_line: other.span.line,
                                });
                                continue;
                            }
                        }
                        match ids.get(id.as_str()) {
                            Some(other) if other.name.node != org.name.node => {
                                self.push(CheckError::OrgIdCollision {
                                    span: p.span,
                                    id: id.clone(),
                                    org: org.name.node.clone(),
                                    what: "id",
                                    other: other.name.node.clone(),
                                    other_line: other.span.line,
                                })
                            }
                            Some(_) => {}
                            None => {
                                ids.insert(id, org);
                            }
                        }
                    }
                    OrgProp::Parent(parent) => {
                        let again = seen.contains_key("parent");
                        self.once(&mut seen, "parent", p.span, owner);
                        if again {
                            continue;
                        }
                        if by_name.contains_key(parent.node.as_str()) {
                            parents.entry(&org.name.node).or_insert(parent);
                        } else {
                            let suggestion = self
                                .suggest(&parent.node, orgs.iter().map(|o| o.name.node.as_str()));
                            self.push(CheckError::UnknownOrg {
                                span: parent.span,
                                name: parent.node.clone(),
                                suggestion,
                            });
                        }
                    }
                }
            }
        }

        let order: Vec<&str> = orgs.iter().map(|o| o.name.node.as_str()).collect();
        for (cycle, span) in find_cycles(&order, |n| {
            parents.get(n).map(|p| (p.node.as_str(), p.span))
        }) {
            self.push(CheckError::OrgCycle { span, cycle });
        }
    }
}

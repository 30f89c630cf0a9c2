//! Services and endpoints: duplicate services and the organization-ID placement rules.

use super::routes::{Kind, Templates};
use super::{CheckError, Checker};
use crate::syntax::ast::*;
use crate::terms;
use rustc_hash::FxHashMap as HashMap;

fn methods_str(methods: &[Spanned<Method>]) -> String {
    methods
        .iter()
        .map(|m| m.node.as_str())
        .collect::<Vec<_>>()
        .join("|")
}

impl Checker {
    pub(super) fn services(&mut self, services: &[&Service]) {
        let mut names: HashMap<&str, u32> = HashMap::default();
        let n = services.iter().map(|s| s.endpoints.len()).sum();
        let mut endpoints = Templates::new(Kind::Endpoint, n);
        for s in services {
            match names.get(s.name.node.as_str()) {
                Some(&first_line) => self.push(CheckError::DuplicateService {
                    span: s.name.span,
                    name: s.name.node.clone(),
                    first_line,
                }),
                None => {
                    names.insert(&s.name.node, s.name.span.line);
                }
            }
            for e in &s.endpoints {
                self.endpoint(s, e);
                self.clash(&mut endpoints, &e.methods, &e.path, e.span.line);
            }
        }
    }

    /// The organization-ID placement rules (SPEC §1.2) for one endpoint.
    pub(super) fn endpoint(&mut self, s: &Service, e: &Endpoint) {
        self.methods(&e.methods);
        self.template(&e.path);
        let endpoint = format!("{} {}", methods_str(&e.methods), e.path);
        let owner = || format!("endpoint `{endpoint}`");
        let mut seen = HashMap::default();
        let mut scoped = true;
        let mut justification: Option<(&str, Span)> = None;
        let mut locations: Vec<(&Spanned<Location>, &Name, Span)> = Vec::new();
        for p in &e.props {
            match &p.node {
                EndpointProp::Unscoped => {
                    self.once(&mut seen, "unscoped", p.span, owner);
                    scoped = false;
                }
                EndpointProp::Justification(j) => {
                    self.once(&mut seen, "justification", p.span, owner);
                    justification.get_or_insert((j, p.span));
                }
                EndpointProp::OrgId { location, name } => locations.push((location, name, p.span)),
            }
        }

        if scoped {
            match locations.first() {
                None => self.push(CheckError::OrgIdMissingLocation {
                    span: e.path.span,
                    endpoint: endpoint.clone(),
                }),
                Some((_, _, first)) => {
                    for (_, _, span) in locations.iter().skip(1) {
                        self.push(CheckError::OrgIdMultipleLocations {
                            span: *span,
                            endpoint: endpoint.clone(),
                            first_line: first.line,
                        });
                    }
                }
            }
        }

        for (location, name, _) in locations {
            self.deprecated(&name.node, name.span);
            match location.node {
                Location::Header => {
                    if !scoped {
                        self.push(CheckError::OrgIdHeaderUnscoped {
                            span: location.span,
                            endpoint: endpoint.clone(),
                        });
                    } else if !s.legacy {
                        self.push(CheckError::OrgIdHeaderInNewService {
                            span: location.span,
                            service: s.name.node.clone(),
                        });
                    } else if name.node != terms::ORG_ID_HEADER {
                        self.push(CheckError::OrgIdHeaderName {
                            span: name.span,
                            name: name.node.clone(),
                        });
                    }
                }
                loc => {
                    let bad_name = if scoped {
                        name.node != terms::ORG_ID
                    } else {
                        !terms::is_org_id_name(&name.node)
                    };
                    if bad_name {
                        self.push(CheckError::OrgIdName {
                            span: name.span,
                            name: name.node.clone(),
                            location: loc,
                            expected: if scoped || !name.node.ends_with('s') {
                                terms::ORG_ID
                            } else {
                                terms::ORG_IDS
                            },
                        });
                    }
                    if loc == Location::Path
                        && !e
                            .path
                            .segments
                            .iter()
                            .any(|s| matches!(s, Segment::Param(p) if *p == name.node))
                    {
                        self.push(CheckError::OrgIdPathParamMissing {
                            span: name.span,
                            name: name.node.clone(),
                            path: e.path.to_string(),
                        });
                    }
                    if scoped && matches!(loc, Location::Query | Location::Body) {
                        match justification {
                            None => self.push(CheckError::OrgIdJustificationRequired {
                                span: location.span,
                                location: loc,
                                blank: false,
                            }),
                            Some((j, span)) if j.trim().is_empty() => {
                                self.push(CheckError::OrgIdJustificationRequired {
                                    span,
                                    location: loc,
                                    blank: true,
                                })
                            }
                            Some(_) => {}
                        }
                    }
                }
            }
        }
    }
}

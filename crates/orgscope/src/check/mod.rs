//! Stage 3 — check: every semantic rule over a parsed policy, all problems in one run.
//!
//! The checker never stops at the first problem: it walks the whole policy once per concern
//! (singletons, orgs, headers, object types, routes, services) and returns everything it found,
//! unsorted (`check_source` sorts by position). Every diagnostic points at the most specific span
//! it can — a path segment, a field key, the second of two duplicates — and a duplicate's help
//! names the line of the first occurrence. The codes are public API: see `docs/diagnostics.md`.
//!
//! Errors are broken *musts*: the policy cannot be compiled or would be ambiguous. Warnings
//! (`deprecated_term`, `unreachable_fallback`, `working_org_without_header`, `empty_policy`) are
//! *shoulds*; `orgscope check` fails on them only with `--deny-warnings`.

#[macro_use]
mod catalogue;
mod errors;
mod graph;
mod headers;
pub mod limits;
mod objects;
mod orgs;
mod paths;
mod routes;
mod services;
pub(crate) mod suggest;

pub use errors::CheckError;
#[cfg(feature = "unstable-syntax")]
pub use limits::LimitError;

use crate::syntax::ast::*;
use crate::terms;
use crate::Limits;
use paths::Budget;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// Every code the checker reports, the limit checks' included: the catalogue docs and fixtures
/// are tested against this list.
#[cfg(feature = "unstable-syntax")]
pub fn codes() -> impl Iterator<Item = &'static str> {
    CheckError::CODES.iter().chain(LimitError::CODES).copied()
}

/// Checks a parsed policy, returning every problem found (unsorted), spending at most
/// `limits.max_overlap_steps` on the overlap search.
pub fn check_with(policy: &Policy, limits: &Limits) -> Vec<CheckError> {
    let mut c = Checker {
        errors: Vec::new(),
        suggestion_budget: suggest::SUGGESTION_BUDGET,
        overlap_budget: Budget::new(limits.max_overlap_steps),
        list_header: None,
        // A header that did not parse may have been the working-org header.
        working_org_header: policy.broken.iter().any(|b| b.keyword == "header"),
        broken_types: policy
            .broken
            .iter()
            .filter(|b| b.keyword == "object")
            .filter_map(|b| b.name.clone())
            .collect(),
    };
    c.run(policy);
    c.errors
}

struct Checker {
    errors: Vec<CheckError>,
    suggestion_budget: usize,
    /// Shared by routes and endpoints.
    overlap_budget: Budget,
    /// The first `list` header, which splits its value at commas.
    list_header: Option<String>,
    /// Whether a header has role `working_org`, the only source of a working org.
    working_org_header: bool,
    /// Object types whose declaration has a syntax error: declared, as far as references go.
    broken_types: HashSet<String>,
}

/// The items of one kind, in order.
fn items<'p, T>(policy: &'p Policy, pick: impl Fn(&'p Item) -> Option<&'p T>) -> Vec<&'p T> {
    policy.items.iter().filter_map(pick).collect()
}

/// A span inside a single-line ASCII construct (path template, field), `from..to` bytes into it.
fn sub_span(span: Span, from: usize, to: usize) -> Span {
    let col = u32::try_from(from)
        .ok()
        .and_then(|f| span.col.checked_add(f))
        .unwrap_or(span.col);
    Span {
        start: span.start.saturating_add(from),
        end: span.start.saturating_add(to),
        line: span.line,
        col,
    }
}

impl Checker {
    fn push(&mut self, e: CheckError) {
        self.errors.push(e);
    }

    fn deprecated(&mut self, term: &str, span: Span) {
        if terms::is_deprecated(term) {
            self.push(CheckError::DeprecatedTerm {
                span,
                term: term.to_string(),
            });
        }
    }

    fn run(&mut self, policy: &Policy) {
        if policy.items.is_empty() && policy.broken.is_empty() {
            self.push(CheckError::EmptyPolicy {
                span: Span {
                    start: 0,
                    end: 0,
                    line: 1,
                    col: 1,
                },
            });
            return;
        }
        for item in &policy.items {
            if let Item::Header(h) = item {
                if h.props.iter().any(|p| p.node == HeaderProp::List) {
                    self.list_header.get_or_insert_with(|| h.name.node.clone());
                }
                let role = HeaderProp::Role(Role::WorkingOrg);
                self.working_org_header |= h.props.iter().any(|p| p.node == role);
            }
        }
        self.singletons(policy);

        let orgs: Vec<&OrgDecl> = policy
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Orgs(o) => Some(o),
                _ => None,
            })
            .flat_map(|o| {
                o.entries.iter().filter_map(|e| match e {
                    OrgsEntry::Org(d) => Some(d),
                    OrgsEntry::DescendantAccess(_) => None,
                })
            })
            .collect();
        self.orgs(&orgs);

        let headers = items(policy, |i| match i {
            Item::Header(h) => Some(h),
            _ => None,
        });
        let services = items(policy, |i| match i {
            Item::Service(s) => Some(s),
            _ => None,
        });
        self.headers(&headers, &services);

        let objects = items(policy, |i| match i {
            Item::Object(o) => Some(o),
            _ => None,
        });
        let types = self.objects(&objects);

        self.routes(policy, &types);
        self.services(&services);
    }

    /// Blocks and statements that may appear once: `multi_org`, `orgs`, `fallback`, `default`.
    fn singletons(&mut self, policy: &Policy) {
        let mut firsts: HashMap<&'static str, u32> = HashMap::default();
        for item in &policy.items {
            let (what, keyword) = match item {
                Item::MultiOrg(m) => {
                    self.multi_org(m);
                    ("the `multi_org` block", "multi_org")
                }
                Item::Orgs(o) => {
                    self.orgs_block(o);
                    ("the `orgs` block", "orgs")
                }
                Item::Fallback(f) => {
                    self.fallbacks(&f.sources);
                    ("the policy-wide `fallback`", "fallback")
                }
                Item::DefaultRoute(_) => ("the `default` route", "default"),
                _ => continue,
            };
            let span = sub_span(item.span(), 0, keyword.len());
            match firsts.get(what) {
                Some(&first_line) => self.push(CheckError::DuplicateItem {
                    span,
                    what,
                    first_line,
                }),
                None => {
                    firsts.insert(what, span.line);
                }
            }
        }
    }

    fn multi_org(&mut self, m: &MultiOrg) {
        let mut seen = HashMap::default();
        for p in &m.props {
            let kw = match p.node {
                MultiOrgProp::Default(_) => "default",
                MultiOrgProp::WhenDisabled(_) => "when_disabled",
                MultiOrgProp::LookalikeHeaders(_) => "lookalike_headers",
            };
            self.once(&mut seen, kw, p.span, || {
                "the `multi_org` block".to_string()
            });
        }
    }

    /// Records property `kw` at `span`, reporting it when `seen` already has it.
    fn once(
        &mut self,
        seen: &mut HashMap<&'static str, Span>,
        kw: &'static str,
        span: Span,
        owner: impl FnOnce() -> String,
    ) {
        match seen.get(kw) {
            Some(&first) => self.push(CheckError::DuplicateProperty {
                span,
                prop: kw,
                owner: owner(),
                first,
            }),
            None => {
                seen.insert(kw, span);
            }
        }
    }
}

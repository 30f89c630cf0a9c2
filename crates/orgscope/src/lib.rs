//! orgscope: a policy engine for multi-org data visibility in HTTP APIs.
//!
//! A policy file, in orgscope's own language, says how a request's org context is found and
//! checked, which orgs a query may see, and which org a new object gets. [`Policy`] parses,
//! checks and compiles it once; [`Policy::evaluate`] then turns request descriptions into
//! [`Decision`]s, from any number of threads (`Policy` is `Send + Sync`).
//!
//! ```
//! use orgscope::{Policy, Request};
//!
//! let policy = Policy::from_file("policies/zuora-multi-org.policy")?;
//! let request = Request::from_json(r#"{
//!     "method": "POST", "path": "/query/jobs",
//!     "headers": {"Zuora-Org-Ids": "Asia, China"},
//!     "user": {"orgs": ["Asia", "China", "Japan"]}
//! }"#)?;
//! let decision = policy.evaluate(&request);
//! assert!(decision.is_allow());
//! assert_eq!(decision.visible_org_names(), Some(vec!["Asia", "China"]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The pipeline, one folder per stage: `syntax` (grammar, AST, parser) → `check` → `compile` →
//! `eval` → `decision`, with [`diag`] rendering diagnostics, [`format`](mod@format) laying policies out and
//! [`testing`] running policy test files (docs/architecture.md). The stable API is what this page
//! lists; the syntax tree, the parser and the checker are public only with the `unstable-syntax`
//! feature, for tools built on them (the `orgscope` command line), and may change in any release.
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

#[cfg(feature = "unstable-syntax")]
pub mod check;
#[cfg(not(feature = "unstable-syntax"))]
mod check;
mod compile;
mod decision;
pub mod diag;
mod eval;
pub mod format;
mod json;
mod limits;
mod policy;
mod request;
mod syntax;
#[cfg(feature = "unstable-syntax")]
pub mod terms;
#[cfg(not(feature = "unstable-syntax"))]
mod terms;
pub mod testing;

pub use limits::Limits;
pub use policy::{EvalOptions, Policy, PolicyError, Principal};
pub use request::batch;
pub use syntax::ast::{Action, Span};

#[cfg(feature = "unstable-syntax")]
pub use policy::{check_file_with, check_reader_with, check_source, check_source_with, Checked};
#[cfg(feature = "unstable-syntax")]
pub use syntax::{ast, is_reserved, parse};

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use decision::{
    Decision, DecisionError, Effect, ErrorCode, Label, LabelSource, Labels, TraceStep, VisibleOrgs,
    VisibleOrgsIter, Warning,
};
pub use eval::{EntityLookup, Found};
// `EvalOptions::new()` is "no store"; the named empty store serves the CLI.
#[cfg(feature = "unstable-syntax")]
pub use eval::NoEntities;
pub use request::entities::{EntitiesError, EntityStore};
pub use request::{Entity, Request, Tenant, Text, User, Values};

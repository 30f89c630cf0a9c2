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
//! The pipeline, one module per stage: `grammar` → [`parse`] → [`ast`] → [`check`] →
//! `compile` → `eval`, with [`diag`] rendering diagnostics.
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

pub mod check;
mod compile;
mod decision;
pub mod diag;
mod eval;
pub mod format;
pub mod limits;
mod policy;
mod request;
pub mod syntax;
mod terms;
pub mod testing;

pub use policy::{
    check_file_with, check_source, check_source_with, Checked, EvalOptions, Policy, PolicyError,
};
pub use request::batch;
pub use syntax::{ast, parse};

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use decision::{
    Decision, DecisionError, Effect, ErrorCode, Label, LabelSource, TraceStep, Warning,
};
pub use eval::{EntityLookup, Found, NoEntities};
pub use limits::Limits;
pub use request::entities::{EntitiesError, EntityStore};
pub use request::{Entity, Request, Tenant, User, Values};

//! orgscope: a policy engine for multi-org data visibility in HTTP APIs.
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

pub mod ast;
pub mod check;
pub mod diag;
mod grammar;
pub mod parse;
mod terms;

use diag::{Diagnose, Diagnostic, Source};

/// The result of parsing and checking one policy file.
#[derive(Debug, Clone)]
pub struct Checked {
    /// What parsed (items with syntax errors are missing).
    pub policy: ast::Policy,
    /// Every problem, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses and checks a policy source, collecting every diagnostic.
pub fn check_source(src: &Source) -> Checked {
    let (policy, parse_errors) = parse::parse(src);
    let mut diagnostics: Vec<Diagnostic> =
        parse_errors.iter().map(Diagnose::to_diagnostic).collect();
    diagnostics.extend(check::check(&policy).iter().map(Diagnose::to_diagnostic));
    diag::sort(&mut diagnostics);
    Checked {
        policy,
        diagnostics,
    }
}

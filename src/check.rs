//! Stage 3 — check: every semantic rule over a parsed policy, all problems in one run.

use crate::ast::{Policy, Span};
use crate::diag::{Diagnose, Severity};

/// A semantic problem in a policy (errors and warnings alike).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// Placeholder until the checker lands.
    #[error("duplicate declaration of `{name}`")]
    Duplicate {
        /// The second declaration.
        span: Span,
        /// What was declared twice.
        name: String,
    },
}

impl Diagnose for CheckError {
    fn code(&self) -> &'static str {
        match self {
            CheckError::Duplicate { .. } => "duplicate",
        }
    }
    fn span(&self) -> Span {
        match self {
            CheckError::Duplicate { span, .. } => *span,
        }
    }
    fn severity(&self) -> Severity {
        Severity::Error
    }
}

/// Checks a parsed policy, returning every problem found (unsorted).
pub fn check(_policy: &Policy) -> Vec<CheckError> {
    Vec::new()
}

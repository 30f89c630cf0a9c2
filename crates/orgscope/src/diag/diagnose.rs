//! The trait every stage's error implements to become a [`Diagnostic`].

use super::{Diagnostic, Severity};
use crate::syntax::ast::Span;

/// A stage error that can be shown to a policy author.
pub trait Diagnose: std::fmt::Display {
    /// The stable code, e.g. `inheritance_cycle`.
    fn code(&self) -> &'static str;
    /// Where the problem is.
    fn span(&self) -> Span;
    /// How to fix it, when there is something useful to say.
    fn help(&self) -> Option<String> {
        None
    }
    /// Error unless said otherwise.
    fn severity(&self) -> Severity {
        Severity::Error
    }
    /// The uniform form used for rendering.
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic {
            severity: self.severity(),
            code: self.code(),
            message: self.to_string(),
            span: self.span(),
            help: self.help(),
        }
    }
}

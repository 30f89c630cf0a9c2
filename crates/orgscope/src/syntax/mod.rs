//! Stage 1 — syntax: the pest grammar, the spanned AST, and the parser that recovers after errors.

pub mod ast;
pub(crate) mod grammar;
mod hint;
pub mod parse;
mod unclosed;

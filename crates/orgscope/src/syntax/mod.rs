//! Stage 1 — syntax: the pest grammar, the spanned AST, its parser that recovers after errors, and a fast path for well-formed files.

pub mod ast;
mod fast;
pub(crate) mod grammar;
mod hint;
pub mod parse;
mod unclosed;

/// The grammar's reserved words, never a bare identifier: the top-level keywords (where the parser
/// resumes after an error) and the two that open a nested declaration.
pub fn is_reserved(word: &str) -> bool {
    parse::ITEM_KEYWORDS.contains(&word) || matches!(word, "org" | "endpoint")
}

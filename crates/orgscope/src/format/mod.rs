//! Formatter — AST + comments → canonical policy text, verified by re-parsing.
//!
//! [`format()`] parses a policy (a file with syntax errors is refused: the errors come back as
//! [`FmtError::Syntax`]), prints its AST in one canonical layout with every comment kept where
//! the author put it, then re-parses its own output. If the output does not parse, parses to a
//! different AST (spans ignored), or does not carry exactly the same comments in the same order,
//! the result is [`FmtError::Internal`] and the caller keeps the input as it was. Formatting is
//! idempotent: formatting formatted text changes nothing.
//!
//! # The canonical layout
//!
//! - **Indentation** is two spaces per block level; lines have no trailing whitespace; lines end
//!   with `\n` (CRLF input becomes LF); a non-empty file ends with exactly one newline, and a file
//!   with nothing in it (or only whitespace) formats to the empty file.
//! - **Blocks** open with `{` at the end of the declaration line and close with `}` on a line of
//!   its own, one property (or org, or endpoint) per line. A block that must have braces but has
//!   nothing in it prints as `multi_org {}`, `header X {}`, `service s {}`. The braces of an
//!   `object` or `endpoint` are optional in the language: they are left out when there is nothing
//!   inside (`object product`, `endpoint GET /v1/healthz`), and kept, on their own lines, when the
//!   only things inside are comments.
//! - **Tokens**: one space between tokens; `->` with one space on each side; methods joined by
//!   `|` without spaces (`GET|POST`); lists as `a, b, c`. Org and header names are bare when the
//!   grammar accepts them bare (org names: an identifier that is not a reserved word; header
//!   names: a letter followed by letters, digits, `-` and `_`), quoted otherwise. Strings are
//!   re-escaped: `\"`, `\\`, `\n` and `\t`, every other character as itself. Properties, orgs,
//!   endpoints, list elements and items keep their source order: order can carry meaning
//!   (fallbacks, `inherit` rules, aliases) and the formatter never reorders.
//! - **Routes**: in a run of consecutive `route` lines (no blank line between them; comment
//!   lines do not break the run) the methods are padded to the widest method list and the paths
//!   to the widest path, so the paths and the `->` arrows line up. Method lists over 40
//!   characters and paths over 80 are left out of the alignment (printed with one space after
//!   them, and not widening the others), so that formatting cannot multiply a file's size.
//! - **Blank lines between top-level items**: exactly one between items of different kinds and
//!   around every item that has a block. Consecutive one-line items of the same kind (`route`s,
//!   `default`s, `fallback`s, `object`s without a block) stay together, or stay split into the
//!   groups the author made: any run of blank lines becomes one blank line.
//! - **Blank lines inside blocks**: one around every member that has a block of its own (an
//!   endpoint with properties); between one-line members the author's grouping is kept, again
//!   with runs of blank lines collapsed to one. Never a blank line right after `{` or before `}`.
//!
//! # Comments
//!
//! A comment runs from `#` to the end of the line (a `#` inside a quoted string is not one). Its
//! text is kept as written, minus trailing whitespace. Each comment is attached to the nearest
//! node (a top-level item, or a member of a block):
//!
//! - a comment on the same line after a node is a **trailing** comment and stays at the end of
//!   that node's (last) line, after two spaces; one right after a block's `{` stays after the `{`;
//! - a comment on a line of its own is a **leading** comment of the node that follows it in the
//!   same block (or at the top level), printed on its own line with that node's indentation;
//!   blank lines between leading comments, and between them and their node, are kept (collapsed
//!   to one);
//! - a comment with no node after it in its block stays before the block's `}`, indented as a
//!   member; one with no item after it stays at the end of the file;
//! - a comment *inside* a one-line construct (say between `route` and its methods, or in the
//!   middle of an `inherit` rule written over two lines) cannot stay there in a one-line layout:
//!   it moves to its own line just before that construct.

mod comments;
mod layout;
mod tokens;

use crate::diag::Source;
use crate::syntax::ast::*;
use crate::syntax::parse::{self, ParseError};
use comments::{lex_comments, Comment};

/// Why a policy could not be formatted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FmtError {
    /// The policy does not parse; nothing is formatted. Render these like `orgscope check` does.
    #[error("the policy has {} syntax error(s); it was not formatted", .0.len())]
    Syntax(Vec<ParseError>),
    /// The formatter's own output failed its self-check (it did not parse, meant something
    /// else, or lost or moved a comment). A bug in the formatter: the input must be kept as it is.
    #[error("internal formatter error: {0}; the policy was left as it is")]
    Internal(String),
}

/// Formats a policy in the canonical layout (see the module documentation), keeping every
/// comment, and checks the result by re-parsing it before returning it.
pub fn format(src: &Source) -> Result<String, FmtError> {
    let (policy, errors) = parse::parse(src);
    if !errors.is_empty() {
        return Err(FmtError::Syntax(errors));
    }
    let text = src.text();
    let comments = lex_comments(text);
    let out = layout::print(text, &policy, &comments);
    verify(src, &policy, &comments, &out)?;
    Ok(out)
}

/// The self-check: `out` must parse, to the same AST, with the same comments in the same order.
fn verify(src: &Source, policy: &Policy, comments: &[Comment], out: &str) -> Result<(), FmtError> {
    let out_src = Source::new(src.name(), out);
    let (again, errors) = parse::parse(&out_src);
    if let Some(e) = errors.first() {
        use crate::diag::Diagnose as _;
        return Err(FmtError::Internal(format!(
            "the formatted text does not parse ({e} at {})",
            e.span()
        )));
    }
    if again != *policy {
        let at = policy
            .items
            .iter()
            .zip(&again.items)
            .position(|(a, b)| a != b)
            .map_or_else(String::new, |i| format!(" (item {} differs)", i + 1));
        return Err(FmtError::Internal(format!(
            "the formatted text means something else than the original{at}"
        )));
    }
    let after = lex_comments(out);
    let same =
        after.len() == comments.len() && after.iter().zip(comments).all(|(a, b)| a.text == b.text);
    if !same {
        return Err(FmtError::Internal(format!(
            "the formatted text does not keep the comments ({} before, {} after)",
            comments.len(),
            after.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> String {
        match format(&Source::new("t.policy", text)) {
            Ok(s) => s,
            Err(e) => panic!("{e}: {e:?}"),
        }
    }

    #[test]
    fn lexer_skips_strings() {
        let c = lex_comments("org \"a#b\" id \"x\\\"#\" # real \r\n# two");
        let texts: Vec<&str> = c.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, ["# real", "# two"]);
    }

    #[test]
    fn trailing_and_leading_comments() {
        let out = fmt("# lead\nroute GET /a -> query # trail\n#eof\n");
        assert_eq!(out, "# lead\nroute GET /a -> query  # trail\n#eof\n");
    }

    #[test]
    fn empty_blocks() {
        assert_eq!(fmt("object a {}"), "object a\n");
        assert_eq!(fmt("multi_org {   }"), "multi_org {}\n");
        assert_eq!(fmt("object a { # c\n}"), "object a {  # c\n}\n");
        assert_eq!(fmt("object a {\n # c\n}"), "object a {\n  # c\n}\n");
        assert_eq!(fmt(""), "");
        assert_eq!(fmt("  \n\n"), "");
    }

    #[test]
    fn interior_comments_move_before_their_line() {
        let out = fmt("object a {\n  inherit b # why\n    via body.b\n}\n");
        assert_eq!(out, "object a {\n  # why\n  inherit b via body.b\n}\n");
    }

    #[test]
    fn routes_align_within_a_run() {
        let out = fmt("route GET /a -> query\nroute DELETE /abc/{x} -> delete t id path.x\n\nroute POST /b -> query\n");
        assert_eq!(
            out,
            "route GET    /a       -> query\nroute DELETE /abc/{x} -> delete t id path.x\n\nroute POST /b -> query\n"
        );
    }

    #[test]
    fn names_are_quoted_only_when_needed() {
        let out = fmt("orgs { org \"Asia\" org \"North America\" org \"default\" parent \"Asia\" }\nheader \"X-A\" {}\nheader \"X A\" {}");
        assert_eq!(
            out,
            "orgs {\n  org Asia\n  org \"North America\"\n  org \"default\" parent Asia\n}\n\nheader X-A {}\n\nheader \"X A\" {}\n"
        );
    }

    #[test]
    fn the_self_check_catches_bad_output() {
        let src = Source::new("t.policy", "object a # c\nobject b\n");
        let (policy, _) = parse::parse(&src);
        let comments = lex_comments(src.text());
        assert_eq!(
            verify(&src, &policy, &comments, "object a # c\nobject b\n"),
            Ok(())
        );
        for bad in [
            "object a\nobject b\n",       // a comment lost
            "object a # d\nobject b\n",   // a comment changed
            "object a # c\nobject c\n",   // another meaning
            "object a # c\n",             // an item lost
            "object a # c\nobject b {\n", // does not parse
        ] {
            assert!(
                matches!(
                    verify(&src, &policy, &comments, bad),
                    Err(FmtError::Internal(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn syntax_errors_are_returned() {
        let e = format(&Source::new("t", "object {"));
        assert!(matches!(e, Err(FmtError::Syntax(errors)) if !errors.is_empty()));
    }
}

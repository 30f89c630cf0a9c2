//! Recovery from a block left open: "unclosed `{`", and the rest of the file still checked.

use super::grammar::{PolicyParser, Rule};
use super::parse::{
    collect_items, comment_start, error_offset, syntax_error, ParseError, ITEM_KEYWORDS,
};
use crate::diag::Source;
use crate::syntax::ast::Item;
use pest::Parser as _;

/// Recovery from a block left open: when the parse of the item at `pos` fails at a line that
/// starts (after indentation) with a top-level keyword where a `}` would do, reports
/// "unclosed `{`", keeps the item as if closed before that line, and returns where to go on (the
/// keyword), so an indented rest of the file is still checked. `None` for any other error.
pub(super) fn close_unclosed(
    src: &Source,
    pos: usize,
    at: usize,
    e: &pest::error::Error<Rule>,
    items: &mut Vec<Item>,
    errors: &mut Vec<ParseError>,
) -> Option<usize> {
    let text = src.text();
    let pest::error::ErrorVariant::ParsingError { positives, .. } = &e.variant else {
        return None;
    };
    let line_start = text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
    let rest = text.get(at..)?;
    let at_keyword = ITEM_KEYWORDS.iter().any(|kw| {
        rest.strip_prefix(kw).is_some_and(|after| {
            !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        })
    });
    let indented = text.get(line_start..at)?.trim().is_empty();
    if !positives.contains(&Rule::rbrace) || !at_keyword || !indented || line_start <= pos {
        return None;
    }
    let body = text.get(pos..line_start)?;
    let open = open_braces(body);
    let first = *open.first()?;
    errors.push(ParseError::Unclosed {
        span: src.span(
            at,
            at + rest
                .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .unwrap_or(rest.len()),
        ),
        opened: src.span(pos + first, pos + first + 1).line,
    });
    let closed = format!("{body}{}", "}".repeat(open.len()));
    match PolicyParser::parse(Rule::policy, &closed) {
        Ok(pairs) => collect_items(src, pos, line_start, pairs, items, errors),
        Err(e) => errors.push(syntax_error(src, pos + error_offset(&e), &e)),
    }
    Some(at)
}

/// Offsets of the `{` in `text` that are still open at its end, outermost first (strings and
/// comments skipped; the grammar has no `{` elsewhere but in path parameters, which close on
/// the same token).
fn open_braces(text: &str) -> Vec<usize> {
    let mut open = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let code = comment_start(line).map_or(line, |i| line.get(..i).unwrap_or(""));
        let mut in_string = false;
        let mut escaped = false;
        for (i, c) in code.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if in_string => escaped = true,
                '"' => in_string = !in_string,
                '{' if !in_string => open.push(start + i),
                '}' if !in_string => {
                    open.pop();
                }
                _ => {}
            }
        }
        start += line.len();
    }
    open
}

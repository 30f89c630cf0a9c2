//! Comments: lexing them, layout questions about the source, and attaching each to a node.

use super::layout::{Lead, Node};

/// The grammar's whitespace.
pub(super) const WS: [char; 4] = [' ', '\t', '\r', '\n'];

/// One `#` comment of the source.
#[derive(Debug, Clone)]
pub(super) struct Comment {
    /// Offset of the `#`.
    pub(super) start: usize,
    /// Offset just past the comment's text without trailing whitespace.
    pub(super) end: usize,
    /// `#` and the rest of the line, without trailing whitespace.
    pub(super) text: String,
}

/// Every comment of `text`, in order. Quoted strings are skipped: a `#` inside one is text.
/// (Nothing else in the language can hold a `#` or a `"`.)
pub(super) fn lex_comments(text: &str) -> Vec<Comment> {
    let bytes = text.as_bytes();
    let mut comments = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    match c {
                        b'\\' => i += 2,
                        b'"' => {
                            i += 1;
                            break;
                        }
                        // An unclosed string (only in text that does not parse): stop at the line end.
                        b'\n' => break,
                        _ => i += 1,
                    }
                }
            }
            b'#' => {
                let line_end = text
                    .get(i..)
                    .and_then(|rest| rest.find('\n'))
                    .map_or(text.len(), |n| i + n);
                let body = text
                    .get(i..line_end)
                    .unwrap_or("")
                    .trim_end_matches([' ', '\t', '\r']);
                comments.push(Comment {
                    start: i,
                    end: i + body.len(),
                    text: body.to_string(),
                });
                i = line_end;
            }
            _ => i += 1,
        }
    }
    comments
}

/// The source text and its comments, for questions about layout.
pub(super) struct Ctx<'a> {
    pub(super) text: &'a str,
    pub(super) comments: &'a [Comment],
}

impl Ctx<'_> {
    /// Moves `end` back over whitespace and comments: AST spans may run on over the trivia after
    /// their last token.
    pub(super) fn trim_end(&self, mut end: usize) -> usize {
        loop {
            end = self
                .text
                .get(..end)
                .unwrap_or("")
                .trim_end_matches(WS)
                .len();
            match self.comments.binary_search_by_key(&end, |c| c.end) {
                Ok(i) => match self.comments.get(i) {
                    Some(c) if c.start < end => end = c.start,
                    _ => return end,
                },
                Err(_) => return end,
            }
        }
    }

    /// The offset of the `{` that is the first token at or after `from`, if it is one.
    pub(super) fn find_open(&self, from: usize) -> Option<usize> {
        let mut at = from;
        loop {
            let rest = self.text.get(at..)?;
            let skipped = rest.len() - rest.trim_start_matches(WS).len();
            at += skipped;
            if let Ok(i) = self.comments.binary_search_by_key(&at, |c| c.start) {
                at = self.comments.get(i)?.end;
                continue;
            }
            return self.text.get(at..)?.starts_with('{').then_some(at);
        }
    }

    /// Whether a blank line separates `pos` from whatever comes before it.
    pub(super) fn blank_before(&self, pos: usize) -> bool {
        let before = self.text.get(..pos).unwrap_or("");
        let gap = before
            .get(before.trim_end_matches(WS).len()..)
            .unwrap_or("");
        gap.matches('\n').count() >= 2
    }

    /// Whether `a..b` has no line break.
    pub(super) fn same_line(&self, a: usize, b: usize) -> bool {
        self.text.get(a..b).is_some_and(|s| !s.contains('\n'))
    }
}

/// Attaches comment `c` among the sibling `nodes` of one block (or of the top level): to a node
/// it is inside of, as the trailing comment of the node before it on its line, as the trailing
/// comment of the block's `{`, as a leading comment of the next node, or as a dangling comment.
pub(super) fn attach(
    ctx: &Ctx<'_>,
    nodes: &mut [Node],
    open: Option<usize>,
    open_trailing: &mut Option<String>,
    dangling: &mut Vec<Lead>,
    c: &Comment,
) {
    let next = nodes.partition_point(|n| n.start <= c.start);
    let prev = next.checked_sub(1);
    if let Some(p) = prev.and_then(|i| nodes.get_mut(i)) {
        if c.start < p.end {
            attach_inside(ctx, p, c);
            return;
        }
        if p.trailing.is_none() && ctx.same_line(p.end, c.start) {
            p.trailing = Some(c.text.clone());
            return;
        }
    } else if let Some(o) = open {
        if open_trailing.is_none() && ctx.same_line(o + 1, c.start) {
            *open_trailing = Some(c.text.clone());
            return;
        }
    }
    let lead = Lead {
        text: c.text.clone(),
        blank_before: ctx.blank_before(c.start),
    };
    match nodes.get_mut(next) {
        Some(n) => n.leading.push(lead),
        None => dangling.push(lead),
    }
}

/// Attaches a comment that lies inside `node`: into its block, or before the node.
pub(super) fn attach_inside(ctx: &Ctx<'_>, node: &mut Node, c: &Comment) {
    if let Some(b) = node.block.as_mut() {
        if let Some(o) = b.open.filter(|&o| o < c.start && c.start < b.close) {
            attach(
                ctx,
                &mut b.children,
                Some(o),
                &mut b.open_trailing,
                &mut b.dangling,
                c,
            );
            return;
        }
    }
    node.hoisted.push(c.text.clone());
}

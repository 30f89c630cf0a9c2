//! Formatter — AST + comments → canonical policy text, verified by re-parsing.
//!
//! [`format`] parses a policy (a file with syntax errors is refused: the errors come back as
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

use crate::diag::Source;
use crate::syntax::ast::*;
use crate::syntax::parse::{self, ParseError};

/// Why a policy could not be formatted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
    let out = print(text, &policy, &comments);
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

// ------------------------------------------------------------------------------------ comments

/// The grammar's whitespace.
const WS: [char; 4] = [' ', '\t', '\r', '\n'];

/// One `#` comment of the source.
#[derive(Debug, Clone)]
struct Comment {
    /// Offset of the `#`.
    start: usize,
    /// Offset just past the comment's text without trailing whitespace.
    end: usize,
    /// `#` and the rest of the line, without trailing whitespace.
    text: String,
}

/// Every comment of `text`, in order. Quoted strings are skipped: a `#` inside one is text.
/// (Nothing else in the language can hold a `#` or a `"`.)
fn lex_comments(text: &str) -> Vec<Comment> {
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
struct Ctx<'a> {
    text: &'a str,
    comments: &'a [Comment],
}

impl Ctx<'_> {
    /// Moves `end` back over whitespace and comments: AST spans may run on over the trivia after
    /// their last token.
    fn trim_end(&self, mut end: usize) -> usize {
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
    fn find_open(&self, from: usize) -> Option<usize> {
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
    fn blank_before(&self, pos: usize) -> bool {
        let before = self.text.get(..pos).unwrap_or("");
        let gap = before
            .get(before.trim_end_matches(WS).len()..)
            .unwrap_or("");
        gap.matches('\n').count() >= 2
    }

    /// Whether `a..b` has no line break.
    fn same_line(&self, a: usize, b: usize) -> bool {
        self.text.get(a..b).is_some_and(|s| !s.contains('\n'))
    }
}

// ------------------------------------------------------------------------------------ layout tree

/// What a node is, for blank-line rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    MultiOrg,
    Orgs,
    Header,
    Object,
    Fallback,
    Route,
    DefaultRoute,
    Service,
    /// A member of a block.
    Member,
}

/// The first line of a node, without its `{`.
#[derive(Debug)]
enum Head {
    Text(String),
    /// A route, printed in columns so that a run of routes lines up.
    Route {
        methods: String,
        path: String,
        target: String,
    },
}

/// A comment on a line of its own.
#[derive(Debug)]
struct Lead {
    text: String,
    /// Whether the author left a blank line before it.
    blank_before: bool,
}

/// A top-level item or a member of a block, with its comments.
#[derive(Debug)]
struct Node {
    /// Offset of the first token.
    start: usize,
    /// Offset just past the last token.
    end: usize,
    kind: Kind,
    head: Head,
    block: Option<Block>,
    /// Comments on their own lines before the node.
    leading: Vec<Lead>,
    /// Comments from inside the node's one-line part, printed after `leading`.
    hoisted: Vec<String>,
    /// Whether the author left a blank line right before the node's first token.
    blank_self: bool,
    /// The comment at the end of the node's (last) line.
    trailing: Option<String>,
}

/// The braces of a node and what is between them.
#[derive(Debug)]
struct Block {
    /// The `{` in the source, when there is one.
    open: Option<usize>,
    /// The `}` in the source (meaningful only with `open`).
    close: usize,
    children: Vec<Node>,
    /// The comment right after `{`, on its line.
    open_trailing: Option<String>,
    /// Comments after the last member, before `}`.
    dangling: Vec<Lead>,
    /// Whether the language lets the braces be left out (`object`, `endpoint`).
    optional: bool,
}

impl Node {
    /// Whether the blank-line rule sees a blank line before the node's first printed line.
    fn first_blank(&self) -> bool {
        self.leading
            .first()
            .map_or(self.blank_self, |l| l.blank_before)
    }

    /// Whether the node prints with braces (and so over several lines, or as `{}`).
    fn has_braces(&self) -> bool {
        self.block.as_ref().is_some_and(|b| {
            !b.optional
                || !b.children.is_empty()
                || b.open_trailing.is_some()
                || !b.dangling.is_empty()
        })
    }

    /// Whether the node prints over several lines because of its block.
    fn is_multiline(&self) -> bool {
        self.block.as_ref().is_some_and(|b| {
            self.has_braces()
                && (!b.children.is_empty() || b.open_trailing.is_some() || !b.dangling.is_empty())
        })
    }

    /// Top-level items that may sit in a group without blank lines.
    fn groupable(&self) -> bool {
        match self.kind {
            Kind::Route | Kind::DefaultRoute | Kind::Fallback => true,
            Kind::Object => !self.has_braces(),
            _ => false,
        }
    }
}

/// Builds the layout tree from the AST.
struct Builder<'a> {
    ctx: &'a Ctx<'a>,
}

impl Builder<'_> {
    fn node(&self, span: Span, kind: Kind, head: Head) -> Node {
        Node {
            start: span.start,
            end: self.ctx.trim_end(span.end).max(span.start),
            kind,
            head,
            block: None,
            leading: Vec::new(),
            hoisted: Vec::new(),
            blank_self: self.ctx.blank_before(span.start),
            trailing: None,
        }
    }

    fn leaf(&self, span: Span, head: String) -> Node {
        self.node(span, Kind::Member, Head::Text(head))
    }

    /// A node with a block whose `{` is the first token at or after `open_from`.
    fn block(
        &self,
        span: Span,
        kind: Kind,
        head: String,
        open_from: usize,
        children: Vec<Node>,
        optional: bool,
    ) -> Node {
        let mut node = self.node(span, kind, Head::Text(head));
        let close = node.end.saturating_sub(1);
        let closed = self.ctx.text.get(close..node.end) == Some("}");
        let open = self
            .ctx
            .find_open(open_from)
            .filter(|&o| closed && o < close);
        node.block = Some(Block {
            open,
            close,
            children,
            open_trailing: None,
            dangling: Vec::new(),
            optional,
        });
        node
    }

    fn item(&self, item: &Item) -> Node {
        match item {
            Item::MultiOrg(m) => {
                let children = m
                    .props
                    .iter()
                    .map(|p| self.leaf(p.span, multi_org_prop(p.node)))
                    .collect();
                let from = m.span.start + "multi_org".len();
                self.block(
                    m.span,
                    Kind::MultiOrg,
                    "multi_org".into(),
                    from,
                    children,
                    false,
                )
            }
            Item::Orgs(o) => {
                let children = o
                    .entries
                    .iter()
                    .map(|e| match e {
                        OrgsEntry::DescendantAccess(on) => {
                            let v = if on.node { "on" } else { "off" };
                            self.leaf(on.span, format!("descendant_access {v}"))
                        }
                        OrgsEntry::Org(org) => self.leaf(org.span, org_decl(org)),
                    })
                    .collect();
                let from = o.span.start + "orgs".len();
                self.block(o.span, Kind::Orgs, "orgs".into(), from, children, false)
            }
            Item::Header(h) => {
                let children = h
                    .props
                    .iter()
                    .map(|p| self.leaf(p.span, header_prop(p.node)))
                    .collect();
                let head = format!("header {}", header_name(&h.name.node));
                self.block(h.span, Kind::Header, head, h.name.span.end, children, false)
            }
            Item::Object(o) => {
                let children = o
                    .props
                    .iter()
                    .map(|p| self.leaf(p.span, object_prop(&p.node)))
                    .collect();
                let head = format!("object {}", o.name.node);
                self.block(o.span, Kind::Object, head, o.name.span.end, children, true)
            }
            Item::Fallback(f) => self.node(
                f.span,
                Kind::Fallback,
                Head::Text(format!("fallback {}", fallback_list(&f.sources))),
            ),
            Item::Route(r) => self.node(
                r.span,
                Kind::Route,
                Head::Route {
                    methods: methods(&r.methods),
                    path: r.path.to_string(),
                    target: target(&r.target),
                },
            ),
            Item::DefaultRoute(d) => self.node(
                d.span,
                Kind::DefaultRoute,
                Head::Text(format!("default -> {}", target(&d.target))),
            ),
            Item::Service(s) => {
                let children = s.endpoints.iter().map(|e| self.endpoint(e)).collect();
                let legacy = if s.legacy { "legacy " } else { "" };
                let head = format!("{legacy}service {}", s.name.node);
                self.block(
                    s.span,
                    Kind::Service,
                    head,
                    s.name.span.end,
                    children,
                    false,
                )
            }
        }
    }

    fn endpoint(&self, e: &Endpoint) -> Node {
        let children = e
            .props
            .iter()
            .map(|p| self.leaf(p.span, endpoint_prop(&p.node)))
            .collect();
        let head = format!("endpoint {} {}", methods(&e.methods), e.path);
        self.block(e.span, Kind::Member, head, e.path.span.end, children, true)
    }
}

// ------------------------------------------------------------------------------------ attaching

/// Attaches comment `c` among the sibling `nodes` of one block (or of the top level): to a node
/// it is inside of, as the trailing comment of the node before it on its line, as the trailing
/// comment of the block's `{`, as a leading comment of the next node, or as a dangling comment.
fn attach(
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
fn attach_inside(ctx: &Ctx<'_>, node: &mut Node, c: &Comment) {
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

// ------------------------------------------------------------------------------------ printing

/// Prints the whole policy.
fn print(text: &str, policy: &Policy, comments: &[Comment]) -> String {
    let ctx = Ctx { text, comments };
    let builder = Builder { ctx: &ctx };
    let mut items: Vec<Node> = policy.items.iter().map(|i| builder.item(i)).collect();
    let mut end_of_file = Vec::new();
    let mut unused = None;
    for c in comments {
        attach(&ctx, &mut items, None, &mut unused, &mut end_of_file, c);
    }
    let mut p = Printer { out: String::new() };
    p.nodes(&items, 0, true);
    p.dangling(&end_of_file, 0, !items.is_empty());
    p.out
}

struct Printer {
    out: String,
}

impl Printer {
    fn line(&mut self, depth: usize, text: &str, trailing: Option<&str>) {
        for _ in 0..depth {
            self.out.push_str("  ");
        }
        self.out.push_str(text);
        if let Some(t) = trailing {
            self.out.push_str("  ");
            self.out.push_str(t);
        }
        self.out.push('\n');
    }

    /// Prints sibling nodes with the blank-line rules of the top level or of a block.
    fn nodes(&mut self, nodes: &[Node], depth: usize, top: bool) {
        // blank[i]: whether a blank line goes before nodes[i].
        let blank: Vec<bool> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let Some(prev) = i.checked_sub(1).and_then(|j| nodes.get(j)) else {
                    return false;
                };
                let together = if top {
                    prev.groupable() && n.groupable() && prev.kind == n.kind
                } else {
                    !prev.is_multiline() && !n.is_multiline()
                };
                !together || n.first_blank()
            })
            .collect();
        let widths = route_widths(nodes, &blank);
        for (i, n) in nodes.iter().enumerate() {
            if blank.get(i).copied().unwrap_or(false) {
                self.out.push('\n');
            }
            self.node(n, depth, widths.get(i).copied().flatten());
        }
    }

    fn node(&mut self, n: &Node, depth: usize, widths: Option<(usize, usize)>) {
        for (k, l) in n.leading.iter().enumerate() {
            if k > 0 && l.blank_before {
                self.out.push('\n');
            }
            self.line(depth, &l.text, None);
        }
        if !n.leading.is_empty() && n.blank_self {
            self.out.push('\n');
        }
        for h in &n.hoisted {
            self.line(depth, h, None);
        }
        let head = match &n.head {
            Head::Text(t) => t.clone(),
            Head::Route {
                methods,
                path,
                target,
            } => {
                let (mw, pw) = widths.unwrap_or((0, 0));
                format!(
                    "route {}{} {}{} -> {target}",
                    methods,
                    padding(methods, mw),
                    path,
                    padding(path, pw)
                )
            }
        };
        let trailing = n.trailing.as_deref();
        let Some(b) = n.block.as_ref().filter(|_| n.has_braces()) else {
            self.line(depth, &head, trailing);
            return;
        };
        if !n.is_multiline() {
            self.line(depth, &format!("{head} {{}}"), trailing);
            return;
        }
        self.line(depth, &format!("{head} {{"), b.open_trailing.as_deref());
        self.nodes(&b.children, depth + 1, false);
        self.dangling(&b.dangling, depth + 1, !b.children.is_empty());
        self.line(depth, "}", trailing);
    }

    /// Comments after the last node of a block or of the file.
    fn dangling(&mut self, comments: &[Lead], depth: usize, after_nodes: bool) {
        for (k, l) in comments.iter().enumerate() {
            if (k > 0 || after_nodes) && l.blank_before {
                self.out.push('\n');
            }
            self.line(depth, &l.text, None);
        }
    }
}

/// The widest method list and path that set a run's columns. Wider ones are printed unpadded
/// and do not widen the run: alignment may not blow a file up (at most about 7× its size, for a
/// file of one-line routes written without spaces). Every method once is 38 characters.
const MAX_METHODS_COLUMN: usize = 40;
const MAX_PATH_COLUMN: usize = 80;

/// The spaces that pad `s` to `width` characters (none when it is as wide or wider).
fn padding(s: &str, width: usize) -> String {
    " ".repeat(width.saturating_sub(s.chars().count()))
}

/// For each node that is a route, the method and path widths of its run of routes (routes with
/// no blank line between them), ignoring lists and paths too wide to align.
fn route_widths(nodes: &[Node], blank: &[bool]) -> Vec<Option<(usize, usize)>> {
    let mut widths = vec![None; nodes.len()];
    let mut i = 0;
    while i < nodes.len() {
        let is_route = |j: usize| {
            nodes
                .get(j)
                .is_some_and(|n| matches!(n.head, Head::Route { .. }))
        };
        if !is_route(i) {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while is_route(j) && !blank.get(j).copied().unwrap_or(true) {
            j += 1;
        }
        let run = nodes.get(i..j).unwrap_or_default();
        let (mut mw, mut pw) = (0, 0);
        for n in run {
            if let Head::Route { methods, path, .. } = &n.head {
                let (m, p) = (methods.chars().count(), path.chars().count());
                if m <= MAX_METHODS_COLUMN {
                    mw = mw.max(m);
                }
                if p <= MAX_PATH_COLUMN {
                    pw = pw.max(p);
                }
            }
        }
        for w in widths.get_mut(i..j).unwrap_or_default() {
            *w = Some((mw, pw));
        }
        i = j;
    }
    widths
}

// ------------------------------------------------------------------------------------ tokens

/// The grammar's reserved words: never a bare identifier.
const RESERVED: [&str; 11] = [
    "multi_org",
    "orgs",
    "org",
    "header",
    "object",
    "fallback",
    "route",
    "default",
    "legacy",
    "service",
    "endpoint",
];

/// Whether `s` is an identifier that is not a reserved word.
fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !RESERVED.contains(&s)
}

/// Whether `s` can be written as a bare header name.
fn is_bare_header(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A quoted, escaped string literal.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An org name: bare when it is an identifier, quoted otherwise.
fn name(s: &str) -> String {
    if is_ident(s) {
        s.to_string()
    } else {
        quote(s)
    }
}

/// A header name: bare when the grammar allows, quoted otherwise.
fn header_name(s: &str) -> String {
    if is_bare_header(s) {
        s.to_string()
    } else {
        quote(s)
    }
}

fn multi_org_prop(p: MultiOrgProp) -> String {
    match p {
        MultiOrgProp::Default(true) => "default enabled".into(),
        MultiOrgProp::Default(false) => "default disabled".into(),
        MultiOrgProp::WhenDisabled(DisabledMode::Reject) => "when_disabled reject".into(),
        MultiOrgProp::WhenDisabled(DisabledMode::Ignore) => "when_disabled ignore".into(),
    }
}

fn org_decl(org: &OrgDecl) -> String {
    let mut s = format!("org {}", name(&org.name.node));
    for p in &org.props {
        match &p.node {
            OrgProp::Id(id) => {
                s.push_str(" id ");
                s.push_str(&quote(id));
            }
            OrgProp::Parent(parent) => {
                s.push_str(" parent ");
                s.push_str(&name(&parent.node));
            }
        }
    }
    s
}

fn header_prop(p: HeaderProp) -> String {
    match p {
        HeaderProp::Role(r) => format!("role {}", r.keyword()),
        HeaderProp::List => "list".into(),
        HeaderProp::Single => "single".into(),
        HeaderProp::SubsetOfUserOrgs => "subset_of user.orgs".into(),
        HeaderProp::MemberOfUserOrgs => "member_of user.orgs".into(),
        HeaderProp::MaxItems(n) => format!("max_items {n}"),
        HeaderProp::MaxLength(n) => format!("max_length {n}"),
    }
}

fn object_prop(p: &ObjectProp) -> String {
    match p {
        ObjectProp::Label(f) => format!("label {f}"),
        ObjectProp::Inherit(i) => {
            let optional = if i.optional { " optional" } else { "" };
            format!("inherit {} via {}{optional}", i.parent.node, i.via)
        }
        ObjectProp::Shared => "shared".into(),
        ObjectProp::Fallback(list) => format!("fallback {}", fallback_list(list)),
        ObjectProp::Alias(names) => {
            let names: Vec<String> = names.iter().map(|n| quote(&n.node)).collect();
            format!("alias {}", names.join(", "))
        }
    }
}

fn fallback_list(list: &[Spanned<FallbackSource>]) -> String {
    let words: Vec<&str> = list.iter().map(|s| s.node.keyword()).collect();
    words.join(", ")
}

fn methods(list: &[Spanned<Method>]) -> String {
    let words: Vec<&str> = list.iter().map(|m| m.node.as_str()).collect();
    words.join("|")
}

fn target(t: &Target) -> String {
    let mut s = t.action.node.keyword().to_string();
    match t.object.as_ref().map(|o| &o.node) {
        Some(ObjectRef::Named(n)) => {
            s.push(' ');
            s.push_str(n);
        }
        Some(ObjectRef::FromField(f)) => {
            s.push_str(" type ");
            s.push_str(&f.to_string());
        }
        None => {}
    }
    for o in &t.opts {
        match &o.node {
            TargetOpt::Id(f) => s.push_str(&format!(" id {f}")),
            TargetOpt::Objects(f) => s.push_str(&format!(" objects {f}")),
        }
    }
    s
}

fn endpoint_prop(p: &EndpointProp) -> String {
    match p {
        EndpointProp::OrgId { location, name } => format!(
            "org_id {} {}",
            location.node.keyword(),
            header_name(&name.node)
        ),
        EndpointProp::Unscoped => "unscoped".into(),
        EndpointProp::Justification(j) => format!("justification {}", quote(j)),
    }
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

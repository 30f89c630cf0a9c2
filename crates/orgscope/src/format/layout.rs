//! The layout tree (nodes with their comments) built from the AST, and its printing.

use super::comments::{attach, Comment, Ctx};
use super::tokens::*;
use crate::syntax::ast::*;

/// What a node is, for blank-line rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
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
pub(super) enum Head {
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
pub(super) struct Lead {
    pub(super) text: String,
    /// Whether the author left a blank line before it.
    pub(super) blank_before: bool,
}

/// A top-level item or a member of a block, with its comments.
#[derive(Debug)]
pub(super) struct Node {
    /// Offset of the first token.
    pub(super) start: usize,
    /// Offset just past the last token.
    pub(super) end: usize,
    pub(super) kind: Kind,
    pub(super) head: Head,
    pub(super) block: Option<Block>,
    /// Comments on their own lines before the node.
    pub(super) leading: Vec<Lead>,
    /// Comments from inside the node's one-line part, printed after `leading`.
    pub(super) hoisted: Vec<String>,
    /// Whether the author left a blank line right before the node's first token.
    pub(super) blank_self: bool,
    /// The comment at the end of the node's (last) line.
    pub(super) trailing: Option<String>,
}

/// The braces of a node and what is between them.
#[derive(Debug)]
pub(super) struct Block {
    /// The `{` in the source, when there is one.
    pub(super) open: Option<usize>,
    /// The `}` in the source (meaningful only with `open`).
    pub(super) close: usize,
    pub(super) children: Vec<Node>,
    /// The comment right after `{`, on its line.
    pub(super) open_trailing: Option<String>,
    /// Comments after the last member, before `}`.
    pub(super) dangling: Vec<Lead>,
    /// Whether the language lets the braces be left out (`object`, `endpoint`).
    pub(super) optional: bool,
}

impl Node {
    /// Whether the blank-line rule sees a blank line before the node's first printed line.
    pub(super) fn first_blank(&self) -> bool {
        self.leading
            .first()
            .map_or(self.blank_self, |l| l.blank_before)
    }

    /// Whether the node prints with braces (and so over several lines, or as `{}`).
    pub(super) fn has_braces(&self) -> bool {
        self.block.as_ref().is_some_and(|b| {
            !b.optional
                || !b.children.is_empty()
                || b.open_trailing.is_some()
                || !b.dangling.is_empty()
        })
    }

    /// Whether the node prints over several lines because of its block.
    pub(super) fn is_multiline(&self) -> bool {
        self.block.as_ref().is_some_and(|b| {
            self.has_braces()
                && (!b.children.is_empty() || b.open_trailing.is_some() || !b.dangling.is_empty())
        })
    }

    /// Top-level items that may sit in a group without blank lines.
    pub(super) fn groupable(&self) -> bool {
        match self.kind {
            Kind::Route | Kind::DefaultRoute | Kind::Fallback => true,
            Kind::Object => !self.has_braces(),
            _ => false,
        }
    }
}

/// Builds the layout tree from the AST.
pub(super) struct Builder<'a> {
    pub(super) ctx: &'a Ctx<'a>,
}

impl Builder<'_> {
    pub(super) fn node(&self, span: Span, kind: Kind, head: Head) -> Node {
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

    pub(super) fn leaf(&self, span: Span, head: String) -> Node {
        self.node(span, Kind::Member, Head::Text(head))
    }

    /// A node with a block whose `{` is the first token at or after `open_from`.
    pub(super) fn block(
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

    pub(super) fn item(&self, item: &Item) -> Node {
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

    pub(super) fn endpoint(&self, e: &Endpoint) -> Node {
        let children = e
            .props
            .iter()
            .map(|p| self.leaf(p.span, endpoint_prop(&p.node)))
            .collect();
        let head = format!("endpoint {} {}", methods(&e.methods), e.path);
        self.block(e.span, Kind::Member, head, e.path.span.end, children, true)
    }
}

/// Prints the whole policy.
pub(super) fn print(text: &str, policy: &Policy, comments: &[Comment]) -> String {
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

pub(super) struct Printer {
    pub(super) out: String,
}

impl Printer {
    pub(super) fn line(&mut self, depth: usize, text: &str, trailing: Option<&str>) {
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
    pub(super) fn nodes(&mut self, nodes: &[Node], depth: usize, top: bool) {
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

    pub(super) fn node(&mut self, n: &Node, depth: usize, widths: Option<(usize, usize)>) {
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
    pub(super) fn dangling(&mut self, comments: &[Lead], depth: usize, after_nodes: bool) {
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
pub(super) const MAX_METHODS_COLUMN: usize = 40;
pub(super) const MAX_PATH_COLUMN: usize = 80;

/// The spaces that pad `s` to `width` characters (none when it is as wide or wider).
pub(super) fn padding(s: &str, width: usize) -> String {
    " ".repeat(width.saturating_sub(s.chars().count()))
}

/// For each node that is a route, the method and path widths of its run of routes (routes with
/// no blank line between them), ignoring lists and paths too wide to align.
pub(super) fn route_widths(nodes: &[Node], blank: &[bool]) -> Vec<Option<(usize, usize)>> {
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

//! A YAML or JSON document as a tree of positioned nodes, built from saphyr's events under limits.
//!
//! Aliases are not copied: an alias is the anchored node itself, shared, so a "billion laughs"
//! document costs its own size. An anchor is usable only once its node is complete, so aliases
//! cannot make cycles; walks that follow `$ref`s keep their own visited sets.

use saphyr_parser::{Event, Parser, ScanError, Span as YSpan};
use std::collections::HashMap;

/// Index of a node in [`Tree::nodes`].
pub type NodeId = usize;

/// Where a node starts: 1-based line and column (in characters), and its character offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    /// Character offset from the start of the text.
    pub index: usize,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub col: u32,
}

/// A mapping entry: the key's text and position, and the value.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The key as text (a non-scalar key is empty).
    pub key: String,
    /// Where the key is.
    pub pos: Pos,
    /// The value.
    pub value: NodeId,
}

/// A node's content.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A scalar's text (strings, numbers, booleans and null alike).
    Scalar(String),
    /// A sequence.
    Seq(Vec<NodeId>),
    /// A mapping, in document order.
    Map(Vec<Entry>),
}

/// One node.
#[derive(Debug, Clone)]
pub struct Node {
    /// Content.
    pub kind: Kind,
    /// Where it starts.
    pub pos: Pos,
}

/// How much a document may make the loader do.
#[derive(Debug, Clone, Copy)]
pub struct TreeLimits {
    /// Largest document, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of sequences and mappings.
    pub max_depth: usize,
    /// Most nodes (scalars, sequences, mappings; an alias adds none).
    pub max_nodes: usize,
}

impl Default for TreeLimits {
    fn default() -> Self {
        TreeLimits {
            max_bytes: 64 << 20,
            max_depth: 256,
            max_nodes: 8_000_000,
        }
    }
}

/// Why a document could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// Not YAML (or JSON).
    #[error("not valid YAML or JSON: {message}")]
    Syntax {
        /// Where the scanner stopped.
        pos: Pos,
        /// The scanner's message.
        message: String,
    },
    /// Larger than `max_bytes`.
    #[error("the document is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Nested deeper than `max_depth`.
    #[error("the document nests deeper than {limit} levels")]
    TooDeep {
        /// Where the limit was passed.
        pos: Pos,
        /// The limit.
        limit: usize,
    },
    /// More nodes than `max_nodes`.
    #[error("the document has more than {limit} nodes")]
    TooManyNodes {
        /// Where the limit was passed.
        pos: Pos,
        /// The limit.
        limit: usize,
    },
    /// An alias to an anchor that is not (yet) complete.
    #[error("alias to an unknown or enclosing anchor")]
    Alias {
        /// The alias.
        pos: Pos,
    },
    /// Nothing in the file.
    #[error("the document is empty")]
    Empty,
}

impl TreeError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            TreeError::Syntax { .. } => "openapi_syntax",
            TreeError::TooLarge { .. } => "openapi_too_large",
            TreeError::TooDeep { .. } => "openapi_too_deep",
            TreeError::TooManyNodes { .. } => "openapi_too_many_nodes",
            TreeError::Alias { .. } => "openapi_alias",
            TreeError::Empty => "openapi_empty",
        }
    }

    /// Where it is, when known.
    pub fn pos(&self) -> Option<Pos> {
        match self {
            TreeError::Syntax { pos, .. }
            | TreeError::TooDeep { pos, .. }
            | TreeError::TooManyNodes { pos, .. }
            | TreeError::Alias { pos } => Some(*pos),
            TreeError::TooLarge { .. } | TreeError::Empty => None,
        }
    }
}

/// A loaded document.
#[derive(Debug, Clone)]
pub struct Tree {
    /// Every node; aliases point at shared ones.
    pub nodes: Vec<Node>,
    /// The first document's root.
    pub root: NodeId,
}

/// An open sequence or mapping.
enum Frame {
    Seq(Vec<NodeId>, Pos, usize),
    Map(Vec<Entry>, Option<(String, Pos)>, Pos, usize),
}

fn pos(span: &YSpan) -> Pos {
    let m = span.start;
    Pos {
        index: m.index(),
        line: u32::try_from(m.line()).unwrap_or(u32::MAX),
        // saphyr counts columns from 0.
        col: u32::try_from(m.col() + 1).unwrap_or(u32::MAX),
    }
}

fn scan_error(e: &ScanError) -> TreeError {
    let m = e.marker();
    TreeError::Syntax {
        pos: Pos {
            index: m.index(),
            line: u32::try_from(m.line()).unwrap_or(u32::MAX),
            col: u32::try_from(m.col() + 1).unwrap_or(u32::MAX),
        },
        message: e.info().to_string(),
    }
}

impl Tree {
    /// Loads the first document of `text`.
    pub fn load(text: &str, limits: &TreeLimits) -> Result<Tree, TreeError> {
        if text.len() > limits.max_bytes {
            return Err(TreeError::TooLarge {
                size: text.len(),
                limit: limits.max_bytes,
            });
        }
        let mut nodes: Vec<Node> = Vec::new();
        let mut anchors: HashMap<usize, NodeId> = HashMap::new();
        let mut stack: Vec<Frame> = Vec::new();
        let mut root = None;
        let mut parser = Parser::new_from_str(text);
        while let Some(next) = parser.next_event() {
            let (event, span) = next.map_err(|e| scan_error(&e))?;
            let at = pos(&span);
            // A completed node: `(id, anchor)`.
            let done: Option<NodeId> = match event {
                Event::DocumentEnd if root.is_some() => break,
                Event::Scalar(value, _, anchor, _) => {
                    let id = push(&mut nodes, Kind::Scalar(value.into_owned()), at, limits)?;
                    if anchor > 0 {
                        anchors.insert(anchor, id);
                    }
                    Some(id)
                }
                Event::Alias(anchor) => {
                    Some(*anchors.get(&anchor).ok_or(TreeError::Alias { pos: at })?)
                }
                Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                    if stack.len() >= limits.max_depth {
                        return Err(TreeError::TooDeep {
                            pos: at,
                            limit: limits.max_depth,
                        });
                    }
                    stack.push(if matches!(event, Event::SequenceStart(..)) {
                        Frame::Seq(Vec::new(), at, anchor)
                    } else {
                        Frame::Map(Vec::new(), None, at, anchor)
                    });
                    None
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let (kind, start, anchor) = match stack.pop() {
                        Some(Frame::Seq(items, start, anchor)) => (Kind::Seq(items), start, anchor),
                        Some(Frame::Map(entries, _, start, anchor)) => {
                            (Kind::Map(entries), start, anchor)
                        }
                        None => continue,
                    };
                    let id = push(&mut nodes, kind, start, limits)?;
                    if anchor > 0 {
                        anchors.insert(anchor, id);
                    }
                    Some(id)
                }
                _ => None,
            };
            let Some(id) = done else { continue };
            match stack.last_mut() {
                None => {
                    root = Some(id);
                }
                Some(Frame::Seq(items, ..)) => items.push(id),
                Some(Frame::Map(entries, key, ..)) => match key.take() {
                    None => {
                        let text = match nodes.get(id).map(|n| &n.kind) {
                            Some(Kind::Scalar(s)) => s.clone(),
                            _ => String::new(),
                        };
                        let kpos = nodes.get(id).map_or(at, |n| n.pos);
                        *key = Some((text, kpos));
                    }
                    Some((key, pos)) => entries.push(Entry {
                        key,
                        pos,
                        value: id,
                    }),
                },
            }
        }
        let root = root.ok_or(TreeError::Empty)?;
        Ok(Tree { nodes, root })
    }

    /// The node `id`.
    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id)
    }

    /// Where `id` starts.
    pub fn pos(&self, id: NodeId) -> Pos {
        self.node(id).map_or(Pos::default(), |n| n.pos)
    }

    /// The entries of a mapping (none for anything else).
    pub fn entries(&self, id: NodeId) -> &[Entry] {
        match self.node(id).map(|n| &n.kind) {
            Some(Kind::Map(e)) => e,
            _ => &[],
        }
    }

    /// The items of a sequence (none for anything else).
    pub fn items(&self, id: NodeId) -> &[NodeId] {
        match self.node(id).map(|n| &n.kind) {
            Some(Kind::Seq(i)) => i,
            _ => &[],
        }
    }

    /// The entry `key` of mapping `id`.
    pub fn entry(&self, id: NodeId, key: &str) -> Option<&Entry> {
        self.entries(id).iter().find(|e| e.key == key)
    }

    /// The value of `key` in mapping `id`.
    pub fn get(&self, id: NodeId, key: &str) -> Option<NodeId> {
        self.entry(id, key).map(|e| e.value)
    }

    /// The text of a scalar.
    pub fn str(&self, id: NodeId) -> Option<&str> {
        match self.node(id).map(|n| &n.kind) {
            Some(Kind::Scalar(s)) => Some(s),
            _ => None,
        }
    }
}

fn push(
    nodes: &mut Vec<Node>,
    kind: Kind,
    pos: Pos,
    limits: &TreeLimits,
) -> Result<NodeId, TreeError> {
    if nodes.len() >= limits.max_nodes {
        return Err(TreeError::TooManyNodes {
            pos,
            limit: limits.max_nodes,
        });
    }
    nodes.push(Node { kind, pos });
    Ok(nodes.len() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let t = Tree::load("a:\n  b: c\n", &TreeLimits::default()).unwrap();
        let a = t.get(t.root, "a").unwrap();
        let b = t.entry(a, "b").unwrap();
        assert_eq!((b.pos.line, b.pos.col), (2, 3));
        assert_eq!(t.str(b.value), Some("c"));
    }

    #[test]
    fn json_loads_with_positions() {
        let t = Tree::load("{\"a\": {\n \"b\": [1, 2]}}", &TreeLimits::default()).unwrap();
        let a = t.get(t.root, "a").unwrap();
        let b = t.entry(a, "b").unwrap();
        assert_eq!((b.pos.line, b.pos.col), (2, 2));
        assert_eq!(t.items(b.value).len(), 2);
    }

    #[test]
    fn limits_refuse_too_many_nodes_and_aliases_to_enclosing_anchors() {
        let limits = TreeLimits {
            max_nodes: 10,
            ..TreeLimits::default()
        };
        let many = format!("[{}]", vec!["1"; 20].join(", "));
        assert!(matches!(
            Tree::load(&many, &limits),
            Err(TreeError::TooManyNodes { .. })
        ));
        assert!(matches!(
            Tree::load("a: &x [1, *x]", &TreeLimits::default()),
            Err(TreeError::Alias { .. })
        ));
    }
}

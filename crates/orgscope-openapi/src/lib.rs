//! The organization-ID guideline (SPEC §1.2) where APIs are designed: lint OpenAPI 3.0/3.1
//! documents, import their operations as a policy's `service`/`endpoint` declarations, and
//! report drift between a document and a policy.
//!
//! ```
//! use orgscope_openapi::{lint, Config, Document};
//!
//! let doc = Document::load("api.yaml", r#"
//! openapi: 3.1.0
//! info: { title: Billing, version: "1" }
//! paths:
//!   /v1/invoices:
//!     get:
//!       parameters:
//!         - { name: tenantId, in: query }
//! "#.into(), &Config::default())?;
//! let linted = lint(&doc, &Config::default());
//! assert!(linted.errors.iter().any(|e| e.to_string().contains("`tenantId`")));
//! # Ok::<(), orgscope_openapi::LoadError>(())
//! ```
#![deny(missing_docs)]

mod config;
mod errors;
mod import;
mod lint;
mod output;
mod tree;

pub use config::{Config, ConfigError};
pub use errors::{LintError, Loc};
pub use import::{drift, import, Drift, ImportError};
pub use lint::{lint, Class, Linted, Operation, OrgId};
pub use output::{json_line, sarif};
pub use tree::{Pos, TreeError, TreeLimits};

use orgscope::diag::Source;
use orgscope::Span;
use tree::Tree;

/// How often a non-ASCII document records a character-to-byte checkpoint.
const CHECKPOINT_CHARS: usize = 256;

/// A loaded document: its text (for rendering) and its tree.
#[derive(Debug, Clone)]
pub struct Document {
    source: Source,
    tree: Tree,
    /// Byte offset of every `CHECKPOINT_CHARS`-th character; empty for ASCII text, where a
    /// character offset is a byte offset.
    checkpoints: Vec<usize>,
}

/// Why a document could not be loaded, with where when known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct LoadError {
    /// What went wrong.
    pub error: TreeError,
    /// Where, as `line:col`, when known.
    pub at: Option<(u32, u32)>,
}

impl Document {
    /// Loads `text`, read from `name` (YAML or JSON), under `config.limits`.
    pub fn load(name: &str, text: String, config: &Config) -> Result<Document, LoadError> {
        let tree = Tree::load(&text, &config.limits).map_err(|error| LoadError {
            at: error.pos().map(|p| (p.line, p.col)),
            error,
        })?;
        let checkpoints = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices()
                .step_by(CHECKPOINT_CHARS)
                .map(|(i, _)| i)
                .collect()
        };
        Ok(Document {
            source: Source::new(name, text),
            tree,
            checkpoints,
        })
    }

    /// The text, for rendering diagnostics.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The byte offset of character `index`.
    fn byte(&self, index: usize) -> usize {
        let text = self.source.text();
        if self.checkpoints.is_empty() {
            return index.min(text.len());
        }
        let base = self
            .checkpoints
            .get(index / CHECKPOINT_CHARS)
            .copied()
            .unwrap_or(text.len());
        let rest = index % CHECKPOINT_CHARS;
        text.get(base..)
            .and_then(|t| t.char_indices().nth(rest))
            .map_or(text.len(), |(i, _)| base + i)
    }

    /// The character at `pos`.
    fn char_at(&self, pos: Pos) -> Option<char> {
        self.source
            .text()
            .get(self.byte(pos.index)..)?
            .chars()
            .next()
    }

    /// The span of `chars` characters from `pos`.
    fn span(&self, pos: Pos, chars: usize) -> Span {
        let start = self.byte(pos.index);
        let end = self.byte(pos.index + chars);
        Span {
            start,
            end,
            line: pos.line,
            col: pos.col,
        }
    }
}

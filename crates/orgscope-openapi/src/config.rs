//! What the linter calls the org concept: the guideline's names, extra aliases, the loader's
//! limits; read from a YAML or JSON file and command-line flags.

use crate::tree::{Kind, Tree, TreeError, TreeLimits};
use orgscope::terms;

/// The names and aliases of the org concept, and the loader's limits.
#[derive(Debug, Clone)]
pub struct Config {
    /// The one name for a single org ID (`organizationId`).
    pub name: String,
    /// The name for a list of org IDs (`organizationIds`).
    pub list_name: String,
    /// The only header name a legacy service may use (`Organization-ID`).
    pub header: String,
    /// Other names that mean the org concept in this API (`org`, `organization`…), besides the
    /// guideline's deprecated terms; each also matches its `Id`, `s` and `Ids` forms.
    pub aliases: Vec<String>,
    /// Deprecated terms that mean something else in this API (GitHub's `app` is a GitHub App):
    /// not reported, not taken for an org ID.
    pub allow_terms: Vec<String>,
    /// How much a document may make the loader do.
    pub limits: TreeLimits,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            name: terms::ORG_ID.to_string(),
            list_name: terms::ORG_IDS.to_string(),
            header: terms::ORG_ID_HEADER.to_string(),
            aliases: Vec::new(),
            allow_terms: Vec::new(),
            limits: TreeLimits::default(),
        }
    }
}

/// Why a configuration file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Not YAML or JSON.
    #[error("{0}")]
    Load(#[from] TreeError),
    /// A key the file may not have, or a value of the wrong shape.
    #[error("line {line}: {message}")]
    Invalid {
        /// Where.
        line: u32,
        /// What is wrong.
        message: String,
    },
}

impl ConfigError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ConfigError::Load(e) => e.code(),
            ConfigError::Invalid { .. } => "openapi_config_invalid",
        }
    }
}

impl Config {
    /// Reads a configuration file's text: a mapping with any of `name`, `list_name`, `header`
    /// (strings), `aliases` and `allow_terms` (lists of strings).
    pub fn from_text(text: &str) -> Result<Config, ConfigError> {
        let tree = Tree::load(text, &TreeLimits::default())?;
        let mut config = Config::default();
        let invalid = |line: u32, message: String| ConfigError::Invalid { line, message };
        let Some(crate::tree::Node {
            kind: Kind::Map(entries),
            ..
        }) = tree.node(tree.root)
        else {
            return Err(invalid(1, "the configuration must be a mapping".into()));
        };
        for e in entries {
            let text = |what: &str| {
                tree.str(e.value)
                    .filter(|s| !s.trim().is_empty())
                    .map(str::to_string)
                    .ok_or_else(|| invalid(e.pos.line, format!("`{}` must be {what}", e.key)))
            };
            match e.key.as_str() {
                "name" => config.name = text("a name")?,
                "list_name" => config.list_name = text("a name")?,
                "header" => config.header = text("a header name")?,
                "aliases" | "allow_terms" => {
                    let list = if e.key == "aliases" {
                        &mut config.aliases
                    } else {
                        &mut config.allow_terms
                    };
                    let items = tree.items(e.value);
                    if items.is_empty() && tree.str(e.value).is_some() {
                        return Err(invalid(e.pos.line, format!("`{}` must be a list", e.key)));
                    }
                    for &i in items {
                        match tree.str(i).filter(|s| !s.trim().is_empty()) {
                            Some(s) => list.push(s.to_string()),
                            None => {
                                return Err(invalid(
                                    tree.pos(i).line,
                                    format!("each of `{}` must be a non-empty string", e.key),
                                ))
                            }
                        }
                    }
                }
                other => {
                    return Err(invalid(
                        e.pos.line,
                        format!(
                            "unknown key `{other}` (expected `name`, `list_name`, `header`, `aliases` or `allow_terms`)"
                        ),
                    ))
                }
            }
        }
        Ok(config)
    }
}

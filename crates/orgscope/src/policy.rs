//! The one load path: read → decode → parse → check → compile, into a [`Policy`].

use crate::compile::orgset::OrgSet;
use crate::diag::{self, Diagnose, Diagnostic, Source, Style};
use crate::eval::NoEntities;
use crate::syntax::{ast, parse};
use crate::{check, compile, eval, request};
use crate::{Decision, EntityLookup, Limits, Request, User};
use std::io::Read;
use std::path::Path;

/// A compiled policy: parse, check and compile once, then evaluate many requests.
#[derive(Debug)]
pub struct Policy {
    /// Tells this policy's [`Principal`]s from others' (interned orgs are per policy).
    id: u64,
    compiled: compile::Compiled,
    warnings: Vec<Diagnostic>,
    source: Source,
}

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file could not be read.
    #[error("cannot read `{path}`: {error}")]
    Io {
        /// The path as given.
        path: String,
        /// The underlying error.
        error: std::io::Error,
    },
    /// The policy has errors; every diagnostic (warnings included) is here, sorted.
    #[error("`{}` has {} error(s)", policy.name(), diagnostics.iter().filter(|d| d.is_error()).count())]
    Invalid {
        /// The policy text, for rendering.
        policy: Box<Source>,
        /// Every diagnostic.
        diagnostics: Vec<Diagnostic>,
    },
}

impl PolicyError {
    /// A stable code: `unreadable` or `invalid_policy`.
    pub fn code(&self) -> &'static str {
        match self {
            PolicyError::Io { .. } => "unreadable",
            PolicyError::Invalid { .. } => "invalid_policy",
        }
    }

    /// The diagnostics rendered rustc-style (or the I/O error as one line).
    pub fn render(&self, style: Style) -> String {
        match self {
            PolicyError::Io { .. } => format!("error: {self}\n"),
            PolicyError::Invalid {
                policy,
                diagnostics,
            } => diagnostics
                .iter()
                .map(|d| d.render(policy, style))
                .collect(),
        }
    }
}

impl Policy {
    /// Parses, checks and compiles policy text; `name` is the file name decisions cite.
    pub fn from_source(name: &str, text: &str) -> Result<Policy, PolicyError> {
        Policy::from_source_with(name, text, Limits::default())
    }

    /// Like [`Policy::from_source`], with other [`Limits`] (kept for evaluation too).
    pub fn from_source_with(name: &str, text: &str, limits: Limits) -> Result<Policy, PolicyError> {
        Policy::load(Source::new(name, text), limits)
    }

    /// Reads, parses, checks and compiles a policy file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Policy, PolicyError> {
        Policy::from_file_with(path, Limits::default())
    }

    /// Like [`Policy::from_file`], with other [`Limits`] (kept for evaluation too).
    pub fn from_file_with(path: impl AsRef<Path>, limits: Limits) -> Result<Policy, PolicyError> {
        let path = path.as_ref();
        let (source, checked) =
            check_file_with(path, &limits).map_err(|error| PolicyError::Io {
                path: path.display().to_string(),
                error,
            })?;
        Policy::from_checked(source, checked, limits)
    }

    fn load(source: Source, limits: Limits) -> Result<Policy, PolicyError> {
        let checked = check_source_with(&source, &limits);
        Policy::from_checked(source, checked, limits)
    }

    fn from_checked(
        source: Source,
        checked: Checked,
        limits: Limits,
    ) -> Result<Policy, PolicyError> {
        if checked.has_errors() {
            return Err(PolicyError::Invalid {
                policy: Box::new(source),
                diagnostics: checked.diagnostics,
            });
        }
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Ok(Policy {
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            compiled: compile::compile(checked.policy, &source, limits),
            warnings: checked.diagnostics,
            source,
        })
    }

    /// Whether `org` names an org of the directory, by name or id (any org, without one).
    pub(crate) fn knows_org(&self, org: &str) -> bool {
        self.compiled
            .directory
            .as_ref()
            .is_none_or(|d| d.resolve(org.trim()).is_some())
    }

    /// The declared name of an object type, given its name or an alias.
    pub fn type_name(&self, name: &str) -> Option<&str> {
        let t = self.compiled.resolve_type(name)?;
        self.compiled.object(t).map(|o| &*o.name)
    }

    /// The limits this policy was loaded with, which evaluation enforces too.
    pub fn limits(&self) -> &Limits {
        &self.compiled.limits
    }

    /// The checker's warnings (the policy has no errors, or it would not have loaded).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// The policy's source text.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// `file:line:col` of every rule a decision or an explain trace can name, each once, in
    /// the order the compiler numbered them. `orgscope test --coverage` measures against this.
    pub fn rules(&self) -> Vec<&str> {
        let mut seen = std::collections::HashSet::new();
        self.compiled
            .rules
            .iter()
            .filter(|r| seen.insert(*r))
            .collect()
    }

    /// Decides one request, knowing only the objects in its `entities`.
    pub fn evaluate(&self, request: &Request) -> Decision<'_> {
        self.evaluate_with(request, &EvalOptions::default())
    }

    /// Decides one request with `options`: a trusted store of existing objects, a trace.
    /// A query string in `path` counts like `query`, and the same entity listed twice is an
    /// `invalid_request` deny, however the request was built (docs/security.md).
    pub fn evaluate_with(&self, request: &Request, options: &EvalOptions<'_>) -> Decision<'_> {
        self.evaluate_any(request, options)
    }

    /// [`Policy::evaluate_with`] for a request of any [`request::Text`]: owned, or borrowed
    /// from its description ([`Policy::evaluate_json`], the batch).
    pub(crate) fn evaluate_any<S: request::Text>(
        &self,
        request: &Request<S>,
        options: &EvalOptions<'_>,
    ) -> Decision<'_> {
        let who = eval::Who {
            user: &request.user,
            accessible: None,
        };
        self.decide(request, who, options)
    }

    /// Resolves `user` once against this policy, for callers that cache their users: the
    /// orgs they may access are interned here instead of in every decision of
    /// [`Policy::evaluate_as`]. A policy without an org directory has nothing to intern, and
    /// its principals resolve their orgs per decision as [`Policy::evaluate`] does.
    ///
    /// ```
    /// use orgscope::{EvalOptions, Policy, Request};
    ///
    /// let policy = Policy::from_file("policies/zuora-multi-org.policy")?;
    /// let request = Request::from_json(r#"{"method": "POST", "path": "/query/jobs",
    ///     "headers": {"Zuora-Org-Ids": "Asia"}, "user": {"orgs": ["Asia", "China"]}}"#)?;
    /// let principal = policy.principal(&request.user);
    /// let decision = policy.evaluate_as(&principal, &request, &EvalOptions::default());
    /// assert_eq!(decision, policy.evaluate(&request));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn principal(&self, user: &User) -> Principal {
        Principal {
            policy: self.id,
            accessible: eval::accessible_orgs(&self.compiled, user).into_interned(),
            user: user.clone(),
        }
    }

    /// Decides `request` on behalf of `principal`, whose user replaces the request's own
    /// `user` (which is not read). A principal resolved by another policy is resolved again
    /// here, never trusted.
    pub fn evaluate_as(
        &self,
        principal: &Principal,
        request: &Request,
        options: &EvalOptions<'_>,
    ) -> Decision<'_> {
        let accessible = principal
            .accessible
            .as_ref()
            .filter(|_| principal.policy == self.id);
        self.decide(
            request,
            eval::Who {
                user: &principal.user,
                accessible,
            },
            options,
        )
    }

    fn decide<S: request::Text>(
        &self,
        request: &Request<S>,
        who: eval::Who<'_, S>,
        options: &EvalOptions<'_>,
    ) -> Decision<'_> {
        match request::prepare(self, request) {
            Ok(normalized) => eval::evaluate(
                &self.compiled,
                normalized.as_deref().unwrap_or(request),
                who,
                options.entities,
                options.explain,
                options.inline_entities,
            ),
            Err(message) => Decision::invalid_request(request.id.clone(), message),
        }
    }

    /// Decides a request given as JSON text, read like [`Request::intake`] reads it: a
    /// malformed description is an `invalid_request` deny (echoing its `id` when one can be
    /// read), never an `Err`.
    pub fn evaluate_json(&self, json: &str, options: &EvalOptions<'_>) -> Decision<'_> {
        // Strings borrowed from `json` (copied only where it escapes them): no owned request.
        let decide = |req: &Request<request::Str<'_>>| self.evaluate_any(req, options);
        request::intake_with(json.as_bytes(), self.limits(), 1, decide)
            .unwrap_or_else(|refused| refused.decision())
    }
}

/// A user resolved against one [`Policy`] by [`Policy::principal`], to be decided for many
/// times with [`Policy::evaluate_as`].
#[derive(Debug, Clone)]
pub struct Principal {
    /// The [`Policy`] that resolved it.
    policy: u64,
    /// The user's accessible orgs, interned (None without an org directory).
    accessible: Option<OrgSet<'static>>,
    user: User,
}

impl Principal {
    /// The user.
    pub fn user(&self) -> &User {
        &self.user
    }
}

/// How [`Policy::evaluate_with`] and [`Policy::evaluate_json`] decide: where existing objects
/// come from beyond the request's own `entities` (a trusted store, which wins), whether a
/// request may carry `entities` at all, and whether to record a trace.
///
/// ```
/// use orgscope::{EntityStore, EvalOptions, Policy, Request};
///
/// let policy = Policy::from_file("policies/zuora-multi-org.policy")?;
/// let store = EntityStore::parse(&policy, r#"{"type":"account","id":"A-1","org":"Asia"}"#)?;
/// let options = EvalOptions::new().entities(&store).explain(true);
/// let request = Request::from_json(r#"{"method": "GET", "path": "/v1/accounts/A-1",
///                                      "user": {"orgs": ["Asia"]}}"#)?;
/// let decision = policy.evaluate_with(&request, &options);
/// assert!(decision.is_allow() && decision.trace.is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct EvalOptions<'a> {
    entities: &'a dyn EntityLookup,
    explain: bool,
    inline_entities: bool,
}

impl Default for EvalOptions<'_> {
    fn default() -> Self {
        EvalOptions {
            entities: &NoEntities,
            explain: false,
            inline_entities: true,
        }
    }
}

impl std::fmt::Debug for EvalOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvalOptions")
            .field("explain", &self.explain)
            .field("inline_entities", &self.inline_entities)
            .finish_non_exhaustive()
    }
}

impl<'a> EvalOptions<'a> {
    /// No store (only the request's own `entities`), no trace.
    pub fn new() -> Self {
        EvalOptions::default()
    }

    /// Looks existing objects up in `entities` (a trusted store) too.
    pub fn entities(self, entities: &'a dyn EntityLookup) -> Self {
        EvalOptions { entities, ..self }
    }

    /// Records a trace of every rule consulted (`Decision::trace`).
    pub fn explain(self, explain: bool) -> Self {
        EvalOptions { explain, ..self }
    }

    /// Whether a request may carry its own `entities` (default: yes). They never override the
    /// trusted store; with `false` a request that carries any is `invalid_request`, for
    /// deployments where every existing object comes from a trusted source.
    pub fn inline_entities(self, inline_entities: bool) -> Self {
        EvalOptions {
            inline_entities,
            ..self
        }
    }

    /// Whether a trace is recorded.
    pub fn explains(&self) -> bool {
        self.explain
    }
}

/// The result of parsing and checking one policy file.
#[derive(Debug, Clone)]
pub struct Checked {
    /// What parsed (items with syntax errors are missing).
    pub policy: ast::Policy,
    /// Every problem, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses and checks a policy source, collecting every diagnostic.
#[cfg(feature = "unstable-syntax")]
pub fn check_source(src: &Source) -> Checked {
    check_source_with(src, &Limits::default())
}

/// Reads a policy file and checks it like [`check_source_with`], returning its text too; `Err`
/// only when the file cannot be read. A file over `max_policy_bytes` is not read past the limit
/// (a file that grows while being read is still caught), and gets `policy_too_large` on its
/// first line.
pub fn check_file_with(
    path: impl AsRef<Path>,
    limits: &Limits,
) -> std::io::Result<(Source, Checked)> {
    let path = path.as_ref();
    let file = std::fs::File::open(path)?;
    let size = file.metadata().ok().map(|m| m.len());
    check_read(&path.display().to_string(), file, size, limits)
}

/// Like [`check_file_with`], for a policy read from `reader` (standard input, say) and named
/// `name` in its diagnostics.
#[cfg(feature = "unstable-syntax")]
pub fn check_reader_with(
    name: &str,
    reader: impl Read,
    limits: &Limits,
) -> std::io::Result<(Source, Checked)> {
    check_read(name, reader, None, limits)
}

/// Reads at most one byte past `max_policy_bytes`, then checks; `size` is the file's size
/// when known, for the `policy_too_large` message.
fn check_read(
    name: &str,
    reader: impl Read,
    size: Option<u64>,
    limits: &Limits,
) -> std::io::Result<(Source, Checked)> {
    let name = name.to_string();
    let limit = limits.max_policy_bytes;
    let mut bytes = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader.take(cap).read_to_end(&mut bytes)?;
    let only = |src: Source, e: &dyn Diagnose| {
        let diagnostics = vec![e.to_diagnostic()];
        let policy = ast::Policy::default();
        (
            src,
            Checked {
                policy,
                diagnostics,
            },
        )
    };
    if bytes.len() > limit {
        let size = size
            .and_then(|s| usize::try_from(s).ok())
            .unwrap_or(bytes.len())
            .max(bytes.len());
        // Keep the first line, so that the caret has something to point at.
        let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        let first_line = first_line.get(..256).unwrap_or(first_line);
        let src = Source::new(name, String::from_utf8_lossy(first_line).into_owned());
        let e = parse::ParseError::TooLarge {
            span: src.span(0, 0),
            size,
            limit,
        };
        return Ok(only(src, &e));
    }
    Ok(match parse::decode(&name, bytes) {
        Ok(src) => {
            let checked = check_source_with(&src, limits);
            (src, checked)
        }
        Err((src, e)) => only(src, &e),
    })
}

/// Like [`check_source`], with the policy-side [`Limits`] (size, declarations, chain depth).
pub fn check_source_with(src: &Source, limits: &Limits) -> Checked {
    let size = src.text().len();
    if size > limits.max_policy_bytes {
        let e = parse::ParseError::TooLarge {
            span: src.span(0, 0),
            size,
            limit: limits.max_policy_bytes,
        };
        return Checked {
            policy: ast::Policy::default(),
            diagnostics: vec![e.to_diagnostic()],
        };
    }
    let (policy, parse_errors) = parse::parse(src);
    let mut diagnostics: Vec<Diagnostic> =
        parse_errors.iter().map(Diagnose::to_diagnostic).collect();
    let had_syntax_errors = !parse_errors.is_empty();
    diagnostics.extend(
        check::check_with(&policy, limits)
            .iter()
            .map(Diagnose::to_diagnostic)
            // A file whose every item failed to parse is not "empty".
            .filter(|d| !(had_syntax_errors && d.code == "empty_policy")),
    );
    diagnostics.extend(
        check::limits::check_policy(&policy, limits)
            .iter()
            .map(Diagnose::to_diagnostic),
    );
    diag::sort(&mut diagnostics);
    Checked {
        policy,
        diagnostics,
    }
}

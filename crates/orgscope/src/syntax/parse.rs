//! Stage 1 — parse: policy text → spanned AST, via the pest grammar, recovering after errors.

use crate::diag::{Diagnose, Source};
use crate::syntax::ast::*;
use crate::syntax::grammar::{PolicyParser, Rule};
use pest::iterators::Pair;
use pest::Parser as _;
use std::collections::HashSet;

/// A problem that stops a policy file from being read as the language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The text does not follow the grammar.
    #[error("expected {expected}, found {found}")]
    Syntax {
        /// Where parsing stopped.
        span: Span,
        /// What would have been accepted there, in words.
        expected: String,
        /// What was there instead, in words.
        found: String,
        /// What the author most likely meant, if it can be guessed.
        help: Option<String>,
    },
    /// A block was still open where the next declaration starts.
    #[error("unclosed `{{` opened at line {opened}")]
    Unclosed {
        /// The declaration that starts inside the open block.
        span: Span,
        /// The line of the `{` that was never closed.
        opened: u32,
    },
    /// The file is not UTF-8.
    #[error("policy file is not valid UTF-8")]
    InvalidUtf8 {
        /// The first invalid byte.
        span: Span,
    },
    /// The file is larger than the configured limit.
    #[error("policy file is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// The start of the file.
        span: Span,
        /// The file's size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// Nothing after the previous syntax errors could be parsed.
    #[error("too many syntax errors, stopped after {0}")]
    TooManyErrors(usize, Span),
}

impl Diagnose for ParseError {
    fn code(&self) -> &'static str {
        match self {
            ParseError::Syntax { .. } | ParseError::Unclosed { .. } => "syntax",
            ParseError::InvalidUtf8 { .. } => "invalid_utf8",
            ParseError::TooLarge { .. } => "policy_too_large",
            ParseError::TooManyErrors(..) => "too_many_errors",
        }
    }

    fn span(&self) -> Span {
        match self {
            ParseError::Syntax { span, .. }
            | ParseError::Unclosed { span, .. }
            | ParseError::InvalidUtf8 { span }
            | ParseError::TooLarge { span, .. }
            | ParseError::TooManyErrors(_, span) => *span,
        }
    }

    fn help(&self) -> Option<String> {
        match self {
            ParseError::Syntax { help, .. } => help.clone(),
            ParseError::Unclosed { .. } => {
                Some("close it with `}` before this declaration".to_string())
            }
            ParseError::InvalidUtf8 { .. } => Some("save the policy as UTF-8 text".to_string()),
            ParseError::TooLarge { .. } => {
                Some("split the policy, or raise the limit with `--max-policy-bytes`".to_string())
            }
            ParseError::TooManyErrors(..) => {
                Some("fix the errors above and check again".to_string())
            }
        }
    }
}

/// How many syntax errors one file may report before the parser gives up.
const MAX_SYNTAX_ERRORS: usize = 100;

/// Top-level keywords: where the parser may resume after a syntax error.
pub(crate) const ITEM_KEYWORDS: [&str; 9] = [
    "multi_org",
    "orgs",
    "header",
    "object",
    "fallback",
    "route",
    "default",
    "legacy",
    "service",
];

/// Decodes raw file bytes, pointing at the first invalid byte when they are not UTF-8.
// Called once per file: the size of the error does not matter, and boxing it would only make
// callers' pattern matching noisier.
#[allow(clippy::result_large_err)]
pub fn decode(name: &str, bytes: Vec<u8>) -> Result<Source, (Source, ParseError)> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Source::new(name, text)),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let prefix = String::from_utf8_lossy(bytes.get(..valid).unwrap_or_default());
            let src = Source::new(name, String::from_utf8_lossy(&bytes).into_owned());
            let span = src.span(prefix.len(), prefix.len() + 1);
            Err((src, ParseError::InvalidUtf8 { span }))
        }
    }
}

/// Parses a whole file, returning every item that parsed and every syntax error.
///
/// A well-formed file is read by the hand-written single pass (`fast.rs`); anything it does not
/// fully understand goes to the pest grammar, which builds the same tree and every diagnostic.
pub fn parse(src: &Source) -> (Policy, Vec<ParseError>) {
    match super::fast::parse(src) {
        Some(policy) => (policy, Vec::new()),
        None => parse_with_pest(src),
    }
}

/// The hand-written single pass alone: the tree of a well-formed file, identical to
/// [`parse_with_pest`]'s (spans included), or `None` when it cannot be sure.
#[cfg(feature = "unstable-syntax")]
pub fn parse_fast(src: &Source) -> Option<Policy> {
    super::fast::parse(src)
}

/// The pest grammar alone (the grammar of record), recovering after each syntax error.
pub fn parse_with_pest(src: &Source) -> (Policy, Vec<ParseError>) {
    let text = src.text();
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let mut pos = 0;
    let resume_points = resume_points(text);
    // One item per resume point, give or take: no doubling slack in the largest vector of a load.
    items.reserve_exact(resume_points.len());
    while pos < text.len() || (pos == 0 && items.is_empty() && errors.is_empty()) {
        let (result, complete) = parse_from(text, pos, &resume_points);
        match result {
            Ok(pairs) => {
                collect_items(src, pos, text.len(), pairs, &mut items, &mut errors);
                match complete {
                    Some(next) => pos = next,
                    None => break,
                }
            }
            Err(e) => {
                let at = pos + error_offset(&e);
                if let Some(next) =
                    super::unclosed::close_unclosed(src, pos, at, &e, &mut items, &mut errors)
                {
                    pos = next;
                    continue;
                }
                errors.push(syntax_error(src, at, &e));
                if errors.len() >= MAX_SYNTAX_ERRORS {
                    errors.push(ParseError::TooManyErrors(errors.len(), src.span(at, at)));
                    break;
                }
                // Keep the items before the broken one, then skip to the next item after it.
                // An error right at an item keyword means the item before it ended too soon.
                let before_at = resume_points.partition_point(|&p| p < at);
                let broken = before_at
                    .checked_sub(1)
                    .and_then(|i| resume_points.get(i))
                    .copied()
                    .filter(|&p| p >= pos)
                    .unwrap_or(pos);
                if broken > pos {
                    let prefix = text.get(pos..broken).unwrap_or("");
                    match PolicyParser::parse(Rule::policy, prefix) {
                        Ok(pairs) => {
                            collect_items(src, pos, broken, pairs, &mut items, &mut errors)
                        }
                        Err(e) => errors.push(syntax_error(src, pos + error_offset(&e), &e)),
                    }
                }
                let after = resume_points.partition_point(|&p| p < at || p <= broken);
                match resume_points.get(after) {
                    Some(&next) => pos = next,
                    None => break,
                }
            }
        }
    }
    // Prefix re-parses can report an error twice at the same place; keep one.
    errors.dedup_by(|a, b| a.span().start == b.span().start && a.code() == b.code());
    let broken = if errors.is_empty() {
        Vec::new()
    } else {
        broken(text, &items, &resume_points)
    };
    (Policy { items, broken }, errors)
}

/// The declarations starting at a resume point that no parsed item starts at: those a syntax
/// error dropped.
fn broken(text: &str, items: &[Item], resume_points: &[usize]) -> Vec<Broken> {
    let parsed: HashSet<usize> = items.iter().map(|i| i.span().start).collect();
    resume_points
        .iter()
        .filter(|p| !parsed.contains(p))
        .filter_map(|&p| {
            let line = text.get(p..)?.split('\n').next()?;
            let mut words = line.split(|c: char| c.is_whitespace() || c == '{');
            let keyword = words.next()?;
            let keyword = if keyword == "legacy" {
                "service"
            } else {
                keyword
            };
            let name = words
                .find(|w| !w.is_empty() && *w != "service")
                .map(|w| w.trim_matches('"').to_string());
            Some(Broken {
                keyword: keyword.to_string(),
                name,
            })
        })
        .collect()
}

/// How much text one parse attempt looks at, at least (it ends at the next resume point).
const CHUNK_BYTES: usize = 64 * 1024;

/// Parses the text from `pos`: a chunk ending at a resume point when that gives a trustworthy
/// answer, else everything to the end of the file. On success, `Some(end)` says the parse
/// covered only the text up to `end` (a resume point, where parsing goes on).
///
/// Why chunks: pest builds each syntax error by scanning from the end of its input back to the
/// error, so a parse of "the rest of the file" costs the rest's length per error — quadratic on a
/// large broken file. A chunk's answer equals the whole rest's when the chunk parses (no item can
/// run past a line that starts with a top-level keyword: those words are reserved and no item
/// continues with one), or when it fails strictly before the chunk's end (no token or comment
/// spans a line break, so nothing before the failure depends on the text after the cut).
/// Otherwise — typically a block left open across the cut — the whole rest is parsed.
fn parse_from<'t>(
    text: &'t str,
    pos: usize,
    resume_points: &[usize],
) -> (
    Result<pest::iterators::Pairs<'t, Rule>, pest::error::Error<Rule>>,
    Option<usize>,
) {
    let rest = text.get(pos..).unwrap_or("");
    let cut = resume_points
        .get(resume_points.partition_point(|&p| p < pos.saturating_add(CHUNK_BYTES)))
        .copied();
    if let Some(cut) = cut {
        let chunk = text.get(pos..cut).unwrap_or("");
        match PolicyParser::parse(Rule::policy, chunk) {
            Ok(pairs) => return (Ok(pairs), Some(cut)),
            Err(e) if pos + error_offset(&e) < cut => return (Err(e), None),
            Err(_) => {}
        }
    }
    (PolicyParser::parse(Rule::policy, rest), None)
}

pub(super) fn error_offset(e: &pest::error::Error<Rule>) -> usize {
    match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    }
}

/// Offsets of lines that start (in column 1) with a top-level keyword.
fn resume_points(text: &str) -> Vec<usize> {
    let mut points = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let is_item = ITEM_KEYWORDS.iter().any(|kw| {
            line.strip_prefix(kw).is_some_and(|after| {
                !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            })
        });
        if is_item {
            points.push(start);
        }
        start += line.len();
    }
    points
}

pub(super) fn syntax_error(src: &Source, at: usize, e: &pest::error::Error<Rule>) -> ParseError {
    let text = src.text();
    let tried: &[Rule] = match &e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => positives,
        pest::error::ErrorVariant::CustomError { .. } => &[],
    };
    let expected = match &e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            let mut words: Vec<String> = positives
                .iter()
                .filter_map(|r| super::hint::rule_words(*r))
                .collect();
            words.sort();
            words.dedup();
            if words.is_empty() {
                "valid syntax".to_string()
            } else {
                crate::diag::one_of(&words)
            }
        }
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
    };
    // At the end of the file, point just after the last token rather than at trailing blanks.
    let at = if text.get(at..).is_some_and(|r| r.trim().is_empty()) {
        text.get(..at).map_or(at, |t| t.trim_end().len())
    } else {
        at
    };
    let rest = text.get(at..).unwrap_or("");
    let (found, len) = describe_found(rest);
    let end = at + len;
    ParseError::Syntax {
        span: src.span(at, end),
        expected,
        found,
        help: crate::syntax::hint::help(tried, rest),
    }
}

/// What stands at a syntax error, in words, and how many bytes of it the caret covers.
fn describe_found(rest: &str) -> (String, usize) {
    let Some(c) = rest.chars().next().filter(|_| !rest.trim().is_empty()) else {
        return ("end of file".to_string(), 0);
    };
    let line = rest.split('\n').next().unwrap_or("");
    if c == '\n' || c == '\r' {
        return ("end of line".to_string(), 1);
    }
    if c == '"' && !line.get(1..).unwrap_or("").contains('"') {
        return ("an unclosed string".to_string(), line.len());
    }
    if c.is_alphanumeric() || c == '_' {
        let word: String = line
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-' || *c == '.')
            .take(40)
            .collect();
        return (format!("`{word}`"), word.len());
    }
    if c.is_control() || c == char::REPLACEMENT_CHARACTER {
        return (format!("character U+{:04X}", c as u32), c.len_utf8());
    }
    (format!("`{c}`"), c.len_utf8())
}

/// Turns a successful parse of `src.text()[offset..]` into items; no span ends past `limit`.
pub(super) fn collect_items(
    src: &Source,
    offset: usize,
    limit: usize,
    pairs: pest::iterators::Pairs<'_, Rule>,
    items: &mut Vec<Item>,
    errors: &mut Vec<ParseError>,
) {
    let b = Builder { src, offset, limit };
    for policy in pairs {
        for pair in policy.into_inner() {
            if pair.as_rule() == Rule::EOI {
                continue;
            }
            let span = b.span(&pair);
            match b.item(pair) {
                Some(item) => items.push(item),
                // The grammar guarantees the shape; this only guards against a grammar/builder
                // mismatch turning into a panic.
                None => errors.push(ParseError::Syntax {
                    span,
                    expected: "a well-formed item".to_string(),
                    found: "an item the parser could not read".to_string(),
                    help: None,
                }),
            }
        }
    }
}

/// Punctuation rules: named in the grammar only so that syntax errors can say "expected `->`";
/// the builder skips them.
fn is_punctuation(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::arrow | Rule::lbrace | Rule::rbrace | Rule::comma
    )
}

/// The children of a pair, without punctuation.
fn kids<'i>(p: Pair<'i, Rule>) -> impl Iterator<Item = Pair<'i, Rule>> {
    p.into_inner().filter(|c| !is_punctuation(c.as_rule()))
}

/// The end of `start..end` without the whitespace and comments pest lets a rule swallow when
/// it ends in an optional or repeated part, so spans stop at their last token.
fn trim_trivia(text: &str, start: usize, mut end: usize) -> usize {
    loop {
        let Some(slice) = text.get(start..end) else {
            return end;
        };
        let trimmed = slice.trim_end();
        end = start + trimmed.len();
        // Most spans hold no `#` at all: skip the per-character comment scan (memchr is cheap).
        if !trimmed.as_bytes().contains(&b'#') {
            return end;
        }
        let line_start = trimmed.rfind('\n').map_or(0, |i| i + 1);
        let last_line = trimmed.get(line_start..).unwrap_or("");
        match comment_start(last_line) {
            Some(i) => end = start + line_start + i,
            None => return end,
        }
    }
}

/// Where a `#` comment starts in one line of policy text, skipping strings.
pub(super) fn comment_start(line: &str) -> Option<usize> {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '#' if !in_string => return Some(i),
            _ => {}
        }
    }
    None
}

/// Builds AST nodes from pest pairs of a slice starting at `offset`.
struct Builder<'s> {
    src: &'s Source,
    offset: usize,
    /// Where the parsed text ends in the source (before the braces an unclosed block was given).
    limit: usize,
}

impl Builder<'_> {
    fn span(&self, p: &Pair<'_, Rule>) -> Span {
        let s = p.as_span();
        let (start, end) = (
            self.offset + s.start(),
            (self.offset + s.end()).min(self.limit),
        );
        self.src
            .span(start, trim_trivia(self.src.text(), start, end))
    }

    fn spanned<T>(&self, p: &Pair<'_, Rule>, node: T) -> Spanned<T> {
        Spanned::new(node, self.span(p))
    }

    fn item(&self, p: Pair<'_, Rule>) -> Option<Item> {
        let span = self.span(&p);
        Some(match p.as_rule() {
            Rule::multi_org => Item::MultiOrg(MultiOrg {
                props: self.props(p, |b, p| b.multi_org_prop(p))?,
                span,
            }),
            Rule::orgs => Item::Orgs(Orgs {
                entries: self.props(p, |b, p| b.orgs_entry(p))?,
                span,
            }),
            Rule::header => {
                let mut inner = kids(p).skip(1);
                let name = self.header_name(inner.next()?)?;
                let props = inner.map(|p| self.header_prop(p)).collect::<Option<_>>()?;
                Item::Header(Header { name, props, span })
            }
            Rule::object => {
                let mut inner = kids(p).skip(1);
                let name = self.ident(inner.next()?);
                let props = inner.map(|p| self.object_prop(p)).collect::<Option<_>>()?;
                Item::Object(Object { name, props, span })
            }
            Rule::fallback => Item::Fallback(Fallback {
                sources: self.fallback_list(kids(p).nth(1)?)?,
                span,
            }),
            Rule::route => {
                let mut inner = kids(p).skip(1);
                let methods = self.methods(inner.next()?)?;
                let path = self.path(inner.next()?);
                let target = self.target(inner.next()?)?;
                Item::Route(Route {
                    methods,
                    path,
                    target,
                    span,
                })
            }
            Rule::default_route => Item::DefaultRoute(DefaultRoute {
                target: self.target(kids(p).nth(1)?)?,
                span,
            }),
            Rule::service => {
                let mut inner = kids(p).peekable();
                let legacy = inner.peek()?.as_rule() == Rule::kw_legacy;
                let mut inner = inner.skip(if legacy { 2 } else { 1 });
                let name = self.ident(inner.next()?);
                let endpoints = inner.map(|p| self.endpoint(p)).collect::<Option<_>>()?;
                Item::Service(Service {
                    legacy,
                    name,
                    endpoints,
                    span,
                })
            }
            _ => return None,
        })
    }

    /// The children of a block after its keyword, each turned into a property.
    fn props<T>(
        &self,
        p: Pair<'_, Rule>,
        f: impl Fn(&Self, Pair<'_, Rule>) -> Option<T>,
    ) -> Option<Vec<T>> {
        let mut props: Vec<T> = kids(p).skip(1).map(|p| f(self, p)).collect::<Option<_>>()?;
        // The tree lives until compiling ends: no growth slack in its most numerous vectors.
        props.shrink_to_fit();
        Some(props)
    }

    /// The rule of the last child: for `key value` pairs whose value is a keyword.
    fn last_rule(p: &Pair<'_, Rule>) -> Option<Rule> {
        kids(p.clone()).last().map(|c| c.as_rule())
    }

    fn multi_org_prop(&self, p: Pair<'_, Rule>) -> Option<Spanned<MultiOrgProp>> {
        let value = Self::last_rule(&p)?;
        let prop = match p.as_rule() {
            Rule::mo_default => MultiOrgProp::Default(value == Rule::kw_enabled),
            Rule::mo_when_disabled => MultiOrgProp::WhenDisabled(if value == Rule::kw_ignore {
                DisabledMode::Ignore
            } else {
                DisabledMode::Reject
            }),
            Rule::mo_lookalike => MultiOrgProp::LookalikeHeaders(if value == Rule::kw_ignore {
                DisabledMode::Ignore
            } else {
                DisabledMode::Reject
            }),
            _ => return None,
        };
        Some(self.spanned(&p, prop))
    }

    fn orgs_entry(&self, p: Pair<'_, Rule>) -> Option<OrgsEntry> {
        match p.as_rule() {
            Rule::descendant_access => {
                let on = Self::last_rule(&p)? == Rule::kw_on;
                Some(OrgsEntry::DescendantAccess(self.spanned(&p, on)))
            }
            Rule::org => {
                let span = self.span(&p);
                let mut inner = kids(p).skip(1);
                let name = self.name(inner.next()?);
                let props = inner
                    .map(|p| {
                        let value = kids(p.clone()).nth(1)?;
                        let prop = match p.as_rule() {
                            Rule::org_id => OrgProp::Id(self.string(&value)),
                            Rule::org_parent => OrgProp::Parent(self.name(value)),
                            _ => return None,
                        };
                        Some(self.spanned(&p, prop))
                    })
                    .collect::<Option<_>>()?;
                Some(OrgsEntry::Org(OrgDecl { name, props, span }))
            }
            _ => None,
        }
    }

    fn header_prop(&self, p: Pair<'_, Rule>) -> Option<Spanned<HeaderProp>> {
        let number = || kids(p.clone()).nth(1)?.as_str().parse::<u64>().ok();
        let prop = match p.as_rule() {
            Rule::h_role => HeaderProp::Role(match Self::last_rule(&p)? {
                Rule::kw_visibility => Role::Visibility,
                Rule::kw_working_org => Role::WorkingOrg,
                _ => Role::OrgId,
            }),
            Rule::h_list => HeaderProp::List,
            Rule::h_single => HeaderProp::Single,
            Rule::h_subset => HeaderProp::SubsetOfUserOrgs,
            Rule::h_member => HeaderProp::MemberOfUserOrgs,
            Rule::h_max_items => HeaderProp::MaxItems(number()?),
            Rule::h_max_length => HeaderProp::MaxLength(number()?),
            _ => return None,
        };
        Some(self.spanned(&p, prop))
    }

    fn object_prop(&self, p: Pair<'_, Rule>) -> Option<Spanned<ObjectProp>> {
        let rule = p.as_rule();
        let span = self.span(&p);
        let mut inner = kids(p).skip(1);
        let prop = match rule {
            Rule::o_label => ObjectProp::Label(self.field(inner.next()?)?),
            Rule::o_inherit => {
                let parent = self.ident(inner.next()?);
                let via = self.field(inner.nth(1)?)?;
                let optional = inner.next().is_some();
                ObjectProp::Inherit(Inherit {
                    parent,
                    via,
                    optional,
                })
            }
            Rule::o_shared => ObjectProp::Shared,
            Rule::o_fallback => ObjectProp::Fallback(self.fallback_list(inner.next()?)?),
            Rule::o_alias => {
                ObjectProp::Alias(inner.map(|s| self.spanned(&s, self.string(&s))).collect())
            }
            _ => return None,
        };
        Some(Spanned::new(prop, span))
    }

    fn fallback_list(&self, p: Pair<'_, Rule>) -> Option<Vec<Spanned<FallbackSource>>> {
        kids(p)
            .map(|s| {
                let source = match Self::last_rule(&s)? {
                    Rule::kw_working_org => FallbackSource::WorkingOrg,
                    Rule::kw_default_org => FallbackSource::DefaultOrg,
                    Rule::kw_single_org => FallbackSource::SingleOrg,
                    _ => FallbackSource::Unlabeled,
                };
                Some(self.spanned(&s, source))
            })
            .collect()
    }

    fn methods(&self, p: Pair<'_, Rule>) -> Option<Vec<Spanned<Method>>> {
        kids(p)
            .map(|m| Some(self.spanned(&m, Method::parse(m.as_str())?)))
            .collect()
    }

    fn path(&self, p: Pair<'_, Rule>) -> PathTemplate {
        let span = self.span(&p);
        PathTemplate {
            segments: segments(p.as_str()),
            span,
        }
    }

    fn target(&self, p: Pair<'_, Rule>) -> Option<Box<Target>> {
        let mut inner = kids(p);
        let action_pair = inner.next()?;
        let action = match Self::last_rule(&action_pair)? {
            Rule::kw_query => Action::Query,
            Rule::kw_create => Action::Create,
            Rule::kw_read => Action::Read,
            Rule::kw_update => Action::Update,
            _ => Action::Delete,
        };
        let action = self.spanned(&action_pair, action);
        let mut object = None;
        let mut opts = Vec::new();
        for p in inner {
            let span = self.span(&p);
            match p.as_rule() {
                Rule::object_name => {
                    object = Some(Spanned::new(ObjectRef::Named(p.as_str().to_string()), span))
                }
                Rule::t_type => {
                    let field = self.field(kids(p).nth(1)?)?;
                    object = Some(Spanned::new(ObjectRef::FromField(Box::new(field)), span));
                }
                Rule::t_id => {
                    let field = self.field(kids(p).nth(1)?)?;
                    opts.push(Spanned::new(TargetOpt::Id(field), span));
                }
                Rule::t_objects => {
                    let field = self.field(kids(p).nth(1)?)?;
                    opts.push(Spanned::new(TargetOpt::Objects(field), span));
                }
                _ => return None,
            }
        }
        opts.shrink_to_fit();
        Some(Box::new(Target {
            action,
            object,
            opts,
        }))
    }

    fn endpoint(&self, p: Pair<'_, Rule>) -> Option<Endpoint> {
        let span = self.span(&p);
        let mut inner = kids(p).skip(1);
        let methods = self.methods(inner.next()?)?;
        let path = self.path(inner.next()?);
        let props = inner
            .map(|p| {
                let span = self.span(&p);
                let rule = p.as_rule();
                let mut inner = kids(p).skip(1);
                let prop = match rule {
                    Rule::e_org_id => {
                        let loc = inner.next()?;
                        let location = match Self::last_rule(&loc)? {
                            Rule::kw_path => Location::Path,
                            Rule::kw_query => Location::Query,
                            Rule::kw_body => Location::Body,
                            _ => Location::Header,
                        };
                        EndpointProp::OrgId {
                            location: self.spanned(&loc, location),
                            name: self.header_name(inner.next()?)?,
                        }
                    }
                    Rule::e_unscoped => EndpointProp::Unscoped,
                    Rule::e_justification => {
                        EndpointProp::Justification(self.string(&inner.next()?))
                    }
                    _ => return None,
                };
                Some(Spanned::new(prop, span))
            })
            .collect::<Option<_>>()?;
        Some(Endpoint {
            methods,
            path,
            props,
            span,
        })
    }

    fn field(&self, p: Pair<'_, Rule>) -> Option<Field> {
        let span = self.span(&p);
        let mut inner = kids(p);
        let root = match inner.next()?.as_str() {
            "body" => FieldRoot::Body,
            "path" => FieldRoot::Path,
            _ => FieldRoot::Query,
        };
        let keys = inner.map(|k| k.as_str().to_string()).collect();
        Some(Field { root, keys, span })
    }

    fn ident(&self, p: Pair<'_, Rule>) -> Name {
        self.spanned(&p, p.as_str().to_string())
    }

    /// An identifier or a string.
    fn name(&self, p: Pair<'_, Rule>) -> Name {
        if p.as_rule() == Rule::string {
            self.spanned(&p, self.string(&p))
        } else {
            self.ident(p)
        }
    }

    fn header_name(&self, p: Pair<'_, Rule>) -> Option<Name> {
        let inner = kids(p).next()?;
        Some(self.name(inner))
    }

    /// The unescaped contents of a `string` pair.
    fn string(&self, p: &Pair<'_, Rule>) -> String {
        let raw = p.as_str();
        unescape(
            raw.strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .unwrap_or(raw),
        )
    }
}

/// The segments of a path template's text. They come from the text so that empty ones (`//`, a
/// trailing `/`) are kept.
pub(super) fn segments(text: &str) -> Vec<Segment> {
    if text == "/" {
        return Vec::new();
    }
    // One slot per `/`: paths are the most numerous lists of a large policy.
    let mut segments = Vec::with_capacity(memchr::memchr_iter(b'/', text.as_bytes()).count());
    segments.extend(text.split('/').skip(1).map(|s| {
        match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(param) => Segment::Param(param.to_string()),
            None => Segment::Literal(s.to_string()),
        }
    }));
    segments
}

/// The value of a string literal's body (between the quotes): `\n` and `\t` decoded, any other
/// escaped character taken as itself.
pub(super) fn unescape(body: &str) -> String {
    if !body.contains('\\') {
        return body.to_string();
    }
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_stop_at_the_last_token() {
        let text =
            "route GET /a -> read account id path.x   # note \"#\"\n\n# next\nobject account\n";
        let (policy, errors) = parse(&Source::new("t.policy", text));
        assert!(errors.is_empty(), "{errors:?}");
        let span = policy.items.first().map(Item::span).unwrap_or_default();
        assert_eq!(
            &text[span.start..span.end],
            "route GET /a -> read account id path.x"
        );
    }

    #[test]
    fn resumes_after_each_broken_item() {
        let src = Source::new(
            "t.policy",
            "object a {\n  nonsense\n}\nobject b\nroute GET x -> query\nobject c\n",
        );
        let (policy, errors) = parse(&src);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(policy.items.len(), 2);
    }
}

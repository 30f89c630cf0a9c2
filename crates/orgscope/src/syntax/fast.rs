//! Stage 1 — the fast path: one pass over a well-formed policy, the tree pest's path would build, or `None`.
//!
//! pest (`orgscope.pest`) stays the grammar of record; this reader is a hand-written
//! recursive-descent copy of it for the common case, a file without syntax errors. It follows
//! the grammar's PEG semantics rule by rule (ordered choices, greedy repetitions, the one
//! lookahead of `object_name`) and builds exactly the nodes and spans `parse.rs`'s builder does:
//! a span starts at a rule's first token and ends at its last (what `trim_trivia` leaves). At the
//! first thing it does not fully understand it returns `None`, and `parse` runs the pest path,
//! so every diagnostic comes from pest. It never decides a text is wrong, only that it is
//! not sure: wherever the grammar would backtrack into another reading after a partial match,
//! the text is one pest rejects or one this reader hands over.

use crate::diag::Source;
use crate::syntax::ast::*;
use crate::syntax::parse::{segments, unescape, ITEM_KEYWORDS};

/// The tree of a well-formed policy, identical to the pest path's (spans included), or `None`
/// when the text is not one this reader fully understands.
pub(crate) fn parse(src: &Source) -> Option<Policy> {
    let mut r = Reader::new(src);
    let mut items = Vec::with_capacity(item_estimate(r.b));
    r.skip();
    while r.cur.pos < r.b.len() {
        items.push(r.item()?);
    }
    items.shrink_to_fit();
    Some(Policy {
        items,
        broken: Vec::new(),
    })
}

/// About how many items `text` declares: the lines that start with a top-level keyword, at most
/// one per 16 bytes (reserving them once keeps the largest list of a load from doubling; the
/// bound keeps a file of tiny lines from reserving many times its size).
fn item_estimate(text: &[u8]) -> usize {
    let starts_item = |i: usize| {
        let rest = text.get(i..).unwrap_or_default();
        ITEM_KEYWORDS.iter().any(|kw| {
            rest.starts_with(kw.as_bytes())
                && !rest.get(kw.len()).copied().is_some_and(is_ident_char)
        })
    };
    let lines = memchr::memchr_iter(b'\n', text).filter(|&i| starts_item(i + 1));
    (usize::from(starts_item(0)) + lines.count()).min(text.len() / 16 + 1)
}

/// `ident_char`: what may not follow a keyword.
fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// `path_literal`'s characters (besides the `->` it stops at).
fn is_literal_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-_.:~%@!$&'()*+,;=".contains(&c)
}

/// `field_seg`'s characters.
fn is_field_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// `v` without spare capacity: the tree lives until compiling ends, and most of its lists hold
/// one or two entries where a growing vector keeps room for four.
fn exact<T>(mut v: Vec<T>) -> Vec<T> {
    v.shrink_to_fit();
    v
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Where a rule starts: its first token's offset, line and column.
#[derive(Clone, Copy)]
struct Mark {
    at: usize,
    line: u32,
    col: u32,
}

/// The cursor: always at a token (trivia already skipped), or at the end.
#[derive(Clone, Copy)]
struct Cursor {
    pos: usize,
    /// 1-based line of `pos`.
    line: u32,
    /// Offset of that line's first byte.
    line_start: usize,
    /// End of the last token read: where the span of a rule ending here stops.
    tok_end: usize,
}

struct Reader<'s> {
    src: &'s Source,
    text: &'s str,
    b: &'s [u8],
    /// Columns are byte distances when the whole text is ASCII.
    ascii: bool,
    cur: Cursor,
    // The most numerous lists are read into these and then moved into vectors of exactly their
    // length (`drain(..).collect()` allocates once, exactly): no growth slack in the tree, and
    // no shrinking reallocation per list.
    object_props: Vec<Spanned<ObjectProp>>,
    org_props: Vec<Spanned<OrgProp>>,
    opts: Vec<Spanned<TargetOpt>>,
}

impl<'s> Reader<'s> {
    fn new(src: &'s Source) -> Self {
        let text = src.text();
        Reader {
            src,
            text,
            b: text.as_bytes(),
            ascii: text.is_ascii(),
            cur: Cursor {
                pos: 0,
                line: 1,
                line_start: 0,
                tok_end: 0,
            },
            object_props: Vec::new(),
            org_props: Vec::new(),
            opts: Vec::new(),
        }
    }

    /// The byte at `i`, or NUL past the end (a NUL in the text is read where a rule may take
    /// one, in a string, only after checking `i` is inside it).
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    /// The grammar's implicit `(WHITESPACE | COMMENT)*`: space, tab, LF, CR, and `#` to the end
    /// of the line.
    fn skip(&mut self) {
        loop {
            match self.at(self.cur.pos) {
                b' ' | b'\t' | b'\r' => self.cur.pos += 1,
                b'\n' => {
                    self.cur.pos += 1;
                    self.cur.line = self.cur.line.saturating_add(1);
                    self.cur.line_start = self.cur.pos;
                }
                b'#' => {
                    let rest = self.b.get(self.cur.pos..).unwrap_or_default();
                    self.cur.pos += memchr::memchr(b'\n', rest).unwrap_or(rest.len());
                }
                _ => return,
            }
        }
    }

    /// Ends the token at `end`, then skips the trivia after it.
    fn advance(&mut self, end: usize) {
        self.cur.pos = end;
        self.cur.tok_end = end;
        self.skip();
    }

    fn mark(&self) -> Mark {
        let (line, col) = if self.ascii {
            (
                self.cur.line,
                to_u32(self.cur.pos - self.cur.line_start + 1),
            )
        } else {
            self.src.line_col(self.cur.pos)
        };
        Mark {
            at: self.cur.pos,
            line,
            col,
        }
    }

    /// From `m` to the end of the last token read.
    fn span(&self, m: Mark) -> Span {
        Span {
            start: m.at,
            end: self.cur.tok_end,
            line: m.line,
            col: m.col,
        }
    }

    fn slice(&self, start: usize, end: usize) -> Option<&'s str> {
        self.text.get(start..end)
    }

    /// The end of the run of bytes from `from` that satisfy `f`.
    fn run(&self, from: usize, f: impl Fn(u8) -> bool) -> usize {
        let rest = self.b.get(from..).unwrap_or_default();
        from + rest.iter().position(|&c| !f(c)).unwrap_or(rest.len())
    }

    /// `word` here, not followed by an identifier character (the grammar's `kw_*` rules).
    fn at_kw(&self, word: &str) -> bool {
        self.b
            .get(self.cur.pos..)
            .is_some_and(|rest| rest.starts_with(word.as_bytes()))
            && !is_ident_char(self.at(self.cur.pos + word.len()))
    }

    fn kw(&mut self, word: &str) -> bool {
        let found = self.at_kw(word);
        if found {
            self.advance(self.cur.pos + word.len());
        }
        found
    }

    fn punct(&mut self, p: &str) -> bool {
        let found = self
            .b
            .get(self.cur.pos..)
            .is_some_and(|r| r.starts_with(p.as_bytes()));
        if found {
            self.advance(self.cur.pos + p.len());
        }
        found
    }

    fn expect(&mut self, p: &str) -> Option<()> {
        self.punct(p).then_some(())
    }

    /// The first of `words` here as a keyword, read, with its value.
    fn one_of<T: Copy>(&mut self, words: &[(&str, T)]) -> Option<T> {
        let &(word, value) = words.iter().find(|(w, _)| self.at_kw(w))?;
        self.advance(self.cur.pos + word.len());
        Some(value)
    }

    /// One of `words`, with its span.
    fn spanned_one_of<T: Copy>(&mut self, words: &[(&str, T)]) -> Option<Spanned<T>> {
        let m = self.mark();
        let value = self.one_of(words)?;
        Some(Spanned::new(value, self.span(m)))
    }

    fn item(&mut self) -> Option<Item> {
        let m = self.mark();
        let item = if self.kw("object") {
            self.object(m)?
        } else if self.kw("route") {
            let methods = self.methods()?;
            let path = self.path()?;
            self.expect("->")?;
            let target = self.target()?;
            Item::Route(Route {
                methods,
                path,
                target,
                span: self.span(m),
            })
        } else if self.kw("orgs") {
            self.orgs(m)?
        } else if self.kw("multi_org") {
            self.multi_org(m)?
        } else if self.kw("header") {
            self.header(m)?
        } else if self.kw("fallback") {
            let sources = self.fallback_list()?;
            Item::Fallback(Fallback {
                sources,
                span: self.span(m),
            })
        } else if self.kw("default") {
            self.expect("->")?;
            let target = self.target()?;
            Item::DefaultRoute(DefaultRoute {
                target,
                span: self.span(m),
            })
        } else {
            let legacy = self.kw("legacy");
            if !self.kw("service") {
                return None;
            }
            self.service(m, legacy)?
        };
        Some(item)
    }

    fn multi_org(&mut self, m: Mark) -> Option<Item> {
        const MODES: [(&str, DisabledMode); 2] = [
            ("reject", DisabledMode::Reject),
            ("ignore", DisabledMode::Ignore),
        ];
        self.expect("{")?;
        let mut props = Vec::new();
        loop {
            let pm = self.mark();
            let prop = if self.kw("default") {
                MultiOrgProp::Default(self.one_of(&[("enabled", true), ("disabled", false)])?)
            } else if self.kw("when_disabled") {
                MultiOrgProp::WhenDisabled(self.one_of(&MODES)?)
            } else if self.kw("lookalike_headers") {
                MultiOrgProp::LookalikeHeaders(self.one_of(&MODES)?)
            } else {
                break;
            };
            props.push(Spanned::new(prop, self.span(pm)));
        }
        self.expect("}")?;
        Some(Item::MultiOrg(MultiOrg {
            props: exact(props),
            span: self.span(m),
        }))
    }

    fn orgs(&mut self, m: Mark) -> Option<Item> {
        self.expect("{")?;
        let mut entries = Vec::new();
        loop {
            let em = self.mark();
            if self.kw("descendant_access") {
                let on = self.one_of(&[("on", true), ("off", false)])?;
                entries.push(OrgsEntry::DescendantAccess(Spanned::new(on, self.span(em))));
            } else if self.kw("org") {
                let name = self.name()?;
                self.org_props.clear();
                loop {
                    let pm = self.mark();
                    let prop = if self.kw("id") {
                        OrgProp::Id(self.string()?.node)
                    } else if self.kw("parent") {
                        OrgProp::Parent(self.name()?)
                    } else {
                        break;
                    };
                    self.org_props.push(Spanned::new(prop, self.span(pm)));
                }
                entries.push(OrgsEntry::Org(OrgDecl {
                    name,
                    props: self.org_props.drain(..).collect(),
                    span: self.span(em),
                }));
            } else {
                break;
            }
        }
        self.expect("}")?;
        Some(Item::Orgs(Orgs {
            entries: exact(entries),
            span: self.span(m),
        }))
    }

    fn header(&mut self, m: Mark) -> Option<Item> {
        let name = self.header_name()?;
        self.expect("{")?;
        let mut props = Vec::new();
        loop {
            let pm = self.mark();
            let prop = if self.kw("role") {
                HeaderProp::Role(self.one_of(&[
                    ("visibility", Role::Visibility),
                    ("working_org", Role::WorkingOrg),
                    ("org_id", Role::OrgId),
                ])?)
            } else if self.kw("list") {
                HeaderProp::List
            } else if self.kw("single") {
                HeaderProp::Single
            } else if self.kw("subset_of") {
                self.kw("user.orgs")
                    .then_some(HeaderProp::SubsetOfUserOrgs)?
            } else if self.kw("member_of") {
                self.kw("user.orgs")
                    .then_some(HeaderProp::MemberOfUserOrgs)?
            } else if self.kw("max_items") {
                HeaderProp::MaxItems(self.number()?)
            } else if self.kw("max_length") {
                HeaderProp::MaxLength(self.number()?)
            } else {
                break;
            };
            props.push(Spanned::new(prop, self.span(pm)));
        }
        self.expect("}")?;
        Some(Item::Header(Header {
            name,
            props: exact(props),
            span: self.span(m),
        }))
    }

    fn object(&mut self, m: Mark) -> Option<Item> {
        let name = self.ident()?;
        self.object_props.clear();
        // The block is optional, but a `{` that does not open a whole block is a syntax error:
        // nothing else may follow an object's name.
        if self.punct("{") {
            loop {
                let pm = self.mark();
                let prop = if self.kw("label") {
                    ObjectProp::Label(self.field()?)
                } else if self.kw("inherit") {
                    let parent = self.ident()?;
                    if !self.kw("via") {
                        return None;
                    }
                    let via = self.field()?;
                    let optional = self.kw("optional");
                    ObjectProp::Inherit(Inherit {
                        parent,
                        via,
                        optional,
                    })
                } else if self.kw("shared") {
                    ObjectProp::Shared
                } else if self.kw("fallback") {
                    ObjectProp::Fallback(self.fallback_list()?)
                } else if self.kw("alias") {
                    let mut names = vec![self.string()?];
                    while self.punct(",") {
                        names.push(self.string()?);
                    }
                    ObjectProp::Alias(exact(names))
                } else {
                    break;
                };
                self.object_props.push(Spanned::new(prop, self.span(pm)));
            }
            self.expect("}")?;
        }
        Some(Item::Object(Object {
            name,
            props: self.object_props.drain(..).collect(),
            span: self.span(m),
        }))
    }

    fn fallback_list(&mut self) -> Option<Vec<Spanned<FallbackSource>>> {
        let sources = [
            ("working_org", FallbackSource::WorkingOrg),
            ("default_org", FallbackSource::DefaultOrg),
            ("single_org", FallbackSource::SingleOrg),
            ("unlabeled", FallbackSource::Unlabeled),
        ];
        self.word_list(&sources, ",")
    }

    fn service(&mut self, m: Mark, legacy: bool) -> Option<Item> {
        let name = self.ident()?;
        self.expect("{")?;
        let mut endpoints = Vec::new();
        loop {
            let em = self.mark();
            if !self.kw("endpoint") {
                break;
            }
            let methods = self.methods()?;
            let path = self.path()?;
            let mut props = Vec::new();
            if self.punct("{") {
                loop {
                    let pm = self.mark();
                    let prop = if self.kw("org_id") {
                        let location = self.spanned_one_of(&[
                            ("path", Location::Path),
                            ("query", Location::Query),
                            ("body", Location::Body),
                            ("header", Location::Header),
                        ])?;
                        let name = self.header_name()?;
                        EndpointProp::OrgId { location, name }
                    } else if self.kw("unscoped") {
                        EndpointProp::Unscoped
                    } else if self.kw("justification") {
                        EndpointProp::Justification(self.string()?.node)
                    } else {
                        break;
                    };
                    props.push(Spanned::new(prop, self.span(pm)));
                }
                self.expect("}")?;
            }
            endpoints.push(Endpoint {
                methods,
                path,
                props: exact(props),
                span: self.span(em),
            });
        }
        self.expect("}")?;
        Some(Item::Service(Service {
            legacy,
            name,
            endpoints: exact(endpoints),
            span: self.span(m),
        }))
    }

    /// `target = action ~ (t_type | object_name)? ~ (t_id | t_objects)*`.
    fn target(&mut self) -> Option<Box<Target>> {
        let action = self.spanned_one_of(&[
            ("query", Action::Query),
            ("create", Action::Create),
            ("read", Action::Read),
            ("update", Action::Update),
            ("delete", Action::Delete),
        ])?;
        let om = self.mark();
        let object = if let Some(field) = self.keyword_field("type") {
            Some(ObjectRef::FromField(Box::new(field)))
        } else if self.at_option() {
            None
        } else {
            self.try_ident().map(ObjectRef::Named)
        }
        .map(|o| Spanned::new(o, self.span(om)));
        self.opts.clear();
        loop {
            let pm = self.mark();
            let opt = if self.kw("id") {
                TargetOpt::Id(self.field()?)
            } else if self.kw("objects") {
                TargetOpt::Objects(self.field()?)
            } else {
                break;
            };
            self.opts.push(Spanned::new(opt, self.span(pm)));
        }
        Some(Box::new(Target {
            action,
            object,
            opts: self.opts.drain(..).collect(),
        }))
    }

    /// `word ~ field` read when both are here; otherwise nothing is read.
    fn keyword_field(&mut self, word: &str) -> Option<Field> {
        if !self.at_kw(word) {
            return None;
        }
        let before = self.cur;
        self.advance(self.cur.pos + word.len());
        let field = self.field();
        if field.is_none() {
            self.cur = before;
        }
        field
    }

    /// `object_name`'s lookahead: `id FIELD` or `objects FIELD` starts here (and is an option,
    /// not an object type).
    fn at_option(&mut self) -> bool {
        let before = self.cur;
        let found = (self.kw("id") || self.kw("objects")) && self.field_end().is_some();
        self.cur = before;
        found
    }

    fn methods(&mut self) -> Option<Vec<Spanned<Method>>> {
        let methods = [
            ("GET", Method::Get),
            ("POST", Method::Post),
            ("PUT", Method::Put),
            ("PATCH", Method::Patch),
            ("DELETE", Method::Delete),
            ("HEAD", Method::Head),
            ("OPTIONS", Method::Options),
        ];
        self.word_list(&methods, "|")
    }

    /// One or more of `words`, separated by `sep`.
    fn word_list<T: Copy>(&mut self, words: &[(&str, T)], sep: &str) -> Option<Vec<Spanned<T>>> {
        let mut list = Vec::with_capacity(1);
        loop {
            list.push(self.spanned_one_of(words)?);
            if !self.punct(sep) {
                return Some(exact(list));
            }
        }
    }

    /// `path_template = ${ ("/" ~ path_segment?)+ }`.
    fn path(&mut self) -> Option<PathTemplate> {
        let m = self.mark();
        let mut i = self.cur.pos;
        while self.at(i) == b'/' {
            i += 1;
            if self.at(i) == b'{' {
                // `path_param`; when it does not close, the segment is empty (a `{` is no
                // literal character) and the template ends there.
                let first = self.at(i + 1);
                if first.is_ascii_alphabetic() || first == b'_' {
                    let end = self.run(i + 2, is_ident_char);
                    if self.at(end) == b'}' {
                        i = end + 1;
                    }
                }
            } else {
                while is_literal_char(self.at(i)) && !(self.at(i) == b'-' && self.at(i + 1) == b'>')
                {
                    i += 1;
                }
            }
        }
        let text = self.slice(m.at, i).filter(|t| !t.is_empty())?;
        let segments = segments(text);
        self.advance(i);
        Some(PathTemplate {
            segments,
            span: self.span(m),
        })
    }

    /// The end of a `field` starting here, if one does.
    fn field_end(&self) -> Option<usize> {
        let rest = self.b.get(self.cur.pos..)?;
        let root = ["body", "path", "query"]
            .into_iter()
            .find(|r| rest.starts_with(r.as_bytes()))?;
        let mut end = self.cur.pos + root.len();
        while self.at(end) == b'.' && is_field_char(self.at(end + 1)) {
            end = self.run(end + 1, is_field_char);
        }
        (end > self.cur.pos + root.len()).then_some(end)
    }

    fn field(&mut self) -> Option<Field> {
        let m = self.mark();
        let end = self.field_end()?;
        let text = self.slice(m.at, end)?;
        let (root, keys) = text.split_once('.')?;
        let root = match root {
            "body" => FieldRoot::Body,
            "path" => FieldRoot::Path,
            _ => FieldRoot::Query,
        };
        let mut list = Vec::with_capacity(1 + memchr::memchr_iter(b'.', keys.as_bytes()).count());
        list.extend(keys.split('.').map(str::to_string));
        self.advance(end);
        Some(Field {
            root,
            keys: list,
            span: self.span(m),
        })
    }

    /// `ident`, read when one is here; otherwise nothing is read.
    fn try_ident(&mut self) -> Option<String> {
        let first = self.at(self.cur.pos);
        if !(first.is_ascii_alphabetic() || first == b'_') {
            return None;
        }
        let end = self.run(self.cur.pos, is_ident_char);
        let word = self.slice(self.cur.pos, end)?;
        if super::is_reserved(word) {
            return None;
        }
        let word = word.to_string();
        self.advance(end);
        Some(word)
    }

    fn ident(&mut self) -> Option<Name> {
        let m = self.mark();
        let word = self.try_ident()?;
        Some(Spanned::new(word, self.span(m)))
    }

    /// `name = ident | string`.
    fn name(&mut self) -> Option<Name> {
        if self.at(self.cur.pos) == b'"' {
            self.string()
        } else {
            self.ident()
        }
    }

    /// `header_name = string | bare_header`.
    fn header_name(&mut self) -> Option<Name> {
        if self.at(self.cur.pos) == b'"' {
            return self.string();
        }
        let m = self.mark();
        if !self.at(self.cur.pos).is_ascii_alphabetic() {
            return None;
        }
        let end = self.run(self.cur.pos + 1, is_field_char);
        let word = self.slice(self.cur.pos, end)?.to_string();
        self.advance(end);
        Some(Spanned::new(word, self.span(m)))
    }

    /// `string`, unescaped; its span covers the quotes.
    fn string(&mut self) -> Option<Spanned<String>> {
        let m = self.mark();
        if self.at(self.cur.pos) != b'"' {
            return None;
        }
        let body = self.cur.pos + 1;
        let mut i = body;
        loop {
            match self.at(i) {
                b'"' if i < self.b.len() => break,
                b'\\' if matches!(self.at(i + 1), b'"' | b'\\' | b'n' | b't') => i += 2,
                b'\\' | b'\n' => return None,
                _ if i >= self.b.len() => return None,
                _ => i += 1,
            }
        }
        let value = unescape(self.slice(body, i)?);
        self.advance(i + 1);
        Some(Spanned::new(value, self.span(m)))
    }

    /// `number = ASCII_DIGIT{1,18} ~ !ASCII_DIGIT`.
    fn number(&mut self) -> Option<u64> {
        let end = self.run(self.cur.pos, |c| c.is_ascii_digit());
        if !(1..=18).contains(&(end - self.cur.pos)) {
            return None;
        }
        let n = self.slice(self.cur.pos, end)?.parse().ok()?;
        self.advance(end);
        Some(n)
    }
}

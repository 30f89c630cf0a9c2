//! Stage 2 — the abstract syntax tree: what a policy file says, every node with its span.
//!
//! The tree keeps declarations and their properties in source order (the formatter and the
//! checker's "duplicate" diagnostics need it); turning it into something fast to evaluate is
//! `compile`'s job. Node equality ignores spans, so two parses of differently laid-out text
//! compare equal when they say the same thing; spans themselves compare positions.

use std::fmt;

/// A region of a policy file: byte offsets plus the 1-based line and column of its start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset one past the last character.
    pub end: usize,
    /// 1-based line of `start`.
    pub line: u32,
    /// 1-based column (in characters) of `start`.
    pub col: u32,
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A value together with the span it was written at. Equality compares the value only: two
/// parses of differently laid-out text are equal when they say the same thing (as Cedar's
/// `Node<T>`); a [`Span`] on its own compares positions.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    /// The value.
    pub node: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    pub(crate) fn new(node: T, span: Span) -> Self {
        Spanned { node, span }
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node
    }
}

impl<T: Eq> Eq for Spanned<T> {}

/// Equality for a node with a `span` field: every other field compared, the span ignored. The
/// destructuring is exhaustive, so a field added to the node without being listed here does not
/// compile (it cannot be silently left out of equality).
macro_rules! eq_ignoring_span {
    ($($node:ident { $($field:ident),* })*) => {$(
        impl PartialEq for $node {
            fn eq(&self, other: &Self) -> bool {
                let $node { $($field,)* span: _ } = self;
                true $(&& *$field == other.$field)*
            }
        }

        impl Eq for $node {}
    )*};
}

eq_ignoring_span! {
    MultiOrg { props }
    Orgs { entries }
    OrgDecl { name, props }
    Header { name, props }
    Object { name, props }
    Fallback { sources }
    Route { methods, path, target }
    DefaultRoute { target }
    PathTemplate { segments }
    Service { legacy, name, endpoints }
    Endpoint { methods, path, props }
    Field { root, keys }
}

/// A name as written: an identifier or a quoted string, unquoted and unescaped.
pub type Name = Spanned<String>;

/// A whole policy file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Policy {
    /// Top-level items in source order.
    pub items: Vec<Item>,
    /// Top-level declarations that did not parse, in source order.
    pub broken: Vec<Broken>,
}

/// A top-level declaration with a syntax error, dropped from [`Policy::items`]. The checker
/// takes what it declares as declared, so one syntax error does not cascade into "unknown"
/// errors at every reference to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// Its keyword: `object`, `header`, `orgs`...
    pub keyword: String,
    /// The name after the keyword, when it has one.
    pub name: Option<String>,
}

/// One top-level declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// `multi_org { ... }`
    MultiOrg(MultiOrg),
    /// `orgs { ... }`
    Orgs(Orgs),
    /// `header NAME { ... }`
    Header(Header),
    /// `object NAME { ... }`
    Object(Object),
    /// `fallback SOURCE, ...` — the default create fallbacks.
    Fallback(Fallback),
    /// `route METHODS PATH -> TARGET`
    Route(Route),
    /// `default -> TARGET`
    DefaultRoute(DefaultRoute),
    /// `[legacy] service NAME { endpoint ... }`
    Service(Service),
}

impl Item {
    /// The span of the whole item.
    pub fn span(&self) -> Span {
        match self {
            Item::MultiOrg(x) => x.span,
            Item::Orgs(x) => x.span,
            Item::Header(x) => x.span,
            Item::Object(x) => x.span,
            Item::Fallback(x) => x.span,
            Item::Route(x) => x.span,
            Item::DefaultRoute(x) => x.span,
            Item::Service(x) => x.span,
        }
    }
}

/// The Multi-Org switch.
#[derive(Debug, Clone)]
pub struct MultiOrg {
    /// Properties in source order.
    pub props: Vec<Spanned<MultiOrgProp>>,
    /// The whole block.
    pub span: Span,
}

/// A property of the `multi_org` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultiOrgProp {
    /// `default enabled|disabled`: the tenant default when a request does not say.
    Default(bool),
    /// `when_disabled reject|ignore`: what to do with org headers when Multi-Org is off.
    WhenDisabled(DisabledMode),
    /// `lookalike_headers reject|ignore`: what to do with a header one edit away from a
    /// declared org header, which is otherwise ignored and so widens a query.
    LookalikeHeaders(DisabledMode),
}

/// What a request does with org headers it should not send (Multi-Org off, or a look-alike of
/// a declared org header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisabledMode {
    /// Deny (`multi_org_disabled`, or `invalid_request` for a look-alike header).
    Reject,
    /// Drop the headers and go on (the decision carries a warning).
    Ignore,
}

/// The org directory.
#[derive(Debug, Clone)]
pub struct Orgs {
    /// Entries in source order.
    pub entries: Vec<OrgsEntry>,
    /// The whole block.
    pub span: Span,
}

/// An entry of the `orgs` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgsEntry {
    /// `descendant_access on|off`
    DescendantAccess(Spanned<bool>),
    /// `org NAME [id "..."] [parent NAME]`
    Org(OrgDecl),
}

/// One org of the directory.
#[derive(Debug, Clone)]
pub struct OrgDecl {
    /// The org's name, used in decisions.
    pub name: Name,
    /// `id` and `parent` properties in source order.
    pub props: Vec<Spanned<OrgProp>>,
    /// The whole declaration.
    pub span: Span,
}

/// A property of an org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgProp {
    /// `id "..."`: another string a request may use for this org.
    Id(String),
    /// `parent NAME`
    Parent(Name),
}

/// A header declaration.
#[derive(Debug, Clone)]
pub struct Header {
    /// The header name as written (matched case-insensitively).
    pub name: Name,
    /// Properties in source order.
    pub props: Vec<Spanned<HeaderProp>>,
    /// The whole declaration.
    pub span: Span,
}

/// A property of a header declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderProp {
    /// `role ...`
    Role(Role),
    /// `list`: a comma list of orgs.
    List,
    /// `single`: one org.
    Single,
    /// `subset_of user.orgs`
    SubsetOfUserOrgs,
    /// `member_of user.orgs`
    MemberOfUserOrgs,
    /// `max_items N`
    MaxItems(u64),
    /// `max_length N` (bytes of the whole header value)
    MaxLength(u64),
}

/// What a header means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Narrows the visible set (`Zuora-Org-Ids`).
    Visibility,
    /// Default org for creates (`Zuora-Working-Org`).
    WorkingOrg,
    /// Carries the org ID of an org-scoped endpoint (`Organization-ID`).
    OrgId,
}

impl Role {
    /// The keyword for this role.
    pub fn keyword(self) -> &'static str {
        match self {
            Role::Visibility => "visibility",
            Role::WorkingOrg => "working_org",
            Role::OrgId => "org_id",
        }
    }
}

/// An object type.
#[derive(Debug, Clone)]
pub struct Object {
    /// The type's name.
    pub name: Name,
    /// Properties in source order.
    pub props: Vec<Spanned<ObjectProp>>,
    /// The whole declaration.
    pub span: Span,
}

impl Object {
    /// How many aliases the type declares: with its name, the keys it adds to a type index.
    pub(crate) fn alias_count(&self) -> usize {
        self.props
            .iter()
            .map(|p| match &p.node {
                ObjectProp::Alias(a) => a.len(),
                _ => 0,
            })
            .sum()
    }
}

/// A property of an object type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectProp {
    /// `label FIELD`: the explicit label field.
    Label(Field),
    /// `inherit PARENT via FIELD [optional]`
    Inherit(Inherit),
    /// `shared`: tenant-wide, never labeled.
    Shared,
    /// `fallback SOURCE, ...`: overrides the policy's default fallbacks.
    Fallback(Vec<Spanned<FallbackSource>>),
    /// `alias "Name", ...`: other names a request may use for this type.
    Alias(Vec<Spanned<String>>),
}

/// An inheritance rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inherit {
    /// The parent object type.
    pub parent: Name,
    /// Where the parent's id is.
    pub via: Field,
    /// When true a create without the reference goes on to the fallbacks instead of
    /// `parent_required`.
    pub optional: bool,
}

/// Where a create's org may come from after explicit labels and inheritance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FallbackSource {
    /// The working-org header.
    WorkingOrg,
    /// The user's `default_org`.
    DefaultOrg,
    /// The user's only org, when there is exactly one.
    SingleOrg,
    /// Leave the object unlabeled.
    Unlabeled,
}

impl FallbackSource {
    /// The keyword for this source.
    pub fn keyword(self) -> &'static str {
        match self {
            FallbackSource::WorkingOrg => "working_org",
            FallbackSource::DefaultOrg => "default_org",
            FallbackSource::SingleOrg => "single_org",
            FallbackSource::Unlabeled => "unlabeled",
        }
    }
}

/// The policy-wide `fallback` list.
#[derive(Debug, Clone)]
pub struct Fallback {
    /// Sources in order.
    pub sources: Vec<Spanned<FallbackSource>>,
    /// The whole statement.
    pub span: Span,
}

/// A route: which requests it matches and what they do.
#[derive(Debug, Clone)]
pub struct Route {
    /// HTTP methods.
    pub methods: Vec<Spanned<Method>>,
    /// The path template.
    pub path: PathTemplate,
    /// Action and object, boxed: a route is then about as large as an object type, and a
    /// large policy's item list takes the size of its largest item for every item.
    pub target: Box<Target>,
    /// The whole route.
    pub span: Span,
}

/// `default -> TARGET`: what unmatched requests do.
#[derive(Debug, Clone)]
pub struct DefaultRoute {
    /// Action and object (boxed, as a route's).
    pub target: Box<Target>,
    /// The whole statement.
    pub span: Span,
}

/// What a route does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The action.
    pub action: Spanned<Action>,
    /// The object type, named or read from the request.
    pub object: Option<Spanned<ObjectRef>>,
    /// `id FIELD` and `objects FIELD`, in source order.
    pub opts: Vec<Spanned<TargetOpt>>,
}

/// How a route names its object type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectRef {
    /// A declared object type.
    Named(String),
    /// `type FIELD`: the type's name (or alias) is in the request. Boxed: it is rare, and
    /// a named type is then as small as its name.
    FromField(Box<Field>),
}

/// An option of a route target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetOpt {
    /// `id FIELD`: where the target object's id is.
    Id(Field),
    /// `objects FIELD`: an array of objects to create, one label each.
    Objects(Field),
}

/// What a request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// List or search.
    Query,
    /// Create one or more objects.
    Create,
    /// Read one object by id.
    Read,
    /// Update one object by id.
    Update,
    /// Delete one object by id.
    Delete,
}

impl Action {
    /// The keyword (and JSON name) of this action.
    pub fn keyword(self) -> &'static str {
        match self {
            Action::Query => "query",
            Action::Create => "create",
            Action::Read => "read",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }

    /// Whether the action works on one existing object named by id.
    pub fn is_by_id(self) -> bool {
        matches!(self, Action::Read | Action::Update | Action::Delete)
    }
}

/// An HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
    /// HEAD
    Head,
    /// OPTIONS
    Options,
}

impl Method {
    /// All methods, in index order.
    pub const ALL: [Method; 7] = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Head,
        Method::Options,
    ];

    /// The method's name in upper case.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
        }
    }

    /// Parses a method name, ignoring case.
    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s))
    }
}

/// A path template such as `/v1/accounts/{accountId}`.
#[derive(Debug, Clone)]
pub struct PathTemplate {
    /// The segments between slashes (`/` alone has none).
    pub segments: Vec<Segment>,
    /// Where it was written.
    pub span: Span,
}

impl fmt::Display for PathTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segments.is_empty() {
            return f.write_str("/");
        }
        for s in &self.segments {
            match s {
                Segment::Literal(l) => write!(f, "/{l}")?,
                Segment::Param(p) => write!(f, "/{{{p}}}")?,
            }
        }
        Ok(())
    }
}

/// A path segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// Matches itself exactly.
    Literal(String),
    /// `{name}`: matches any one non-empty segment.
    Param(String),
}

/// A service, for the organization-ID placement rules.
#[derive(Debug, Clone)]
pub struct Service {
    /// `legacy service`: may keep an `Organization-ID` header.
    pub legacy: bool,
    /// The service's name.
    pub name: Name,
    /// Endpoints in source order.
    pub endpoints: Vec<Endpoint>,
    /// The whole block.
    pub span: Span,
}

/// An endpoint of a service.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// HTTP methods.
    pub methods: Vec<Spanned<Method>>,
    /// The path template.
    pub path: PathTemplate,
    /// Properties in source order.
    pub props: Vec<Spanned<EndpointProp>>,
    /// The whole declaration.
    pub span: Span,
}

/// A property of an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointProp {
    /// `org_id LOCATION NAME`: where the org ID is carried.
    OrgId {
        /// path, query, body or header.
        location: Spanned<Location>,
        /// The parameter, field or header name.
        name: Name,
    },
    /// `unscoped`: the endpoint is not org-scoped.
    Unscoped,
    /// `justification "..."`: why the org ID is in the query or body.
    Justification(String),
}

/// Where a request carries a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Location {
    /// A path parameter.
    Path,
    /// A query parameter.
    Query,
    /// A top-level JSON body field.
    Body,
    /// A header.
    Header,
}

impl Location {
    /// The keyword for this location.
    pub fn keyword(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Body => "body",
            Location::Header => "header",
        }
    }
}

/// A field reference such as `body.accountId` or `path.accountId`.
#[derive(Debug, Clone)]
pub struct Field {
    /// Which part of the request.
    pub root: FieldRoot,
    /// The keys below the root (at least one).
    pub keys: Vec<String>,
    /// Where it was written.
    pub span: Span,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.root {
            FieldRoot::Body => "body",
            FieldRoot::Path => "path",
            FieldRoot::Query => "query",
        })?;
        for k in &self.keys {
            write!(f, ".{k}")?;
        }
        Ok(())
    }
}

/// The part of a request a field reference starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldRoot {
    /// The JSON body (for multi-object creates: each element of the objects array).
    Body,
    /// A path parameter of the matched template.
    Path,
    /// A query parameter.
    Query,
}

//! Stage 4 — compile: a checked AST → the indexed form the evaluator runs on (orgs interned,
//! object types indexed by name and alias, routes and endpoints in a per-method segment trie).

pub(crate) mod orgset;
use crate::diag::Source;
use crate::syntax::ast::{self, *};
use rustc_hash::FxHashMap as HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;

/// Index of an org in the directory.
pub(crate) type OrgIdx = u32;
/// Index of an object type.
pub(crate) type TypeIdx = u32;
/// Index into [`Compiled::rules`].
pub(crate) type RuleId = u32;

/// A policy ready to evaluate. Built once; evaluation only reads it.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub limits: crate::Limits,
    /// `file:line:col` of every rule a decision can name.
    pub rules: Rules,
    pub multi_org_default: bool,
    pub when_disabled: DisabledMode,
    /// `lookalike_headers`, with the rule that set it.
    pub lookalike_headers: (DisabledMode, Option<RuleId>),
    pub multi_org_rule: Option<RuleId>,
    pub directory: Option<Directory>,
    pub headers: Vec<HeaderRule>,
    pub visibility: Option<usize>,
    pub working_org: Option<usize>,
    pub objects: Vec<ObjectType>,
    /// Keyed by bytes, so a key built on the stack needs no UTF-8 check (see `resolve_type`).
    types_by_key: HashMap<Box<[u8]>, TypeIdx>,
    /// The keys of `types_by_key` most requests use, found with one comparison.
    type_front: Front,
    pub routes: Router<RouteRule>,
    pub default_route: Option<RouteRule>,
    pub endpoints: Router<EndpointRule>,
}

/// The org directory, interned.
#[derive(Debug)]
pub(crate) struct Directory {
    pub names: Vec<Arc<str>>,
    by_key: HashMap<Box<str>, OrgIdx>,
    /// The keys of `by_key` in front of it, when there are few (else empty).
    front: Front,
    /// The hierarchy (empty unless `descendant_access on`).
    tree: Tree,
}

/// Up to this many names and ids a directory has a [`Front`]: most would find their slot.
const FRONT_KEYS: usize = 64;

impl Directory {
    /// The org a request names, by name or id.
    pub fn resolve(&self, s: &str) -> Option<OrgIdx> {
        match self.front.get(s.as_bytes()) {
            Some(found) => found,
            None => self.hashed(s),
        }
    }

    /// Whether every name is looked up in the hash map ([`Self::hashed`]): no front.
    pub fn hashes(&self) -> bool {
        self.front.is_empty()
    }

    /// The org of a name or id, in the hash map. Not inlined: a loop over thousands of names
    /// calls it alone, without the registers of the front.
    #[inline(never)]
    pub fn hashed(&self, s: &str) -> Option<OrgIdx> {
        self.by_key.get(s).copied()
    }

    pub fn name(&self, i: OrgIdx) -> Option<&Arc<str>> {
        self.names.get(i as usize)
    }

    /// The descendants of org `i` (none unless `descendant_access on`).
    pub fn descendants(&self, i: OrgIdx) -> &[OrgIdx] {
        self.tree.descendants(i)
    }
}

#[derive(Debug)]
pub(crate) struct HeaderRule {
    pub name: String,
    /// `name` in lower case, as parsed request headers are named.
    pub key: String,
    pub role: Role,
    pub list: bool,
    pub max_items: Option<u64>,
    pub max_length: Option<u64>,
    pub rule: RuleId,
    /// The access constraint's rule (`subset_of user.orgs`), or the header's.
    pub access_rule: RuleId,
}

#[derive(Debug)]
pub(crate) struct ObjectType {
    pub name: Arc<str>,
    pub label: Option<(FieldPath, RuleId)>,
    pub inherits: Box<[InheritRule]>,
    pub shared: bool,
    pub fallbacks: Box<[(FallbackSource, RuleId)]>,
    pub rule: RuleId,
}

#[derive(Debug)]
pub(crate) struct InheritRule {
    pub parent: TypeIdx,
    pub via: FieldPath,
    pub optional: bool,
    pub rule: RuleId,
}

/// A compiled field reference.
#[derive(Debug)]
pub(crate) struct FieldPath {
    pub root: FieldRoot,
    pub keys: Box<[String]>,
    /// As written, for messages.
    pub text: Box<str>,
}

impl From<ast::Field> for FieldPath {
    fn from(f: ast::Field) -> Self {
        FieldPath {
            root: f.root,
            text: f.to_string().into_boxed_str(),
            keys: f.keys.into_boxed_slice(),
        }
    }
}

/// The object type of a route; a type read from the request is rare, so it is boxed.
#[derive(Debug)]
pub(crate) enum ObjSpec {
    None,
    Named(TypeIdx),
    FromField(Box<FieldPath>),
}

/// A compiled route. Texts are boxed slices, without a growing vector's slack: a large policy
/// holds one per route.
#[derive(Debug)]
pub(crate) struct RouteRule {
    pub action: Action,
    pub object: ObjSpec,
    pub id: Option<FieldPath>,
    pub objects: Option<Box<FieldPath>>,
    /// Parameter name of each template segment (None for literals).
    pub params: Box<[Option<String>]>,
    pub template: Box<str>,
    pub rule: RuleId,
}

#[derive(Debug)]
pub(crate) struct EndpointRule {
    pub scoped: bool,
    pub org_id: Option<(Location, String)>,
    pub params: Box<[Option<String>]>,
    pub template: Box<str>,
    pub service: Box<str>,
    pub rule: RuleId,
    pub org_id_rule: RuleId,
}

/// Routes (or endpoints) indexed by method, then path segment: a lookup walks the request's
/// segments once, whatever the number of routes.
#[derive(Debug)]
pub(crate) struct Router<T> {
    nodes: Vec<Node>,
    entries: Vec<T>,
}

/// A large policy has a node per route: links are `NonZeroU32`s, which `Option` keeps at four
/// bytes. A child is never the root, node 0; an entry is stored as its index plus one.
#[derive(Debug, Default)]
struct Node {
    literals: Literals,
    param: Option<NonZeroU32>,
    ends: [Option<NonZeroU32>; Method::ALL.len()],
}

/// Up to this many literal children, comparing each costs less than hashing the segment.
const FEW_LITERALS: usize = 8;

/// A node's literal children: most nodes have a few, scanned; more are hashed.
#[derive(Debug)]
enum Literals {
    Few(Vec<(Box<str>, NonZeroU32)>),
    Many(HashMap<Box<str>, NonZeroU32>),
}

impl Default for Literals {
    fn default() -> Self {
        Literals::Few(Vec::new())
    }
}

impl Literals {
    fn get(&self, segment: &str) -> Option<NonZeroU32> {
        match self {
            Literals::Few(few) => few
                .iter()
                .find(|(l, _)| same_bytes(l.as_bytes(), segment.as_bytes()))
                .map(|&(_, c)| c),
            Literals::Many(many) => many.get(segment).copied(),
        }
    }

    fn insert(&mut self, segment: &str, child: NonZeroU32) {
        match self {
            Literals::Few(few) if few.len() < FEW_LITERALS => few.push((segment.into(), child)),
            Literals::Few(few) => {
                let mut many: HashMap<_, _> = std::mem::take(few).into_iter().collect();
                many.insert(segment.into(), child);
                *self = Literals::Many(many);
            }
            Literals::Many(many) => {
                many.insert(segment.into(), child);
            }
        }
    }
}

impl<T> Default for Router<T> {
    fn default() -> Self {
        Router {
            nodes: vec![Node::default()],
            entries: Vec::new(),
        }
    }
}

impl<T> Router<T> {
    /// Room for `n` more entries, so that a large policy's rules are not copied as they grow.
    fn reserve(&mut self, n: usize) {
        self.entries.reserve_exact(n);
    }

    /// Gives back the nodes' growing room once every entry is in.
    fn shrink_to_fit(&mut self) {
        self.nodes.shrink_to_fit();
        for n in &mut self.nodes {
            if let Literals::Few(few) = &mut n.literals {
                few.shrink_to_fit();
            }
        }
    }

    /// Adds `entry` under `path` for `methods`; past `u32::MAX - 1` nodes or entries (far
    /// beyond any policy the limits admit) it is not reachable.
    fn insert(&mut self, methods: &[Spanned<Method>], path: &[Segment], entry: T) {
        let Some(end) = link(self.entries.len()) else {
            return;
        };
        self.entries.push(entry);
        let mut node = 0usize;
        for seg in path {
            let next_free = u32::try_from(self.nodes.len())
                .ok()
                .and_then(NonZeroU32::new);
            let Some((n, next_free)) = self.nodes.get_mut(node).zip(next_free) else {
                return;
            };
            let (slot, created) = match seg {
                Segment::Literal(l) => match n.literals.get(l) {
                    Some(c) => (c, false),
                    None => {
                        n.literals.insert(l, next_free);
                        (next_free, true)
                    }
                },
                Segment::Param(_) => match n.param {
                    Some(c) => (c, false),
                    None => {
                        n.param = Some(next_free);
                        (next_free, true)
                    }
                },
            };
            if created {
                self.nodes.push(Node::default());
            }
            node = slot.get() as usize;
        }
        if let Some(n) = self.nodes.get_mut(node) {
            for m in methods {
                if let Some(slot) = n.ends.get_mut(m.node as usize) {
                    // The checker rejects duplicates; the first declaration wins regardless.
                    slot.get_or_insert(end);
                }
            }
        }
    }

    /// The entry matching `method` and the path's segments. Literal segments are preferred
    /// over parameters, backtracking when a literal branch leads nowhere.
    pub fn find(&self, method: Method, segments: Segments<'_>) -> Option<&T> {
        // Most policies declare routes or endpoints, not both: no walk for the one left empty.
        if self.entries.is_empty() {
            return None;
        }
        let end = self.walk(0, method, segments)?;
        self.entries.get(end.get() as usize - 1)
    }

    fn walk(&self, node: u32, method: Method, mut segments: Segments<'_>) -> Option<NonZeroU32> {
        let n = self.nodes.get(node as usize)?;
        let Some(first) = segments.next() else {
            return n.ends.get(method as usize).copied().flatten();
        };
        if let Some(found) = n
            .literals
            .get(first)
            .and_then(|c| self.walk(c.get(), method, segments))
        {
            return Some(found);
        }
        if first.is_empty() {
            return None;
        }
        n.param.and_then(|c| self.walk(c.get(), method, segments))
    }
}

/// The link to entry `i`, its index plus one (see [`Node`]).
fn link(i: usize) -> Option<NonZeroU32> {
    u32::try_from(i)
        .ok()?
        .checked_add(1)
        .and_then(NonZeroU32::new)
}

/// The segments of a request path (after its leading `/`), split lazily: matching a route
/// allocates nothing.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Segments<'a> {
    rest: Option<&'a str>,
}

impl<'a> Segments<'a> {
    /// `path` without its leading `/`; the empty string is the root, which has no segments.
    pub fn new(path: &'a str) -> Self {
        Segments {
            rest: (!path.is_empty()).then_some(path),
        }
    }
}

impl<'a> Iterator for Segments<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        // A byte loop: segments are short, and `split_once` sets up a searcher for each.
        match rest.bytes().position(|b| b == b'/') {
            Some(at) => {
                self.rest = rest.get(at + 1..);
                rest.get(..at)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

impl Compiled {
    /// The object type a request names (by name or alias, case- and `_`-insensitively).
    pub fn resolve_type(&self, name: &str) -> Option<TypeIdx> {
        if let Some(t) = self.type_front.get(name.as_bytes()) {
            return t;
        }
        // Most requests spell a type as declared, which compile made a key of its type (a key
        // is its own key: `type_key` keeps what it made), so a hit is the answer.
        if let Some(&t) = self.types_by_key.get(name.as_bytes()) {
            return Some(t);
        }
        // Other short ASCII names are keyed on the stack.
        let mut buf = [0u8; 64];
        if name.is_ascii() && name.len() <= buf.len() {
            // Every byte written, a dropped one overwritten by the next: no branch per byte.
            let mut len = 0;
            for b in name.bytes() {
                if let Some(slot) = buf.get_mut(len) {
                    *slot = b.to_ascii_lowercase();
                }
                len += usize::from(b != b'_' && b != b'-');
            }
            let key = buf.get(..len).unwrap_or_default();
            return self.types_by_key.get(key).copied();
        }
        self.types_by_key
            .get(crate::terms::type_key(name).as_bytes())
            .copied()
    }

    pub fn object(&self, t: TypeIdx) -> Option<&ObjectType> {
        self.objects.get(t as usize)
    }

    pub fn rule(&self, r: RuleId) -> Option<&str> {
        self.rules.get(r)
    }

    pub fn header(&self, i: Option<usize>) -> Option<&HeaderRule> {
        i.and_then(|i| self.headers.get(i))
    }
}

/// Keys (type names, org names and ids) in 256 slots chosen from their length and three of
/// their bytes, which tell most names apart, the first key to fall in a slot holding it: a
/// request names a handful, and a hit costs one comparison where a hash map costs a hash and a
/// probe. An empty slot holds the empty key, of nothing; a key that lost its slot is answered
/// by the map behind the front.
#[derive(Debug, Default)]
pub(crate) struct Front(Box<[FrontSlot]>);

/// A key of a [`Front`] and what it maps to.
type FrontSlot = (Box<[u8]>, Option<u32>);

impl Front {
    const SLOTS: usize = 256;

    fn new<'k>(keys: impl IntoIterator<Item = (&'k [u8], u32)>) -> Front {
        let mut slots = vec![(Box::<[u8]>::default(), None); Front::SLOTS];
        for (key, value) in keys {
            if let Some(slot) = slots.get_mut(Front::slot(key)) {
                if slot.1.is_none() {
                    *slot = (key.into(), Some(value));
                }
            }
        }
        Front(slots.into_boxed_slice())
    }

    fn slot(key: &[u8]) -> usize {
        let byte = |i: Option<&u8>| i.copied().map_or(0, usize::from);
        let (first, second, last) = (byte(key.first()), byte(key.get(1)), byte(key.last()));
        (key.len() * 7 + first * 3 + second * 5 + last * 11) % Front::SLOTS
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// What `key` maps to (`Some(None)`: to nothing), or None when the front cannot tell.
    #[inline]
    fn get(&self, key: &[u8]) -> Option<Option<u32>> {
        if self.is_empty() {
            return None;
        }
        match self.0.get(Front::slot(key)) {
            Some((k, value)) if same_bytes(k, key) => Some(*value),
            _ => None,
        }
    }
}

/// `a == b`, inline for keys of up to 16 bytes (names, ids, path segments): the slice
/// comparison calls `memcmp`, whose call costs more than the bytes of a short key.
#[inline]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    // Two loads that overlap when the length is not their double, so every byte is compared.
    let word = |s: &[u8], at: usize| s.get(at..at + 8).and_then(|w| w.try_into().ok());
    let half = |s: &[u8], at: usize| s.get(at..at + 4).and_then(|w| w.try_into().ok());
    match n {
        8..=16 => {
            word(a, 0).map(u64::from_ne_bytes) == word(b, 0).map(u64::from_ne_bytes)
                && word(a, n - 8).map(u64::from_ne_bytes) == word(b, n - 8).map(u64::from_ne_bytes)
        }
        4..=7 => {
            half(a, 0).map(u32::from_ne_bytes) == half(b, 0).map(u32::from_ne_bytes)
                && half(a, n - 4).map(u32::from_ne_bytes) == half(b, n - 4).map(u32::from_ne_bytes)
        }
        _ => a == b,
    }
}

/// Compiles a policy the checker accepted, taking its tree apart as it goes: what each
/// declaration held is dropped once compiled, so a large policy's tree and compiled form are
/// not both whole at once (the peak of a load). References the checker would have rejected
/// are skipped rather than trusted, so even an unchecked policy cannot make compilation panic.
pub(crate) fn compile(mut policy: ast::Policy, src: &Source, limits: crate::Limits) -> Compiled {
    let mut c = Compiled {
        limits,
        rules: Rules::default(),
        multi_org_default: true,
        when_disabled: DisabledMode::Reject,
        lookalike_headers: (DisabledMode::Ignore, None),
        multi_org_rule: None,
        directory: None,
        headers: Vec::new(),
        visibility: None,
        working_org: None,
        objects: Vec::new(),
        types_by_key: HashMap::default(),
        type_front: Front::default(),
        routes: Router::default(),
        default_route: None,
        endpoints: Router::default(),
    };
    let mut rules = RuleTable {
        file: src.name(),
        spans: Vec::new(),
    };

    // Object types first: routes and inheritance refer to them by index. The type map is sized
    // once for every name and alias: growing it would hold its old and new tables at once,
    // beside the whole tree (the peak of a load).
    let mut default_fallbacks = Box::default();
    let keys: usize = policy
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Object(o) => Some(1 + o.alias_count()),
            _ => None,
        })
        .sum();
    c.types_by_key.reserve(keys);
    let objects = policy.items.iter().filter(|i| matches!(i, Item::Object(_)));
    c.objects.reserve_exact(objects.count());
    // Declared spellings that are not their own key (`invoice_item`, `CreditMemo`).
    let mut spellings: Vec<&str> = Vec::new();
    for item in &policy.items {
        match item {
            Item::Object(o) => {
                let idx = c.objects.len() as TypeIdx;
                let aliases = o.props.iter().filter_map(|p| match &p.node {
                    ObjectProp::Alias(aliases) => Some(aliases.iter().map(|a| a.node.as_str())),
                    _ => None,
                });
                for name in std::iter::once(o.name.node.as_str()).chain(aliases.flatten()) {
                    let key = crate::terms::type_key(name);
                    if key != name {
                        spellings.push(name);
                    }
                    c.types_by_key.entry(key.into_bytes().into()).or_insert(idx);
                }
                c.objects.push(ObjectType {
                    name: Arc::from(o.name.node.as_str()),
                    label: None,
                    inherits: Box::default(),
                    shared: false,
                    fallbacks: Box::default(),
                    rule: rules.add(o.span),
                });
            }
            Item::Fallback(f) => default_fallbacks = fallbacks(&f.sources, &mut rules),
            _ => {}
        }
    }
    // A declared spelling is a key too, of the type its key names, so that `resolve_type`
    // finds it in one lookup. No spelling that differs from its key is one (`type_key` keeps
    // what it made), so this adds keys and changes none.
    c.types_by_key.reserve(spellings.len());
    for name in spellings {
        let key = crate::terms::type_key(name);
        if let Some(&t) = c.types_by_key.get(key.as_bytes()) {
            c.types_by_key.entry(name.as_bytes().into()).or_insert(t);
        }
    }
    c.type_front = Front::new(c.types_by_key.iter().map(|(k, &t)| (&**k, t)));
    let mut objects = policy.items.iter_mut().filter_map(|i| match i {
        Item::Object(o) => Some(o),
        _ => None,
    });
    for t in c.objects.iter_mut() {
        let Some(o) = objects.next() else { break };
        let mut inherits = Vec::new();
        let mut own_fallbacks = None;
        for p in std::mem::take(&mut o.props) {
            match p.node {
                ObjectProp::Label(f) => t.label = Some((FieldPath::from(f), rules.add(p.span))),
                ObjectProp::Inherit(inh) => {
                    if let Some(parent) = c
                        .types_by_key
                        .get(crate::terms::type_key(&inh.parent.node).as_bytes())
                    {
                        inherits.push(InheritRule {
                            parent: *parent,
                            via: FieldPath::from(inh.via),
                            optional: inh.optional,
                            rule: rules.add(p.span),
                        });
                    }
                }
                ObjectProp::Shared => t.shared = true,
                ObjectProp::Fallback(list) => own_fallbacks = Some(fallbacks(&list, &mut rules)),
                ObjectProp::Alias(_) => {}
            }
        }
        t.inherits = inherits.into_boxed_slice();
        t.fallbacks = own_fallbacks.unwrap_or_else(|| default_fallbacks.clone());
    }
    // What is left of the object types goes before the routes are compiled; the rest is taken
    // from the back (reversed once) so that the array can shrink as it empties.
    policy.items.retain(|i| !matches!(i, Item::Object(_)));
    policy.items.shrink_to_fit();
    // Reserved only now, once the object types' part of the tree is gone.
    let routes = policy.items.iter().filter(|i| matches!(i, Item::Route(_)));
    c.routes.reserve(routes.count());
    policy.items.reverse();
    while let Some(item) = policy.items.pop() {
        if policy.items.len() <= policy.items.capacity() / 2 {
            policy.items.shrink_to_fit();
        }
        match item {
            Item::MultiOrg(m) => {
                c.multi_org_rule = Some(rules.add(m.span));
                for p in &m.props {
                    match p.node {
                        MultiOrgProp::Default(on) => c.multi_org_default = on,
                        MultiOrgProp::WhenDisabled(mode) => c.when_disabled = mode,
                        MultiOrgProp::LookalikeHeaders(mode) => {
                            c.lookalike_headers = (mode, Some(rules.add(p.span)))
                        }
                    }
                }
            }
            Item::Orgs(o) => c.directory = Some(directory(&o)),
            Item::Header(h) => {
                let mut hr = HeaderRule {
                    key: h.name.node.to_ascii_lowercase(),
                    name: h.name.node,
                    role: Role::Visibility,
                    list: false,
                    max_items: None,
                    max_length: None,
                    rule: rules.add(h.span),
                    access_rule: 0,
                };
                hr.access_rule = hr.rule;
                let mut has_role = false;
                for p in &h.props {
                    match p.node {
                        HeaderProp::Role(r) => {
                            hr.role = r;
                            has_role = true;
                        }
                        HeaderProp::List => hr.list = true,
                        HeaderProp::Single => hr.list = false,
                        HeaderProp::SubsetOfUserOrgs | HeaderProp::MemberOfUserOrgs => {
                            hr.access_rule = rules.add(p.span)
                        }
                        HeaderProp::MaxItems(n) => hr.max_items = Some(n),
                        HeaderProp::MaxLength(n) => hr.max_length = Some(n),
                    }
                }
                if !has_role {
                    continue;
                }
                let i = c.headers.len();
                match hr.role {
                    Role::Visibility => {
                        c.visibility.get_or_insert(i);
                    }
                    Role::WorkingOrg => {
                        c.working_org.get_or_insert(i);
                    }
                    Role::OrgId => {}
                }
                c.headers.push(hr);
            }
            Item::Route(r) => {
                let entry = route_rule(&c, *r.target, Some(&r.path), rules.add(r.span));
                c.routes.insert(&r.methods, &r.path.segments, entry);
            }
            Item::DefaultRoute(d) => {
                let entry = route_rule(&c, *d.target, None, rules.add(d.span));
                c.default_route.get_or_insert(entry);
            }
            Item::Service(s) => {
                let service: Box<str> = s.name.node.into();
                for e in s.endpoints {
                    let mut scoped = true;
                    let mut org_id = None;
                    let mut org_id_span = e.span;
                    for p in e.props {
                        match p.node {
                            EndpointProp::Unscoped => scoped = false,
                            EndpointProp::OrgId { location, name } => {
                                org_id.get_or_insert((location.node, name.node));
                                org_id_span = p.span;
                            }
                            EndpointProp::Justification(_) => {}
                        }
                    }
                    let entry = EndpointRule {
                        scoped,
                        org_id,
                        params: params(&e.path),
                        template: e.path.to_string().into(),
                        service: service.clone(),
                        rule: rules.add(e.span),
                        org_id_rule: rules.add(org_id_span),
                    };
                    c.endpoints.insert(&e.methods, &e.path.segments, entry);
                }
            }
            Item::Object(_) | Item::Fallback(_) => {}
        }
    }
    c.routes.shrink_to_fit();
    c.endpoints.shrink_to_fit();
    c.rules = rules.finish();
    c
}

/// The `file:line:col` of every rule, in one string: a decision borrows its rule's location
/// from here, and a large policy keeps no allocation per rule.
#[derive(Debug, Default)]
pub(crate) struct Rules {
    text: String,
    /// Where each rule's location ends in `text` (it starts where the previous one ends).
    ends: Vec<usize>,
}

impl Rules {
    pub fn get(&self, r: RuleId) -> Option<&str> {
        let r = r as usize;
        let end = *self.ends.get(r)?;
        let start = match r.checked_sub(1) {
            Some(prev) => *self.ends.get(prev)?,
            None => 0,
        };
        self.text.get(start..end)
    }

    /// Every location, in the order the compiler numbered the rules.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.ends.len() as RuleId).filter_map(|r| self.get(r))
    }
}

/// Collects the position of every rule a decision may name, numbering them; their
/// `file:line:col` texts are written once all are known, in one allocation of the exact size
/// (a table grown while compiling was the load's peak, with its slack and its copies).
struct RuleTable<'a> {
    file: &'a str,
    spans: Vec<(u32, u32)>,
}

impl RuleTable<'_> {
    fn add(&mut self, span: Span) -> RuleId {
        self.spans.push((span.line, span.col));
        (self.spans.len() - 1) as RuleId
    }

    fn finish(self) -> Rules {
        let digits = |n: u32| n.checked_ilog10().map_or(1, |d| d as usize + 1);
        let size = self
            .spans
            .iter()
            .map(|&(line, col)| self.file.len() + 2 + digits(line) + digits(col))
            .sum();
        let mut rules = Rules {
            text: String::with_capacity(size),
            ends: Vec::with_capacity(self.spans.len()),
        };
        for (line, col) in self.spans {
            // Written by hand: `format!` costs a load about as much as everything else here.
            rules.text.push_str(self.file);
            for n in [line, col] {
                rules.text.push(':');
                push_decimal(&mut rules.text, n);
            }
            rules.ends.push(rules.text.len());
        }
        rules
    }
}

/// Appends `n` in decimal.
fn push_decimal(out: &mut String, n: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        if let Some(d) = digits.get_mut(at) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || at == 0 {
            break;
        }
    }
    for &d in digits.get(at..).unwrap_or_default() {
        out.push(char::from(d));
    }
}

/// Each source with the rule that lists it.
fn fallbacks(
    sources: &[Spanned<FallbackSource>],
    rules: &mut RuleTable<'_>,
) -> Box<[(FallbackSource, RuleId)]> {
    sources
        .iter()
        .map(|s| (s.node, rules.add(s.span)))
        .collect()
}

fn params(path: &PathTemplate) -> Box<[Option<String>]> {
    path.segments
        .iter()
        .map(|s| match s {
            Segment::Param(p) => Some(p.clone()),
            Segment::Literal(_) => None,
        })
        .collect()
}

fn route_rule(c: &Compiled, t: Target, path: Option<&PathTemplate>, rule: RuleId) -> RouteRule {
    let object = match t.object.map(|o| o.node) {
        None => ObjSpec::None,
        Some(ObjectRef::Named(n)) => c.resolve_type(&n).map_or(ObjSpec::None, ObjSpec::Named),
        Some(ObjectRef::FromField(f)) => ObjSpec::FromField(Box::new((*f).into())),
    };
    let mut id = None;
    let mut objects = None;
    for o in t.opts {
        match o.node {
            TargetOpt::Id(f) => id = Some(f.into()),
            TargetOpt::Objects(f) => objects = Some(Box::new(f.into())),
        }
    }
    RouteRule {
        action: t.action.node,
        object,
        id,
        objects,
        params: path.map(params).unwrap_or_default(),
        template: path.map_or_else(|| "default".into(), |p| p.to_string().into()),
        rule,
    }
}

fn directory(o: &Orgs) -> Directory {
    let mut names = Vec::new();
    let mut by_key: HashMap<Box<str>, OrgIdx> = HashMap::default();
    let mut parents: Vec<Option<&str>> = Vec::new();
    let mut descendant_access = false;
    for e in &o.entries {
        match e {
            OrgsEntry::DescendantAccess(on) => descendant_access = on.node,
            OrgsEntry::Org(d) => {
                let idx = names.len() as OrgIdx;
                names.push(Arc::from(d.name.node.as_str()));
                by_key.entry(d.name.node.as_str().into()).or_insert(idx);
                let mut parent = None;
                for p in &d.props {
                    match &p.node {
                        OrgProp::Id(id) => {
                            by_key.entry(id.as_str().into()).or_insert(idx);
                        }
                        OrgProp::Parent(n) => parent = Some(n.node.as_str()),
                    }
                }
                parents.push(parent);
            }
        }
    }
    let tree = if descendant_access {
        let parents: Vec<Option<OrgIdx>> = parents
            .iter()
            .map(|p| p.and_then(|n| by_key.get(n).copied()))
            .collect();
        Tree::new(&parents)
    } else {
        Tree::default()
    };
    let front = match by_key.len() {
        ..=FRONT_KEYS => Front::new(by_key.iter().map(|(k, &i)| (k.as_bytes(), i))),
        _ => Front::default(),
    };
    Directory {
        names,
        by_key,
        front,
        tree,
    }
}

/// The org hierarchy in depth-first pre-order: an org's descendants are the orgs listed right
/// after it, so every descendant set is a slice of one array (linear memory, however deep).
#[derive(Debug, Default)]
struct Tree {
    /// Every org, each one before its descendants.
    preorder: Vec<OrgIdx>,
    /// Per org: its position in `preorder` and the number of its descendants.
    span: Vec<(u32, u32)>,
}

impl Tree {
    /// The tree of `parents` (indexed by org). Parents out of range are roots; a cycle (which
    /// the checker rejects) is broken where the walk enters it, so building always terminates.
    fn new(parents: &[Option<OrgIdx>]) -> Tree {
        let n = parents.len();
        // Children as linked lists threaded through two arrays, in declaration order.
        let mut first_child: Vec<Option<OrgIdx>> = vec![None; n];
        let mut next_sibling: Vec<Option<OrgIdx>> = vec![None; n];
        let mut has_parent = vec![false; n];
        for (child, p) in parents.iter().enumerate().rev() {
            let Some(p) = p.filter(|&p| (p as usize) < n && p as usize != child) else {
                continue;
            };
            if let (Some(next), Some(first)) =
                (next_sibling.get_mut(child), first_child.get_mut(p as usize))
            {
                *next = *first;
                *first = Some(child as OrgIdx);
            }
            if let Some(h) = has_parent.get_mut(child) {
                *h = true;
            }
        }
        let mut tree = Tree {
            preorder: Vec::with_capacity(n),
            span: vec![(0, 0); n],
        };
        let mut visited = vec![false; n];
        // Roots first; then whatever only a cycle reaches.
        let roots = (0..n).filter(|&i| !has_parent.get(i).copied().unwrap_or(false));
        for start in roots.chain(0..n) {
            tree.walk(start as OrgIdx, &first_child, &next_sibling, &mut visited);
        }
        tree
    }

    /// Appends the subtree of `root` in pre-order, iteratively (a chain can be deep).
    fn walk(
        &mut self,
        root: OrgIdx,
        first_child: &[Option<OrgIdx>],
        next_sibling: &[Option<OrgIdx>],
        visited: &mut [bool],
    ) {
        // The orgs entered and not yet left, each with its next child to visit.
        let mut stack: Vec<(OrgIdx, Option<OrgIdx>)> = Vec::new();
        let mut enter = |tree: &mut Tree, o: OrgIdx, stack: &mut Vec<_>| {
            match visited.get_mut(o as usize) {
                Some(v) if !*v => *v = true,
                _ => return,
            }
            if let Some(s) = tree.span.get_mut(o as usize) {
                s.0 = tree.preorder.len() as u32;
            }
            tree.preorder.push(o);
            stack.push((o, first_child.get(o as usize).copied().flatten()));
        };
        enter(self, root, &mut stack);
        while let Some((o, next)) = stack.last_mut() {
            let o = *o;
            match *next {
                Some(c) => {
                    *next = next_sibling.get(c as usize).copied().flatten();
                    enter(self, c, &mut stack);
                }
                None => {
                    stack.pop();
                    let end = self.preorder.len() as u32;
                    if let Some(s) = self.span.get_mut(o as usize) {
                        s.1 = end - s.0 - 1;
                    }
                }
            }
        }
    }

    fn descendants(&self, i: OrgIdx) -> &[OrgIdx] {
        self.span
            .get(i as usize)
            .and_then(|&(at, n)| {
                let from = at as usize + 1;
                self.preorder.get(from..from + n as usize)
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::{push_decimal, same_bytes, Tree};
    use proptest::prelude::*;

    proptest! {
        /// Pairs of every length up to 20 that differ in at most one byte, anywhere.
        #[test]
        fn same_bytes_is_slice_equality(
            a in proptest::collection::vec(any::<u8>(), 0..20),
            at in any::<usize>(),
            flip in any::<u8>(),
            cut in any::<bool>(),
        ) {
            let mut b = a.clone();
            if let Some(n) = b.len().checked_sub(1) {
                b[at % (n + 1)] ^= flip;
            }
            if cut {
                b.pop();
            }
            prop_assert_eq!(same_bytes(&a, &b), a == b);
            prop_assert!(same_bytes(&a, &a));
        }
    }

    /// `resolve_type` takes a name found among the keys as its own key: that holds when
    /// `type_key` keeps every key it made, and it works char by char, so every char is tried.
    #[test]
    fn a_type_key_is_its_own_key() {
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            let key = crate::terms::type_key(c.encode_utf8(&mut [0; 4]));
            assert_eq!(crate::terms::type_key(&key), key, "{c:?}");
        }
    }

    #[test]
    fn decimals_are_written_like_display() {
        for n in [0, 7, 10, 99, 1_000_001, u32::MAX] {
            let mut s = String::from("x");
            push_decimal(&mut s, n);
            assert_eq!(s, format!("x{n}"));
        }
    }

    #[test]
    fn descendants_are_each_orgs_subtree_in_declaration_order() {
        // 0 ─┬─ 1 ── 3
        //    └─ 2        4 (root)   5 ⇄ 6 (a cycle)   7 (parent out of range)
        let t = Tree::new(&[
            None,
            Some(0),
            Some(0),
            Some(1),
            None,
            Some(6),
            Some(5),
            Some(99),
        ]);
        assert_eq!(t.descendants(0), [1, 3, 2]);
        assert_eq!(t.descendants(1), [3]);
        assert!(t.descendants(2).is_empty() && t.descendants(4).is_empty());
        // The cycle is broken where the walk enters it: one of the two is the other's child.
        assert_eq!(t.descendants(5), [6]);
        assert!(t.descendants(6).is_empty() && t.descendants(7).is_empty());
        assert!(t.descendants(8).is_empty());
        // A deep chain is walked without recursion.
        let chain: Vec<_> = (0..100_000).map(|i: u32| i.checked_sub(1)).collect();
        assert_eq!(Tree::new(&chain).descendants(0).len(), 99_999);
    }
}

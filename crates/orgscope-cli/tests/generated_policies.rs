//! Security invariants as properties over generated policies (and generated requests for them).
//!
//! Policies vary their org directory (1–8 orgs, ids, an acyclic hierarchy, descendant access,
//! or no directory at all), the Multi-Org switch, the visibility and working-org headers, object
//! types (explicit labels, inheritance chains of depth 1–3, `shared`, fallback orders, aliases)
//! and routes (query, create, multi-object create, read and update by id, a default route).
//! For every policy, which must check clean, and every request generated for it:
//!
//! - a decision never shows an org the user may not access (computed here from the generated
//!   directory, never asked of the engine), and shows exactly the orgs it should;
//! - a label is accessible, inside the visibility header when that is sent, and comes from
//!   where its `source` says;
//! - an unknown org and an inaccessible org are answered with byte-identical bodies;
//! - any error is a deny, with the status its code prescribes;
//! - an object the request cannot see is `not_found`, whether or not it exists;
//! - the same input gives the same bytes, through `evaluate`, `evaluate_json` and `explain`;
//! - the `orgscope eval` binary answers an NDJSON batch exactly as the crate does.

use orgscope::{Decision, EvalOptions, NoEntities, Policy, Request};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Org names a directory draws from: identifiers, and names that must be quoted.
const ORG_NAMES: [&str; 12] = [
    "Asia",
    "China",
    "Japan",
    "Europe",
    "Emea",
    "France",
    "Germany",
    "North America",
    "default",
    "Quote\"d",
    "_hq",
    "Apac2",
];
/// Object type names, each with an alias that collides with nothing.
const OBJECTS: [(&str, &str); 8] = [
    ("account", "Customer"),
    ("invoice", "Bill"),
    ("invoice_item", "LineItem"),
    ("product", "Sku"),
    ("note", "Remark"),
    ("custom_object", "CustomDef"),
    ("memo", "CreditNote"),
    ("payment", "Remittance"),
];
const LABEL_KEYS: [&str; 3] = ["organizationLabel", "orgLabel", "meta.org"];
const VISIBILITY_HEADERS: [&str; 3] = ["Zuora-Org-Ids", "X-Org-Ids", "Visible-Orgs"];
const WORKING_HEADERS: [&str; 2] = ["Zuora-Working-Org", "X-Working-Org"];
/// Ids of generated entities; `404` is never generated.
const ENTITY_IDS: [&str; 4] = ["1", "2", "3", "404"];
/// Entities generated per object type.
const PER_TYPE: usize = 3;
const MAX_OBJECTS: usize = 5;

// ---------------------------------------------------------------------------------------------
// The policy model

#[derive(Debug, Clone)]
struct Org {
    name: String,
    id: Option<String>,
    /// Index of the parent in `Model::orgs` (declaration order).
    parent: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    WorkingOrg,
    DefaultOrg,
    SingleOrg,
    Unlabeled,
}

impl Source {
    fn keyword(self) -> &'static str {
        match self {
            Source::WorkingOrg => "working_org",
            Source::DefaultOrg => "default_org",
            Source::SingleOrg => "single_org",
            Source::Unlabeled => "unlabeled",
        }
    }
}

const SOURCES: [Source; 4] = [
    Source::WorkingOrg,
    Source::DefaultOrg,
    Source::SingleOrg,
    Source::Unlabeled,
];

#[derive(Debug, Clone)]
struct Inherit {
    parent: usize,
    via: String,
    optional: bool,
}

#[derive(Debug, Clone)]
struct Object {
    name: &'static str,
    alias: Option<&'static str>,
    shared: bool,
    label: Option<&'static str>,
    inherit: Option<Inherit>,
    fallback: Option<Vec<Source>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    Query,
    Create,
    Read,
    Update,
}

impl Act {
    fn keyword(self) -> &'static str {
        match self {
            Act::Query => "query",
            Act::Create => "create",
            Act::Read => "read",
            Act::Update => "update",
        }
    }
}

#[derive(Debug, Clone)]
enum IdAt {
    Path(String),
    Query(&'static str),
}

#[derive(Debug, Clone)]
struct Route {
    methods: &'static str,
    template: String,
    action: Act,
    object: Option<usize>,
    id: Option<IdAt>,
    /// `create type body.type objects body.objects`.
    multi: bool,
}

#[derive(Debug, Clone)]
struct Header {
    name: &'static str,
    max_items: Option<u64>,
    max_length: Option<u64>,
}

#[derive(Debug, Clone)]
struct Model {
    /// False: no `orgs` block, org references are opaque strings.
    directory: bool,
    /// `descendant_access on` (None: the line is left out, which means off).
    descendant_access: Option<bool>,
    orgs: Vec<Org>,
    /// `multi_org { default … when_disabled … }`: (enabled, reject), each optional.
    multi_org: Option<(Option<bool>, Option<bool>)>,
    visibility: Option<Header>,
    working: Option<Header>,
    fallback: Option<Vec<Source>>,
    objects: Vec<Object>,
    routes: Vec<Route>,
    default_query: bool,
    /// One-line blocks instead of one property per line.
    compact: bool,
    /// Routes before the other declarations.
    routes_first: bool,
    /// The org `unknown_and_inaccessible_orgs_look_the_same` removes: a leaf of the hierarchy.
    removable: usize,
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The grammar's reserved words, written out here rather than taken from the crate, so that the
/// generator's idea of the language does not depend on the code under test.
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

/// An org name as the policy writes it: bare when it is an identifier, else quoted.
fn org_name(s: &str) -> String {
    let ident = s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ident && !RESERVED.contains(&s) {
        s.to_string()
    } else {
        quote(s)
    }
}

impl Model {
    fn descendant_access(&self) -> bool {
        self.directory && self.descendant_access == Some(true)
    }

    fn multi_org_default(&self) -> bool {
        self.multi_org.and_then(|m| m.0).unwrap_or(true)
    }

    /// A block: `{ a b }` on one line, or one property per line.
    fn block(&self, head: &str, props: &[String]) -> String {
        if self.compact {
            format!("{head} {{ {} }}\n", props.join(" "))
        } else {
            let mut s = format!("{head} {{\n");
            for p in props {
                s.push_str(&format!("  {p}\n"));
            }
            s.push_str("}\n");
            s
        }
    }

    /// The policy text; `without` replaces that org's line with a comment (same line numbers).
    fn render(&self, without: Option<usize>) -> String {
        let mut out = String::from("# generated\n");
        let routes = self.render_routes();
        if self.routes_first {
            out.push_str(&routes);
        }
        if let Some((default, reject)) = self.multi_org {
            let mut props = Vec::new();
            if let Some(d) = default {
                props.push(format!(
                    "default {}",
                    if d { "enabled" } else { "disabled" }
                ));
            }
            if let Some(r) = reject {
                props.push(format!(
                    "when_disabled {}",
                    if r { "reject" } else { "ignore" }
                ));
            }
            out.push_str(&self.block("multi_org", &props));
        }
        if self.directory {
            // Always one org per line, so that removing one moves nothing else.
            out.push_str("orgs {\n");
            if let Some(on) = self.descendant_access {
                out.push_str(&format!(
                    "  descendant_access {}\n",
                    if on { "on" } else { "off" }
                ));
            }
            for (i, o) in self.orgs.iter().enumerate() {
                if without == Some(i) {
                    out.push_str("  # gone\n");
                    continue;
                }
                let mut line = format!("  org {}", org_name(&o.name));
                if let Some(id) = &o.id {
                    line.push_str(&format!(" id {}", quote(id)));
                }
                if let Some(p) = o.parent {
                    line.push_str(&format!(" parent {}", org_name(&self.orgs[p].name)));
                }
                out.push_str(&line);
                out.push('\n');
            }
            out.push_str("}\n");
        }
        if let Some(h) = &self.visibility {
            let mut props = vec![
                "role visibility".to_string(),
                "list".into(),
                "subset_of user.orgs".into(),
            ];
            if let Some(n) = h.max_items {
                props.push(format!("max_items {n}"));
            }
            if let Some(n) = h.max_length {
                props.push(format!("max_length {n}"));
            }
            out.push_str(&self.block(&format!("header {}", h.name), &props));
        }
        if let Some(h) = &self.working {
            let mut props = vec![
                "role working_org".to_string(),
                "single".into(),
                "member_of user.orgs".into(),
            ];
            if let Some(n) = h.max_length {
                props.push(format!("max_length {n}"));
            }
            out.push_str(&self.block(&format!("header {}", h.name), &props));
        }
        if let Some(f) = &self.fallback {
            out.push_str(&format!("fallback {}\n", fallback_list(f)));
        }
        for o in &self.objects {
            let mut props = Vec::new();
            if let Some(a) = o.alias {
                props.push(format!("alias {}", quote(a)));
            }
            if o.shared {
                props.push("shared".into());
            }
            if let Some(l) = o.label {
                props.push(format!("label body.{l}"));
            }
            if let Some(i) = &o.inherit {
                let optional = if i.optional { " optional" } else { "" };
                props.push(format!(
                    "inherit {} via body.{}{optional}",
                    self.objects[i.parent].name, i.via
                ));
            }
            if let Some(f) = &o.fallback {
                props.push(format!("fallback {}", fallback_list(f)));
            }
            if props.is_empty() {
                out.push_str(&format!("object {}\n", o.name));
            } else {
                out.push_str(&self.block(&format!("object {}", o.name), &props));
            }
        }
        if !self.routes_first {
            out.push_str(&routes);
        }
        out
    }

    fn render_routes(&self) -> String {
        let mut out = String::new();
        for r in &self.routes {
            let mut target = r.action.keyword().to_string();
            if r.multi {
                target.push_str(" type body.type objects body.objects");
            }
            if let Some(o) = r.object {
                target.push(' ');
                target.push_str(self.objects[o].name);
            }
            match &r.id {
                Some(IdAt::Path(p)) => target.push_str(&format!(" id path.{p}")),
                Some(IdAt::Query(k)) => target.push_str(&format!(" id query.{k}")),
                None => {}
            }
            out.push_str(&format!("route {} {} -> {target}\n", r.methods, r.template));
        }
        if self.default_query {
            out.push_str("default -> query\n");
        }
        out
    }

    // --- The oracle: what the engine must answer, computed from the model alone. ---

    /// The org (its decision name) a request's reference names, if any.
    fn resolve(&self, s: &str) -> Option<String> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        if !self.directory {
            return Some(s.to_string());
        }
        self.orgs
            .iter()
            .find(|o| o.name == s || o.id.as_deref() == Some(s))
            .map(|o| o.name.clone())
    }

    /// The org and its ancestors, as indices.
    fn ancestry(&self, i: usize) -> Vec<usize> {
        let mut out = vec![i];
        let mut cur = self.orgs[i].parent;
        while let Some(p) = cur {
            out.push(p);
            cur = self.orgs[p].parent;
        }
        out
    }

    /// The user's accessible orgs: `user.orgs` resolved, plus descendants when granted.
    fn accessible(&self, user_orgs: &[String]) -> BTreeSet<String> {
        let granted: BTreeSet<String> = user_orgs.iter().filter_map(|u| self.resolve(u)).collect();
        let mut out = granted.clone();
        if self.descendant_access() {
            for (i, o) in self.orgs.iter().enumerate() {
                if self
                    .ancestry(i)
                    .iter()
                    .any(|&a| granted.contains(&self.orgs[a].name))
                {
                    out.insert(o.name.clone());
                }
            }
        }
        out
    }

    /// A set in the decision's order: directory order, else sorted by bytes.
    fn ordered(&self, set: &BTreeSet<String>) -> Vec<String> {
        if self.directory {
            self.orgs
                .iter()
                .filter(|o| set.contains(&o.name))
                .map(|o| o.name.clone())
                .collect()
        } else {
            set.iter().cloned().collect()
        }
    }

    fn object_named(&self, name: &str) -> Option<&Object> {
        self.objects.iter().find(|o| o.name == name)
    }

    fn fallbacks(&self, o: &Object) -> Vec<Source> {
        o.fallback
            .clone()
            .or_else(|| self.fallback.clone())
            .unwrap_or_default()
    }
}

/// Whether a request's type name names `o`: its name or alias, ignoring case and `_`.
fn names_type(o: &Object, name: &str) -> bool {
    let key = |s: &str| s.replace('_', "").to_ascii_lowercase();
    key(name) == key(o.name) || o.alias.is_some_and(|a| key(a) == key(name))
}

fn fallback_list(f: &[Source]) -> String {
    f.iter().map(|s| s.keyword()).collect::<Vec<_>>().join(", ")
}

// ---------------------------------------------------------------------------------------------
// Policy strategies

fn maybe<T: std::fmt::Debug + Clone>(
    s: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<T>> {
    prop::option::weighted(0.6, s)
}

prop_compose! {
    /// A directory of 1–8 orgs; ids none, unique or equal to the name; parents acyclic (an org's
    /// parent has a lower rank, and ranks are shuffled, so parents may come after children).
    fn orgs()(
        names in prop::sample::subsequence(ORG_NAMES.to_vec(), 1..=8).prop_shuffle(),
        ids in prop::collection::vec(0u8..4, 8),
        hierarchy in any::<bool>(),
        ranks in Just((0..8).collect::<Vec<usize>>()).prop_shuffle(),
        parents in prop::collection::vec(maybe(any::<Index>()), 8),
    ) -> Vec<Org> {
        let n = names.len();
        (0..n).map(|i| {
            let id = match ids[i] {
                0 | 1 => None,
                2 => Some(format!("7f1c2a9e-{i:04}")),
                _ => Some(names[i].to_string()),
            };
            let below: Vec<usize> = (0..n).filter(|&j| ranks[j] < ranks[i]).collect();
            let parent = match &parents[i] {
                Some(ix) if hierarchy && !below.is_empty() => Some(below[ix.index(below.len())]),
                _ => None,
            };
            Org { name: names[i].to_string(), id, parent }
        }).collect()
    }
}

#[derive(Debug, Clone)]
struct ObjSeed {
    /// `shared` (which leaves out label, inherit and fallback).
    shared: bool,
    alias: bool,
    label: Option<usize>,
    inherit: Option<(Index, bool, bool)>,
    fallback: Option<Vec<Source>>,
    /// query, create, read, update routes.
    routes: [bool; 4],
    /// Read by id from the path (else from the query); `{id}` (else `{<type>Id}`).
    read_path: bool,
    short_param: bool,
}

fn fallback_seq() -> impl Strategy<Value = Vec<Source>> {
    prop::sample::subsequence(SOURCES.to_vec(), 1..=4).prop_shuffle()
}

prop_compose! {
    fn obj_seed()(
        shared in prop::bool::weighted(0.15),
        alias in any::<bool>(),
        label in maybe(0..LABEL_KEYS.len()),
        inherit in maybe((any::<Index>(), any::<bool>(), prop::bool::weighted(0.3))),
        fallback in prop::option::weighted(0.3, fallback_seq()),
        routes in prop::array::uniform4(prop::bool::weighted(0.7)),
        read_path in prop::bool::weighted(0.8),
        short_param in any::<bool>(),
    ) -> ObjSeed {
        ObjSeed { shared, alias, label, inherit, fallback, routes, read_path, short_param }
    }
}

/// Object types and their routes. A type inherits only from an earlier, non-shared type whose
/// own chain is at most 2 links long, so chains are 1–3 links and acyclic.
fn objects_and_routes(
    names: &[(&'static str, &'static str)],
    seeds: &[ObjSeed],
) -> (Vec<Object>, Vec<Route>) {
    let mut objects: Vec<Object> = Vec::new();
    let mut depth: Vec<usize> = Vec::new();
    let mut routes = Vec::new();
    for (i, (&(name, alias), s)) in names.iter().zip(seeds).enumerate() {
        let candidates: Vec<usize> = (0..i)
            .filter(|&j| !objects[j].shared && depth[j] < 3)
            .collect();
        let inherit = match &s.inherit {
            Some((ix, nested, optional)) if !s.shared && !candidates.is_empty() => {
                let parent = candidates[ix.index(candidates.len())];
                let key = format!("{}Id", objects[parent].name);
                let via = if *nested { format!("ref.{key}") } else { key };
                Some(Inherit {
                    parent,
                    via,
                    optional: *optional,
                })
            }
            _ => None,
        };
        depth.push(inherit.as_ref().map_or(0, |h| depth[h.parent] + 1));
        objects.push(Object {
            name,
            alias: s.alias.then_some(alias),
            shared: s.shared,
            label: if s.shared {
                None
            } else {
                s.label.map(|l| LABEL_KEYS[l])
            },
            inherit,
            fallback: if s.shared { None } else { s.fallback.clone() },
        });
        let base = format!("/v1/{name}s");
        let param = if s.short_param {
            "id".to_string()
        } else {
            format!("{name}Id")
        };
        let [query, create, read, update] = s.routes;
        let route = |methods, template: String, action, id| Route {
            methods,
            template,
            action,
            object: Some(i),
            id,
            multi: false,
        };
        if query {
            routes.push(route("GET", base.clone(), Act::Query, None));
        }
        if create {
            routes.push(route("POST", base.clone(), Act::Create, None));
        }
        if read {
            routes.push(if s.read_path {
                route(
                    "GET",
                    format!("{base}/{{{param}}}"),
                    Act::Read,
                    Some(IdAt::Path(param.clone())),
                )
            } else {
                route(
                    "GET",
                    format!("{base}/lookup"),
                    Act::Read,
                    Some(IdAt::Query("id")),
                )
            });
        }
        if update {
            routes.push(route(
                "PUT|PATCH",
                format!("{base}/{{{param}}}"),
                Act::Update,
                Some(IdAt::Path(param.clone())),
            ));
        }
    }
    (objects, routes)
}

prop_compose! {
    fn objects()(
        names in prop::sample::subsequence(OBJECTS.to_vec(), 1..=MAX_OBJECTS),
        seeds in prop::collection::vec(obj_seed(), MAX_OBJECTS),
        extra in (any::<bool>(), any::<bool>(), prop::bool::weighted(0.2)),
    ) -> (Vec<Object>, Vec<Route>, bool) {
        let (objects, mut routes) = objects_and_routes(&names, &seeds);
        let (jobs, multi, default_query) = extra;
        if jobs {
            routes.push(Route { methods: "POST", template: "/query/jobs".into(), action: Act::Query, object: None, id: None, multi: false });
        }
        if multi {
            routes.push(Route { methods: "POST", template: "/v1/action/create".into(), action: Act::Create, object: None, id: None, multi: true });
        }
        (objects, routes, default_query)
    }
}

fn header(names: &'static [&'static str], list: bool) -> impl Strategy<Value = Header> {
    (
        prop::sample::select(names),
        prop::option::weighted(0.3, prop::sample::select(&[1u64, 2, 3, 100][..])),
        prop::option::weighted(0.3, prop::sample::select(&[16u64, 64, 256, 4096][..])),
    )
        .prop_map(move |(name, max_items, max_length)| Header {
            name,
            max_items: max_items.filter(|_| list),
            max_length,
        })
}

prop_compose! {
    fn model()(
        directory in prop::bool::weighted(0.85),
        descendant_access in maybe(any::<bool>()),
        orgs in orgs(),
        multi_org in maybe((maybe(prop::bool::weighted(0.7)), maybe(any::<bool>()))),
        visibility in prop::option::weighted(0.8, header(&VISIBILITY_HEADERS, true)),
        working in prop::option::weighted(0.7, header(&WORKING_HEADERS, false)),
        fallback in maybe(fallback_seq()),
        (objects, routes, default_query) in objects(),
        layout in (any::<bool>(), any::<bool>()),
        removable in any::<Index>(),
    ) -> Model {
        let leaves: Vec<usize> = (0..orgs.len())
            .filter(|&i| !orgs.iter().any(|o| o.parent == Some(i)))
            .collect();
        let removable = leaves[removable.index(leaves.len())];
        let (compact, routes_first) = layout;
        Model {
            directory, descendant_access, orgs, multi_org, visibility, working, fallback,
            objects, routes, default_query, compact, routes_first, removable,
        }
    }
}

fn compile(model: &Model, name: &str, without: Option<usize>) -> Policy {
    let text = model.render(without);
    match Policy::from_source(name, &text) {
        Ok(p) => p,
        Err(e) => panic!(
            "a generated policy does not check clean:\n{text}\n{}",
            e.render(orgscope::diag::Style { color: false })
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Request strategies

/// How a request refers to an org of the model's pool.
#[derive(Debug, Clone)]
enum Ref {
    Name(usize),
    /// The org's id (its name when it has none).
    Id(usize),
    /// The name with whitespace around it.
    Spaced(usize),
    Lower(usize),
    /// A name outside the directory.
    Unknown(usize),
    Empty,
    /// One of the orgs the user may access, by name or id (a name when there are none).
    Granted(usize),
}

fn org_ref() -> impl Strategy<Value = Ref> {
    prop_oneof![
        5 => (0usize..8).prop_map(Ref::Name),
        2 => (0usize..8).prop_map(Ref::Id),
        1 => (0usize..8).prop_map(Ref::Spaced),
        1 => (0usize..8).prop_map(Ref::Lower),
        2 => (0usize..4).prop_map(Ref::Unknown),
        1 => Just(Ref::Empty),
    ]
}

/// A reference that mostly repeats one of the user's own, so that requests are often allowed.
fn granted_ref() -> impl Strategy<Value = Ref> {
    prop_oneof![
        5 => (0usize..8).prop_map(Ref::Granted),
        1 => org_ref(),
    ]
}

#[derive(Debug, Clone)]
struct ReqSeed {
    /// `user.orgs` (these never use `Granted`).
    user_orgs: Vec<Ref>,
    default_org: Option<Ref>,
    /// Items, encoding (0 `a,b`, 1 `a , b`, 2 a repeated header, 3 with empty items, 4 split
    /// over two spellings of the name), the name's case.
    visibility: Option<(Vec<Ref>, u8, u8)>,
    /// The org, the name's case, sent twice (a repeated header with equal values).
    working: Option<(Ref, u8, bool)>,
    multi_org: Option<bool>,
    /// Route, an unrouted path instead, the wrong method, a trailing slash.
    route: (Index, bool, bool, bool),
    /// Pick a create route.
    create: bool,
    /// For an unrouted request: the `action` it gives (with `object` from `type_name`).
    own_action: Option<Act>,
    /// The type a multi-object create names, and how (0 name, 1 alias, 2 CamelCase, 3 unknown).
    type_name: (Index, u8),
    /// Per created object: its label and its parent's id (an index into `ENTITY_IDS`).
    elements: Vec<(Option<Ref>, Option<usize>)>,
    target: usize,
    /// Per object type, `PER_TYPE` entities: absent, or present with an org (or unlabeled).
    entities: Vec<Option<Option<Ref>>>,
    /// How entities spell their type: 0 its name, 1 its alias, 2 CamelCase.
    entity_type: u8,
}

prop_compose! {
    fn req_seed()(
        user_orgs in prop_oneof![1 => Just(Vec::new()), 9 => prop::collection::vec(org_ref(), 1..4)],
        default_org in maybe(granted_ref()),
        visibility in maybe((prop::collection::vec(granted_ref(), 1..4), 0u8..5, 0u8..3)),
        working in maybe((granted_ref(), 0u8..3, prop::bool::weighted(0.2))),
        multi_org in maybe(prop::bool::weighted(0.85)),
        route in (
            any::<Index>(),
            prop::bool::weighted(0.1),
            prop::bool::weighted(0.05),
            prop::bool::weighted(0.2),
        ),
        types in (
            any::<Index>(),
            0u8..4,
            0u8..3,
            maybe(prop::sample::select(&[Act::Query, Act::Create, Act::Read][..])),
            any::<bool>(),
        ),
        elements in prop::collection::vec(
            (
                prop::option::weighted(0.5, granted_ref()),
                prop::option::weighted(0.85, 0..ENTITY_IDS.len()),
            ),
            1..4,
        ),
        target in 0..ENTITY_IDS.len(),
        entities in prop::collection::vec(
            prop::option::weighted(0.8, prop::option::weighted(0.8, granted_ref())),
            MAX_OBJECTS * PER_TYPE,
        ),
    ) -> ReqSeed {
        let (ix, how, entity_type, own_action, create) = types;
        ReqSeed {
            user_orgs, default_org, visibility, working, multi_org, route, type_name: (ix, how),
            elements, target, entities, entity_type, own_action, create,
        }
    }
}

fn camel(name: &str) -> String {
    name.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn header_case(name: &str, case: u8) -> String {
    match case {
        0 => name.to_string(),
        1 => name.to_ascii_lowercase(),
        _ => name.to_ascii_uppercase(),
    }
}

fn set_path(v: &mut Value, path: &str, value: Value) {
    let mut cur = v;
    let keys: Vec<&str> = path.split('.').collect();
    for (i, k) in keys.iter().enumerate() {
        if !cur.is_object() {
            *cur = json!({});
        }
        let map = cur.as_object_mut().unwrap();
        if i + 1 == keys.len() {
            map.insert((*k).to_string(), value);
            return;
        }
        cur = map.entry(*k).or_insert_with(|| json!({}));
    }
}

fn get_path<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

impl Model {
    /// The text of an org reference made by a user who may access `accessible`.
    fn text_for(&self, accessible: &[String], r: &Ref) -> String {
        match *r {
            Ref::Granted(k) if !accessible.is_empty() => {
                let name = &accessible[k % accessible.len()];
                let org = self.orgs.iter().find(|o| &o.name == name);
                match org.and_then(|o| o.id.clone()) {
                    Some(id) if k % 2 == 1 && self.directory => id,
                    _ => name.clone(),
                }
            }
            _ => self.text(r),
        }
    }

    /// The text of an org reference.
    fn text(&self, r: &Ref) -> String {
        let n = self.orgs.len();
        match *r {
            Ref::Granted(i) => self.orgs[i % n].name.clone(),
            Ref::Name(i) => self.orgs[i % n].name.clone(),
            Ref::Id(i) => {
                let o = &self.orgs[i % n];
                o.id.clone().unwrap_or_else(|| o.name.clone())
            }
            Ref::Spaced(i) => format!("  {}\t", self.orgs[i % n].name),
            Ref::Lower(i) => self.orgs[i % n].name.to_lowercase(),
            Ref::Unknown(k) => {
                let mut outside: Vec<&str> = ORG_NAMES
                    .iter()
                    .copied()
                    .filter(|o| !self.orgs.iter().any(|d| d.name == *o))
                    .collect();
                outside.push("Narnia");
                outside[k % outside.len()].to_string()
            }
            Ref::Empty => " ".to_string(),
        }
    }

    /// The body of one created object of type `o`.
    fn element(
        &self,
        accessible: &[String],
        o: &Object,
        label: &Option<Ref>,
        parent: Option<usize>,
    ) -> Value {
        let mut v = json!({});
        if let (Some(key), Some(r)) = (o.label, label) {
            set_path(&mut v, key, json!(self.text_for(accessible, r)));
        }
        if let (Some(inh), Some(p)) = (&o.inherit, parent) {
            set_path(&mut v, &inh.via, json!(ENTITY_IDS[p]));
        }
        v
    }

    /// The object type a request names (for a multi-object create, or its own `object`),
    /// and how it spells it.
    fn named_type(&self, s: &ReqSeed) -> (&Object, String) {
        let (tix, how) = &s.type_name;
        let o = &self.objects[tix.index(self.objects.len())];
        let name = match how {
            0 => o.name.to_string(),
            1 => o.alias.unwrap_or(o.name).to_string(),
            2 => camel(o.name),
            _ => "Widget".to_string(),
        };
        (o, name)
    }

    /// The request description a seed stands for.
    fn request(&self, s: &ReqSeed, id: usize) -> Value {
        let user_orgs: Vec<String> = s.user_orgs.iter().map(|r| self.text(r)).collect();
        let accessible = self.ordered(&self.accessible(&user_orgs));
        let acc = accessible.as_slice();
        let (route_ix, unrouted, wrong_method, slash) = &s.route;
        // Half the requests create, when the policy has a route for it.
        let creates: Vec<&Route> = self
            .routes
            .iter()
            .filter(|r| r.action == Act::Create)
            .collect();
        let route = match (unrouted, self.routes.is_empty(), creates.is_empty()) {
            (true, ..) | (_, true, _) => None,
            (_, _, false) if s.create => Some(creates[route_ix.index(creates.len())]),
            _ => Some(&self.routes[route_ix.index(self.routes.len())]),
        };
        let target_id = ENTITY_IDS[s.target];
        let mut query = serde_json::Map::new();
        let mut body = json!({});
        let (mut method, mut path) = ("GET".to_string(), "/nowhere/else".to_string());
        if let Some(r) = route {
            method = r.methods.split('|').next().unwrap_or("GET").to_string();
            path = r.template.clone();
            match &r.id {
                Some(IdAt::Path(p)) => path = path.replace(&format!("{{{p}}}"), target_id),
                Some(IdAt::Query(k)) => {
                    query.insert((*k).to_string(), json!(target_id));
                }
                None => {}
            }
            let (e_label, e_parent) = &s.elements[0];
            match (r.action, r.object) {
                (Act::Create, Some(o)) => {
                    body = self.element(acc, &self.objects[o], e_label, *e_parent);
                }
                (Act::Update, Some(o)) => {
                    // A relabel, when the type has a label field.
                    body = self.element(acc, &self.objects[o], e_label, None);
                }
                (Act::Create, None) if r.multi => {
                    let (o, name) = self.named_type(s);
                    let objects: Vec<Value> = s
                        .elements
                        .iter()
                        .map(|(l, p)| self.element(acc, o, l, *p))
                        .collect();
                    body = json!({"type": name, "objects": objects});
                }
                _ => {}
            }
        }
        // Unrouted, the request may say what it does itself.
        let mut own = None;
        if let (None, Some(action)) = (route, s.own_action) {
            let (o, name) = self.named_type(s);
            if action == Act::Create {
                let (e_label, e_parent) = &s.elements[0];
                body = self.element(acc, o, e_label, *e_parent);
            }
            own = Some((action.keyword(), name));
        }
        if *wrong_method {
            method = if method == "DELETE" { "GET" } else { "DELETE" }.to_string();
        }
        if *slash {
            path.push('/');
        }
        let mut headers = serde_json::Map::new();
        if let Some((items, encoding, case)) = &s.visibility {
            let name = self.visibility.as_ref().map_or("Zuora-Org-Ids", |h| h.name);
            let texts: Vec<String> = items.iter().map(|r| self.text_for(acc, r)).collect();
            let value = match encoding {
                0 => json!(texts.join(",")),
                1 => json!(texts.join(" , ")),
                2 => json!(texts),
                3 => json!(format!(", {} ,,", texts.join(", ,"))),
                _ => {
                    // Split over two spellings of the name: one header, repeated.
                    let rest = texts[1..].join(",");
                    headers.insert(name.to_ascii_uppercase(), json!(rest));
                    json!(texts[0])
                }
            };
            // (Split, the name is not upper case: that spelling is taken.)
            let case = if *encoding == 4 { *case % 2 } else { *case };
            headers.insert(header_case(name, case), value);
        }
        if let Some((r, case, twice)) = &s.working {
            let name = self
                .working
                .as_ref()
                .map_or("Zuora-Working-Org", |h| h.name);
            let org = self.text_for(acc, r);
            let value = if *twice {
                json!([org, org])
            } else {
                json!(org)
            };
            headers.insert(header_case(name, *case), value);
        }
        let mut entities = Vec::new();
        for (t, o) in self.objects.iter().enumerate() {
            let slots = &s.entities[t * PER_TYPE..(t + 1) * PER_TYPE];
            for (id, slot) in ENTITY_IDS.iter().zip(slots) {
                if let Some(org) = slot {
                    let org = org.as_ref().map(|r| self.text_for(acc, r));
                    let ty = match s.entity_type {
                        0 => o.name.to_string(),
                        1 => o.alias.unwrap_or(o.name).to_string(),
                        _ => camel(o.name),
                    };
                    entities.push(json!({"type": ty, "id": id, "org": org}));
                }
            }
        }
        let mut user = json!({"id": "u-1", "orgs": user_orgs});
        if let Some(d) = &s.default_org {
            user["default_org"] = json!(self.text_for(acc, d));
        }
        let mut req = json!({"id": id, "method": method, "path": path, "headers": headers,
            "query": query, "body": body, "user": user, "entities": entities});
        if let Some((action, object)) = own {
            req["action"] = json!(action);
            req["object"] = json!(object);
        }
        if let Some(m) = s.multi_org {
            req["tenant"] = json!({"multi_org": m});
        }
        req
    }
}

// ---------------------------------------------------------------------------------------------
// Checks

fn to_json(d: &Decision) -> String {
    serde_json::to_string(d).unwrap()
}

fn decide<'p>(p: &'p Policy, req: &Value) -> Decision<'p> {
    p.evaluate(&Request::from_json(&req.to_string()).unwrap())
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The items of a header as sent (names match case-insensitively; a repeated header counts
/// all its values), or None when it was not sent. (A header given as an empty array has no
/// value, so it was not sent; the engine reads it so too. The generator never sends one.)
fn header_items(req: &Value, name: &str) -> Option<Vec<String>> {
    let values: Vec<String> = req["headers"]
        .as_object()?
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| match v {
            Value::String(s) => vec![s.clone()],
            v => strings(v),
        })
        .collect();
    if values.is_empty() {
        return None;
    }
    Some(
        values
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// What the model says about a request, before any route- or object-specific step.
struct Expect {
    multi_org: bool,
    accessible: BTreeSet<String>,
    /// The orgs the visibility header names (resolvable ones), when the policy declares it and
    /// the request sends it.
    requested: Option<BTreeSet<String>>,
    /// The visible set, as far as the headers allow it.
    visible: BTreeSet<String>,
}

impl Model {
    fn expect(&self, req: &Value) -> Expect {
        let multi_org = req["tenant"]["multi_org"]
            .as_bool()
            .unwrap_or(self.multi_org_default());
        let accessible = self.accessible(&strings(&req["user"]["orgs"]));
        let requested = self
            .visibility
            .as_ref()
            .and_then(|h| header_items(req, h.name))
            .map(|items| items.iter().filter_map(|i| self.resolve(i)).collect());
        let visible = requested.clone().unwrap_or_else(|| accessible.clone());
        Expect {
            multi_org,
            accessible,
            requested,
            visible,
        }
    }
}

/// Invariant 4: any error is a deny, with its first code's status; a deny shows nothing.
fn check_fail_closed(d: &Decision, ctx: &str) -> Result<(), TestCaseError> {
    let json = to_json(d);
    prop_assert_eq!(d.is_allow(), d.errors.is_empty(), "{}\n{}", json, ctx);
    prop_assert_eq!(d.status == 200, d.is_allow(), "{}\n{}", json, ctx);
    // Every decision names its rule, but a malformed request or one no route matches.
    let ruleless = ["invalid_request", "no_route"];
    prop_assert!(
        d.rule.is_some()
            || d.errors
                .first()
                .is_some_and(|e| ruleless.contains(&e.code.as_str())),
        "a decision without a rule: {}\n{}",
        json,
        ctx
    );
    if d.is_allow() {
        prop_assert!(d.include_unlabeled, "{}\n{}", json, ctx);
    } else {
        prop_assert_eq!(d.status, d.errors[0].code.status(), "{}\n{}", json, ctx);
        prop_assert!(
            d.visible_orgs.is_none() && d.labels.is_empty() && !d.include_unlabeled,
            "a deny shows orgs or labels: {}\n{}",
            json,
            ctx
        );
    }
    Ok(())
}

/// Invariants 1 and 2, plus: the visible set is exactly the one the model computes (the
/// header's orgs, else every accessible org, in the decision's order), and a working org sent
/// is inside it.
fn check_scope(m: &Model, req: &Value, d: &Decision, ctx: &str) -> Result<(), TestCaseError> {
    let json = to_json(d);
    let e = m.expect(req);
    if !d.is_allow() {
        return Ok(());
    }
    if !e.multi_org {
        prop_assert!(d.visible_orgs.is_none(), "{}\n{}", json, ctx);
        for l in &d.labels {
            prop_assert!(
                l.org.is_none(),
                "a label without Multi-Org: {}\n{}",
                json,
                ctx
            );
        }
        return Ok(());
    }
    let Some(visible) = d.visible_org_names() else {
        return Err(TestCaseError::fail(format!(
            "no visible set with Multi-Org on: {json}\n{ctx}"
        )));
    };
    prop_assert!(
        !visible.is_empty(),
        "an allow with an empty scope: {}\n{}",
        json,
        ctx
    );
    for o in &visible {
        prop_assert!(
            e.accessible.contains(*o),
            "visible org {} is not accessible: {}\n{}",
            o,
            json,
            ctx
        );
        if let Some(r) = &e.requested {
            prop_assert!(
                r.contains(*o),
                "visible org {} is outside the visibility header: {}\n{}",
                o,
                json,
                ctx
            );
        }
    }
    let expected = m.ordered(&e.visible);
    prop_assert_eq!(&visible, &expected, "{}\n{}", json, ctx);
    for l in &d.labels {
        if let Some(o) = l.org.as_deref() {
            prop_assert!(
                e.accessible.contains(o),
                "label {} is not accessible: {}\n{}",
                o,
                json,
                ctx
            );
            prop_assert!(
                e.visible.contains(o),
                "label {} is outside the visible set: {}\n{}",
                o,
                json,
                ctx
            );
            if let Some(r) = &e.requested {
                prop_assert!(
                    r.contains(o),
                    "label {} is outside the visibility header: {}\n{}",
                    o,
                    json,
                    ctx
                );
            }
        }
    }
    // The working org, checked on every action: accessible, and inside the visibility header.
    if let Some(items) = m.working.as_ref().and_then(|h| header_items(req, h.name)) {
        let working = items.first().and_then(|w| m.resolve(w));
        prop_assert!(
            working
                .as_ref()
                .is_some_and(|w| e.visible.contains(w) && e.accessible.contains(w)),
            "working org {:?} outside the visible set: {}\n{}",
            working,
            json,
            ctx
        );
    }
    Ok(())
}

/// Codes only the labeling of a create answers with.
const LABEL_CODES: [&str; 4] = [
    "parent_required",
    "parent_not_found",
    "org_label_conflict",
    "org_label_required",
];

/// Each label of a create is the one the reference's procedure (§3.5) gives, and a create
/// denied while labeling is denied for the first object that the procedure refuses.
fn check_labels(m: &Model, req: &Value, d: &Decision, ctx: &str) -> Result<(), TestCaseError> {
    let json = to_json(d);
    let e = m.expect(req);
    let action = serde_json::to_value(d.action).unwrap();
    let ty = d.object.as_deref().and_then(|o| m.object_named(o));
    let (true, Some(ty)) = (e.multi_org, ty) else {
        return Ok(());
    };
    if action == "update" {
        // A relabel: the new org is the body's label.
        for l in &d.labels {
            let raw = ty.label.and_then(|k| get_path(&req["body"], k));
            let org = raw.and_then(Value::as_str).and_then(|r| m.resolve(r));
            prop_assert_eq!(l.org.as_deref(), org.as_deref(), "{}\n{}", json, ctx);
        }
        return Ok(());
    }
    if action != "create" {
        prop_assert!(d.labels.is_empty(), "{}\n{}", json, ctx);
        return Ok(());
    }
    // Only the multi-object create route's requests carry `body.objects`.
    let elements: Vec<&Value> = match req["body"]["objects"].as_array() {
        Some(objects) => objects.iter().collect(),
        None => vec![&req["body"]],
    };
    let expected: Vec<_> = elements
        .iter()
        .map(|el| m.expected_label(&e, req, ty, el))
        .collect();
    if d.is_allow() {
        let got: Vec<_> = d
            .labels
            .iter()
            .map(|l| {
                let source = serde_json::to_value(l.source).unwrap();
                Ok((
                    l.org.as_deref().map(str::to_string),
                    source.as_str().unwrap_or_default().to_string(),
                    l.from.clone(),
                ))
            })
            .collect();
        prop_assert_eq!(got, expected, "{}\n{}", json, ctx);
    } else {
        let code = d.errors[0].code.as_str();
        // Empty scope is a deny, before any labeling.
        if e.accessible.is_empty() && code == "org_access_denied" {
            return Ok(());
        }
        // A 403 when the headers name only orgs the user may access comes from labeling.
        let label_403 = code == "org_access_denied" && m.headers_grant(&e, req);
        if LABEL_CODES.contains(&code) || label_403 {
            let first = expected.iter().find_map(|x| x.as_ref().err());
            prop_assert_eq!(first.copied(), Some(code), "{}\n{}", json, ctx);
        }
    }
    Ok(())
}

/// A label as (org, source, from).
type Expected = Result<(Option<String>, String, Option<String>), &'static str>;

impl Model {
    /// Whether every org the headers name is one the user may access (and the working org is
    /// inside the visibility header when that is sent).
    fn headers_grant(&self, e: &Expect, req: &Value) -> bool {
        let sent = |h: &Option<Header>| h.as_ref().and_then(|h| header_items(req, h.name));
        let ok = |items: Option<Vec<String>>, scope: &BTreeSet<String>| {
            items.unwrap_or_default().iter().all(|i| {
                self.resolve(i)
                    .is_some_and(|o| e.accessible.contains(&o) && scope.contains(&o))
            })
        };
        ok(sent(&self.visibility), &e.accessible) && ok(sent(&self.working), &e.visible)
    }

    /// The label of one new object of type `ty` with body `el`, by the reference's procedure:
    /// explicit label, else the parent's org, else the first fallback that gives one; or the
    /// code of the error that procedure ends in.
    fn expected_label(&self, e: &Expect, req: &Value, ty: &Object, el: &Value) -> Expected {
        let label = |org: Option<String>, source: &str, from: Option<String>| {
            Ok((org, source.to_string(), from))
        };
        if ty.shared {
            return label(None, "shared", None);
        }
        let present = |v: Option<&Value>| {
            v.and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .map(str::to_string)
        };
        let in_scope = |o: Option<String>| {
            o.filter(|o| e.accessible.contains(o) && e.visible.contains(o))
                .ok_or("org_access_denied")
        };
        let explicit = ty.label.and_then(|k| present(get_path(el, k)));
        let mut inherited = None;
        if let Some(inh) = &ty.inherit {
            let parent = &self.objects[inh.parent];
            match present(get_path(el, &inh.via)) {
                None if !inh.optional => return Err("parent_required"),
                None => {}
                Some(id) => {
                    let entity = req["entities"].as_array().into_iter().flatten().find(|x| {
                        x["type"].as_str().is_some_and(|t| names_type(parent, t))
                            && x["id"].as_str() == Some(&id)
                    });
                    let Some(entity) = entity else {
                        return Err("parent_not_found");
                    };
                    if let Some(o) = entity["org"].as_str() {
                        match self.resolve(o).filter(|o| e.visible.contains(o)) {
                            Some(o) => inherited = Some((o, format!("{} {id}", parent.name))),
                            None => return Err("parent_not_found"),
                        }
                    }
                }
            }
        }
        if let Some(raw) = explicit {
            let org = in_scope(self.resolve(&raw))?;
            if inherited.as_ref().is_some_and(|(p, _)| *p != org) {
                return Err("org_label_conflict");
            }
            return label(Some(org), "explicit", None);
        }
        if let Some((org, from)) = inherited {
            return label(Some(org), "inherited", Some(from));
        }
        for source in self.fallbacks(ty) {
            match source {
                Source::WorkingOrg => {
                    let sent = self
                        .working
                        .as_ref()
                        .and_then(|h| header_items(req, h.name));
                    if let Some(items) = sent {
                        let org = items.first().and_then(|w| self.resolve(w));
                        return label(org, "working_org", None);
                    }
                }
                Source::DefaultOrg => {
                    if let Some(d) = present(Some(&req["user"]["default_org"])) {
                        return label(Some(in_scope(self.resolve(&d))?), "default_org", None);
                    }
                }
                Source::SingleOrg => {
                    let only = e.accessible.first().filter(|_| e.accessible.len() == 1);
                    if let Some(o) = only.filter(|o| e.visible.contains(*o)) {
                        return label(Some(o.clone()), "single_org", None);
                    }
                }
                Source::Unlabeled => return label(None, "none", None),
            }
        }
        Err("org_label_required")
    }
}

/// Invariant 6: the same request gives the same bytes, from `evaluate` twice, `evaluate_json`
/// and `explain` (but for its trace).
fn check_deterministic(p: &Policy, req: &Value, d: &Decision) -> Result<(), TestCaseError> {
    let text = req.to_string();
    let r = Request::from_json(&text).unwrap();
    let bytes = to_json(d);
    prop_assert_eq!(&to_json(&p.evaluate(&r)), &bytes);
    prop_assert_eq!(
        &to_json(&p.evaluate_json(&text, &EvalOptions::default())),
        &bytes
    );
    let mut explained =
        p.evaluate_with(&r, &EvalOptions::new().entities(&NoEntities).explain(true));
    prop_assert!(explained.trace.is_some());
    explained.trace = None;
    prop_assert_eq!(&to_json(&explained), &bytes);
    Ok(())
}

fn context(text: &str, req: &Value) -> String {
    format!("policy:\n{text}request: {req}")
}

// ---------------------------------------------------------------------------------------------
// Properties

/// The model, with a read route for its first object type when it has no by-id route.
fn with_read_route(mut m: Model) -> Model {
    if !m
        .routes
        .iter()
        .any(|r| matches!(r.action, Act::Read | Act::Update))
    {
        m.routes.push(Route {
            methods: "GET",
            template: format!("/v1/{}s/{{id}}", m.objects[0].name),
            action: Act::Read,
            object: Some(0),
            id: Some(IdAt::Path("id".into())),
            multi: false,
        });
    }
    m
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Invariants 1, 2, 4 and 6 over every generated request.
    #[test]
    fn decisions_show_only_accessible_orgs_and_fail_closed(
        m in model(),
        seeds in prop::collection::vec(req_seed(), 1..16),
    ) {
        let p = compile(&m, "gen.policy", None);
        let text = m.render(None);
        for (i, s) in seeds.iter().enumerate() {
            let req = m.request(s, i);
            let ctx = context(&text, &req);
            let d = decide(&p, &req);
            prop_assert_eq!(d.id.as_ref(), Some(&json!(i)), "the request's id is echoed");
            check_fail_closed(&d, &ctx)?;
            check_scope(&m, &req, &d, &ctx)?;
            check_labels(&m, &req, &d, &ctx)?;
            check_deterministic(&p, &req, &d)?;
        }
    }

    /// Invariant 3: a leaf org the user cannot access, removed from the directory, changes no
    /// byte of any answer.
    #[test]
    fn unknown_and_inaccessible_orgs_look_the_same(
        m in model().prop_map(|m| Model { directory: true, ..m }),
        seeds in prop::collection::vec(req_seed(), 1..12),
    ) {
        let gone = m.removable;
        let with = compile(&m, "gen.policy", None);
        let without = compile(&m, "gen.policy", Some(gone));
        let text = m.render(None);
        // Grants that would reach the removed org: the org itself, or (with descendant
        // access) one of its ancestors.
        let reaching: Vec<String> = if m.descendant_access() {
            m.ancestry(gone).iter().map(|&a| m.orgs[a].name.clone()).collect()
        } else {
            vec![m.orgs[gone].name.clone()]
        };
        for (i, s) in seeds.iter().enumerate() {
            let mut req = m.request(s, i);
            let kept: Vec<String> = strings(&req["user"]["orgs"]).into_iter()
                .filter(|u| !matches!(m.resolve(u), Some(o) if reaching.contains(&o)))
                .collect();
            req["user"]["orgs"] = json!(kept);
            prop_assert!(!m.expect(&req).accessible.contains(&m.orgs[gone].name));
            let a = decide(&with, &req);
            let b = decide(&without, &req);
            prop_assert_eq!(to_json(&a), to_json(&b), "removed `{}`\n{}", m.orgs[gone].name, context(&text, &req));
        }
    }

    /// Invariant 5: reading an object the request cannot see is `not_found`, byte for byte the
    /// answer for an object that does not exist; an unlabeled or visible one is found.
    #[test]
    fn invisible_objects_are_not_found_whether_or_not_they_exist(
        m in model().prop_map(with_read_route),
        seeds in prop::collection::vec(req_seed(), 1..6),
        pick in any::<Index>(),
        by_id in any::<bool>(),
    ) {
        let by_id_routes: Vec<&Route> = m.routes.iter()
            .filter(|r| matches!(r.action, Act::Read | Act::Update))
            .collect();
        let p = compile(&m, "gen.policy", None);
        let text = m.render(None);
        for (i, s) in seeds.iter().enumerate() {
            let route = by_id_routes[s.route.0.index(by_id_routes.len())];
            let ty = &m.objects[route.object.unwrap()];
            let mut req = m.request(s, i);
            req["method"] = json!(route.methods.split('|').next().unwrap());
            req["body"] = json!({});
            req["tenant"] = json!({"multi_org": true});
            req["query"] = json!({});
            req.as_object_mut().unwrap().remove("action");
            req.as_object_mut().unwrap().remove("object");
            match route.id.as_ref().unwrap() {
                IdAt::Path(param) => req["path"] = json!(route.template.replace(&format!("{{{param}}}"), "77")),
                IdAt::Query(k) => {
                    req["path"] = json!(route.template);
                    let mut q = serde_json::Map::new();
                    q.insert((*k).to_string(), json!("77"));
                    req["query"] = Value::Object(q);
                }
            }
            let e = m.expect(&req);
            // How the request names an org: by its name, or by its id.
            let spell = |o: &Org| match &o.id {
                Some(id) if by_id && m.directory => id.clone(),
                _ => o.name.clone(),
            };
            // An org the request cannot see: outside the directory, or in it but not visible.
            let mut hidden: Vec<String> = vec!["Nowhere".into()];
            for o in &m.orgs {
                if !e.visible.contains(&o.name) {
                    hidden.push(spell(o));
                }
            }
            let hidden = &hidden[pick.index(hidden.len())];
            let with_target = |org: Value| {
                let mut r = req.clone();
                r["entities"].as_array_mut().unwrap().push(json!({"type": ty.name, "id": "77", "org": org}));
                r
            };
            let ctx = context(&text, &req);
            let missing = decide(&p, &req);
            let invisible = decide(&p, &with_target(json!(hidden)));
            let unlabeled = decide(&p, &with_target(Value::Null));
            prop_assert!(!missing.is_allow(), "{}", ctx);
            if unlabeled.is_allow() {
                prop_assert_eq!(missing.errors[0].code.as_str(), "not_found", "{}", ctx);
            }
            if ty.shared {
                // Shared objects are visible to every org: found wherever they are.
                prop_assert_eq!(to_json(&invisible), to_json(&unlabeled), "shared in `{}`\n{}", hidden, ctx);
                continue;
            }
            prop_assert_eq!(to_json(&missing), to_json(&invisible), "hidden in `{}`\n{}", hidden, ctx);
            if unlabeled.is_allow() {
                for o in m.orgs.iter().filter(|o| e.visible.contains(&o.name)) {
                    let seen = decide(&p, &with_target(json!(spell(o))));
                    prop_assert_eq!(to_json(&seen), to_json(&unlabeled), "a visible object in `{}`\n{}", o.name, ctx);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Invariant 7: the binary and the crate agree

static RUN: AtomicUsize = AtomicUsize::new(0);

/// A fresh directory under the system's temp dir, removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let n = RUN.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("orgscope-generated-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

proptest! {
    #![proptest_config(config(16))]

    #[test]
    fn cli_and_crate_agree(
        m in model(),
        seeds in prop::collection::vec(req_seed(), 1..12),
    ) {
        let dir = TempDir::new();
        let policy_path = dir.0.join("generated.policy");
        let batch_path = dir.0.join("batch.ndjson");
        let text = m.render(None);
        std::fs::write(&policy_path, &text).unwrap();
        // The CLI names the file as the path it was given: compile with the same name.
        let name = policy_path.display().to_string();
        let p = compile(&m, &name, None);
        let lines: Vec<String> = seeds.iter().enumerate().map(|(i, s)| m.request(s, i).to_string()).collect();
        std::fs::write(&batch_path, lines.join("\n") + "\n").unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_orgscope"))
            .arg("eval")
            .arg("--policy")
            .arg(&policy_path)
            .arg(&batch_path)
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        prop_assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let answers: Vec<&str> = stdout.lines().collect();
        prop_assert_eq!(answers.len(), lines.len(), "{}", stdout);
        for (line, answer) in lines.iter().zip(&answers) {
            let expected = to_json(&p.evaluate_json(line, &EvalOptions::default()));
            prop_assert_eq!(*answer, expected.as_str(), "policy:\n{}request: {}", text, line);
        }
    }
}

#[test]
fn the_generator_writes_the_language_of_the_reference() {
    // One hand-built model covering every construct the generator writes, checked literally.
    let org = |name: &str, id: Option<&str>, parent| Org {
        name: name.into(),
        id: id.map(Into::into),
        parent,
    };
    let m = Model {
        directory: true,
        descendant_access: Some(true),
        orgs: vec![
            org("Emea", None, None),
            org("North America", Some("na-1"), None),
            org("default", Some("default"), Some(0)),
            org("Quote\"d", None, Some(2)),
        ],
        multi_org: Some((Some(true), Some(false))),
        visibility: Some(Header {
            name: "X-Org-Ids",
            max_items: Some(3),
            max_length: None,
        }),
        working: Some(Header {
            name: "X-Working-Org",
            max_items: None,
            max_length: Some(64),
        }),
        fallback: Some(vec![Source::WorkingOrg, Source::Unlabeled]),
        objects: vec![
            Object {
                name: "account",
                alias: Some("Customer"),
                shared: false,
                label: Some("meta.org"),
                inherit: None,
                fallback: None,
            },
            Object {
                name: "invoice",
                alias: None,
                shared: false,
                label: None,
                inherit: Some(Inherit {
                    parent: 0,
                    via: "ref.accountId".into(),
                    optional: true,
                }),
                fallback: Some(vec![Source::SingleOrg]),
            },
            Object {
                name: "note",
                alias: None,
                shared: true,
                label: None,
                inherit: None,
                fallback: None,
            },
        ],
        routes: vec![Route {
            methods: "PUT|PATCH",
            template: "/v1/accounts/{id}".into(),
            action: Act::Update,
            object: Some(0),
            id: Some(IdAt::Path("id".into())),
            multi: false,
        }],
        default_query: true,
        compact: true,
        routes_first: false,
        removable: 3,
    };
    let expected = r#"# generated
multi_org { default enabled when_disabled ignore }
orgs {
  descendant_access on
  org Emea
  org "North America" id "na-1"
  org "default" id "default" parent Emea
  org "Quote\"d" parent "default"
}
header X-Org-Ids { role visibility list subset_of user.orgs max_items 3 }
header X-Working-Org { role working_org single member_of user.orgs max_length 64 }
fallback working_org, unlabeled
object account { alias "Customer" label body.meta.org }
object invoice { inherit account via body.ref.accountId optional fallback single_org }
object note { shared }
route PUT|PATCH /v1/accounts/{id} -> update account id path.id
default -> query
"#;
    assert_eq!(m.render(None), expected);
    let p = compile(&m, "gen.policy", None);
    // `Quote"d` is reached through `default` from `Emea`; the id `default` names `default`.
    let req = json!({"method": "GET", "path": "/anything", "user": {"orgs": ["Emea"]},
        "headers": {"x-org-ids": "default, Quote\"d"}});
    let d = decide(&p, &req);
    assert_eq!(d.visible_org_names(), Some(vec!["default", "Quote\"d"]));
    assert_eq!(
        m.ordered(&m.accessible(&["Emea".into()])),
        ["Emea", "default", "Quote\"d"]
    );
    assert!(compile(&m, "gen.policy", Some(3))
        .source()
        .text()
        .contains("# gone"));
}

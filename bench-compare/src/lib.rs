//! The same multi-org decisions made by orgscope, cedar-policy and regorus (issue 5).
//!
//! A [`World`] is one policy written three ways: orgscope's policy language, a Cedar policy set
//! and a Rego package with its data. A [`Scenario`] is one request, and [`World::prepare`] turns
//! it into each engine's native input: orgscope's request description (JSON and parsed), the
//! same JSON as Rego's `input`, and Cedar requests plus an entity store (native and as Cedar's
//! JSON formats). [`World::outcomes`] asks all engines and returns comparable [`Outcome`]s, so
//! the benchmark can assert that they agree before it times anything.
//!
//! How each engine is used (the idioms, and what the application must do around it):
//! - **orgscope**: `Policy::evaluate` on a parsed [`orgscope::Request`], or
//!   `Policy::evaluate_json` on its text. One call gives allow/deny, the visible set and labels.
//! - **Cedar** (schema-less): users are members of their orgs (`User in Org`), objects carry
//!   their org as an attribute, and there is one `permit` per action. Cedar cannot return a set,
//!   so for a query the application authorizes "may the user see org X" once per org of
//!   `Zuora-Org-Ids` ([`CedarInput::requests`] has one request per org) and the visible set is
//!   the orgs allowed. A second variant, `cedar_set`, makes one authorization with
//!   `principal.orgs.containsAll(context.orgIds)` (allow/deny only). For a create the resource
//!   is the parent object; the label is the parent's org, read by the application.
//! - **regorus**: the Rego package `policies/orgscope.rego`; the org directory, object types and
//!   routes are data loaded once; the input is orgscope's request description as is;
//!   `Engine::set_input` + `Engine::eval_rule("data.orgscope.decision")`.

use cedar_policy as cedar;
use serde_json::{json, Value as Json};
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::str::FromStr;

/// The Rego package (generic: the policy-specific parts are data).
pub const REGO_POLICY: &str = include_str!("../policies/orgscope.rego");
/// The Cedar policy set for the shipped Zuora policy.
pub const ZUORA_CEDAR: &str = include_str!("../policies/zuora.cedar");
/// The rule whose value is Rego's decision.
pub const REGO_RULE: &str = "data.orgscope.decision";

/// The shipped Zuora policy's path.
pub fn zuora_policy_path() -> String {
    format!(
        "{}/../policies/zuora-multi-org.policy",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// How a create finds its parent: the parent's type and the body field holding its id.
#[derive(Debug, Clone)]
pub struct TypeInfo {
    /// The parent's object type.
    pub parent: String,
    /// The body field with the parent's id.
    pub via: String,
}

/// An existing object.
#[derive(Debug, Clone)]
pub struct Ent {
    /// Object type (orgscope's name).
    pub ty: String,
    /// Id.
    pub id: String,
    /// Org label.
    pub org: String,
}

/// What the request does.
#[derive(Debug, Clone)]
pub enum Op {
    /// `POST /query/jobs`.
    Query,
    /// A create of `object`, by `POST route` or (without a route) by `action`/`object`.
    Create {
        /// Object type.
        object: String,
        /// `POST` path of the route, if any.
        route: Option<String>,
        /// The parent's id in the body (absent: `parent_required`).
        parent_id: Option<String>,
    },
}

/// One request, engine-neutral.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// A short description.
    pub name: String,
    /// The user's orgs.
    pub user_orgs: Vec<String>,
    /// The raw `Zuora-Org-Ids` header value.
    pub org_ids: Option<String>,
    /// The action.
    pub op: Op,
    /// Existing objects the request knows of.
    pub entities: Vec<Ent>,
    /// What orgscope must answer: allow or deny.
    pub expect_allow: bool,
}

impl Scenario {
    /// A query by a user with these orgs and (optionally) a `Zuora-Org-Ids` header.
    pub fn query(name: &str, user: &[&str], org_ids: Option<&str>, allow: bool) -> Scenario {
        Scenario {
            name: name.to_string(),
            user_orgs: user.iter().map(|s| s.to_string()).collect(),
            org_ids: org_ids.map(str::to_string),
            op: Op::Query,
            entities: Vec::new(),
            expect_allow: allow,
        }
    }

    /// A create of `object` whose parent has this id.
    pub fn create(
        name: &str,
        user: &[&str],
        object: &str,
        route: Option<&str>,
        parent_id: Option<&str>,
        entities: &[(&str, &str, &str)],
        allow: bool,
    ) -> Scenario {
        Scenario {
            name: name.to_string(),
            user_orgs: user.iter().map(|s| s.to_string()).collect(),
            org_ids: None,
            op: Op::Create {
                object: object.to_string(),
                route: route.map(str::to_string),
                parent_id: parent_id.map(str::to_string),
            },
            entities: entities
                .iter()
                .map(|(ty, id, org)| Ent {
                    ty: ty.to_string(),
                    id: id.to_string(),
                    org: org.to_string(),
                })
                .collect(),
            expect_allow: allow,
        }
    }

    /// With a `Zuora-Org-Ids` header.
    pub fn with_org_ids(mut self, v: &str) -> Scenario {
        self.org_ids = Some(v.to_string());
        self
    }

    /// The header's orgs as the application reads them: split on commas, trimmed, de-duplicated.
    pub fn requested_orgs(&self) -> Option<Vec<String>> {
        let raw = self.org_ids.as_deref()?;
        let mut out: Vec<String> = Vec::new();
        for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if !out.iter().any(|o| o == item) {
                out.push(item.to_string());
            }
        }
        Some(out)
    }
}

/// A comparable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Allow or deny.
    pub allow: bool,
    /// The HTTP status, where the engine gives one.
    pub status: Option<u16>,
    /// The visible set (allow only), where the engine can express it.
    pub visible: Option<BTreeSet<String>>,
    /// The org of the created object (allow only), where the engine can express it.
    pub label: Option<String>,
}

/// Cedar's native input for one decision: one or more requests over one entity store.
pub struct CedarInput {
    /// The resource id each request is about, and the request.
    pub requests: Vec<(String, cedar::Request)>,
    /// The entities.
    pub entities: cedar::Entities,
    /// The application denies without asking Cedar (e.g. a create without its parent id).
    pub app_deny: bool,
}

/// One scenario in every engine's input format, built outside the timed loop.
pub struct Prepared {
    /// orgscope's request description (also Rego's input).
    pub json: String,
    /// The parsed request.
    pub request: orgscope::Request,
    /// Rego's input, parsed.
    pub rego_input: regorus::Value,
    /// Cedar, one authorization per org (queries) or per parent (creates).
    pub cedar: CedarInput,
    /// Cedar's input as JSON (entities, context, requests).
    pub cedar_json: String,
    /// Cedar, the one-call `containsAll` variant (queries only).
    pub cedar_set: Option<CedarInput>,
    /// Its JSON.
    pub cedar_set_json: Option<String>,
}

/// One policy, written for each engine.
pub struct World {
    /// Name for reports.
    pub name: String,
    /// orgscope.
    pub orgscope: orgscope::Policy,
    /// Cedar.
    pub cedar: cedar::PolicySet,
    /// Cedar's authorizer.
    pub authorizer: cedar::Authorizer,
    /// Rego: policy and data loaded.
    pub rego: regorus::Engine,
    /// Object types for creates.
    pub types: HashMap<String, TypeInfo>,
}

/// Cedar's entity type for an orgscope object type: `credit_memo` → `CreditMemo`.
pub fn cedar_type(name: &str) -> String {
    name.split('_')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn uid_json(ty: &str, id: &str) -> Json {
    json!({"type": ty, "id": id})
}

fn rego_engine(data: Json) -> regorus::Engine {
    let mut e = regorus::Engine::new();
    e.add_policy("orgscope.rego".to_string(), REGO_POLICY.to_string())
        .expect("rego policy");
    e.add_data(regorus::Value::from_json_str(&data.to_string()).expect("rego data"))
        .expect("rego data");
    e
}

impl World {
    /// The shipped `policies/zuora-multi-org.policy`, with its Cedar and Rego equivalents.
    pub fn zuora() -> World {
        let orgscope = orgscope::Policy::from_file(zuora_policy_path()).expect("zuora policy");
        let mut types = HashMap::new();
        for t in [
            "contact",
            "subscription",
            "invoice",
            "payment",
            "credit_memo",
        ] {
            types.insert(t.to_string(), info("account", "accountId"));
        }
        types.insert("invoice_item".into(), info("invoice", "invoiceId"));
        types.insert("product_rate_plan".into(), info("product", "productId"));
        let routes = json!({
            "POST /query/jobs": {"action": "query"},
            "POST /v1/accounts": {"action": "create", "object": "account"},
            "GET /v1/accounts/{accountId}": {"action": "read", "object": "account"},
            "PUT /v1/accounts/{accountId}": {"action": "update", "object": "account"},
            "DELETE /v1/accounts/{accountId}": {"action": "delete", "object": "account"},
            "POST /v1/invoices": {"action": "create", "object": "invoice"},
            "POST /v1/action/create": {"action": "create"},
        });
        let data = json!({
            "orgs": {"Asia": true, "China": true, "Japan": true, "Europe": true},
            "types": types_json(&types),
            "routes": routes,
        });
        World {
            name: "zuora".into(),
            orgscope,
            cedar: cedar::PolicySet::from_str(ZUORA_CEDAR).expect("zuora cedar"),
            authorizer: cedar::Authorizer::new(),
            rego: rego_engine(data),
            types,
        }
    }

    /// A generated policy: `g.orgs` orgs, `g.types` object types inheriting `account`,
    /// `g.routes` routes, in all three languages.
    pub fn generated(g: Gen) -> World {
        let text = g.orgscope_policy();
        let orgscope = orgscope::Policy::from_source(&format!("{}.policy", g.name()), &text)
            .unwrap_or_else(|e| panic!("{}", e.render(orgscope::diag::Style::default())));
        let mut types = HashMap::new();
        for i in 0..g.types {
            types.insert(type_name(i), info("account", "accountId"));
        }
        let mut routes = serde_json::Map::new();
        routes.insert("POST /query/jobs".into(), json!({"action": "query"}));
        routes.insert(
            "POST /v1/accounts".into(),
            json!({"action": "create", "object": "account"}),
        );
        for i in 0..g.routed_types() {
            let t = type_name(i);
            routes.insert(
                format!("POST /v1/{t}"),
                json!({"action": "create", "object": t}),
            );
            routes.insert(
                format!("GET /v1/{t}/{{{t}Id}}"),
                json!({"action": "read", "object": t}),
            );
        }
        let orgs: serde_json::Map<String, Json> =
            (0..g.orgs).map(|i| (org_name(i), json!(true))).collect();
        let data = json!({"orgs": orgs, "types": types_json(&types), "routes": routes});
        World {
            name: g.name(),
            orgscope,
            cedar: cedar::PolicySet::from_str(&g.cedar_policies()).expect("generated cedar"),
            authorizer: cedar::Authorizer::new(),
            rego: rego_engine(data),
            types,
        }
    }

    /// Every engine's input for one scenario.
    pub fn prepare(&self, s: &Scenario) -> Prepared {
        let json = self.orgscope_json(s);
        let request = orgscope::Request::from_json(&json).expect("orgscope request");
        let rego_input = regorus::Value::from_json_str(&json).expect("rego input");
        let (cedar_json, cedar_set_json) = self.cedar_json(s);
        let cedar = cedar_from_json(&cedar_json);
        let cedar_set = cedar_set_json.as_deref().map(cedar_from_json);
        Prepared {
            json,
            request,
            rego_input,
            cedar,
            cedar_json,
            cedar_set,
            cedar_set_json,
        }
    }

    /// orgscope's request description (and Rego's input).
    pub fn orgscope_json(&self, s: &Scenario) -> String {
        let mut req = serde_json::Map::new();
        match &s.op {
            Op::Query => {
                req.insert("method".into(), json!("POST"));
                req.insert("path".into(), json!("/query/jobs"));
            }
            Op::Create {
                object,
                route,
                parent_id,
            } => {
                match route {
                    Some(path) => {
                        req.insert("method".into(), json!("POST"));
                        req.insert("path".into(), json!(path));
                    }
                    None => {
                        req.insert("action".into(), json!("create"));
                        req.insert("object".into(), json!(object));
                    }
                }
                let mut body = serde_json::Map::new();
                if let (Some(id), Some(t)) = (parent_id, self.types.get(object)) {
                    body.insert(t.via.clone(), json!(id));
                }
                req.insert("body".into(), Json::Object(body));
            }
        }
        if let Some(h) = &s.org_ids {
            req.insert("headers".into(), json!({"Zuora-Org-Ids": h}));
        }
        req.insert(
            "user".into(),
            json!({"id": "u-1", "orgs": s.user_orgs.clone()}),
        );
        if !s.entities.is_empty() {
            let ents: Vec<Json> = s
                .entities
                .iter()
                .map(|e| json!({"type": e.ty, "id": e.id, "org": e.org}))
                .collect();
            req.insert("entities".into(), Json::Array(ents));
        }
        Json::Object(req).to_string()
    }

    /// Cedar's input in its JSON formats: `{principal, action, resources, context, entities}`
    /// (entities in Cedar's entity JSON, context in its context JSON), for the per-org variant
    /// and (queries) the one-call variant.
    pub fn cedar_json(&self, s: &Scenario) -> (String, Option<String>) {
        let user = |with_attr: bool| {
            let parents: Vec<Json> = s.user_orgs.iter().map(|o| uid_json("Org", o)).collect();
            let mut attrs = serde_json::Map::new();
            if with_attr {
                let orgs: Vec<Json> = s
                    .user_orgs
                    .iter()
                    .map(|o| json!({"__entity": uid_json("Org", o)}))
                    .collect();
                attrs.insert("orgs".into(), Json::Array(orgs));
            }
            json!({"uid": uid_json("User", "u-1"), "attrs": attrs, "parents": parents})
        };
        let mut context = serde_json::Map::new();
        if let Some(req) = s.requested_orgs() {
            let ids: Vec<Json> = req
                .iter()
                .map(|o| json!({"__entity": uid_json("Org", o)}))
                .collect();
            context.insert("orgIds".into(), Json::Array(ids));
        }
        match &s.op {
            Op::Query => {
                let resources: Vec<Json> = s
                    .requested_orgs()
                    .unwrap_or_else(|| s.user_orgs.clone())
                    .iter()
                    .map(|o| uid_json("Org", o))
                    .collect();
                let per_org = json!({
                    "principal": uid_json("User", "u-1"),
                    "action": uid_json("Action", "query"),
                    "resources": resources,
                    "context": {},
                    "entities": [user(false)],
                });
                let set = json!({
                    "principal": uid_json("User", "u-1"),
                    "action": uid_json("Action", "query_set"),
                    "resources": [uid_json("Tenant", "t")],
                    "context": context,
                    "entities": [user(true)],
                });
                (per_org.to_string(), Some(set.to_string()))
            }
            Op::Create {
                object, parent_id, ..
            } => {
                let mut ents = vec![user(false)];
                for e in &s.entities {
                    ents.push(json!({
                        "uid": uid_json(&cedar_type(&e.ty), &e.id),
                        "attrs": {"org": {"__entity": uid_json("Org", &e.org)}},
                        "parents": [],
                    }));
                }
                let t = self.types.get(object);
                let resources: Vec<Json> = match (parent_id, t) {
                    (Some(id), Some(t)) => vec![uid_json(&cedar_type(&t.parent), id)],
                    _ => Vec::new(), // no parent reference: the application denies
                };
                let doc = json!({
                    "principal": uid_json("User", "u-1"),
                    "action": uid_json("Action", &format!("create_{object}")),
                    "resources": resources,
                    "context": context,
                    "entities": ents,
                });
                (doc.to_string(), None)
            }
        }
    }

    /// orgscope from a prebuilt request.
    #[inline]
    pub fn orgscope_eval(&self, p: &Prepared) -> orgscope::Decision {
        self.orgscope.evaluate(&p.request)
    }

    /// orgscope from the JSON text.
    #[inline]
    pub fn orgscope_eval_json(&self, json: &str) -> orgscope::Decision {
        self.orgscope
            .evaluate_json(json, &orgscope::EvalOptions::default())
    }

    /// Cedar from prebuilt requests and entities: allowed when every request is.
    #[inline]
    pub fn cedar_eval(&self, c: &CedarInput) -> bool {
        !c.app_deny
            && c.requests.iter().all(|(_, r)| {
                self.authorizer
                    .is_authorized(r, &self.cedar, &c.entities)
                    .decision()
                    == cedar::Decision::Allow
            })
    }

    /// Cedar from its JSON input: parse entities, context and requests, then authorize.
    #[inline]
    pub fn cedar_eval_json(&self, json: &str) -> bool {
        self.cedar_eval(&cedar_from_json(json))
    }

    /// The Cedar outcome: allow/deny and, for per-org queries, the orgs allowed.
    pub fn cedar_outcome(&self, c: &CedarInput, query: bool) -> Outcome {
        let allowed: BTreeSet<String> = c
            .requests
            .iter()
            .filter(|(_, r)| {
                self.authorizer
                    .is_authorized(r, &self.cedar, &c.entities)
                    .decision()
                    == cedar::Decision::Allow
            })
            .map(|(id, _)| id.clone())
            .collect();
        let allow = self.cedar_eval(c);
        Outcome {
            allow,
            status: None,
            visible: (allow && query).then_some(allowed),
            label: None,
        }
    }

    /// Every engine's outcome for one scenario (and the one-call Cedar variant for queries).
    pub fn outcomes(&self, s: &Scenario, p: &Prepared) -> Vec<(&'static str, Outcome)> {
        let query = matches!(s.op, Op::Query);
        let d = self.orgscope_eval(p);
        let mut out = vec![("orgscope", orgscope_outcome(&d))];
        let dj = self.orgscope_eval_json(&p.json);
        out.push(("orgscope_json", orgscope_outcome(&dj)));
        out.push(("cedar", self.cedar_outcome(&p.cedar, query)));
        let cj = cedar_from_json(&p.cedar_json);
        out.push(("cedar_json", self.cedar_outcome(&cj, query)));
        if let Some(c) = &p.cedar_set {
            let mut o = self.cedar_outcome(c, false);
            if o.allow {
                o.visible = s.requested_orgs().map(|v| v.into_iter().collect());
            }
            out.push(("cedar_set", o));
        }
        let mut rego = self.rego.clone();
        let v = rego_eval(&mut rego, p.rego_input.clone());
        out.push(("regorus", rego_outcome(&v)));
        let vj = rego_eval_json(&mut rego, &p.json);
        out.push(("regorus_json", rego_outcome(&vj)));
        out
    }

    /// Asserts that every engine agrees with orgscope (and orgscope with the scenario):
    /// allow/deny always; the visible set and the label where the engine expresses them; the
    /// status where the engine gives one. Returns one line per scenario for the log.
    pub fn assert_agreement(&self, scenarios: &[Scenario]) -> String {
        let mut log = String::new();
        for s in scenarios {
            let p = self.prepare(s);
            let all = self.outcomes(s, &p);
            let base = &all[0].1;
            assert_eq!(
                base.allow, s.expect_allow,
                "[{}] {}: orgscope answered {:?}",
                self.name, s.name, base
            );
            for (engine, o) in &all[1..] {
                let mut problems = Vec::new();
                if o.allow != base.allow {
                    problems.push("allow/deny");
                }
                if o.visible.is_some() && base.visible.is_some() && o.visible != base.visible {
                    problems.push("visible set");
                }
                if o.label.is_some() && o.label != base.label {
                    problems.push("label");
                }
                if o.status.is_some() && o.status != base.status {
                    problems.push("status");
                }
                assert!(
                    problems.is_empty(),
                    "[{}] {}: {engine} disagrees with orgscope on {problems:?}\n  orgscope: {base:?}\n  {engine}: {o:?}\n  request: {}",
                    self.name, s.name, p.json
                );
            }
            let _ = writeln!(
                log,
                "  agree  [{}] {:<58} {} {}{}",
                self.name,
                s.name,
                if base.allow { "allow" } else { "deny " },
                base.status.map(|s| s.to_string()).unwrap_or_default(),
                base.visible
                    .as_ref()
                    .map(|v| format!(" visible={}", v.len()))
                    .unwrap_or_default()
            );
        }
        log
    }
}

fn info(parent: &str, via: &str) -> TypeInfo {
    TypeInfo {
        parent: parent.into(),
        via: via.into(),
    }
}

fn types_json(types: &HashMap<String, TypeInfo>) -> Json {
    let m: serde_json::Map<String, Json> = types
        .iter()
        .map(|(k, t)| (k.clone(), json!({"parent": t.parent, "via": t.via})))
        .collect();
    Json::Object(m)
}

/// Parses Cedar's JSON input (see [`World::cedar_json`]) into requests and entities.
pub fn cedar_from_json(text: &str) -> CedarInput {
    let mut doc: Json = serde_json::from_str(text).expect("cedar json");
    let principal = cedar::EntityUid::from_json(doc["principal"].take()).expect("principal");
    let action = cedar::EntityUid::from_json(doc["action"].take()).expect("action");
    let context = cedar::Context::from_json_value(doc["context"].take(), None).expect("context");
    let entities =
        cedar::Entities::from_json_value(doc["entities"].take(), None).expect("entities");
    let resources = match doc["resources"].take() {
        Json::Array(a) => a,
        _ => Vec::new(),
    };
    let app_deny = resources.is_empty();
    let requests = resources
        .into_iter()
        .map(|r| {
            let resource = cedar::EntityUid::from_json(r).expect("resource");
            let id = resource.id().unescaped().to_string();
            let req = cedar::Request::new(
                principal.clone(),
                action.clone(),
                resource,
                context.clone(),
                None,
            )
            .expect("cedar request");
            (id, req)
        })
        .collect();
    CedarInput {
        requests,
        entities,
        app_deny,
    }
}

/// regorus from a prebuilt input.
#[inline]
pub fn rego_eval(engine: &mut regorus::Engine, input: regorus::Value) -> regorus::Value {
    engine.set_input(input);
    engine.eval_rule(REGO_RULE.to_string()).expect("rego eval")
}

/// regorus from the JSON text.
#[inline]
pub fn rego_eval_json(engine: &mut regorus::Engine, json: &str) -> regorus::Value {
    let input = regorus::Value::from_json_str(json).expect("rego input");
    rego_eval(engine, input)
}

/// Whether Rego allowed.
#[inline]
pub fn rego_allows(v: &regorus::Value) -> bool {
    matches!(&v["allow"], regorus::Value::Bool(true))
}

fn rego_outcome(v: &regorus::Value) -> Outcome {
    let allow = rego_allows(v);
    let strings = |v: &regorus::Value| -> BTreeSet<String> {
        match v {
            regorus::Value::Set(s) => s
                .iter()
                .filter_map(|x| x.as_string().ok().map(|s| s.to_string()))
                .collect(),
            _ => BTreeSet::new(),
        }
    };
    let status = if allow {
        Some(200)
    } else {
        match &v["errors"] {
            regorus::Value::Set(s) if s.len() == 1 => s
                .iter()
                .next()
                .and_then(|e| e["status"].as_u64().ok())
                .map(|n| n as u16),
            _ => None,
        }
    };
    let label = if allow {
        match &v["labels"] {
            regorus::Value::Set(s) => s
                .iter()
                .next()
                .and_then(|l| l["org"].as_string().ok().map(|s| s.to_string())),
            _ => None,
        }
    } else {
        None
    };
    Outcome {
        allow,
        status,
        visible: allow.then(|| strings(&v["visible"])),
        label,
    }
}

/// orgscope's decision as an [`Outcome`].
pub fn orgscope_outcome(d: &orgscope::Decision) -> Outcome {
    let allow = d.is_allow();
    Outcome {
        allow,
        status: Some(d.status),
        visible: if allow {
            d.visible_orgs
                .as_ref()
                .map(|v| v.iter().map(|o| o.to_string()).collect())
        } else {
            None
        },
        label: if allow {
            d.labels
                .first()
                .and_then(|l| l.org.as_ref().map(|o| o.to_string()))
        } else {
            None
        },
    }
}

/// A generated policy's size.
#[derive(Debug, Clone, Copy)]
pub struct Gen {
    /// Orgs in the directory.
    pub orgs: usize,
    /// Object types (besides `account`).
    pub types: usize,
    /// Routes, in all.
    pub routes: usize,
}

/// The name of generated org `i`.
pub fn org_name(i: usize) -> String {
    format!("o{i:05}")
}

/// The name of generated object type `i`.
pub fn type_name(i: usize) -> String {
    format!("t{i}")
}

impl Gen {
    /// A short name.
    pub fn name(&self) -> String {
        format!("gen-{}o-{}t-{}r", self.orgs, self.types, self.routes)
    }

    /// Types that get routes: two routes each (create and read), after the two fixed ones.
    pub fn routed_types(&self) -> usize {
        (self.routes.saturating_sub(2) / 2).min(self.types)
    }

    /// The orgscope policy text.
    pub fn orgscope_policy(&self) -> String {
        let mut s = String::with_capacity(64 * (self.orgs + self.types * 2 + self.routes));
        let _ = writeln!(
            s,
            "# generated: {} orgs, {} object types, {} routes",
            self.orgs, self.types, self.routes
        );
        s.push_str("multi_org {\n  default enabled\n  when_disabled reject\n}\n\n");
        s.push_str("orgs {\n  descendant_access off\n");
        for i in 0..self.orgs {
            let _ = writeln!(s, "  org {}", org_name(i));
        }
        s.push_str("}\n\n");
        let _ = writeln!(
            s,
            "header Zuora-Org-Ids {{\n  role visibility\n  list\n  subset_of user.orgs\n  max_items {}\n  max_length 1000000\n}}\n",
            self.orgs.max(1)
        );
        s.push_str("header Zuora-Working-Org {\n  role working_org\n  single\n  member_of user.orgs\n  max_length 256\n}\n\n");
        s.push_str("fallback working_org, default_org, single_org\n\n");
        s.push_str("object account {\n  label body.organizationLabel\n}\n");
        for i in 0..self.types {
            let _ = writeln!(
                s,
                "object {} {{\n  label body.organizationLabel\n  inherit account via body.accountId\n}}",
                type_name(i)
            );
        }
        s.push('\n');
        s.push_str("route POST /query/jobs -> query\n");
        s.push_str("route POST /v1/accounts -> create account\n");
        for i in 0..self.routed_types() {
            let t = type_name(i);
            let _ = writeln!(s, "route POST /v1/{t} -> create {t}");
            let _ = writeln!(s, "route GET /v1/{t}/{{{t}Id}} -> read {t} id path.{t}Id");
        }
        s
    }

    /// The Cedar policy set: the two query policies and one `permit` per object type.
    pub fn cedar_policies(&self) -> String {
        let mut s = String::with_capacity(200 * (self.types + 2));
        s.push_str("permit (principal, action == Action::\"query\", resource is Org)\nwhen { principal in resource };\n");
        s.push_str("permit (principal, action == Action::\"query_set\", resource)\nwhen { !(context has orgIds) || principal.orgs.containsAll(context.orgIds) };\n");
        for i in 0..self.types {
            let _ = writeln!(
                s,
                "permit (principal, action == Action::\"create_{}\", resource is Account)\nwhen {{ principal in resource.org && (!(context has orgIds) || context.orgIds.contains(resource.org)) }};",
                type_name(i)
            );
        }
        s
    }
}

/// The agreement set and the timed decisions on the shipped Zuora policy.
pub mod zuora {
    use super::Scenario;

    const ACCOUNT_ASIA: (&str, &str, &str) = ("account", "A-1", "Asia");

    /// (a): `Zuora-Org-Ids: Asia, China` for a user of Asia, China, Japan.
    pub fn query() -> Scenario {
        Scenario::query(
            "query Zuora-Org-Ids: Asia, China",
            &["Asia", "China", "Japan"],
            Some("Asia, China"),
            true,
        )
    }

    /// (b): a standalone invoice takes the org of account A-1.
    pub fn create_invoice() -> Scenario {
        Scenario::create(
            "create invoice inherits account A-1 (Asia)",
            &["Asia", "China"],
            "invoice",
            Some("/v1/invoices"),
            Some("A-1"),
            &[ACCOUNT_ASIA],
            true,
        )
    }

    /// (b): the two-level chain: an invoice item takes its invoice's org.
    pub fn create_chain() -> Scenario {
        Scenario::create(
            "create invoice_item inherits invoice I-1 (Asia)",
            &["Asia", "China"],
            "invoice_item",
            None,
            Some("I-1"),
            &[ACCOUNT_ASIA, ("invoice", "I-1", "Asia")],
            true,
        )
    }

    /// Allows and denies that every engine must answer alike.
    pub fn agreement() -> Vec<Scenario> {
        let aco = &["Asia", "China", "Japan"][..];
        let ac = &["Asia", "China"][..];
        vec![
            Scenario::query(
                "query, no Zuora-Org-Ids: all the user's orgs",
                aco,
                None,
                true,
            ),
            Scenario::query("query Zuora-Org-Ids: Asia", aco, Some("Asia"), true),
            query(),
            Scenario::query(
                "query Zuora-Org-Ids: Japan, Asia",
                aco,
                Some("Japan, Asia"),
                true,
            ),
            Scenario::query("query duplicates dropped", aco, Some("Asia,Asia"), true),
            Scenario::query("deny: no access to China", &["Asia"], Some("China"), false),
            Scenario::query("deny: unknown org Narnia", aco, Some("Narnia"), false),
            Scenario::query(
                "deny: one inaccessible org (Europe)",
                aco,
                Some("Asia, Europe"),
                false,
            ),
            create_invoice(),
            Scenario::create(
                "create invoice inherits account (China), filter Asia, China",
                ac,
                "invoice",
                Some("/v1/invoices"),
                Some("A-2"),
                &[("account", "A-2", "China")],
                true,
            )
            .with_org_ids("Asia, China"),
            Scenario::create(
                "deny: parent account in an org the user lacks",
                ac,
                "invoice",
                Some("/v1/invoices"),
                Some("A-3"),
                &[("account", "A-3", "Japan")],
                false,
            ),
            Scenario::create(
                "deny: parent account outside Zuora-Org-Ids",
                ac,
                "invoice",
                Some("/v1/invoices"),
                Some("A-1"),
                &[ACCOUNT_ASIA],
                false,
            )
            .with_org_ids("China"),
            Scenario::create(
                "deny: parent account missing",
                ac,
                "invoice",
                Some("/v1/invoices"),
                Some("A-404"),
                &[ACCOUNT_ASIA],
                false,
            ),
            Scenario::create(
                "deny: no accountId (parent_required)",
                ac,
                "invoice",
                Some("/v1/invoices"),
                None,
                &[ACCOUNT_ASIA],
                false,
            ),
            create_chain(),
            Scenario::create(
                "deny: chain, invoice in an org the user lacks",
                &["Asia"],
                "invoice_item",
                None,
                Some("I-2"),
                &[("account", "A-2", "China"), ("invoice", "I-2", "China")],
                false,
            ),
        ]
    }
}

/// The scale scenarios on generated policies.
pub mod scale {
    use super::{org_name, type_name, Gen, Scenario};

    /// Orgs in the generated directory for the scale runs.
    pub const ORGS: usize = 1000;

    /// The policy for the users sweep: 1,000 orgs, 10 types.
    pub fn users_policy() -> Gen {
        Gen {
            orgs: ORGS,
            types: 10,
            routes: 22,
        }
    }

    /// The policy for the types sweep: 1,000 orgs, `types` types, `types / 2` routes.
    pub fn types_policy(types: usize) -> Gen {
        Gen {
            orgs: ORGS,
            types,
            routes: (types / 2).max(6),
        }
    }

    fn user(n: usize) -> Vec<String> {
        (0..n).map(org_name).collect()
    }

    /// A user with `n` orgs queries with `Zuora-Org-Ids` naming their first and last org.
    pub fn query_user_orgs(n: usize) -> Scenario {
        let orgs = user(n);
        let header = if n == 1 {
            orgs[0].clone()
        } else {
            format!("{}, {}", orgs[0], orgs[n - 1])
        };
        let refs: Vec<&str> = orgs.iter().map(String::as_str).collect();
        Scenario::query(
            &format!("query, user with {n} orgs, header names 2"),
            &refs,
            Some(&header),
            true,
        )
    }

    /// The same with one org the user lacks: deny.
    pub fn query_user_orgs_deny(n: usize) -> Scenario {
        let orgs = user(n);
        // The last org of the directory, or (for a user of every org) one outside it.
        let lacks = if n < ORGS {
            org_name(ORGS - 1)
        } else {
            org_name(99_999)
        };
        let refs: Vec<&str> = orgs.iter().map(String::as_str).collect();
        Scenario::query(
            &format!("deny: user with {n} orgs, header names one they lack"),
            &refs,
            Some(&format!("{}, {lacks}", orgs[0])),
            false,
        )
    }

    /// A create of the last routed type, inheriting account A-1.
    pub fn create_last_type(g: Gen, allow: bool) -> Scenario {
        let t = type_name(g.routed_types().saturating_sub(1));
        let user = user(10);
        let refs: Vec<&str> = user.iter().map(String::as_str).collect();
        let org = if allow { org_name(3) } else { org_name(500) };
        Scenario::create(
            &format!(
                "{}create {t} (route {} of {}), parent in {org}",
                if allow { "" } else { "deny: " },
                2 * g.routed_types() + 1,
                2 * g.routed_types() + 2
            ),
            &refs,
            &t,
            Some(&format!("/v1/{t}")),
            Some("A-1"),
            &[("account", "A-1", org.as_str())],
            allow,
        )
    }

    /// A query by a 10-org user on the types policy.
    pub fn query_ten() -> Scenario {
        let mut s = query_user_orgs(10);
        s.name = "query, user with 10 orgs, header names 2".into();
        s
    }
}

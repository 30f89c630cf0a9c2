//! The same multi-org decisions made by orgscope, cedar-policy and regorus (issues 5 and 13).
//!
//! A [`World`] is one policy written three ways: orgscope's policy language, two generic Cedar
//! policies with the application around them ([`CedarApp`]), and a Rego package with its data.
//! A [`Scenario`] is one request, and [`World::prepare`] turns it into each engine's native
//! input. [`World::outcomes`] asks all engines and returns comparable [`Outcome`]s, so the
//! benchmark can assert that they agree before it times anything.
//!
//! Each engine in its best idiomatic form:
//! - **orgscope**: `Policy::evaluate` on a parsed [`orgscope::Request`], `Policy::evaluate_as`
//!   with a principal resolved once, or `Policy::evaluate_json` on the text. One call gives
//!   allow/deny, the visible set and labels.
//! - **Cedar** (schema-less): the application reads the same request description with serde
//!   (borrowed strings), finds the action in its route table and the parent in its type table,
//!   builds one `Request` and its `Entities` (the user with an `orgs` attribute, the parent of a
//!   create with an `org` attribute) and makes one `is_authorized` call against the one policy
//!   of that action. The policies are generic: one for queries, one for creates of any type.
//!   Cedar answers allow/deny; the visible set and the label are the application's.
//! - **regorus** (default features): the Rego package `policies/orgscope.rego`, with the org
//!   directory, object types and routes loaded once as data; the input is orgscope's request
//!   description as is. Both of its evaluators: the interpreter (`Engine::eval_rule`) and the
//!   bytecode VM ("RVM": the policy compiled once to a `Program`, run by a `RegoVM`).

use cedar_policy as cedar;
use serde::Deserialize;
use serde_json::{json, Value as Json};
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::str::FromStr;
use std::sync::Arc;

pub mod parsers;

/// The Rego package (generic: the policy-specific parts are data).
pub const REGO_POLICY: &str = include_str!("../policies/orgscope.rego");
/// The Cedar policies (generic: one per action, whatever the policy's size).
pub const CEDAR_POLICIES: &str = include_str!("../policies/zuora.cedar");
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

/// Which of the application's Cedar policies applies to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CedarAction {
    /// A query: the `query` policy.
    Query,
    /// A create: the `create` policy.
    Create,
}

/// Cedar's input for one decision: one request, its entities, and the policy that applies.
pub struct CedarInput {
    /// The policy set to ask.
    pub action: CedarAction,
    /// The request.
    pub request: cedar::Request,
    /// The user and the parent of a create.
    pub entities: cedar::Entities,
}

/// One scenario in every engine's input format, built outside the timed loop.
pub struct Prepared {
    /// orgscope's request description (also Rego's input and the Cedar application's input).
    pub json: String,
    /// The parsed request.
    pub request: orgscope::Request,
    /// The user, resolved once against the policy (a caller that caches its users).
    pub principal: orgscope::Principal,
    /// Rego's input, parsed.
    pub rego_input: regorus::Value,
    /// Cedar's input, or None when the application denies without asking Cedar.
    pub cedar: Option<CedarInput>,
}

/// A route of the application: `METHOD path` → action and object type.
#[derive(Debug, Clone)]
pub struct Route {
    /// The HTTP method.
    pub method: String,
    /// The path (templates such as `{accountId}` are left to orgscope and Rego).
    pub path: String,
    /// `query`, `create`, `read`, ...
    pub action: String,
    /// The object type.
    pub object: Option<String>,
}

fn route(method: &str, path: &str, action: &str, object: Option<&str>) -> Route {
    Route {
        method: method.into(),
        path: path.into(),
        action: action.into(),
        object: object.map(str::to_string),
    }
}

/// How the application reads orgscope's request description for Cedar: only the fields its
/// Cedar policies need, strings borrowed where the JSON has no escapes.
#[derive(Deserialize)]
struct AppRequest<'a> {
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    path: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    action: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    object: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    headers: HashMap<Cow<'a, str>, Cow<'a, str>>,
    #[serde(borrow, default)]
    body: HashMap<Cow<'a, str>, Json>,
    #[serde(borrow)]
    user: AppUser<'a>,
    #[serde(borrow, default)]
    entities: Vec<AppEntity<'a>>,
}

#[derive(Deserialize)]
struct AppUser<'a> {
    #[serde(borrow, default)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    orgs: Vec<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct AppEntity<'a> {
    #[serde(borrow, rename = "type")]
    ty: Cow<'a, str>,
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    org: Cow<'a, str>,
}

/// The parent of a create, as the application's type table knows it.
struct CedarType {
    parent: String,
    parent_type: cedar::EntityTypeName,
    via: String,
}

/// The application's routes: method → path → action and object type.
type RouteTable = HashMap<String, HashMap<String, (String, Option<String>)>>;

/// An application that asks Cedar: its route and type tables, and one policy set per action.
pub struct CedarApp {
    query: cedar::PolicySet,
    create: cedar::PolicySet,
    authorizer: cedar::Authorizer,
    routes: RouteTable,
    types: HashMap<String, CedarType>,
    user_type: cedar::EntityTypeName,
    org_type: cedar::EntityTypeName,
    query_action: cedar::EntityUid,
    create_action: cedar::EntityUid,
    tenant: cedar::EntityUid,
}

fn type_name_of(name: &str) -> cedar::EntityTypeName {
    cedar::EntityTypeName::from_str(name).expect("cedar type name")
}

fn uid(ty: &cedar::EntityTypeName, id: &str) -> cedar::EntityUid {
    cedar::EntityUid::from_type_name_and_id(ty.clone(), cedar::EntityId::new(id))
}

/// The orgs of a `Zuora-Org-Ids` value: split on commas, trimmed, empty items dropped.
fn header_orgs(raw: &str) -> impl Iterator<Item = &str> {
    raw.split(',').map(str::trim).filter(|s| !s.is_empty())
}

impl CedarApp {
    fn new(routes: &[Route], types: &HashMap<String, TypeInfo>) -> CedarApp {
        let all = cedar::PolicySet::from_str(CEDAR_POLICIES).expect("cedar policies");
        let only = |id: &str| {
            let mut set = cedar::PolicySet::new();
            for p in all.policies() {
                if p.annotation("id") == Some(id) {
                    set.add(p.clone()).expect("cedar policy");
                }
            }
            set
        };
        let mut table: HashMap<String, HashMap<String, (String, Option<String>)>> = HashMap::new();
        for r in routes {
            table
                .entry(r.method.clone())
                .or_default()
                .insert(r.path.clone(), (r.action.clone(), r.object.clone()));
        }
        let action = type_name_of("Action");
        CedarApp {
            query: only("query"),
            create: only("create"),
            authorizer: cedar::Authorizer::new(),
            routes: table,
            types: types
                .iter()
                .map(|(name, t)| {
                    let ty = CedarType {
                        parent: t.parent.clone(),
                        parent_type: type_name_of(&cedar_type(&t.parent)),
                        via: t.via.clone(),
                    };
                    (name.clone(), ty)
                })
                .collect(),
            user_type: type_name_of("User"),
            org_type: type_name_of("Org"),
            query_action: uid(&action, "query"),
            create_action: uid(&action, "create"),
            tenant: uid(&type_name_of("Tenant"), "t"),
        }
    }

    /// The application's glue: orgscope's request description (serde, borrowed strings) → the
    /// action's Cedar request and entities. None: the application denies without asking Cedar
    /// (malformed request, no route, no policy for the action, a create without its parent id
    /// or with an empty `Zuora-Org-Ids`).
    pub fn input(&self, json: &str) -> Option<CedarInput> {
        let req: AppRequest<'_> = serde_json::from_str(json).ok()?;
        let (action, object) = match (&req.action, &req.method, &req.path) {
            (Some(a), _, _) => (a.as_ref(), req.object.as_deref()),
            (None, Some(m), Some(p)) => {
                let (a, o) = self.routes.get(m.as_ref())?.get(p.as_ref())?;
                (a.as_str(), o.as_deref())
            }
            _ => return None,
        };
        let org = |o: &str| cedar::RestrictedExpression::new_entity_uid(uid(&self.org_type, o));
        let principal = uid(&self.user_type, &req.user.id);
        let orgs = cedar::RestrictedExpression::new_set(req.user.orgs.iter().map(|o| org(o)));
        let user = cedar::Entity::new(
            principal.clone(),
            HashMap::from([("orgs".to_string(), orgs)]),
            HashSet::new(),
        )
        .ok()?;
        let mut context = Vec::new();
        if let Some(raw) = req.headers.get("Zuora-Org-Ids") {
            // An empty list is refused (orgscope: `invalid_request`).
            header_orgs(raw).next()?;
            let ids = cedar::RestrictedExpression::new_set(header_orgs(raw).map(org));
            context.push(("orgIds".to_string(), ids));
        }
        let context = cedar::Context::from_pairs(context).ok()?;
        let (action, uid_action, resource, entities) = match action {
            "query" => (
                CedarAction::Query,
                &self.query_action,
                self.tenant.clone(),
                vec![user],
            ),
            "create" => {
                let t = self.types.get(object?)?;
                let parent_id = req.body.get(t.via.as_str())?.as_str()?;
                let resource = uid(&t.parent_type, parent_id);
                let mut entities = vec![user];
                // Only the parent matters to the policy; a parent the request does not
                // describe is not in the store, and Cedar denies.
                if let Some(e) = req
                    .entities
                    .iter()
                    .find(|e| e.ty == t.parent.as_str() && e.id == parent_id)
                {
                    let attrs = HashMap::from([("org".to_string(), org(&e.org))]);
                    entities
                        .push(cedar::Entity::new(resource.clone(), attrs, HashSet::new()).ok()?);
                }
                (CedarAction::Create, &self.create_action, resource, entities)
            }
            _ => return None,
        };
        let request =
            cedar::Request::new(principal, uid_action.clone(), resource, context, None).ok()?;
        Some(CedarInput {
            action,
            request,
            entities: cedar::Entities::from_entities(entities, None).ok()?,
        })
    }

    /// One authorization, against the policy of the request's action.
    #[inline]
    pub fn authorize(&self, input: &CedarInput) -> bool {
        let policies = match input.action {
            CedarAction::Query => &self.query,
            CedarAction::Create => &self.create,
        };
        self.authorizer
            .is_authorized(&input.request, policies, &input.entities)
            .decision()
            == cedar::Decision::Allow
    }

    /// From a prebuilt input (None: the application denied).
    #[inline]
    pub fn eval(&self, input: Option<&CedarInput>) -> bool {
        input.is_some_and(|i| self.authorize(i))
    }

    /// From the request description: the glue, then one authorization.
    #[inline]
    pub fn eval_json(&self, json: &str) -> bool {
        self.input(json).is_some_and(|i| self.authorize(&i))
    }
}

/// One policy, written for each engine.
pub struct World {
    /// Name for reports.
    pub name: String,
    /// orgscope.
    pub orgscope: orgscope::Policy,
    /// The application asking Cedar.
    pub cedar: CedarApp,
    /// regorus's interpreter: policy and data loaded.
    pub rego: regorus::Engine,
    /// The same policy compiled for regorus's bytecode VM (RVM).
    pub rvm: Arc<regorus::rvm::Program>,
    rego_data: regorus::Value,
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

fn rego_data(
    orgs: serde_json::Map<String, Json>,
    types: &HashMap<String, TypeInfo>,
    routes: &[Route],
) -> regorus::Value {
    let routes: serde_json::Map<String, Json> = routes
        .iter()
        .map(|r| {
            let mut v = json!({"action": r.action});
            if let Some(o) = &r.object {
                v["object"] = json!(o);
            }
            (format!("{} {}", r.method, r.path), v)
        })
        .collect();
    let types: serde_json::Map<String, Json> = types
        .iter()
        .map(|(k, t)| (k.clone(), json!({"parent": t.parent, "via": t.via})))
        .collect();
    let data = json!({"orgs": orgs, "types": types, "routes": routes});
    regorus::Value::from_json_str(&data.to_string()).expect("rego data")
}

impl World {
    fn new(
        name: String,
        orgscope: orgscope::Policy,
        orgs: serde_json::Map<String, Json>,
        types: HashMap<String, TypeInfo>,
        routes: &[Route],
    ) -> World {
        let data = rego_data(orgs, &types, routes);
        let mut rego = regorus::Engine::new();
        rego.add_policy("orgscope.rego".to_string(), REGO_POLICY.to_string())
            .expect("rego policy");
        rego.add_data(data.clone()).expect("rego data");
        let compiled = rego
            .compile_with_entrypoint(&REGO_RULE.into())
            .expect("rego compiles");
        let rvm = regorus::languages::rego::compiler::Compiler::compile_from_policy(
            &compiled,
            &[REGO_RULE],
        )
        .expect("rego compiles for the RVM");
        World {
            name,
            orgscope,
            cedar: CedarApp::new(routes, &types),
            rego,
            rvm,
            rego_data: data,
            types,
        }
    }

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
        let routes = [
            route("POST", "/query/jobs", "query", None),
            route("POST", "/v1/accounts", "create", Some("account")),
            route("GET", "/v1/accounts/{accountId}", "read", Some("account")),
            route("PUT", "/v1/accounts/{accountId}", "update", Some("account")),
            route(
                "DELETE",
                "/v1/accounts/{accountId}",
                "delete",
                Some("account"),
            ),
            route("POST", "/v1/invoices", "create", Some("invoice")),
            route("POST", "/v1/action/create", "create", None),
        ];
        let orgs = ["Asia", "China", "Japan", "Europe"]
            .iter()
            .map(|o| (o.to_string(), json!(true)))
            .collect();
        World::new("zuora".into(), orgscope, orgs, types, &routes)
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
        let mut routes = vec![
            route("POST", "/query/jobs", "query", None),
            route("POST", "/v1/accounts", "create", Some("account")),
        ];
        for i in 0..g.routed_types() {
            let t = type_name(i);
            routes.push(route("POST", &format!("/v1/{t}"), "create", Some(&t)));
            routes.push(route(
                "GET",
                &format!("/v1/{t}/{{{t}Id}}"),
                "read",
                Some(&t),
            ));
        }
        let orgs = (0..g.orgs).map(|i| (org_name(i), json!(true))).collect();
        World::new(g.name(), orgscope, orgs, types, &routes)
    }

    /// A bytecode VM with the policy and its data loaded.
    pub fn new_vm(&self) -> regorus::rvm::RegoVM {
        let mut vm = regorus::rvm::RegoVM::new();
        vm.load_program(self.rvm.clone());
        vm.set_data(self.rego_data.clone()).expect("rvm data");
        vm
    }

    /// Every engine's input for one scenario.
    pub fn prepare(&self, s: &Scenario) -> Prepared {
        let json = self.orgscope_json(s);
        let request = orgscope::Request::from_json(&json).expect("orgscope request");
        Prepared {
            principal: self.orgscope.principal(&request.user),
            rego_input: regorus::Value::from_json_str(&json).expect("rego input"),
            cedar: self.cedar.input(&json),
            request,
            json,
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

    /// orgscope from a prebuilt request.
    #[inline]
    pub fn orgscope_eval(&self, p: &Prepared) -> orgscope::Decision<'_> {
        self.orgscope.evaluate(&p.request)
    }

    /// orgscope from a prebuilt request and a principal resolved beforehand.
    #[inline]
    pub fn orgscope_eval_principal(&self, p: &Prepared) -> orgscope::Decision<'_> {
        self.orgscope
            .evaluate_as(&p.principal, &p.request, &orgscope::EvalOptions::default())
    }

    /// orgscope from the JSON text.
    #[inline]
    pub fn orgscope_eval_json(&self, json: &str) -> orgscope::Decision<'_> {
        self.orgscope
            .evaluate_json(json, &orgscope::EvalOptions::default())
    }

    /// Every engine's outcome for one scenario. Cedar answers allow/deny only (the visible set
    /// and the label are the application's).
    pub fn outcomes(&self, p: &Prepared) -> Vec<(&'static str, Outcome)> {
        let cedar = |allow| Outcome {
            allow,
            status: None,
            visible: None,
            label: None,
        };
        let mut rego = self.rego.clone();
        let mut vm = self.new_vm();
        vec![
            ("orgscope", orgscope_outcome(&self.orgscope_eval(p))),
            (
                "orgscope_principal",
                orgscope_outcome(&self.orgscope_eval_principal(p)),
            ),
            (
                "orgscope_json",
                orgscope_outcome(&self.orgscope_eval_json(&p.json)),
            ),
            ("cedar", cedar(self.cedar.eval(p.cedar.as_ref()))),
            ("cedar_json", cedar(self.cedar.eval_json(&p.json))),
            (
                "regorus",
                rego_outcome(&rego_eval(&mut rego, p.rego_input.clone())),
            ),
            (
                "regorus_json",
                rego_outcome(&rego_eval_json(&mut rego, &p.json)),
            ),
            (
                "rvm",
                rego_outcome(&rvm_eval(&mut vm, p.rego_input.clone())),
            ),
            ("rvm_json", rego_outcome(&rvm_eval_json(&mut vm, &p.json))),
        ]
    }

    /// Asserts that every engine agrees with orgscope (and orgscope with the scenario):
    /// allow/deny always; the visible set and the label where the engine expresses them; the
    /// status where the engine gives one. Returns one line per scenario for the log.
    pub fn assert_agreement(&self, scenarios: &[Scenario]) -> String {
        let mut log = String::new();
        for s in scenarios {
            let p = self.prepare(s);
            let all = self.outcomes(&p);
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

/// regorus's interpreter from a prebuilt input.
#[inline]
pub fn rego_eval(engine: &mut regorus::Engine, input: regorus::Value) -> regorus::Value {
    engine.set_input(input);
    engine.eval_rule(REGO_RULE.to_string()).expect("rego eval")
}

/// regorus's interpreter from the JSON text.
#[inline]
pub fn rego_eval_json(engine: &mut regorus::Engine, json: &str) -> regorus::Value {
    let input = regorus::Value::from_json_str(json).expect("rego input");
    rego_eval(engine, input)
}

/// regorus's bytecode VM from a prebuilt input.
#[inline]
pub fn rvm_eval(vm: &mut regorus::rvm::RegoVM, input: regorus::Value) -> regorus::Value {
    vm.set_input(input);
    vm.execute_entry_point_by_index(0).expect("rvm eval")
}

/// regorus's bytecode VM from the JSON text.
#[inline]
pub fn rvm_eval_json(vm: &mut regorus::rvm::RegoVM, json: &str) -> regorus::Value {
    let input = regorus::Value::from_json_str(json).expect("rego input");
    rvm_eval(vm, input)
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

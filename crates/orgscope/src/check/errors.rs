//! The checker's catalogue: every [`CheckError`] with its stable code, severity and help.

use crate::syntax::ast::*;
use crate::terms;

catalogue! {
/// A semantic problem in a policy (errors and warnings alike).
///
/// Every variant carries the span it points at; `first_line`/`other_line` fields name the line
/// of the other declaration involved, for the help text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// The file declares nothing (warning).
    #[error("the policy declares nothing")]
    EmptyPolicy("empty_policy", Warning) {
        /// The start of the file.
        span: Span,
    },
    /// A block or statement that may appear once per policy appears again.
    #[error("{what} is declared twice")]
    DuplicateItem("duplicate_item", Error) {
        /// The second occurrence.
        span: Span,
        /// What it is, e.g. "the `orgs` block".
        what: &'static str,
        /// Line of the first occurrence.
        first_line: u32,
    },
    /// A property repeated inside one block.
    #[error("`{prop}` is set twice on {owner}")]
    DuplicateProperty("duplicate_property", Error) {
        /// The second occurrence.
        span: Span,
        /// The property keyword.
        prop: &'static str,
        /// What it belongs to, e.g. "object type `account`".
        owner: String,
        /// The first occurrence.
        first: Span,
    },
    /// A header declared both `list` and `single`.
    #[error("header `{header}` is declared both `list` and `single`")]
    ListAndSingle("list_and_single", Error) {
        /// The second of the two.
        span: Span,
        /// The header.
        header: String,
        /// Line of the first of the two.
        first_line: u32,
    },
    /// Two orgs with the same name.
    #[error("org `{name}` is declared twice")]
    DuplicateOrg("duplicate_org", Error) {
        /// The second declaration's name.
        span: Span,
        /// The org.
        name: String,
        /// Line of the first declaration.
        first_line: u32,
    },
    /// Two header declarations whose names differ at most in case.
    #[error("header `{name}` is declared twice")]
    DuplicateHeader("duplicate_header", Error) {
        /// The second declaration's name.
        span: Span,
        /// The name as written the second time.
        name: String,
        /// The name as written the first time.
        first: String,
        /// Line of the first declaration.
        first_line: u32,
    },
    /// Two object types whose names are equal ignoring case and `_`.
    #[error("object type `{name}` is declared twice")]
    DuplicateObject("duplicate_object", Error) {
        /// The second declaration's name.
        span: Span,
        /// The name as written the second time.
        name: String,
        /// The name as written the first time.
        first: String,
        /// Line of the first declaration.
        first_line: u32,
    },
    /// An alias equal (ignoring case and `_`) to another type's name or alias.
    #[error("alias `{alias}` of object type `{object}` collides with {other}")]
    AliasCollision("alias_collision", Error) {
        /// The alias.
        span: Span,
        /// The alias as written.
        alias: String,
        /// The type it belongs to.
        object: String,
        /// What it collides with, e.g. "the name of object type `invoice`".
        other: String,
        /// Line of what it collides with.
        other_line: u32,
    },
    /// Two services with the same name.
    #[error("service `{name}` is declared twice")]
    DuplicateService("duplicate_service", Error) {
        /// The second declaration's name.
        span: Span,
        /// The service.
        name: String,
        /// Line of the first declaration.
        first_line: u32,
    },
    /// An `inherit` or a route naming an object type that is not declared.
    #[error("unknown object type `{name}`")]
    UnknownObjectType("unknown_object_type", Error) {
        /// The reference.
        span: Span,
        /// The name used.
        name: String,
        /// A declared type with a close name.
        suggestion: Option<String>,
    },
    /// Object types that inherit from each other in a circle.
    #[error("inheritance cycle: {}", arrows(.cycle))]
    InheritanceCycle("inheritance_cycle", Error) {
        /// The `inherit` of the first-declared member of the cycle.
        span: Span,
        /// The cycle, starting and ending with the same type.
        cycle: Vec<String>,
    },
    /// `shared` together with `label`, `inherit` or `fallback`.
    #[error("object type `{object}` is `shared` and also has `{prop}`")]
    SharedConflict("shared_conflict", Error) {
        /// The later of the two properties.
        span: Span,
        /// The object type.
        object: String,
        /// The property that contradicts `shared`.
        prop: &'static str,
        /// Line of the earlier of the two.
        other_line: u32,
    },
    /// Inheriting from a shared object type, which has no org.
    #[error("object type `{object}` inherits from `{parent}`, which is shared")]
    InheritFromShared("inherit_from_shared", Error) {
        /// The parent reference.
        span: Span,
        /// The inheriting type.
        object: String,
        /// The shared parent.
        parent: String,
        /// Where the parent is declared.
        parent_line: u32,
    },
    /// A fallback after `unlabeled`, which always succeeds (warning).
    #[error("fallback `{source_kw}` can never be reached")]
    UnreachableFallback("unreachable_fallback", Warning) {
        /// The first source after `unlabeled`.
        span: Span,
        /// Its keyword.
        source_kw: &'static str,
    },
    /// The same source listed twice in one fallback list.
    #[error("fallback `{source_kw}` is listed twice")]
    DuplicateFallback("duplicate_fallback", Error) {
        /// The second occurrence.
        span: Span,
        /// The source's keyword.
        source_kw: &'static str,
    },
    /// An org `parent` naming an org the directory does not declare.
    #[error("unknown org `{name}`")]
    UnknownOrg("unknown_org", Error) {
        /// The reference.
        span: Span,
        /// The name used.
        name: String,
        /// A declared org with a close name.
        suggestion: Option<String>,
    },
    /// Orgs that are their own ancestors.
    #[error("org hierarchy cycle: {}", arrows(.cycle))]
    OrgCycle("org_cycle", Error) {
        /// The `parent` of the first-declared member of the cycle.
        span: Span,
        /// The cycle, starting and ending with the same org.
        cycle: Vec<String>,
    },
    /// An org id equal to another org's name or id.
    #[error("id `{id}` of org `{org}` is also the {what} of org `{other}`")]
    OrgIdCollision("org_id_collision", Error) {
        /// The `id` property.
        span: Span,
        /// The id.
        id: String,
        /// The org it belongs to.
        org: String,
        /// "name" or "id".
        what: &'static str,
        /// The other org.
        other: String,
        /// Where the other org is declared.
        other_line: u32,
    },
    /// An org name or id that is empty.
    #[error("{what} is empty")]
    EmptyOrgName("empty_org_name", Error) {
        /// The name, or the `id` property.
        span: Span,
        /// "org name", or "id of org `X`".
        what: String,
    },
    /// An org name or id with leading or trailing whitespace, which requests never send.
    #[error("{what} has leading or trailing whitespace")]
    PaddedOrgName("padded_org_name", Error) {
        /// The name, or the `id` property.
        span: Span,
        /// "org name `N`", or "id `I` of org `X`".
        what: String,
        /// The name or id as written.
        value: String,
    },
    /// An org name or id with a comma, which a list header splits.
    #[error("{what} contains a comma")]
    CommaInOrgName("comma_in_org_name", Error) {
        /// The name, or the `id` property.
        span: Span,
        /// "org name `N`", or "id `I` of org `X`".
        what: String,
        /// The list header.
        header: String,
    },
    /// `fallback working_org` in a policy without a `role working_org` header (warning).
    #[error("fallback `working_org` can never succeed: no header has role `working_org`")]
    WorkingOrgWithoutHeader("working_org_without_header", Warning) {
        /// The `working_org` source.
        span: Span,
    },
    /// A header declaration without `role`.
    #[error("header `{header}` has no `role`")]
    MissingRole("missing_role", Error) {
        /// The header's name.
        span: Span,
        /// The header.
        header: String,
    },
    /// Two headers with role `visibility`, or two with role `working_org`.
    #[error("header `{header}` has role `{}`, which header `{first}` already has", .role.keyword())]
    DuplicateHeaderRole("duplicate_header_role", Error) {
        /// The second header's `role`.
        span: Span,
        /// The second header.
        header: String,
        /// The role.
        role: Role,
        /// The first header.
        first: String,
        /// Line of the first header's `role`.
        first_line: u32,
    },
    /// A `working_org` or `org_id` header declared `list`.
    #[error("header `{header}` has role `{}`, which takes one org, but is declared `list`", .role.keyword())]
    RoleRequiresSingle("role_requires_single", Error) {
        /// The `list` property.
        span: Span,
        /// The header.
        header: String,
        /// Its role.
        role: Role,
    },
    /// `subset_of` on a single-value header, or `member_of` on a list header.
    #[error("`{constraint}` does not apply to {kind} header `{header}`")]
    WrongAccessConstraint("wrong_access_constraint", Error) {
        /// The constraint.
        span: Span,
        /// The header.
        header: String,
        /// The constraint as written.
        constraint: &'static str,
        /// "list" or "single-value".
        kind: &'static str,
        /// The constraint that fits.
        expected: &'static str,
    },
    /// A role header that does not restrict its orgs to the user's.
    #[error("header `{header}` does not restrict its orgs to the user's orgs")]
    MissingAccessConstraint("missing_access_constraint", Error) {
        /// The header's name.
        span: Span,
        /// The header.
        header: String,
        /// The constraint to add.
        expected: &'static str,
    },
    /// `max_items 0` or `max_length 0`.
    #[error("`{prop} 0` rejects every value of header `{header}`")]
    ZeroLimit("zero_limit", Error) {
        /// The property.
        span: Span,
        /// `max_items` or `max_length`.
        prop: &'static str,
        /// The header.
        header: String,
    },
    /// A `visibility`/`working_org` header that an endpoint also uses for its org ID.
    #[error("header `{header}` has role `{}` but also carries an endpoint's org ID", .role.keyword())]
    HeaderRoleConflict("header_role_conflict", Error) {
        /// The header's `role`.
        span: Span,
        /// The header.
        header: String,
        /// Its role.
        role: Role,
        /// Line of the endpoint's `org_id header`.
        endpoint_line: u32,
    },
    /// Two routes with the same method and template (parameter names ignored).
    #[error("duplicate route `{route}`")]
    DuplicateRoute("duplicate_route", Error) {
        /// The later route's path.
        span: Span,
        /// Method and template of the later route.
        route: String,
        /// Line of the earlier route.
        first_line: u32,
    },
    /// Two routes that can match the same request.
    #[error("route `{route}` overlaps route `{other}`")]
    OverlappingRoute("overlapping_route", Error) {
        /// The later route's path.
        span: Span,
        /// Method and template of the later route.
        route: String,
        /// Method and template of the earlier route.
        other: String,
        /// A path both match.
        example: String,
        /// Line of the earlier route.
        other_line: u32,
    },
    /// `read`, `update` or `delete` without `id FIELD`.
    #[error("`{}` needs `id` to say where the target object's id is", .action.keyword())]
    MissingIdField("missing_id_field", Error) {
        /// The action.
        span: Span,
        /// The action.
        action: Action,
        /// A path parameter that probably is the id.
        param: Option<String>,
    },
    /// `id FIELD` on `query` or `create`.
    #[error("`{}` does not take an `id`", .action.keyword())]
    IdNotAllowed("id_not_allowed", Error) {
        /// The `id` option.
        span: Span,
        /// The action.
        action: Action,
    },
    /// `objects FIELD` on an action other than `create`.
    #[error("`objects` only applies to `create`, not `{}`", .action.keyword())]
    ObjectsRequiresCreate("objects_requires_create", Error) {
        /// The `objects` option.
        span: Span,
        /// The action.
        action: Action,
    },
    /// A `path.X` field whose route has no `{X}` parameter.
    #[error("`{field}` names no parameter of {template}")]
    UnknownPathParam("unknown_path_param", Error) {
        /// The field.
        span: Span,
        /// The field as written.
        field: String,
        /// "path `/v1/...`" or "the `default` route".
        template: String,
        /// The template's parameters.
        params: Vec<String>,
    },
    /// `//` or a trailing `/` in a path template.
    #[error("empty segment in path `{path}`")]
    EmptyPathSegment("empty_path_segment", Error) {
        /// The slash(es).
        span: Span,
        /// The template.
        path: String,
        /// Whether the empty segment is at the end.
        trailing: bool,
    },
    /// A parameter name used twice in one template.
    #[error("parameter `{{{param}}}` appears twice in path `{path}`")]
    DuplicatePathParam("duplicate_path_param", Error) {
        /// The second occurrence.
        span: Span,
        /// The parameter.
        param: String,
        /// The template.
        path: String,
    },
    /// `GET|GET`.
    #[error("method `{}` is listed twice", .method.as_str())]
    DuplicateMethod("duplicate_method", Error) {
        /// The second occurrence.
        span: Span,
        /// The method.
        method: Method,
    },
    /// An org-scoped endpoint that declares no org ID location.
    #[error("org-scoped endpoint `{endpoint}` does not declare where its org ID is")]
    OrgIdMissingLocation("org_id_missing_location", Error) {
        /// The endpoint's path.
        span: Span,
        /// Method and template.
        endpoint: String,
    },
    /// An org-scoped endpoint with more than one `org_id` line.
    #[error("org-scoped endpoint `{endpoint}` declares more than one org ID location")]
    OrgIdMultipleLocations("org_id_multiple_locations", Error) {
        /// The second (or later) `org_id`.
        span: Span,
        /// Method and template.
        endpoint: String,
        /// Line of the first `org_id`.
        first_line: u32,
    },
    /// `org_id header` in a service not marked `legacy`.
    #[error("new service `{service}` must not take the org ID in a header")]
    OrgIdHeaderInNewService("org_id_header_in_new_service", Error) {
        /// The `header` location.
        span: Span,
        /// The service.
        service: String,
    },
    /// A legacy org ID header (or a header declared with `role org_id`) not named exactly
    /// `Organization-ID`.
    #[error("the org ID header must be named exactly `Organization-ID`, not `{name}`")]
    OrgIdHeaderName("org_id_header_name", Error) {
        /// The header name.
        span: Span,
        /// The name as written.
        name: String,
    },
    /// A `query` or `body` location without a justification.
    #[error("org ID in the {} needs a `justification`", .location.keyword())]
    OrgIdJustificationRequired("org_id_justification_required", Error) {
        /// The location, or the empty justification.
        span: Span,
        /// `query` or `body`.
        location: Location,
        /// Whether a justification is there but blank.
        blank: bool,
    },
    /// An org ID header on an `unscoped` endpoint.
    #[error("unscoped endpoint `{endpoint}` must not take an org ID in a header")]
    OrgIdHeaderUnscoped("org_id_header_unscoped", Error) {
        /// The `header` location.
        span: Span,
        /// Method and template.
        endpoint: String,
    },
    /// A path/query/body org ID not named `organizationId`(`s`).
    #[error("the org ID in the {} must be named `{expected}`, not `{name}`", .location.keyword())]
    OrgIdName("org_id_name", Error) {
        /// The name.
        span: Span,
        /// The name as written.
        name: String,
        /// Where.
        location: Location,
        /// `organizationId` for org-scoped endpoints, else either name.
        expected: &'static str,
    },
    /// `org_id path NAME` whose template has no `{NAME}`.
    #[error("path `{path}` has no `{{{name}}}` parameter for the org ID")]
    OrgIdPathParamMissing("org_id_path_param_missing", Error) {
        /// The name in `org_id path NAME`.
        span: Span,
        /// The parameter name.
        name: String,
        /// The template.
        path: String,
    },
    /// Two endpoints with the same method and template (parameter names ignored).
    #[error("duplicate endpoint `{endpoint}`")]
    DuplicateEndpoint("duplicate_endpoint", Error) {
        /// The later endpoint's path.
        span: Span,
        /// Method and template of the later endpoint.
        endpoint: String,
        /// Line of the earlier endpoint.
        first_line: u32,
    },
    /// Two endpoints that can match the same request.
    #[error("endpoint `{endpoint}` overlaps endpoint `{other}`")]
    OverlappingEndpoint("overlapping_endpoint", Error) {
        /// The later endpoint's path.
        span: Span,
        /// Method and template of the later endpoint.
        endpoint: String,
        /// Method and template of the earlier endpoint.
        other: String,
        /// A path both match.
        example: String,
        /// Line of the earlier endpoint.
        other_line: u32,
    },
    /// The overlap search between routes (or endpoints) ran out of steps at this template.
    #[error("overlap search gave up after {steps} steps")]
    OverlapSearchGaveUp("overlap_search_gave_up", Error) {
        /// The template it was checking.
        span: Span,
        /// The steps taken, all of `max_overlap_steps`.
        steps: usize,
    },
    /// A deprecated term for the org concept (warning).
    #[error("`{term}` is a deprecated term for the organization concept")]
    DeprecatedTerm("deprecated_term", Warning) {
        /// The term.
        span: Span,
        /// The term as written.
        term: String,
    },
}
}

impl CheckError {
    /// How to fix the problem.
    fn help_text(&self) -> Option<String> {
        use CheckError::*;
        Some(match self {
            EmptyPolicy { .. } => {
                "declare at least one route, object type or service; see docs/language.md"
                    .to_string()
            }
            DuplicateItem { first_line, .. } => {
                format!("first declared at line {first_line}; a policy has only one")
            }
            DuplicateProperty { span, first, .. } => {
                if first.line == span.line {
                    format!("first set at column {} of this line; keep one of them", first.col)
                } else {
                    format!("first set at line {}; keep one of them", first.line)
                }
            }
            ListAndSingle { first_line, .. } => {
                format!("the other is at line {first_line}; a header is either a comma `list` of orgs or a `single` org")
            }
            DuplicateOrg { first_line, .. } | DuplicateService { first_line, .. } => {
                format!("first declared at line {first_line}")
            }
            DuplicateHeader {
                name,
                first,
                first_line,
                ..
            } => first_declared(
                name,
                first,
                *first_line,
                "header names are case-insensitive",
            ),
            DuplicateObject {
                name,
                first,
                first_line,
                ..
            } => first_declared(
                name,
                first,
                *first_line,
                "requests name object types ignoring case, `_` and `-`",
            ),
            AliasCollision { other_line, .. } => format!(
                "declared at line {other_line}; a request naming this type would be ambiguous (names and aliases are compared ignoring case, `_` and `-`)"
            ),
            UnknownObjectType { suggestion, .. } => match suggestion {
                Some(s) => format!("did you mean `{s}`?"),
                None => "declare it with `object NAME { ... }`".to_string(),
            },
            InheritanceCycle { .. } => {
                "an object type's org cannot come from itself; remove one `inherit` of the cycle"
                    .to_string()
            }
            SharedConflict { prop, other_line, .. } => format!(
                "a shared object is tenant-wide and never labeled, so `{prop}` would never apply; remove one of them (the other is at line {other_line})"
            ),
            InheritFromShared {
                parent,
                parent_line,
                ..
            } => format!(
                "`{parent}` (line {parent_line}) is tenant-wide and has no org to inherit; take the org from a label or a fallback instead"
            ),
            UnreachableFallback { .. } => {
                "`unlabeled` before it always succeeds; put `unlabeled` last".to_string()
            }
            DuplicateFallback { .. } => {
                "a source that already failed fails again; remove this one".to_string()
            }
            UnknownOrg { suggestion, .. } => match suggestion {
                Some(s) => format!("did you mean `{s}`?"),
                None => "declare it with `org NAME` in the `orgs` block".to_string(),
            },
            OrgCycle { .. } => {
                "an org cannot be its own ancestor; remove one `parent` of the cycle".to_string()
            }
            OrgIdCollision {
                other,
                other_line,
                id,
                ..
            } => format!(
                "org `{other}` is declared at line {other_line}; a request naming `{id}` would be ambiguous"
            ),
            EmptyOrgName { .. } => {
                "a request can never name it: org names in requests are trimmed and empty ones ignored".to_string()
            }
            PaddedOrgName { value, .. } => format!(
                "requests name orgs trimmed, so they would name `{}`; remove the whitespace",
                value.trim()
            ),
            CommaInOrgName { header, .. } => format!(
                "list header `{header}` splits its value at commas, so a request could never name it there; rename it"
            ),
            WorkingOrgWithoutHeader { .. } => {
                "declare a header with `role working_org`, or remove `working_org` from the list".to_string()
            }
            MissingRole { .. } => {
                "add `role visibility`, `role working_org` or `role org_id`".to_string()
            }
            DuplicateHeaderRole {
                role, first_line, ..
            } => {
                let what = match role {
                    Role::Visibility => "filter visibility",
                    Role::WorkingOrg => "name the working org",
                    Role::OrgId => "carry the org ID",
                };
                format!("only one header may {what}; the other is at line {first_line}")
            }
            RoleRequiresSingle { .. } => "replace `list` with `single`".to_string(),
            WrongAccessConstraint { expected, .. } => format!("use `{expected}` instead"),
            MissingAccessConstraint { expected, .. } => format!(
                "add `{expected}`: orgscope never lets a header widen access, and the policy must say so"
            ),
            ZeroLimit { .. } => "remove the limit or set it to at least 1".to_string(),
            HeaderRoleConflict { endpoint_line, .. } => format!(
                "the endpoint at line {endpoint_line} reads its org ID from this header; give the header role `org_id`, or use another header"
            ),
            DuplicateRoute { first_line, .. } => format!(
                "the same method and template are routed at line {first_line} (parameter names do not make routes different)"
            ),
            OverlappingRoute {
                example,
                other_line,
                ..
            } => format!(
                "both match e.g. `{example}`; the other route is at line {other_line}, make the templates distinct"
            ),
            MissingIdField { param, .. } => match param {
                Some(p) => format!("add `id path.{p}`"),
                None => "add `id FIELD`, e.g. `id path.accountId`".to_string(),
            },
            IdNotAllowed { .. } => {
                "`id` names one existing object, for `read`, `update` and `delete`; remove it"
                    .to_string()
            }
            ObjectsRequiresCreate { .. } => {
                "`objects` lists the objects a request creates; remove it".to_string()
            }
            UnknownPathParam { params, .. } => {
                if params.is_empty() {
                    "there are no path parameters here; use a `body.` or `query.` field".to_string()
                } else {
                    let ps: Vec<String> = params.iter().map(|p| format!("`path.{p}`")).collect();
                    format!("the parameters here are {}", crate::diag::one_of(&ps))
                }
            }
            EmptyPathSegment { trailing, .. } => {
                if *trailing {
                    "remove the trailing `/`".to_string()
                } else {
                    "remove the extra `/`".to_string()
                }
            }
            DuplicatePathParam { .. } => "give each parameter its own name".to_string(),
            DuplicateMethod { .. } => "remove one of them".to_string(),
            OrgIdMissingLocation { .. } => {
                "add `org_id path organizationId` (the preferred place), or mark the endpoint `unscoped`".to_string()
            }
            OrgIdMultipleLocations { first_line, .. } => format!(
                "an org-scoped endpoint takes the org ID in exactly one place; the first is at line {first_line}"
            ),
            OrgIdHeaderInNewService { .. } => {
                "use `org_id path organizationId`; only a `legacy service` may keep an `Organization-ID` header".to_string()
            }
            OrgIdHeaderName { .. } => {
                "the guideline allows an org ID header under one name only, case included: `Organization-ID` (and only in a legacy service)".to_string()
            }
            OrgIdJustificationRequired { blank, .. } => {
                if *blank {
                    "write why the org ID cannot be in the path".to_string()
                } else {
                    "the path is the preferred place; add `justification \"...\"` saying why the org ID is not in it".to_string()
                }
            }
            OrgIdHeaderUnscoped { .. } => {
                "an endpoint that is not org-scoped may carry `organizationId(s)` in the path, query or body, never in a header".to_string()
            }
            OrgIdName { expected, .. } => {
                if *expected == terms::ORG_ID {
                    "an org-scoped endpoint takes exactly one org ID, always named `organizationId`".to_string()
                } else {
                    "the org ID is always named `organizationId` (`organizationIds` for a list)"
                        .to_string()
                }
            }
            OrgIdPathParamMissing { name, .. } => {
                format!("add `{{{name}}}` to the template, or declare another location")
            }
            DuplicateEndpoint { first_line, .. } => format!(
                "the same method and template are declared at line {first_line} (parameter names do not make endpoints different)"
            ),
            OverlappingEndpoint {
                example,
                other_line,
                ..
            } => format!(
                "both match e.g. `{example}`; the other endpoint is at line {other_line}, make the templates distinct"
            ),
            OverlapSearchGaveUp { .. } => {
                "split the policy, or raise the limit with `--max-overlap-steps`; the templates from here on were checked for duplicates only".to_string()
            }
            DeprecatedTerm { .. } => {
                "call it an organization: `organizationId` (`organizationIds` for a list; header `Organization-ID`)".to_string()
            }
        })
    }
}

/// `a` → `b` → `a`
fn arrows(cycle: &[String]) -> String {
    cycle
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(" → ")
}

/// Help for a name declared again, saying why when the two spellings differ.
fn first_declared(name: &str, first: &str, first_line: u32, why: &str) -> String {
    if name == first {
        format!("first declared at line {first_line}")
    } else {
        format!("first declared as `{first}` at line {first_line}; {why}")
    }
}

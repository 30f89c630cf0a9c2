//! Stage 3 — check: every semantic rule over a parsed policy, all problems in one run.
//!
//! The checker never stops at the first problem: it walks the whole policy once per concern
//! (singletons, orgs, headers, object types, routes, services) and returns everything it found,
//! unsorted (`check_source` sorts by position). Every diagnostic points at the most specific span
//! it can — a path segment, a field key, the second of two duplicates — and a duplicate's help
//! names the line of the first occurrence. The codes are public API: see `docs/diagnostics.md`.
//!
//! Errors are broken *musts*: the policy cannot be compiled or would be ambiguous. Warnings
//! (`deprecated_term`, `unreachable_fallback`, `empty_policy`) are *shoulds*; `orgscope check`
//! fails on them only with `--deny-warnings`.

use crate::diag::{Diagnose, Severity};
use crate::syntax::ast::*;
use crate::terms;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// A semantic problem in a policy (errors and warnings alike).
///
/// Every variant carries the span it points at; `first_line`/`other_line` fields name the line
/// of the other declaration involved, for the help text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// The file declares nothing (warning).
    #[error("the policy declares nothing")]
    EmptyPolicy {
        /// The start of the file.
        span: Span,
    },
    /// A block or statement that may appear once per policy appears again.
    #[error("{what} is declared twice")]
    DuplicateItem {
        /// The second occurrence.
        span: Span,
        /// What it is, e.g. "the `orgs` block".
        what: &'static str,
        /// Line of the first occurrence.
        first_line: u32,
    },
    /// A property repeated inside one block.
    #[error("`{prop}` is set twice on {owner}")]
    DuplicateProperty {
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
    ListAndSingle {
        /// The second of the two.
        span: Span,
        /// The header.
        header: String,
        /// Line of the first of the two.
        first_line: u32,
    },
    /// Two orgs with the same name.
    #[error("org `{name}` is declared twice")]
    DuplicateOrg {
        /// The second declaration's name.
        span: Span,
        /// The org.
        name: String,
        /// Line of the first declaration.
        first_line: u32,
    },
    /// Two header declarations whose names differ at most in case.
    #[error("header `{name}` is declared twice")]
    DuplicateHeader {
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
    DuplicateObject {
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
    AliasCollision {
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
    DuplicateService {
        /// The second declaration's name.
        span: Span,
        /// The service.
        name: String,
        /// Line of the first declaration.
        first_line: u32,
    },
    /// An `inherit` or a route naming an object type that is not declared.
    #[error("unknown object type `{name}`")]
    UnknownObjectType {
        /// The reference.
        span: Span,
        /// The name used.
        name: String,
        /// A declared type with a close name.
        suggestion: Option<String>,
    },
    /// Object types that inherit from each other in a circle.
    #[error("inheritance cycle: {}", arrows(.cycle))]
    InheritanceCycle {
        /// The `inherit` of the first-declared member of the cycle.
        span: Span,
        /// The cycle, starting and ending with the same type.
        cycle: Vec<String>,
    },
    /// `shared` together with `label`, `inherit` or `fallback`.
    #[error("object type `{object}` is `shared` and also has `{prop}`")]
    SharedConflict {
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
    InheritFromShared {
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
    UnreachableFallback {
        /// The first source after `unlabeled`.
        span: Span,
        /// Its keyword.
        source_kw: &'static str,
    },
    /// The same source listed twice in one fallback list.
    #[error("fallback `{source_kw}` is listed twice")]
    DuplicateFallback {
        /// The second occurrence.
        span: Span,
        /// The source's keyword.
        source_kw: &'static str,
    },
    /// An org `parent` naming an org the directory does not declare.
    #[error("unknown org `{name}`")]
    UnknownOrg {
        /// The reference.
        span: Span,
        /// The name used.
        name: String,
        /// A declared org with a close name.
        suggestion: Option<String>,
    },
    /// Orgs that are their own ancestors.
    #[error("org hierarchy cycle: {}", arrows(.cycle))]
    OrgCycle {
        /// The `parent` of the first-declared member of the cycle.
        span: Span,
        /// The cycle, starting and ending with the same org.
        cycle: Vec<String>,
    },
    /// An org id equal to another org's name or id.
    #[error("id `{id}` of org `{org}` is also the {what} of org `{other}`")]
    OrgIdCollision {
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
    /// A header declaration without `role`.
    #[error("header `{header}` has no `role`")]
    MissingRole {
        /// The header's name.
        span: Span,
        /// The header.
        header: String,
    },
    /// Two headers with role `visibility`, or two with role `working_org`.
    #[error("header `{header}` has role `{}`, which header `{first}` already has", .role.keyword())]
    DuplicateHeaderRole {
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
    RoleRequiresSingle {
        /// The `list` property.
        span: Span,
        /// The header.
        header: String,
        /// Its role.
        role: Role,
    },
    /// `subset_of` on a single-value header, or `member_of` on a list header.
    #[error("`{constraint}` does not apply to {kind} header `{header}`")]
    WrongAccessConstraint {
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
    MissingAccessConstraint {
        /// The header's name.
        span: Span,
        /// The header.
        header: String,
        /// The constraint to add.
        expected: &'static str,
    },
    /// `max_items 0` or `max_length 0`.
    #[error("`{prop} 0` rejects every value of header `{header}`")]
    ZeroLimit {
        /// The property.
        span: Span,
        /// `max_items` or `max_length`.
        prop: &'static str,
        /// The header.
        header: String,
    },
    /// A `visibility`/`working_org` header that an endpoint also uses for its org ID.
    #[error("header `{header}` has role `{}` but also carries an endpoint's org ID", .role.keyword())]
    HeaderRoleConflict {
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
    DuplicateRoute {
        /// The later route's path.
        span: Span,
        /// Method and template of the later route.
        route: String,
        /// Line of the earlier route.
        first_line: u32,
    },
    /// Two routes that can match the same request.
    #[error("route `{route}` overlaps route `{other}`")]
    OverlappingRoute {
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
    MissingIdField {
        /// The action.
        span: Span,
        /// The action.
        action: Action,
        /// A path parameter that probably is the id.
        param: Option<String>,
    },
    /// `id FIELD` on `query` or `create`.
    #[error("`{}` does not take an `id`", .action.keyword())]
    IdNotAllowed {
        /// The `id` option.
        span: Span,
        /// The action.
        action: Action,
    },
    /// `objects FIELD` on an action other than `create`.
    #[error("`objects` only applies to `create`, not `{}`", .action.keyword())]
    ObjectsRequiresCreate {
        /// The `objects` option.
        span: Span,
        /// The action.
        action: Action,
    },
    /// A `path.X` field whose route has no `{X}` parameter.
    #[error("`{field}` names no parameter of {template}")]
    UnknownPathParam {
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
    EmptyPathSegment {
        /// The slash(es).
        span: Span,
        /// The template.
        path: String,
        /// Whether the empty segment is at the end.
        trailing: bool,
    },
    /// A parameter name used twice in one template.
    #[error("parameter `{{{param}}}` appears twice in path `{path}`")]
    DuplicatePathParam {
        /// The second occurrence.
        span: Span,
        /// The parameter.
        param: String,
        /// The template.
        path: String,
    },
    /// `GET|GET`.
    #[error("method `{}` is listed twice", .method.as_str())]
    DuplicateMethod {
        /// The second occurrence.
        span: Span,
        /// The method.
        method: Method,
    },
    /// An org-scoped endpoint that declares no org ID location.
    #[error("org-scoped endpoint `{endpoint}` does not declare where its org ID is")]
    OrgIdMissingLocation {
        /// The endpoint's path.
        span: Span,
        /// Method and template.
        endpoint: String,
    },
    /// An org-scoped endpoint with more than one `org_id` line.
    #[error("org-scoped endpoint `{endpoint}` declares more than one org ID location")]
    OrgIdMultipleLocations {
        /// The second (or later) `org_id`.
        span: Span,
        /// Method and template.
        endpoint: String,
        /// Line of the first `org_id`.
        first_line: u32,
    },
    /// `org_id header` in a service not marked `legacy`.
    #[error("new service `{service}` must not take the org ID in a header")]
    OrgIdHeaderInNewService {
        /// The `header` location.
        span: Span,
        /// The service.
        service: String,
    },
    /// A legacy org ID header (or a header declared with `role org_id`) not named exactly
    /// `Organization-ID`.
    #[error("the org ID header must be named exactly `Organization-ID`, not `{name}`")]
    OrgIdHeaderName {
        /// The header name.
        span: Span,
        /// The name as written.
        name: String,
    },
    /// A `query` or `body` location without a justification.
    #[error("org ID in the {} needs a `justification`", .location.keyword())]
    OrgIdJustificationRequired {
        /// The location, or the empty justification.
        span: Span,
        /// `query` or `body`.
        location: Location,
        /// Whether a justification is there but blank.
        blank: bool,
    },
    /// An org ID header on an `unscoped` endpoint.
    #[error("unscoped endpoint `{endpoint}` must not take an org ID in a header")]
    OrgIdHeaderUnscoped {
        /// The `header` location.
        span: Span,
        /// Method and template.
        endpoint: String,
    },
    /// A path/query/body org ID not named `organizationId`(`s`).
    #[error("the org ID in the {} must be named `{expected}`, not `{name}`", .location.keyword())]
    OrgIdName {
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
    OrgIdPathParamMissing {
        /// The name in `org_id path NAME`.
        span: Span,
        /// The parameter name.
        name: String,
        /// The template.
        path: String,
    },
    /// Two endpoints with the same method and template (parameter names ignored).
    #[error("duplicate endpoint `{endpoint}`")]
    DuplicateEndpoint {
        /// The later endpoint's path.
        span: Span,
        /// Method and template of the later endpoint.
        endpoint: String,
        /// Line of the earlier endpoint.
        first_line: u32,
    },
    /// Two endpoints that can match the same request.
    #[error("endpoint `{endpoint}` overlaps endpoint `{other}`")]
    OverlappingEndpoint {
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
    /// A deprecated term for the org concept (warning).
    #[error("`{term}` is a deprecated term for the organization concept")]
    DeprecatedTerm {
        /// The term.
        span: Span,
        /// The term as written.
        term: String,
    },
}

/// `a` → `b` → `a`
fn arrows(cycle: &[String]) -> String {
    cycle
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(" → ")
}

impl Diagnose for CheckError {
    fn code(&self) -> &'static str {
        use CheckError::*;
        match self {
            EmptyPolicy { .. } => "empty_policy",
            DuplicateItem { .. } => "duplicate_item",
            DuplicateProperty { .. } => "duplicate_property",
            ListAndSingle { .. } => "list_and_single",
            DuplicateOrg { .. } => "duplicate_org",
            DuplicateHeader { .. } => "duplicate_header",
            DuplicateObject { .. } => "duplicate_object",
            AliasCollision { .. } => "alias_collision",
            DuplicateService { .. } => "duplicate_service",
            UnknownObjectType { .. } => "unknown_object_type",
            InheritanceCycle { .. } => "inheritance_cycle",
            SharedConflict { .. } => "shared_conflict",
            InheritFromShared { .. } => "inherit_from_shared",
            UnreachableFallback { .. } => "unreachable_fallback",
            DuplicateFallback { .. } => "duplicate_fallback",
            UnknownOrg { .. } => "unknown_org",
            OrgCycle { .. } => "org_cycle",
            OrgIdCollision { .. } => "org_id_collision",
            MissingRole { .. } => "missing_role",
            DuplicateHeaderRole { .. } => "duplicate_header_role",
            RoleRequiresSingle { .. } => "role_requires_single",
            WrongAccessConstraint { .. } => "wrong_access_constraint",
            MissingAccessConstraint { .. } => "missing_access_constraint",
            ZeroLimit { .. } => "zero_limit",
            HeaderRoleConflict { .. } => "header_role_conflict",
            DuplicateRoute { .. } => "duplicate_route",
            OverlappingRoute { .. } => "overlapping_route",
            MissingIdField { .. } => "missing_id_field",
            IdNotAllowed { .. } => "id_not_allowed",
            ObjectsRequiresCreate { .. } => "objects_requires_create",
            UnknownPathParam { .. } => "unknown_path_param",
            EmptyPathSegment { .. } => "empty_path_segment",
            DuplicatePathParam { .. } => "duplicate_path_param",
            DuplicateMethod { .. } => "duplicate_method",
            OrgIdMissingLocation { .. } => "org_id_missing_location",
            OrgIdMultipleLocations { .. } => "org_id_multiple_locations",
            OrgIdHeaderInNewService { .. } => "org_id_header_in_new_service",
            OrgIdHeaderName { .. } => "org_id_header_name",
            OrgIdJustificationRequired { .. } => "org_id_justification_required",
            OrgIdHeaderUnscoped { .. } => "org_id_header_unscoped",
            OrgIdName { .. } => "org_id_name",
            OrgIdPathParamMissing { .. } => "org_id_path_param_missing",
            DuplicateEndpoint { .. } => "duplicate_endpoint",
            OverlappingEndpoint { .. } => "overlapping_endpoint",
            DeprecatedTerm { .. } => "deprecated_term",
        }
    }

    fn span(&self) -> Span {
        use CheckError::*;
        match self {
            EmptyPolicy { span }
            | DuplicateItem { span, .. }
            | DuplicateProperty { span, .. }
            | ListAndSingle { span, .. }
            | DuplicateOrg { span, .. }
            | DuplicateHeader { span, .. }
            | DuplicateObject { span, .. }
            | AliasCollision { span, .. }
            | DuplicateService { span, .. }
            | UnknownObjectType { span, .. }
            | InheritanceCycle { span, .. }
            | SharedConflict { span, .. }
            | InheritFromShared { span, .. }
            | UnreachableFallback { span, .. }
            | DuplicateFallback { span, .. }
            | UnknownOrg { span, .. }
            | OrgCycle { span, .. }
            | OrgIdCollision { span, .. }
            | MissingRole { span, .. }
            | DuplicateHeaderRole { span, .. }
            | RoleRequiresSingle { span, .. }
            | WrongAccessConstraint { span, .. }
            | MissingAccessConstraint { span, .. }
            | ZeroLimit { span, .. }
            | HeaderRoleConflict { span, .. }
            | DuplicateRoute { span, .. }
            | OverlappingRoute { span, .. }
            | MissingIdField { span, .. }
            | IdNotAllowed { span, .. }
            | ObjectsRequiresCreate { span, .. }
            | UnknownPathParam { span, .. }
            | EmptyPathSegment { span, .. }
            | DuplicatePathParam { span, .. }
            | DuplicateMethod { span, .. }
            | OrgIdMissingLocation { span, .. }
            | OrgIdMultipleLocations { span, .. }
            | OrgIdHeaderInNewService { span, .. }
            | OrgIdHeaderName { span, .. }
            | OrgIdJustificationRequired { span, .. }
            | OrgIdHeaderUnscoped { span, .. }
            | OrgIdName { span, .. }
            | OrgIdPathParamMissing { span, .. }
            | DuplicateEndpoint { span, .. }
            | OverlappingEndpoint { span, .. }
            | DeprecatedTerm { span, .. } => *span,
        }
    }

    fn help(&self) -> Option<String> {
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
            DeprecatedTerm { .. } => {
                "call it an organization: `organizationId` (`organizationIds` for a list; header `Organization-ID`)".to_string()
            }
        })
    }

    fn severity(&self) -> Severity {
        match self {
            CheckError::EmptyPolicy { .. }
            | CheckError::UnreachableFallback { .. }
            | CheckError::DeprecatedTerm { .. } => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

/// Checks a parsed policy, returning every problem found (unsorted).
pub fn check(policy: &Policy) -> Vec<CheckError> {
    let mut c = Checker::default();
    c.run(policy);
    c.errors
}

/// How many edit-distance computations "did you mean" may spend on one policy, so that a huge
/// generated policy full of unknown names still checks in linear time.
const SUGGESTION_BUDGET: usize = 200_000;

/// How many trie nodes the overlap search may visit for one policy. Realistic policies need a
/// few per route; only an adversarial policy (tens of thousands of routes that all start with a
/// parameter) runs out, and then overlaps beyond the budget go unreported instead of the check
/// taking quadratic time. Exact duplicates are always found.
const OVERLAP_BUDGET: usize = 20_000_000;

struct Checker {
    errors: Vec<CheckError>,
    suggestion_budget: usize,
}

impl Default for Checker {
    fn default() -> Self {
        Checker {
            errors: Vec::new(),
            suggestion_budget: SUGGESTION_BUDGET,
        }
    }
}

/// A span inside a single-line ASCII construct (path template, field), `from..to` bytes into it.
fn sub_span(span: Span, from: usize, to: usize) -> Span {
    let col = u32::try_from(from)
        .ok()
        .and_then(|f| span.col.checked_add(f))
        .unwrap_or(span.col);
    Span {
        start: span.start.saturating_add(from),
        end: span.start.saturating_add(to),
        line: span.line,
        col,
    }
}

/// The byte ranges of a template's segments inside its text (`/` + segments joined by `/`).
fn segment_ranges(path: &PathTemplate) -> Vec<(usize, usize)> {
    let mut off = 1;
    path.segments
        .iter()
        .map(|s| {
            let len = match s {
                Segment::Literal(l) => l.len(),
                Segment::Param(p) => p.len() + 2,
            };
            let r = (off, off + len);
            off += len + 1;
            r
        })
        .collect()
}

fn methods_str(methods: &[Spanned<Method>]) -> String {
    methods
        .iter()
        .map(|m| m.node.as_str())
        .collect::<Vec<_>>()
        .join("|")
}

/// Edit distance counting insertions, deletions, substitutions and swaps of two neighbours
/// (optimal string alignment), ignoring ASCII case: `Aisa` is one edit from `Asia`.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    // Three rows of the table: two rows back (for swaps), the previous row and the current one.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        if let Some(first) = cur.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            let mut best = sub.min(del).min(ins);
            let swapped =
                i > 0 && j > 0 && a.get(i - 1) == Some(cb) && b.get(j - 1) == Some(ca) && ca != cb;
            if swapped {
                best = best.min(before.get(j - 1).copied().unwrap_or(0) + 1);
            }
            if let Some(c) = cur.get_mut(j + 1) {
                *c = best;
            }
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().unwrap_or(0)
}

impl Checker {
    fn push(&mut self, e: CheckError) {
        self.errors.push(e);
    }

    /// The closest declared name to `name`, if it is close enough to be a typo.
    fn suggest<'a>(
        &mut self,
        name: &str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Option<String> {
        const MAX_LEN: usize = 64;
        if name.len() > MAX_LEN {
            return None;
        }
        let limit = (name.chars().count() / 3).max(1);
        let mut best: Option<(usize, &str)> = None;
        for cand in candidates {
            if self.suggestion_budget == 0 {
                break;
            }
            if cand.len() > MAX_LEN || cand.len().abs_diff(name.len()) > limit {
                continue;
            }
            self.suggestion_budget -= 1;
            let d = edit_distance(name, cand);
            if d <= limit && best.map_or(true, |(bd, _)| d < bd) {
                best = Some((d, cand));
            }
        }
        best.map(|(_, c)| c.to_string())
    }

    fn deprecated(&mut self, term: &str, span: Span) {
        if terms::is_deprecated(term) {
            self.push(CheckError::DeprecatedTerm {
                span,
                term: term.to_string(),
            });
        }
    }

    fn run(&mut self, policy: &Policy) {
        if policy.items.is_empty() {
            self.push(CheckError::EmptyPolicy {
                span: Span {
                    start: 0,
                    end: 0,
                    line: 1,
                    col: 1,
                },
            });
            return;
        }
        self.singletons(policy);

        let orgs: Vec<&OrgDecl> = policy
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Orgs(o) => Some(o),
                _ => None,
            })
            .flat_map(|o| {
                o.entries.iter().filter_map(|e| match e {
                    OrgsEntry::Org(d) => Some(d),
                    OrgsEntry::DescendantAccess(_) => None,
                })
            })
            .collect();
        self.orgs(&orgs);

        let headers: Vec<&Header> = policy
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Header(h) => Some(h),
                _ => None,
            })
            .collect();
        let services: Vec<&Service> = policy
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Service(s) => Some(s),
                _ => None,
            })
            .collect();
        self.headers(&headers, &services);

        let objects: Vec<&Object> = policy
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Object(o) => Some(o),
                _ => None,
            })
            .collect();
        let types = self.objects(&objects);

        let mut routes = Templates::default();
        for item in &policy.items {
            match item {
                Item::Route(r) => {
                    self.methods(&r.methods);
                    self.template(&r.path);
                    self.target(&r.target, Some(&r.path), &types);
                    match routes.add(&r.methods, &r.path, r.span.line) {
                        Some(Seen::Duplicate {
                            template,
                            first_line,
                        }) => self.push(CheckError::DuplicateRoute {
                            span: r.path.span,
                            route: template,
                            first_line,
                        }),
                        Some(Seen::Overlap {
                            template,
                            other,
                            example,
                            other_line,
                        }) => self.push(CheckError::OverlappingRoute {
                            span: r.path.span,
                            route: template,
                            other,
                            example,
                            other_line,
                        }),
                        None => {}
                    }
                }
                Item::DefaultRoute(d) => self.target(&d.target, None, &types),
                _ => {}
            }
        }

        self.services(&services);
    }

    /// Blocks and statements that may appear once: `multi_org`, `orgs`, `fallback`, `default`.
    fn singletons(&mut self, policy: &Policy) {
        let mut firsts: HashMap<&'static str, u32> = HashMap::default();
        for item in &policy.items {
            let (what, keyword) = match item {
                Item::MultiOrg(m) => {
                    self.multi_org(m);
                    ("the `multi_org` block", "multi_org")
                }
                Item::Orgs(o) => {
                    self.orgs_block(o);
                    ("the `orgs` block", "orgs")
                }
                Item::Fallback(f) => {
                    self.fallbacks(&f.sources);
                    ("the policy-wide `fallback`", "fallback")
                }
                Item::DefaultRoute(_) => ("the `default` route", "default"),
                _ => continue,
            };
            let span = sub_span(item.span(), 0, keyword.len());
            match firsts.get(what) {
                Some(&first_line) => self.push(CheckError::DuplicateItem {
                    span,
                    what,
                    first_line,
                }),
                None => {
                    firsts.insert(what, span.line);
                }
            }
        }
    }

    fn multi_org(&mut self, m: &MultiOrg) {
        let mut seen = HashMap::default();
        for p in &m.props {
            let kw = match p.node {
                MultiOrgProp::Default(_) => "default",
                MultiOrgProp::WhenDisabled(_) => "when_disabled",
            };
            self.once(&mut seen, kw, p.span, || {
                "the `multi_org` block".to_string()
            });
        }
    }

    /// Records property `kw` at `span`, reporting it when `seen` already has it.
    fn once(
        &mut self,
        seen: &mut HashMap<&'static str, Span>,
        kw: &'static str,
        span: Span,
        owner: impl FnOnce() -> String,
    ) {
        match seen.get(kw) {
            Some(&first) => self.push(CheckError::DuplicateProperty {
                span,
                prop: kw,
                owner: owner(),
                first,
            }),
            None => {
                seen.insert(kw, span);
            }
        }
    }

    fn orgs_block(&mut self, o: &Orgs) {
        let mut seen = HashMap::default();
        for e in &o.entries {
            if let OrgsEntry::DescendantAccess(d) = e {
                self.once(&mut seen, "descendant_access", d.span, || {
                    "the `orgs` block".to_string()
                });
            }
        }
    }

    fn orgs(&mut self, orgs: &[&OrgDecl]) {
        // Names first, so that ids and parents can refer to orgs declared later.
        let mut by_name: HashMap<&str, &OrgDecl> = HashMap::default();
        for org in orgs {
            match by_name.get(org.name.node.as_str()) {
                Some(first) => self.push(CheckError::DuplicateOrg {
                    span: org.name.span,
                    name: org.name.node.clone(),
                    first_line: first.name.span.line,
                }),
                None => {
                    by_name.insert(&org.name.node, org);
                }
            }
        }

        let mut ids: HashMap<&str, &OrgDecl> = HashMap::default();
        let mut parents: HashMap<&str, &Name> = HashMap::default();
        for org in orgs {
            let mut seen = HashMap::default();
            for p in &org.props {
                let owner = || format!("org `{}`", org.name.node);
                match &p.node {
                    OrgProp::Id(id) => {
                        self.once(&mut seen, "id", p.span, owner);
                        if let Some(other) = by_name.get(id.as_str()) {
                            if other.name.node != org.name.node {
                                self.push(CheckError::OrgIdCollision {
                                    span: p.span,
                                    id: id.clone(),
                                    org: org.name.node.clone(),
                                    what: "name",
                                    other: other.name.node.clone(),
                                    other_line: other.span.line,
                                });
                                continue;
                            }
                        }
                        match ids.get(id.as_str()) {
                            Some(other) if other.name.node != org.name.node => {
                                self.push(CheckError::OrgIdCollision {
                                    span: p.span,
                                    id: id.clone(),
                                    org: org.name.node.clone(),
                                    what: "id",
                                    other: other.name.node.clone(),
                                    other_line: other.span.line,
                                })
                            }
                            Some(_) => {}
                            None => {
                                ids.insert(id, org);
                            }
                        }
                    }
                    OrgProp::Parent(parent) => {
                        let again = seen.contains_key("parent");
                        self.once(&mut seen, "parent", p.span, owner);
                        if again {
                            continue;
                        }
                        if by_name.contains_key(parent.node.as_str()) {
                            parents.entry(&org.name.node).or_insert(parent);
                        } else {
                            let suggestion = self
                                .suggest(&parent.node, orgs.iter().map(|o| o.name.node.as_str()));
                            self.push(CheckError::UnknownOrg {
                                span: parent.span,
                                name: parent.node.clone(),
                                suggestion,
                            });
                        }
                    }
                }
            }
        }

        let order: Vec<&str> = orgs.iter().map(|o| o.name.node.as_str()).collect();
        for (cycle, span) in find_cycles(&order, |n| {
            parents.get(n).map(|p| (p.node.as_str(), p.span))
        }) {
            self.push(CheckError::OrgCycle { span, cycle });
        }
    }

    fn headers(&mut self, headers: &[&Header], services: &[&Service]) {
        // Endpoint org ID headers, for role conflicts: lower-case name → line.
        let mut org_id_headers: HashMap<String, u32> = HashMap::default();
        for s in services {
            for e in &s.endpoints {
                for p in &e.props {
                    if let EndpointProp::OrgId { location, name } = &p.node {
                        if location.node == Location::Header {
                            org_id_headers
                                .entry(name.node.to_ascii_lowercase())
                                .or_insert(name.span.line);
                        }
                    }
                }
            }
        }

        let mut names: HashMap<String, &Header> = HashMap::default();
        let mut roles: HashMap<Role, (&Header, u32)> = HashMap::default();
        for h in headers {
            let hname = &h.name.node;
            self.deprecated(hname, h.name.span);
            let key = hname.to_ascii_lowercase();
            let duplicate = match names.get(&key) {
                Some(first) => {
                    self.push(CheckError::DuplicateHeader {
                        span: h.name.span,
                        name: hname.clone(),
                        first: first.name.node.clone(),
                        first_line: first.name.span.line,
                    });
                    true
                }
                None => {
                    names.insert(key.clone(), h);
                    false
                }
            };

            let mut seen = HashMap::default();
            let mut role: Option<(Role, Span)> = None;
            let mut cardinality: Option<(bool, Span)> = None;
            let mut subset: Option<Span> = None;
            let mut member: Option<Span> = None;
            for p in &h.props {
                let owner = || format!("header `{hname}`");
                match p.node {
                    HeaderProp::Role(r) => {
                        self.once(&mut seen, "role", p.span, owner);
                        role.get_or_insert((r, p.span));
                    }
                    HeaderProp::List | HeaderProp::Single => {
                        let is_list = p.node == HeaderProp::List;
                        match cardinality {
                            Some((first_list, first)) if first_list != is_list => {
                                self.push(CheckError::ListAndSingle {
                                    span: p.span,
                                    header: hname.clone(),
                                    first_line: first.line,
                                })
                            }
                            Some(_) => self.once(
                                &mut seen,
                                if is_list { "list" } else { "single" },
                                p.span,
                                owner,
                            ),
                            None => {
                                self.once(
                                    &mut seen,
                                    if is_list { "list" } else { "single" },
                                    p.span,
                                    owner,
                                );
                                cardinality = Some((is_list, p.span));
                            }
                        }
                    }
                    HeaderProp::SubsetOfUserOrgs => {
                        self.once(&mut seen, "subset_of", p.span, owner);
                        subset.get_or_insert(p.span);
                    }
                    HeaderProp::MemberOfUserOrgs => {
                        self.once(&mut seen, "member_of", p.span, owner);
                        member.get_or_insert(p.span);
                    }
                    HeaderProp::MaxItems(n) | HeaderProp::MaxLength(n) => {
                        let kw = if matches!(p.node, HeaderProp::MaxItems(_)) {
                            "max_items"
                        } else {
                            "max_length"
                        };
                        self.once(&mut seen, kw, p.span, owner);
                        if n == 0 {
                            self.push(CheckError::ZeroLimit {
                                span: p.span,
                                prop: kw,
                                header: hname.clone(),
                            });
                        }
                    }
                }
            }

            let Some((role, role_span)) = role else {
                self.push(CheckError::MissingRole {
                    span: h.name.span,
                    header: hname.clone(),
                });
                continue;
            };
            if role == Role::OrgId && hname != terms::ORG_ID_HEADER {
                self.push(CheckError::OrgIdHeaderName {
                    span: h.name.span,
                    name: hname.clone(),
                });
            }
            if matches!(role, Role::Visibility | Role::WorkingOrg) && !duplicate {
                match roles.get(&role) {
                    Some((first, line)) => self.push(CheckError::DuplicateHeaderRole {
                        span: role_span,
                        header: hname.clone(),
                        role,
                        first: first.name.node.clone(),
                        first_line: *line,
                    }),
                    None => {
                        roles.insert(role, (h, role_span.line));
                    }
                }
                if let Some(&line) = org_id_headers.get(&key) {
                    self.push(CheckError::HeaderRoleConflict {
                        span: role_span,
                        header: hname.clone(),
                        role,
                        endpoint_line: line,
                    });
                }
            }

            // A header without `list`/`single` carries a single org.
            let is_list = cardinality.is_some_and(|(l, _)| l);
            if is_list && matches!(role, Role::WorkingOrg | Role::OrgId) {
                if let Some((_, span)) = cardinality {
                    self.push(CheckError::RoleRequiresSingle {
                        span,
                        header: hname.clone(),
                        role,
                    });
                }
                continue;
            }
            let (right, wrong, right_kw, wrong_kw, kind) = if is_list {
                (
                    subset,
                    member,
                    "subset_of user.orgs",
                    "member_of user.orgs",
                    "list",
                )
            } else {
                (
                    member,
                    subset,
                    "member_of user.orgs",
                    "subset_of user.orgs",
                    "single-value",
                )
            };
            if let Some(span) = wrong {
                self.push(CheckError::WrongAccessConstraint {
                    span,
                    header: hname.clone(),
                    constraint: wrong_kw,
                    kind,
                    expected: right_kw,
                });
            } else if right.is_none() {
                self.push(CheckError::MissingAccessConstraint {
                    span: h.name.span,
                    header: hname.clone(),
                    expected: right_kw,
                });
            }
        }
    }

    /// Object types: names, aliases, properties, inheritance. Returns the declared type names.
    fn objects<'p>(&mut self, objects: &[&'p Object]) -> HashMap<&'p str, &'p Object> {
        let mut types: HashMap<&str, &Object> = HashMap::default();
        // Type names and aliases by `type_key`: (owner type, what it is, line).
        let mut keys: HashMap<String, (&str, String, u32)> = HashMap::default();
        for o in objects {
            let name = o.name.node.as_str();
            let key = terms::type_key(name);
            match keys.get(&key) {
                Some((first, _, line)) => self.push(CheckError::DuplicateObject {
                    span: o.name.span,
                    name: name.to_string(),
                    first: (*first).to_string(),
                    first_line: *line,
                }),
                None => {
                    keys.insert(
                        key,
                        (
                            name,
                            format!("the name of object type `{name}`"),
                            o.name.span.line,
                        ),
                    );
                }
            }
            types.entry(name).or_insert(o);
        }
        for o in objects {
            let name = o.name.node.as_str();
            for p in &o.props {
                if let ObjectProp::Alias(aliases) = &p.node {
                    for a in aliases {
                        let key = terms::type_key(&a.node);
                        match keys.get(&key) {
                            Some((owner, what, line)) if *owner != name => {
                                self.push(CheckError::AliasCollision {
                                    span: a.span,
                                    alias: a.node.clone(),
                                    object: name.to_string(),
                                    other: what.clone(),
                                    other_line: *line,
                                })
                            }
                            Some(_) => {}
                            None => {
                                keys.insert(
                                    key,
                                    (
                                        name,
                                        format!("alias `{}` of object type `{name}`", a.node),
                                        a.span.line,
                                    ),
                                );
                            }
                        }
                    }
                }
            }
        }

        let mut parents: HashMap<&str, &Name> = HashMap::default();
        for o in objects {
            let name = o.name.node.as_str();
            let owner = || format!("object type `{name}`");
            let mut seen = HashMap::default();
            let mut shared: Option<Span> = None;
            let mut others: Vec<(&'static str, Span)> = Vec::new();
            for p in &o.props {
                match &p.node {
                    ObjectProp::Label(f) => {
                        self.once(&mut seen, "label", p.span, owner);
                        self.field_terms(f);
                        others.push(("label", p.span));
                    }
                    ObjectProp::Inherit(inh) => {
                        let again = seen.contains_key("inherit");
                        self.once(&mut seen, "inherit", p.span, owner);
                        self.field_terms(&inh.via);
                        others.push(("inherit", p.span));
                        if again {
                            continue;
                        }
                        match types.get(inh.parent.node.as_str()) {
                            Some(parent) => {
                                if parent.props.iter().any(|p| p.node == ObjectProp::Shared) {
                                    self.push(CheckError::InheritFromShared {
                                        span: inh.parent.span,
                                        object: name.to_string(),
                                        parent: inh.parent.node.clone(),
                                        parent_line: parent.name.span.line,
                                    });
                                }
                                // Only the first declaration of a type takes part in cycles.
                                if types.get(name).is_some_and(|t| std::ptr::eq(*t, *o)) {
                                    parents.insert(name, &inh.parent);
                                }
                            }
                            None => {
                                let suggestion = self.suggest(
                                    &inh.parent.node,
                                    objects.iter().map(|o| o.name.node.as_str()),
                                );
                                self.push(CheckError::UnknownObjectType {
                                    span: inh.parent.span,
                                    name: inh.parent.node.clone(),
                                    suggestion,
                                });
                            }
                        }
                    }
                    ObjectProp::Shared => {
                        self.once(&mut seen, "shared", p.span, owner);
                        shared.get_or_insert(p.span);
                    }
                    ObjectProp::Fallback(sources) => {
                        self.once(&mut seen, "fallback", p.span, owner);
                        self.fallbacks(sources);
                        others.push(("fallback", p.span));
                    }
                    ObjectProp::Alias(_) => {}
                }
            }
            if let Some(shared) = shared {
                for (prop, span) in others {
                    let (at, other) = if span.start > shared.start {
                        (span, shared)
                    } else {
                        (shared, span)
                    };
                    self.push(CheckError::SharedConflict {
                        span: at,
                        object: name.to_string(),
                        prop,
                        other_line: other.line,
                    });
                }
            }
        }

        let order: Vec<&str> = objects.iter().map(|o| o.name.node.as_str()).collect();
        for (cycle, span) in find_cycles(&order, |n| {
            parents.get(n).map(|p| (p.node.as_str(), p.span))
        }) {
            self.push(CheckError::InheritanceCycle { span, cycle });
        }
        types
    }

    fn fallbacks(&mut self, sources: &[Spanned<FallbackSource>]) {
        let mut seen = HashSet::default();
        for s in sources {
            if !seen.insert(s.node) {
                self.push(CheckError::DuplicateFallback {
                    span: s.span,
                    source_kw: s.node.keyword(),
                });
            }
        }
        let mut after_unlabeled = sources
            .iter()
            .skip_while(|s| s.node != FallbackSource::Unlabeled)
            .skip(1);
        if let Some(s) = after_unlabeled.next() {
            self.push(CheckError::UnreachableFallback {
                span: s.span,
                source_kw: s.node.keyword(),
            });
        }
    }

    fn methods(&mut self, methods: &[Spanned<Method>]) {
        let mut seen = HashSet::default();
        for m in methods {
            if !seen.insert(m.node) {
                self.push(CheckError::DuplicateMethod {
                    span: m.span,
                    method: m.node,
                });
            }
        }
    }

    /// Empty segments, repeated parameters and deprecated terms in a path template.
    fn template(&mut self, path: &PathTemplate) {
        let ranges = segment_ranges(path);
        let mut params: HashSet<&str> = HashSet::default();
        // Each repeated name once: a template of 20 000 `{a}` is one mistake, not 19 999.
        let mut reported: HashSet<&str> = HashSet::default();
        let mut empty_reported = false;
        let count = path.segments.len();
        for (i, (seg, &(from, to))) in path.segments.iter().zip(&ranges).enumerate() {
            match seg {
                Segment::Literal(l) if l.is_empty() => {
                    if !empty_reported {
                        empty_reported = true;
                        let trailing = i + 1 == count;
                        let end = if trailing { from } else { from + 1 };
                        self.push(CheckError::EmptyPathSegment {
                            span: sub_span(path.span, from.saturating_sub(1), end),
                            path: path.to_string(),
                            trailing,
                        });
                    }
                }
                Segment::Literal(l) => {
                    // Custom methods (`reports:run`) are checked word by word.
                    let mut off = from;
                    for word in l.split(':') {
                        self.deprecated(word, sub_span(path.span, off, off + word.len()));
                        off += word.len() + 1;
                    }
                }
                Segment::Param(p) => {
                    let span = sub_span(path.span, from, to);
                    if !params.insert(p) && reported.insert(p) {
                        self.push(CheckError::DuplicatePathParam {
                            span,
                            param: p.clone(),
                            path: path.to_string(),
                        });
                    }
                    self.deprecated(p, sub_span(path.span, from + 1, to.saturating_sub(1)));
                }
            }
        }
    }

    /// Deprecated terms among a field's keys.
    fn field_terms(&mut self, f: &Field) {
        let mut off = match f.root {
            FieldRoot::Body | FieldRoot::Path => 5,
            FieldRoot::Query => 6,
        };
        for k in &f.keys {
            self.deprecated(k, sub_span(f.span, off, off + k.len()));
            off += k.len() + 1;
        }
    }

    /// A `path.X` field must name a parameter of the route's template.
    fn path_field(&mut self, f: &Field, path: Option<&PathTemplate>) {
        if f.root != FieldRoot::Path {
            return;
        }
        let params: Vec<String> = path
            .map(|p| {
                p.segments
                    .iter()
                    .filter_map(|s| match s {
                        Segment::Param(p) => Some(p.clone()),
                        Segment::Literal(_) => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let ok = matches!(f.keys.as_slice(), [k] if params.contains(k));
        if !ok {
            self.push(CheckError::UnknownPathParam {
                span: f.span,
                field: f.to_string(),
                template: match path {
                    Some(p) => format!("path `{p}`"),
                    None => "the `default` route".to_string(),
                },
                params,
            });
        }
    }

    fn target(&mut self, t: &Target, path: Option<&PathTemplate>, types: &HashMap<&str, &Object>) {
        let action = t.action.node;
        if let Some(o) = &t.object {
            match &o.node {
                ObjectRef::Named(name) => {
                    if !types.contains_key(name.as_str()) {
                        let mut names: Vec<&str> = types.keys().copied().collect();
                        names.sort_unstable();
                        let suggestion = self.suggest(name, names);
                        self.push(CheckError::UnknownObjectType {
                            span: o.span,
                            name: name.clone(),
                            suggestion,
                        });
                    }
                }
                ObjectRef::FromField(f) => {
                    self.path_field(f, path);
                    self.field_terms(f);
                }
            }
        }
        let mut seen = HashMap::default();
        let mut has_id = false;
        for o in &t.opts {
            let (kw, f) = match &o.node {
                TargetOpt::Id(f) => ("id", f),
                TargetOpt::Objects(f) => ("objects", f),
            };
            self.once(&mut seen, kw, o.span, || {
                format!("this `{}` route", action.keyword())
            });
            match &o.node {
                TargetOpt::Id(_) => {
                    has_id = true;
                    if !action.is_by_id() {
                        self.push(CheckError::IdNotAllowed {
                            span: o.span,
                            action,
                        });
                    }
                }
                TargetOpt::Objects(_) => {
                    if action != Action::Create {
                        self.push(CheckError::ObjectsRequiresCreate {
                            span: o.span,
                            action,
                        });
                    }
                }
            }
            self.path_field(f, path);
            self.field_terms(f);
        }
        if action.is_by_id() && !has_id {
            let param = path.and_then(|p| {
                p.segments.iter().rev().find_map(|s| match s {
                    Segment::Param(p) => Some(p.clone()),
                    Segment::Literal(_) => None,
                })
            });
            self.push(CheckError::MissingIdField {
                span: t.action.span,
                action,
                param,
            });
        }
    }

    fn services(&mut self, services: &[&Service]) {
        let mut names: HashMap<&str, u32> = HashMap::default();
        let mut endpoints = Templates::default();
        for s in services {
            match names.get(s.name.node.as_str()) {
                Some(&first_line) => self.push(CheckError::DuplicateService {
                    span: s.name.span,
                    name: s.name.node.clone(),
                    first_line,
                }),
                None => {
                    names.insert(&s.name.node, s.name.span.line);
                }
            }
            for e in &s.endpoints {
                self.endpoint(s, e);
                match endpoints.add(&e.methods, &e.path, e.span.line) {
                    Some(Seen::Duplicate {
                        template,
                        first_line,
                    }) => self.push(CheckError::DuplicateEndpoint {
                        span: e.path.span,
                        endpoint: template,
                        first_line,
                    }),
                    Some(Seen::Overlap {
                        template,
                        other,
                        example,
                        other_line,
                    }) => self.push(CheckError::OverlappingEndpoint {
                        span: e.path.span,
                        endpoint: template,
                        other,
                        example,
                        other_line,
                    }),
                    None => {}
                }
            }
        }
    }

    /// The organization-ID placement rules (SPEC §1.2) for one endpoint.
    fn endpoint(&mut self, s: &Service, e: &Endpoint) {
        self.methods(&e.methods);
        self.template(&e.path);
        let endpoint = format!("{} {}", methods_str(&e.methods), e.path);
        let owner = || format!("endpoint `{endpoint}`");
        let mut seen = HashMap::default();
        let mut scoped = true;
        let mut justification: Option<(&str, Span)> = None;
        let mut locations: Vec<(&Spanned<Location>, &Name, Span)> = Vec::new();
        for p in &e.props {
            match &p.node {
                EndpointProp::Unscoped => {
                    self.once(&mut seen, "unscoped", p.span, owner);
                    scoped = false;
                }
                EndpointProp::Justification(j) => {
                    self.once(&mut seen, "justification", p.span, owner);
                    justification.get_or_insert((j, p.span));
                }
                EndpointProp::OrgId { location, name } => locations.push((location, name, p.span)),
            }
        }

        if scoped {
            match locations.first() {
                None => self.push(CheckError::OrgIdMissingLocation {
                    span: e.path.span,
                    endpoint: endpoint.clone(),
                }),
                Some((_, _, first)) => {
                    for (_, _, span) in locations.iter().skip(1) {
                        self.push(CheckError::OrgIdMultipleLocations {
                            span: *span,
                            endpoint: endpoint.clone(),
                            first_line: first.line,
                        });
                    }
                }
            }
        }

        for (location, name, _) in locations {
            self.deprecated(&name.node, name.span);
            match location.node {
                Location::Header => {
                    if !scoped {
                        self.push(CheckError::OrgIdHeaderUnscoped {
                            span: location.span,
                            endpoint: endpoint.clone(),
                        });
                    } else if !s.legacy {
                        self.push(CheckError::OrgIdHeaderInNewService {
                            span: location.span,
                            service: s.name.node.clone(),
                        });
                    } else if name.node != terms::ORG_ID_HEADER {
                        self.push(CheckError::OrgIdHeaderName {
                            span: name.span,
                            name: name.node.clone(),
                        });
                    }
                }
                loc => {
                    let bad_name = if scoped {
                        name.node != terms::ORG_ID
                    } else {
                        !terms::is_org_id_name(&name.node)
                    };
                    if bad_name {
                        self.push(CheckError::OrgIdName {
                            span: name.span,
                            name: name.node.clone(),
                            location: loc,
                            expected: if scoped || !name.node.ends_with('s') {
                                terms::ORG_ID
                            } else {
                                terms::ORG_IDS
                            },
                        });
                    }
                    if loc == Location::Path
                        && !e
                            .path
                            .segments
                            .iter()
                            .any(|s| matches!(s, Segment::Param(p) if *p == name.node))
                    {
                        self.push(CheckError::OrgIdPathParamMissing {
                            span: name.span,
                            name: name.node.clone(),
                            path: e.path.to_string(),
                        });
                    }
                    if scoped && matches!(loc, Location::Query | Location::Body) {
                        match justification {
                            None => self.push(CheckError::OrgIdJustificationRequired {
                                span: location.span,
                                location: loc,
                                blank: false,
                            }),
                            Some((j, span)) if j.trim().is_empty() => {
                                self.push(CheckError::OrgIdJustificationRequired {
                                    span,
                                    location: loc,
                                    blank: true,
                                })
                            }
                            Some(_) => {}
                        }
                    }
                }
            }
        }
    }
}

/// Cycles in a graph where every node has at most one outgoing edge (`next`), each reported
/// once: named from its first member in `order`, with the span of that member's edge.
fn find_cycles<'a>(
    order: &[&'a str],
    next: impl Fn(&str) -> Option<(&'a str, Span)>,
) -> Vec<(Vec<String>, Span)> {
    // 0 = unvisited, 1 = on the current walk, 2 = done.
    let mut state: HashMap<&str, u8> = HashMap::default();
    let position: HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .rev()
        .map(|(i, n)| (*n, i))
        .collect();
    let mut cycles = Vec::new();
    for &start in order {
        if state.get(start).copied().unwrap_or(0) != 0 {
            continue;
        }
        let mut walk: Vec<&str> = Vec::new();
        let mut cur = start;
        loop {
            match state.get(cur).copied().unwrap_or(0) {
                0 => {
                    state.insert(cur, 1);
                    walk.push(cur);
                    match next(cur) {
                        Some((n, _)) => cur = n,
                        None => break,
                    }
                }
                1 => {
                    // `cur` is on this walk: the cycle is the walk from `cur` on.
                    let from = walk.iter().position(|n| *n == cur).unwrap_or(0);
                    let members = walk.get(from..).unwrap_or_default();
                    let first = members
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, n)| position.get(**n).copied().unwrap_or(usize::MAX))
                        .map_or(0, |(i, _)| i);
                    let mut cycle: Vec<String> = members
                        .iter()
                        .cycle()
                        .skip(first)
                        .take(members.len())
                        .map(|n| (*n).to_string())
                        .collect();
                    if let (Some(head), Some((_, span))) = (
                        cycle.first().cloned(),
                        members.get(first).and_then(|n| next(n)),
                    ) {
                        cycle.push(head);
                        cycles.push((cycle, span));
                    }
                    break;
                }
                _ => break,
            }
        }
        for n in walk {
            state.insert(n, 2);
        }
    }
    cycles
}

/// Help for a name declared again, saying why when the two spellings differ.
fn first_declared(name: &str, first: &str, first_line: u32, why: &str) -> String {
    if name == first {
        format!("first declared at line {first_line}")
    } else {
        format!("first declared as `{first}` at line {first_line}; {why}")
    }
}

/// The routes (or endpoints) declared so far, to report each new one that repeats or overlaps
/// an earlier one.
#[derive(Default)]
struct Templates {
    index: PathIndex,
    /// Each template as written, with its line.
    seen: Vec<(String, u32)>,
}

/// A new template's clash with an earlier one, ready for its diagnostic.
enum Seen {
    Duplicate {
        template: String,
        first_line: u32,
    },
    Overlap {
        template: String,
        other: String,
        example: String,
        other_line: u32,
    },
}

impl Templates {
    fn add(&mut self, methods: &[Spanned<Method>], path: &PathTemplate, line: u32) -> Option<Seen> {
        let ms: Vec<Method> = methods.iter().map(|m| m.node).collect();
        let seen = match self.index.find(&ms, &path.segments) {
            Some(Clash::Duplicate(m, i)) => {
                self.seen.get(i).map(|(_, first_line)| Seen::Duplicate {
                    template: format!("{} {path}", m.as_str()),
                    first_line: *first_line,
                })
            }
            Some(Clash::Overlap(m, i, example)) => {
                self.seen.get(i).map(|(other, other_line)| Seen::Overlap {
                    template: format!("{} {path}", m.as_str()),
                    other: format!("{} {other}", m.as_str()),
                    example,
                    other_line: *other_line,
                })
            }
            None => None,
        };
        self.index.insert(&ms, &path.segments, self.seen.len());
        self.seen.push((path.to_string(), line));
        seen
    }
}

/// Route or endpoint clash found by [`PathIndex::find`]: method, index of the earlier entry, and
/// for overlaps an example path both match.
enum Clash {
    Duplicate(Method, usize),
    Overlap(Method, usize, String),
}

#[derive(Default)]
struct Node {
    literals: HashMap<String, usize>,
    param: Option<usize>,
    /// The first entry whose template ends here.
    terminal: Option<usize>,
}

/// A trie of path templates per method, to find duplicate and overlapping templates without
/// comparing every pair.
struct PathIndex {
    roots: HashMap<Method, usize>,
    nodes: Vec<Node>,
    budget: usize,
}

impl Default for PathIndex {
    fn default() -> Self {
        PathIndex {
            roots: HashMap::default(),
            nodes: Vec::new(),
            budget: OVERLAP_BUDGET,
        }
    }
}

impl PathIndex {
    /// The earliest entry that clashes with `segments` for one of `methods`; duplicates first.
    fn find(&mut self, methods: &[Method], segments: &[Segment]) -> Option<Clash> {
        let mut dup: Option<(Method, usize)> = None;
        let mut overlap: Option<(Method, usize, String)> = None;
        for &m in methods {
            let Some(&root) = self.roots.get(&m) else {
                continue;
            };
            if let Some(i) = self.exact(root, segments) {
                if dup.as_ref().map_or(true, |(_, d)| i < *d) {
                    dup = Some((m, i));
                }
                continue;
            }
            if let Some((i, example)) = self.overlapping(root, segments) {
                if overlap.as_ref().map_or(true, |(_, o, _)| i < *o) {
                    overlap = Some((m, i, example));
                }
            }
        }
        match (dup, overlap) {
            (Some((m, i)), _) => Some(Clash::Duplicate(m, i)),
            (None, Some((m, i, ex))) => Some(Clash::Overlap(m, i, ex)),
            (None, None) => None,
        }
    }

    fn exact(&self, root: usize, segments: &[Segment]) -> Option<usize> {
        let mut node = self.nodes.get(root)?;
        for s in segments {
            let next = match s {
                Segment::Literal(l) => node.literals.get(l).copied(),
                Segment::Param(_) => node.param,
            }?;
            node = self.nodes.get(next)?;
        }
        node.terminal
    }

    /// The earliest entry that matches some path `segments` also matches, with such a path.
    fn overlapping(&mut self, root: usize, segments: &[Segment]) -> Option<(usize, String)> {
        // Depth-first; each stack entry carries the example path so far.
        let mut stack: Vec<(usize, usize, String)> = vec![(root, 0, String::new())];
        let mut best: Option<(usize, String)> = None;
        while let Some((id, depth, example)) = stack.pop() {
            if self.budget == 0 {
                break;
            }
            self.budget -= 1;
            let Some(node) = self.nodes.get(id) else {
                continue;
            };
            let Some(seg) = segments.get(depth) else {
                if let Some(t) = node.terminal {
                    if best.as_ref().map_or(true, |(b, _)| t < *b) {
                        let example = if example.is_empty() {
                            "/".to_string()
                        } else {
                            example
                        };
                        best = Some((t, example));
                    }
                }
                continue;
            };
            match seg {
                Segment::Literal(l) => {
                    if let Some(&n) = node.literals.get(l) {
                        stack.push((n, depth + 1, format!("{example}/{l}")));
                    }
                    if let Some(n) = node.param {
                        stack.push((n, depth + 1, format!("{example}/{l}")));
                    }
                }
                Segment::Param(p) => {
                    for (l, &n) in &node.literals {
                        stack.push((n, depth + 1, format!("{example}/{l}")));
                    }
                    if let Some(n) = node.param {
                        stack.push((n, depth + 1, format!("{example}/{{{p}}}")));
                    }
                }
            }
        }
        best
    }

    fn insert(&mut self, methods: &[Method], segments: &[Segment], entry: usize) {
        for &m in methods {
            let root = match self.roots.get(&m) {
                Some(&r) => r,
                None => {
                    self.nodes.push(Node::default());
                    let r = self.nodes.len() - 1;
                    self.roots.insert(m, r);
                    r
                }
            };
            let mut id = root;
            for s in segments {
                let existing = self.nodes.get(id).and_then(|n| match s {
                    Segment::Literal(l) => n.literals.get(l).copied(),
                    Segment::Param(_) => n.param,
                });
                id = match existing {
                    Some(next) => next,
                    None => {
                        let next = self.nodes.len();
                        self.nodes.push(Node::default());
                        if let Some(n) = self.nodes.get_mut(id) {
                            match s {
                                Segment::Literal(l) => {
                                    n.literals.insert(l.clone(), next);
                                }
                                Segment::Param(_) => n.param = Some(next),
                            }
                        }
                        next
                    }
                };
            }
            if let Some(n) = self.nodes.get_mut(id) {
                n.terminal.get_or_insert(entry);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("acount", "account"), 1);
        assert_eq!(edit_distance("Invoice", "invoice"), 0);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("Aisa", "Asia"), 1);
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn cycles_are_named_from_their_first_member() {
        let edges: HashMap<&str, &str> = [("a", "b"), ("b", "c"), ("c", "b"), ("d", "d")]
            .into_iter()
            .collect();
        let cycles = find_cycles(&["a", "b", "c", "d"], |n| {
            edges.get(n).map(|m| (*m, Span::default()))
        });
        let names: Vec<Vec<String>> = cycles.into_iter().map(|(c, _)| c).collect();
        assert_eq!(names, vec![vec!["b", "c", "b"], vec!["d", "d"]]);
    }
}

//! The linter's catalogue: every [`LintError`] with its stable code, severity and help. The
//! guideline's rules keep the codes `orgscope check` gives them over a policy's endpoints.

use orgscope::diag::{Diagnose, Severity};
use orgscope::Span;

/// An org-ID location in an OpenAPI operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Loc {
    /// A path parameter.
    Path,
    /// A query parameter.
    Query,
    /// A header.
    Header,
    /// A cookie.
    Cookie,
    /// A top-level request body property.
    Body,
}

impl Loc {
    /// The word for it (`in:` of a parameter; `body` for the request body).
    pub fn word(self) -> &'static str {
        match self {
            Loc::Path => "path",
            Loc::Query => "query",
            Loc::Header => "header",
            Loc::Cookie => "cookie",
            Loc::Body => "body",
        }
    }
}

/// A problem found in an OpenAPI document, or between it and a policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LintError {
    /// No `openapi: 3.0.x` or `3.1.x` at the root.
    #[error("not an OpenAPI 3.0 or 3.1 document")]
    NotOpenApi {
        /// The root, or the `openapi` value.
        span: Span,
    },
    /// A local `$ref` whose target is not in the document.
    #[error("`{target}` points at nothing in this document")]
    RefUnresolved {
        /// The `$ref` value.
        span: Span,
        /// The reference.
        target: String,
    },
    /// A `$ref` to another file (warning): not followed.
    #[error("`{target}` is in another document and is not followed")]
    RefExternal {
        /// The `$ref` value.
        span: Span,
        /// The reference.
        target: String,
    },
    /// `$ref`s that lead back to themselves without content.
    #[error("`{target}` leads back to itself")]
    RefCycle {
        /// The `$ref` value.
        span: Span,
        /// The reference.
        target: String,
    },
    /// An operation marked org-scoped that takes no org ID.
    #[error("org-scoped operation `{endpoint}` takes no org ID")]
    OrgIdMissingLocation {
        /// The method's key.
        span: Span,
        /// Method and path.
        endpoint: String,
    },
    /// A second (third…) org-ID location in one org-scoped operation.
    #[error("org-scoped operation `{endpoint}` takes the org ID in more than one place")]
    OrgIdMultipleLocations {
        /// The later location.
        span: Span,
        /// Method and path.
        endpoint: String,
        /// The first location.
        first: String,
    },
    /// An org-ID header in a service not marked legacy.
    #[error("new service `{service}` must not take the org ID in a header")]
    OrgIdHeaderInNewService {
        /// The header's name.
        span: Span,
        /// The service.
        service: String,
    },
    /// A legacy org-ID header not named exactly as configured.
    #[error("the org ID header must be named exactly `{expected}`, not `{name}`")]
    OrgIdHeaderName {
        /// The header's name.
        span: Span,
        /// As written.
        name: String,
        /// `Organization-ID`.
        expected: String,
    },
    /// A query or body location without a justification.
    #[error("org ID in the {} of `{endpoint}` needs a justification", .location.word())]
    OrgIdJustificationRequired {
        /// The parameter or property, or the blank justification.
        span: Span,
        /// `query` or `body`.
        location: Loc,
        /// Method and path.
        endpoint: String,
        /// Whether a justification is there but blank.
        blank: bool,
    },
    /// An org-ID header on an operation that is not org-scoped.
    #[error("operation `{endpoint}` is not org-scoped and must not take an org ID in a header")]
    OrgIdHeaderUnscoped {
        /// The header's name.
        span: Span,
        /// Method and path.
        endpoint: String,
    },
    /// An org ID in a cookie: a location the guideline has no place for.
    #[error("the org ID must not be in a cookie")]
    OrgIdCookie {
        /// The cookie's name.
        span: Span,
    },
    /// A path, query or body org ID not named as the guideline says.
    #[error("the org ID in the {} must be named `{expected}`, not `{name}`", .location.word())]
    OrgIdName {
        /// The name.
        span: Span,
        /// As written.
        name: String,
        /// Where.
        location: Loc,
        /// The expected name.
        expected: String,
    },
    /// A deprecated term for the org concept (warning).
    #[error("`{term}` is a deprecated term for the organization concept")]
    DeprecatedTerm {
        /// The term.
        span: Span,
        /// As written.
        term: String,
    },
    /// An operation the policy does not declare.
    #[error("operation `{endpoint}` has no endpoint in the policy")]
    DriftNotInPolicy {
        /// The method's key.
        span: Span,
        /// Method and path.
        endpoint: String,
    },
    /// A policy endpoint the document does not describe.
    #[error("endpoint `{endpoint}` is not an operation of `{document}`")]
    DriftNotInDocument {
        /// The endpoint's path in the policy.
        span: Span,
        /// Method and path.
        endpoint: String,
        /// The document.
        document: String,
    },
    /// The policy and the document disagree on where the org ID is, or on being org-scoped.
    #[error("operation `{endpoint}` takes the org ID as {document}, the policy says {policy}")]
    DriftLocation {
        /// The method's key.
        span: Span,
        /// Method and path.
        endpoint: String,
        /// The document's location(s), described.
        document: String,
        /// The policy's, described.
        policy: String,
    },
}

impl LintError {
    /// Every code, for the docs and the SARIF rule list.
    pub const CODES: [&'static str; 16] = [
        "openapi_version",
        "openapi_ref_unresolved",
        "openapi_ref_external",
        "openapi_ref_cycle",
        "org_id_missing_location",
        "org_id_multiple_locations",
        "org_id_header_in_new_service",
        "org_id_header_name",
        "org_id_justification_required",
        "org_id_header_unscoped",
        "org_id_cookie",
        "org_id_name",
        "deprecated_term",
        "drift_not_in_policy",
        "drift_not_in_document",
        "drift_location",
    ];
}

impl Diagnose for LintError {
    fn code(&self) -> &'static str {
        use LintError::*;
        match self {
            NotOpenApi { .. } => "openapi_version",
            RefUnresolved { .. } => "openapi_ref_unresolved",
            RefExternal { .. } => "openapi_ref_external",
            RefCycle { .. } => "openapi_ref_cycle",
            OrgIdMissingLocation { .. } => "org_id_missing_location",
            OrgIdMultipleLocations { .. } => "org_id_multiple_locations",
            OrgIdHeaderInNewService { .. } => "org_id_header_in_new_service",
            OrgIdHeaderName { .. } => "org_id_header_name",
            OrgIdJustificationRequired { .. } => "org_id_justification_required",
            OrgIdHeaderUnscoped { .. } => "org_id_header_unscoped",
            OrgIdCookie { .. } => "org_id_cookie",
            OrgIdName { .. } => "org_id_name",
            DeprecatedTerm { .. } => "deprecated_term",
            DriftNotInPolicy { .. } => "drift_not_in_policy",
            DriftNotInDocument { .. } => "drift_not_in_document",
            DriftLocation { .. } => "drift_location",
        }
    }

    fn span(&self) -> Span {
        use LintError::*;
        match self {
            NotOpenApi { span }
            | RefUnresolved { span, .. }
            | RefExternal { span, .. }
            | RefCycle { span, .. }
            | OrgIdMissingLocation { span, .. }
            | OrgIdMultipleLocations { span, .. }
            | OrgIdHeaderInNewService { span, .. }
            | OrgIdHeaderName { span, .. }
            | OrgIdJustificationRequired { span, .. }
            | OrgIdHeaderUnscoped { span, .. }
            | OrgIdCookie { span }
            | OrgIdName { span, .. }
            | DeprecatedTerm { span, .. }
            | DriftNotInPolicy { span, .. }
            | DriftNotInDocument { span, .. }
            | DriftLocation { span, .. } => *span,
        }
    }

    fn severity(&self) -> Severity {
        match self {
            LintError::DeprecatedTerm { .. } | LintError::RefExternal { .. } => Severity::Warning,
            _ => Severity::Error,
        }
    }

    fn help(&self) -> Option<String> {
        use LintError::*;
        Some(match self {
            NotOpenApi { .. } => "the root needs `openapi: 3.0.x` or `openapi: 3.1.x` (Swagger 2.0 is not read)".into(),
            RefUnresolved { .. } => "a local reference is a JSON pointer into this document, e.g. `#/components/schemas/Org`".into(),
            RefExternal { .. } => "bundle the document (e.g. `redocly bundle`) so that every reference is local".into(),
            RefCycle { .. } => "make the reference chain end at a schema, parameter or body".into(),
            OrgIdMissingLocation { .. } => "take it as the path parameter `{organizationId}` (the preferred place), or mark the operation `x-orgscope-scoped: false`".into(),
            OrgIdMultipleLocations { first, .. } => format!("an org-scoped operation takes the org ID in exactly one place; the first is {first}"),
            OrgIdHeaderInNewService { .. } => "take it in the path (`{organizationId}`); only a service marked `x-orgscope-legacy: true` may keep an `Organization-ID` header".into(),
            OrgIdHeaderName { .. } => "the guideline allows an org ID header under one name only, case included".into(),
            OrgIdJustificationRequired { blank, .. } => if *blank {
                "write why the org ID cannot be in the path".into()
            } else {
                "the path is the preferred place; add `x-orgscope-justification: \"...\"` to the operation saying why the org ID is not in it".into()
            },
            OrgIdHeaderUnscoped { .. } => "an operation that is not org-scoped may carry `organizationId(s)` in the path, query or body, never in a header".into(),
            OrgIdCookie { .. } => "take it in the path (`{organizationId}`)".into(),
            OrgIdName { .. } => "the org ID is always named `organizationId` (`organizationIds` for a list, on operations that are not org-scoped)".into(),
            DeprecatedTerm { .. } => "call it an organization: `organizationId` (`organizationIds` for a list; header `Organization-ID`); if the word means something else here, list it under `allow_terms` in the configuration".into(),
            DriftNotInPolicy { .. } => "add it to the policy (`orgscope import openapi` writes the declarations)".into(),
            DriftNotInDocument { .. } => "remove it from the policy, or describe the operation in the document".into(),
            DriftLocation { .. } => "make the document and the policy say the same".into(),
        })
    }
}

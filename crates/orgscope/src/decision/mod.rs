//! Evaluation output: the decision of SPEC §3, with stable error codes and HTTP statuses.

use crate::json::is_plain;
use crate::syntax::ast::Action;
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

mod labels;
mod visible;
pub use labels::Labels;
pub use visible::{VisibleOrgs, VisibleOrgsIter};

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// The request may proceed, scoped as the decision says.
    Allow,
    /// The request must be refused with the decision's status.
    Deny,
}

/// The answer for one request, borrowing the names it gives (rule locations, object types, org
/// names) from the [`Policy`](crate::Policy) that decided it.
///
/// Borrowing is what lets threads share one `Policy`: a decision neither copies its names
/// (an allocation each) nor counts references to them (a counter every thread would write).
/// Names that come from the request itself (an undeclared object type, orgs of a policy
/// without a directory) are owned. [`Decision::into_owned`] makes a decision that outlives
/// its policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision<'p> {
    /// The request's `id`, echoed (null when it had none).
    pub id: Option<Value>,
    /// Allow or deny; any error means deny.
    pub decision: Effect,
    /// The HTTP status a gateway should answer with.
    pub status: u16,
    /// The action, when known.
    pub action: Option<Action>,
    /// The object type, when known.
    pub object: Option<Cow<'p, str>>,
    /// `file:line:col` of the policy rule that decided.
    pub rule: Option<Cow<'p, str>>,
    /// The orgs the request may see, in directory order (null when not org-scoped or denied).
    pub visible_orgs: Option<VisibleOrgs<'p>>,
    /// Whether unlabeled records are visible (false on deny).
    pub include_unlabeled: bool,
    /// For creates (and relabeling updates): one label per object, in request order.
    pub labels: Labels<'p>,
    /// Why the request was denied; empty on allow.
    pub errors: Vec<DecisionError<'p>>,
    /// Things worth knowing that did not change the outcome.
    pub warnings: Vec<Warning>,
    /// With explain: every rule consulted, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Vec<TraceStep>>,
}

impl<'p> Decision<'p> {
    /// Whether the request is allowed.
    pub fn is_allow(&self) -> bool {
        self.decision == Effect::Allow
    }

    /// The visible orgs as string slices (None when not org-scoped or denied).
    pub fn visible_org_names(&self) -> Option<Vec<&str>> {
        self.visible_orgs.as_ref().map(|v| v.iter().collect())
    }

    /// The same decision, owning every string: one that outlives the policy that made it
    /// (queued for a log, kept in a cache across a reload).
    pub fn into_owned(self) -> Decision<'static> {
        Decision {
            id: self.id,
            decision: self.decision,
            status: self.status,
            action: self.action,
            object: self.object.map(owned),
            rule: self.rule.map(owned),
            visible_orgs: self.visible_orgs.map(VisibleOrgs::into_owned),
            include_unlabeled: self.include_unlabeled,
            labels: self.labels.into_owned(),
            errors: self
                .errors
                .into_iter()
                .map(DecisionError::into_owned)
                .collect(),
            warnings: self.warnings,
            trace: self.trace,
        }
    }

    /// Appends the decision as compact JSON, byte for byte what `serde_json::to_writer` writes,
    /// faster: the strings every decision repeats (rule locations, keywords, org names) almost
    /// never need escaping, so they are checked and copied whole instead of escaped byte by byte.
    ///
    /// ```
    /// let policy = orgscope::Policy::from_file("../../policies/zuora-multi-org.policy")?;
    /// let d = policy.evaluate_json(
    ///     r#"{"method": "GET", "path": "/v1/accounts", "user": {"orgs": ["Asia"]}}"#,
    ///     &Default::default(),
    /// );
    /// let mut out = Vec::new();
    /// d.write_json(&mut out)?;
    /// assert_eq!(out, serde_json::to_vec(&d)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        out.extend_from_slice(b"{\"id\":");
        match &self.id {
            None => out.extend_from_slice(b"null"),
            Some(id) => serde_json::to_writer(&mut *out, id)?,
        }
        out.extend_from_slice(if self.is_allow() {
            b",\"decision\":\"allow\",\"status\":"
        } else {
            b",\"decision\":\"deny\",\"status\":"
        });
        json_u16(out, self.status);
        out.extend_from_slice(b",\"action\":");
        match self.action {
            Some(action) => json_keyword(out, action.keyword()),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"object\":");
        json_opt_str(out, self.object.as_deref());
        out.extend_from_slice(b",\"rule\":");
        json_opt_str(out, self.rule.as_deref());
        out.extend_from_slice(b",\"visible_orgs\":");
        match &self.visible_orgs {
            None => out.extend_from_slice(b"null"),
            Some(orgs) => json_list(out, orgs, json_str),
        }
        out.extend_from_slice(if self.include_unlabeled {
            b",\"include_unlabeled\":true,\"labels\":"
        } else {
            b",\"include_unlabeled\":false,\"labels\":"
        });
        json_list(out, self.labels.iter(), |out, l| {
            out.extend_from_slice(b"{\"org\":");
            json_opt_str(out, l.org.as_deref());
            out.extend_from_slice(b",\"source\":");
            json_keyword(out, l.source.as_str());
            if let Some(from) = &l.from {
                out.extend_from_slice(b",\"from\":");
                json_str(out, from);
            }
            out.push(b'}');
        });
        out.extend_from_slice(b",\"errors\":");
        json_list(out, &self.errors, |out, e| {
            out.extend_from_slice(b"{\"code\":");
            json_keyword(out, e.code.as_str());
            out.extend_from_slice(b",\"message\":");
            json_str(out, &e.message);
            out.extend_from_slice(b",\"rule\":");
            json_opt_str(out, e.rule.as_deref());
            out.push(b'}');
        });
        out.extend_from_slice(b",\"warnings\":");
        json_list(out, &self.warnings, |out, w| {
            out.extend_from_slice(b"{\"code\":");
            json_str(out, w.code);
            out.extend_from_slice(b",\"message\":");
            json_str(out, &w.message);
            out.push(b'}');
        });
        if let Some(trace) = &self.trace {
            out.extend_from_slice(b",\"trace\":");
            serde_json::to_writer(&mut *out, trace)?;
        }
        out.push(b'}');
        Ok(())
    }

    /// A deny for a request description that could not be read at all.
    pub fn invalid_request(id: Option<Value>, message: String) -> Decision<'p> {
        let mut d = Decision::deny_with(
            id,
            DecisionError {
                code: ErrorCode::InvalidRequest,
                message,
                rule: None,
                hint: None,
            },
        );
        d.status = ErrorCode::InvalidRequest.status();
        d
    }

    pub(crate) fn deny_with(id: Option<Value>, error: DecisionError<'p>) -> Decision<'p> {
        Decision {
            id,
            decision: Effect::Deny,
            status: error.code.status(),
            action: None,
            object: None,
            rule: error.rule.clone(),
            visible_orgs: None,
            include_unlabeled: false,
            labels: Labels::new(),
            errors: vec![error],
            warnings: Vec::new(),
            trace: None,
        }
    }
}

/// The org label of one created (or relabeled) object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label<'p> {
    /// The org (its directory name), or null for shared and unlabeled objects.
    pub org: Option<Cow<'p, str>>,
    /// Where the label came from.
    pub source: LabelSource,
    /// For inherited labels: the parent, e.g. `account A-1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

impl Label<'_> {
    /// The same label, owning its org's name (see [`Decision::into_owned`]).
    pub fn into_owned(self) -> Label<'static> {
        Label {
            org: self.org.map(owned),
            source: self.source,
            from: self.from,
        }
    }
}

/// A string that no longer borrows.
fn owned(s: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(s.into_owned())
}

/// Where a label came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LabelSource {
    /// The object type's explicit label field (or an org-scoped endpoint's org ID).
    Explicit,
    /// The parent object's org.
    Inherited,
    /// The working-org header.
    WorkingOrg,
    /// The user's `default_org`.
    DefaultOrg,
    /// The user's only org.
    SingleOrg,
    /// A shared (tenant-wide) type: never labeled.
    Shared,
    /// Unlabeled (Multi-Org off, or an `unlabeled` fallback).
    None,
}

impl LabelSource {
    /// The source as it appears in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            LabelSource::Explicit => "explicit",
            LabelSource::Inherited => "inherited",
            LabelSource::WorkingOrg => "working_org",
            LabelSource::DefaultOrg => "default_org",
            LabelSource::SingleOrg => "single_org",
            LabelSource::Shared => "shared",
            LabelSource::None => "none",
        }
    }
}

/// One reason for a deny.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionError<'p> {
    /// Stable code.
    pub code: ErrorCode,
    /// A readable sentence.
    pub message: String,
    /// `file:line:col` of the rule that decided, when one did.
    pub rule: Option<Cow<'p, str>>,
    /// What would have to change for the request to be allowed, when the engine can say.
    /// Not part of the JSON decision (SPEC §3): `--explain` shows it in the trace.
    #[serde(skip)]
    pub hint: Option<String>,
}

impl DecisionError<'_> {
    /// The same error, owning its rule's location (see [`Decision::into_owned`]).
    pub fn into_owned(self) -> DecisionError<'static> {
        DecisionError {
            code: self.code,
            message: self.message,
            rule: self.rule.map(owned),
            hint: self.hint,
        }
    }
}

/// Something worth knowing that did not change the outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Stable code.
    pub code: &'static str,
    /// A readable sentence.
    pub message: String,
}

/// One step of an explained evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceStep {
    /// `file:line:col` of the rule consulted, when there is one.
    pub rule: Option<String>,
    /// What was consulted.
    pub step: String,
    /// What it concluded.
    pub outcome: String,
}

/// The stable error codes of SPEC §1–§3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The user may not access an org (or it does not exist: the same answer).
    OrgAccessDenied,
    /// No source gave a create its org.
    OrgLabelRequired,
    /// The explicit label differs from the inherited org.
    OrgLabelConflict,
    /// The parent the create names is not visible to the request.
    ParentNotFound,
    /// The create lacks its required parent reference.
    ParentRequired,
    /// An org header was sent while Multi-Org is off.
    MultiOrgDisabled,
    /// The object is not visible to the request.
    NotFound,
    /// An org-scoped endpoint got no org ID.
    OrgIdMissing,
    /// The org ID was sent in several places with the same value.
    OrgIdAmbiguous,
    /// The org ID was sent in several places with different values.
    OrgIdConflict,
    /// The org ID was sent in one place, but not the declared one.
    OrgIdWrongLocation,
    /// An org ID header was sent to an endpoint that is not org-scoped.
    OrgIdHeaderForbidden,
    /// The request description is malformed.
    InvalidRequest,
    /// No route matches and the policy has no default.
    NoRoute,
    /// A trusted store could not answer (down, slow or failing): nothing is allowed.
    StoreUnavailable,
}

impl ErrorCode {
    /// The HTTP status for this code.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::OrgAccessDenied => 403,
            ErrorCode::NotFound | ErrorCode::ParentNotFound | ErrorCode::NoRoute => 404,
            ErrorCode::StoreUnavailable => 503,
            _ => 400,
        }
    }

    /// The code as it appears in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::OrgAccessDenied => "org_access_denied",
            ErrorCode::OrgLabelRequired => "org_label_required",
            ErrorCode::OrgLabelConflict => "org_label_conflict",
            ErrorCode::ParentNotFound => "parent_not_found",
            ErrorCode::ParentRequired => "parent_required",
            ErrorCode::MultiOrgDisabled => "multi_org_disabled",
            ErrorCode::NotFound => "not_found",
            ErrorCode::OrgIdMissing => "org_id_missing",
            ErrorCode::OrgIdAmbiguous => "org_id_ambiguous",
            ErrorCode::OrgIdConflict => "org_id_conflict",
            ErrorCode::OrgIdWrongLocation => "org_id_wrong_location",
            ErrorCode::OrgIdHeaderForbidden => "org_id_header_forbidden",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::NoRoute => "no_route",
            ErrorCode::StoreUnavailable => "store_unavailable",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A JSON string, copied whole when nothing in it needs escaping (what serde_json escapes:
/// control characters, `"` and `\\`).
fn json_str(out: &mut Vec<u8>, s: &str) {
    if is_plain(s.as_bytes()) {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing a `str` into a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// A JSON string of one of the crate's own keywords (an action, an error code, a label's
/// source): ASCII letters and underscores, copied whole without a look for what to escape.
fn json_keyword(out: &mut Vec<u8>, keyword: &'static str) {
    debug_assert!(is_plain(keyword.as_bytes()));
    out.push(b'"');
    out.extend_from_slice(keyword.as_bytes());
    out.push(b'"');
}

/// A JSON array of `items`, each written by `item`.
fn json_list<I: IntoIterator>(out: &mut Vec<u8>, items: I, item: impl Fn(&mut Vec<u8>, I::Item)) {
    out.push(b'[');
    for (i, x) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        item(out, x);
    }
    out.push(b']');
}

fn json_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => json_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

fn json_u16(out: &mut Vec<u8>, n: u16) {
    let mut digits = [0u8; 5];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(i..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn both(d: &Decision) {
        let mut fast = Vec::new();
        d.write_json(&mut fast).unwrap();
        assert_eq!(
            String::from_utf8(fast).unwrap(),
            serde_json::to_string(d).unwrap()
        );
    }

    #[test]
    fn compact_writer_matches_serde_json() {
        let mut d =
            Decision::invalid_request(Some(json!({"a": [1, "x\"y"]})), "bad \n \"line\"".into());
        both(&d);
        d.id = None;
        d.decision = Effect::Allow;
        d.status = 200;
        d.action = Some(Action::Create);
        d.object = Some("invoice\tline".into());
        d.rule = Some("p\\q.policy:1:2".into());
        d.visible_orgs = Some(vec![Cow::from("Asia"), "\"quoted\" \u{7f}\u{1}é".into()].into());
        d.include_unlabeled = true;
        let sources = [
            LabelSource::Explicit,
            LabelSource::Inherited,
            LabelSource::WorkingOrg,
            LabelSource::DefaultOrg,
            LabelSource::SingleOrg,
            LabelSource::Shared,
            LabelSource::None,
        ];
        d.labels = sources
            .iter()
            .enumerate()
            .map(|(i, &source)| Label {
                org: (i % 3 != 2).then(|| ["Asia", "a\"b\\c\u{1f}"][i % 2].into()),
                source,
                from: (i % 2 == 1).then(|| format!("account \"A-{i}\"")),
            })
            .collect();
        d.errors = vec![
            DecisionError {
                code: ErrorCode::OrgAccessDenied,
                message: "no access to `\"x\"`\n".into(),
                rule: Some("p.policy:3:1".into()),
                hint: Some("not written".into()),
            },
            DecisionError {
                code: ErrorCode::StoreUnavailable,
                message: String::new(),
                rule: None,
                hint: None,
            },
        ];
        d.warnings = vec![
            Warning {
                code: "ignored",
                message: "x".into(),
            },
            Warning {
                code: "org_header_misspelled",
                message: "header `a\tb`".into(),
            },
        ];
        both(&d);
        // Kept as the bits of a directory, as evaluation makes them: written alike.
        let names: Vec<std::sync::Arc<str>> = ["Asia", "a\"b\\c\u{1f}", "China"]
            .into_iter()
            .map(Into::into)
            .collect();
        d.visible_orgs = Some(VisibleOrgs::bits(0b111, &names));
        both(&d);
        d.visible_orgs = Some(VisibleOrgs::bits(0, &names));
        both(&d);
        d.visible_orgs = Some(Vec::new().into());
        d.trace = Some(vec![TraceStep {
            rule: None,
            step: "route".into(),
            outcome: "ok".into(),
        }]);
        for status in [0, 7, 42, 200, 404, 65535] {
            d.status = status;
            both(&d);
        }
    }
}

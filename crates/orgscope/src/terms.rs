//! Shared vocabulary: the organization-ID guideline's terms (SPEC §1.2) and type-name keys.
//! Public (unstable) with the `unstable-syntax` feature, for tools that apply the guideline
//! elsewhere (the OpenAPI linter).

/// The one name for a single org ID (path parameter, query parameter, JSON field).
pub const ORG_ID: &str = "organizationId";
/// The name for a list of org IDs.
pub const ORG_IDS: &str = "organizationIds";
/// The only header name a legacy service may carry the org ID in.
pub const ORG_ID_HEADER: &str = "Organization-ID";

/// Deprecated terms for the org concept, compared after [`normalize`].
const DEPRECATED: [&str; 18] = [
    "tenant",
    "tenants",
    "tenantname",
    "tenantid",
    "tenantids",
    "app",
    "apps",
    "appname",
    "appid",
    "appids",
    "xtenant",
    "xtenantid",
    "xtenantname",
    "xtenantids",
    "xapp",
    "xappid",
    "xappname",
    "xappids",
];

/// Lower case without `-` and `_`, so `X-Tenant-Id`, `tenant_id` and `tenantId` compare equal.
fn normalize(name: &str) -> impl Iterator<Item = char> + '_ {
    name.chars()
        .filter(|c| *c != '-' && *c != '_')
        .map(|c| c.to_ascii_lowercase())
}

/// Whether `name` is a deprecated term for the org concept (`tenantId`, `X-Tenant`, `appName`…).
// Compared without building the normalized name: the checker asks this of every field key and
// path segment, and most differ from every term at their first character.
pub fn is_deprecated(name: &str) -> bool {
    DEPRECATED.iter().any(|d| normalize(name).eq(d.chars()))
}

/// Whether `name` is the guideline's name for org IDs (`organizationId` or `organizationIds`).
pub fn is_org_id_name(name: &str) -> bool {
    name == ORG_ID || name == ORG_IDS
}

/// Lower case without `_` and `-`: how requests name object types (by name or alias), so how
/// declared names and aliases must differ.
pub fn type_key(name: &str) -> String {
    type_key_chars(name).collect()
}

/// The characters of [`type_key`], for comparing and hashing keys without building them.
pub(crate) fn type_key_chars(name: &str) -> impl Iterator<Item = char> + '_ {
    name.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
}

/// How a name spells the org ID, when it does: the engine counts both at request time, and
/// `orgscope lint openapi` classifies parameters and fields with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spelling {
    /// `organizationId(s)` or `Organization-ID` in any case, with or without `-`, `_` or an
    /// `X-` prefix.
    Variant,
    /// A deprecated term for the org concept (`tenantId`, `X-Tenant`, `appId`…).
    Alias,
}

/// Whether `name` spells the org ID: a variant of the guideline's names, a deprecated alias,
/// or neither (`None`).
pub fn spelling(name: &str) -> Option<Spelling> {
    // Compared without allocating: this runs for every query parameter, body field and header.
    let mut key = name
        .bytes()
        .filter(|b| *b != b'-' && *b != b'_')
        .map(|b| b.to_ascii_lowercase())
        .peekable();
    if key.peek() == Some(&b'x') {
        key.next();
    }
    let mut expected = b"organizationids".iter();
    let mut len = 0;
    let org_id = key.all(|b| {
        len += 1;
        expected.next() == Some(&b)
    }) && len >= "organizationid".len();
    if org_id {
        Some(Spelling::Variant)
    } else if is_deprecated(name) {
        Some(Spelling::Alias)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deprecated_terms_match_in_any_spelling() {
        for t in [
            "tenantId",
            "X-Tenant",
            "tenant_name",
            "APP",
            "X-App-Id",
            "appIds",
        ] {
            assert!(is_deprecated(t), "{t}");
        }
        for t in [
            "organizationId",
            "Organization-ID",
            "application",
            "tenancy",
        ] {
            assert!(!is_deprecated(t), "{t}");
        }
    }
}

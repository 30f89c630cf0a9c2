//! Shared vocabulary: the organization-ID guideline's terms (SPEC §1.2) and type-name keys.

/// The one name for a single org ID (path parameter, query parameter, JSON field).
pub(crate) const ORG_ID: &str = "organizationId";
/// The name for a list of org IDs.
pub(crate) const ORG_IDS: &str = "organizationIds";
/// The only header name a legacy service may carry the org ID in.
pub(crate) const ORG_ID_HEADER: &str = "Organization-ID";

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
fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '-' && *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Whether `name` is a deprecated term for the org concept (`tenantId`, `X-Tenant`, `appName`…).
pub(crate) fn is_deprecated(name: &str) -> bool {
    let n = normalize(name);
    DEPRECATED.contains(&n.as_str())
}

/// Whether `name` is the guideline's name for org IDs (`organizationId` or `organizationIds`).
pub(crate) fn is_org_id_name(name: &str) -> bool {
    name == ORG_ID || name == ORG_IDS
}

/// Lower case without `_` and `-`: how requests name object types (by name or alias), so how
/// declared names and aliases must differ.
pub(crate) fn type_key(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
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

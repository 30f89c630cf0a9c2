//! Policies generated for the engine's tests.

/// A policy of issue 13's shape at `types` object types: a tenth as many orgs, as many routes
/// as types (a create and a read for every other type), each type labeled and inheriting.
pub fn many_types(types: usize) -> String {
    let mut p = String::from("multi_org {\n  default enabled\n}\n\norgs {\n");
    for i in 0..types / 10 {
        p.push_str(&format!("  org o{i:05}\n"));
    }
    p.push_str("}\n\nheader X-Org {\n  role visibility\n  list\n  subset_of user.orgs\n}\n\n");
    p.push_str("object account {\n  label body.organizationLabel\n}\n");
    for i in 0..types {
        p.push_str(&format!(
            "object t{i} {{\n  label body.organizationLabel\n  inherit account via body.accountId\n}}\n"
        ));
    }
    for i in 0..types / 2 {
        p.push_str(&format!("route POST /v1/t{i} -> create t{i}\n"));
        p.push_str(&format!(
            "route GET /v1/t{i}/{{t{i}Id}} -> read t{i} id path.t{i}Id\n"
        ));
    }
    p
}

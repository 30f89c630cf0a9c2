//! Tokens and one-line constructs in their canonical spelling.

use crate::syntax::ast::*;

/// Whether `s` is an identifier that is not a reserved word.
pub(super) fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !crate::syntax::is_reserved(s)
}

/// Whether `s` can be written as a bare header name.
pub(super) fn is_bare_header(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A quoted, escaped string literal.
pub(super) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An org name: bare when it is an identifier, quoted otherwise.
pub(super) fn name(s: &str) -> String {
    if is_ident(s) {
        s.to_string()
    } else {
        quote(s)
    }
}

/// A header name: bare when the grammar allows, quoted otherwise.
pub(super) fn header_name(s: &str) -> String {
    if is_bare_header(s) {
        s.to_string()
    } else {
        quote(s)
    }
}

pub(super) fn multi_org_prop(p: MultiOrgProp) -> String {
    match p {
        MultiOrgProp::Default(true) => "default enabled".into(),
        MultiOrgProp::Default(false) => "default disabled".into(),
        MultiOrgProp::WhenDisabled(DisabledMode::Reject) => "when_disabled reject".into(),
        MultiOrgProp::WhenDisabled(DisabledMode::Ignore) => "when_disabled ignore".into(),
        MultiOrgProp::LookalikeHeaders(DisabledMode::Reject) => "lookalike_headers reject".into(),
        MultiOrgProp::LookalikeHeaders(DisabledMode::Ignore) => "lookalike_headers ignore".into(),
    }
}

pub(super) fn org_decl(org: &OrgDecl) -> String {
    let mut s = format!("org {}", name(&org.name.node));
    for p in &org.props {
        match &p.node {
            OrgProp::Id(id) => {
                s.push_str(" id ");
                s.push_str(&quote(id));
            }
            OrgProp::Parent(parent) => {
                s.push_str(" parent ");
                s.push_str(&name(&parent.node));
            }
        }
    }
    s
}

pub(super) fn header_prop(p: HeaderProp) -> String {
    match p {
        HeaderProp::Role(r) => format!("role {}", r.keyword()),
        HeaderProp::List => "list".into(),
        HeaderProp::Single => "single".into(),
        HeaderProp::SubsetOfUserOrgs => "subset_of user.orgs".into(),
        HeaderProp::MemberOfUserOrgs => "member_of user.orgs".into(),
        HeaderProp::MaxItems(n) => format!("max_items {n}"),
        HeaderProp::MaxLength(n) => format!("max_length {n}"),
    }
}

pub(super) fn object_prop(p: &ObjectProp) -> String {
    match p {
        ObjectProp::Label(f) => format!("label {f}"),
        ObjectProp::Inherit(i) => {
            let optional = if i.optional { " optional" } else { "" };
            format!("inherit {} via {}{optional}", i.parent.node, i.via)
        }
        ObjectProp::Shared => "shared".into(),
        ObjectProp::Fallback(list) => format!("fallback {}", fallback_list(list)),
        ObjectProp::Alias(names) => {
            let names: Vec<String> = names.iter().map(|n| quote(&n.node)).collect();
            format!("alias {}", names.join(", "))
        }
    }
}

pub(super) fn fallback_list(list: &[Spanned<FallbackSource>]) -> String {
    let words: Vec<&str> = list.iter().map(|s| s.node.keyword()).collect();
    words.join(", ")
}

pub(super) fn methods(list: &[Spanned<Method>]) -> String {
    let words: Vec<&str> = list.iter().map(|m| m.node.as_str()).collect();
    words.join("|")
}

pub(super) fn target(t: &Target) -> String {
    let mut s = t.action.node.keyword().to_string();
    match t.object.as_ref().map(|o| &o.node) {
        Some(ObjectRef::Named(n)) => {
            s.push(' ');
            s.push_str(n);
        }
        Some(ObjectRef::FromField(f)) => {
            s.push_str(" type ");
            s.push_str(&f.to_string());
        }
        None => {}
    }
    for o in &t.opts {
        match &o.node {
            TargetOpt::Id(f) => s.push_str(&format!(" id {f}")),
            TargetOpt::Objects(f) => s.push_str(&format!(" objects {f}")),
        }
    }
    s
}

pub(super) fn endpoint_prop(p: &EndpointProp) -> String {
    match p {
        EndpointProp::OrgId { location, name } => format!(
            "org_id {} {}",
            location.node.keyword(),
            header_name(&name.node)
        ),
        EndpointProp::Unscoped => "unscoped".into(),
        EndpointProp::Justification(j) => format!("justification {}", quote(j)),
    }
}

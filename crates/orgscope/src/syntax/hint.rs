//! The words of syntax errors: what was expected, and the help (what the author most likely
//! meant, from what was expected and found).

use crate::check::suggest::edit_distance;
use crate::syntax::grammar::Rule;

/// The five actions, in the order the language reference lists them.
const ACTIONS: [&str; 5] = ["query", "create", "read", "update", "delete"];
/// The fallback sources.
const FALLBACK_SOURCES: [&str; 4] = ["working_org", "default_org", "single_org", "unlabeled"];
/// The HTTP methods the grammar accepts.
const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// The help for a syntax error: `expected` are the rules the parser tried, `rest` the text from
/// the error on. `None` when nothing better than the message can be said.
pub(crate) fn help(expected: &[Rule], rest: &str) -> Option<String> {
    if rest.starts_with(';') {
        return Some(
            "orgscope has no semicolons: remove it (a statement ends where the next begins)"
                .to_string(),
        );
    }
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect();
    if word.is_empty() {
        return None;
    }
    let wants = |rules: &[Rule]| expected.iter().any(|r| rules.contains(r));
    if wants(&[Rule::string]) && !wants(&[Rule::ident]) {
        let token: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '{' | '}' | '"' | '#'))
            .take(64)
            .collect();
        return Some(format!("quote it: `\"{token}\"`"));
    }
    if wants(&[Rule::method, Rule::methods]) {
        let upper = word.to_ascii_uppercase();
        if METHODS.contains(&upper.as_str()) {
            return Some(format!("methods are upper case: `{upper}`"));
        }
    }
    if wants(&[Rule::arrow]) && ACTIONS.contains(&word.as_str()) {
        return Some(format!("add `->` before the action: `-> {word}`"));
    }
    let candidates = candidates(expected);
    if candidates.contains(&word.as_str()) {
        return None;
    }
    if wants(&[Rule::action]) {
        let list = ACTIONS.map(|a| format!("`{a}`")).join(", ");
        return Some(match likely_action(&word) {
            Some(action) => format!("did you mean `{action}`? the actions are {list}"),
            None => format!("the actions are {list}"),
        });
    }
    closest(&word, &candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The words that would have been accepted, from the rules the parser tried. Where it tried
/// none it names (an unknown word where an item starts), the top-level keywords.
fn candidates(expected: &[Rule]) -> Vec<&'static str> {
    if expected.iter().all(|r| keyword(*r).is_none())
        && !expected.iter().any(|r| {
            matches!(
                r,
                Rule::fallback_list | Rule::fallback_source | Rule::action | Rule::location
            )
        })
    {
        return super::parse::ITEM_KEYWORDS.to_vec();
    }
    let mut words = Vec::new();
    for rule in expected {
        match rule {
            Rule::fallback_list | Rule::fallback_source => words.extend(FALLBACK_SOURCES),
            Rule::action => words.extend(ACTIONS),
            Rule::location => words.extend(["path", "query", "body", "header"]),
            _ => words.extend(keyword(*rule)),
        }
    }
    words
}

/// The keyword a rule matches, for keyword rules and top-level items.
fn keyword(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::kw_multi_org | Rule::multi_org => "multi_org",
        Rule::kw_orgs | Rule::orgs => "orgs",
        Rule::kw_org | Rule::org => "org",
        Rule::kw_header | Rule::header => "header",
        Rule::kw_object | Rule::object => "object",
        Rule::kw_fallback | Rule::fallback => "fallback",
        Rule::kw_route | Rule::route => "route",
        Rule::kw_default | Rule::default_route => "default",
        Rule::kw_service | Rule::service => "service",
        Rule::kw_endpoint | Rule::endpoint => "endpoint",
        Rule::kw_legacy => "legacy",
        Rule::kw_enabled => "enabled",
        Rule::kw_disabled => "disabled",
        Rule::kw_when_disabled => "when_disabled",
        Rule::kw_lookalike_headers => "lookalike_headers",
        Rule::kw_reject => "reject",
        Rule::kw_ignore => "ignore",
        Rule::kw_descendant_access => "descendant_access",
        Rule::kw_on => "on",
        Rule::kw_off => "off",
        Rule::kw_id => "id",
        Rule::kw_parent => "parent",
        Rule::kw_role => "role",
        Rule::kw_visibility => "visibility",
        Rule::kw_working_org => "working_org",
        Rule::kw_org_id => "org_id",
        Rule::kw_list => "list",
        Rule::kw_single => "single",
        Rule::kw_subset_of => "subset_of",
        Rule::kw_member_of => "member_of",
        Rule::kw_max_items => "max_items",
        Rule::kw_max_length => "max_length",
        Rule::kw_label => "label",
        Rule::kw_inherit => "inherit",
        Rule::kw_via => "via",
        Rule::kw_optional => "optional",
        Rule::kw_shared => "shared",
        Rule::kw_alias => "alias",
        Rule::kw_default_org => "default_org",
        Rule::kw_single_org => "single_org",
        Rule::kw_unlabeled => "unlabeled",
        Rule::kw_type => "type",
        Rule::kw_objects => "objects",
        Rule::kw_unscoped => "unscoped",
        Rule::kw_justification => "justification",
        _ => return None,
    })
}

/// The candidate closest to `word`, if close enough to be a typo (a third of its length).
fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The action a word from another vocabulary (REST verbs, CRUD synonyms, typos) most likely means.
fn likely_action(word: &str) -> Option<&'static str> {
    let word = word.to_ascii_lowercase();
    let by_meaning = match word.as_str() {
        "get" | "fetch" | "show" | "view" => Some("read"),
        "list" | "search" | "find" | "index" | "select" => Some("query"),
        "post" | "add" | "new" | "insert" | "make" => Some("create"),
        "put" | "patch" | "edit" | "modify" | "set" | "change" => Some("update"),
        "remove" | "del" | "destroy" | "erase" => Some("delete"),
        _ => None,
    };
    by_meaning.or_else(|| closest(&word, &ACTIONS))
}

/// Names a grammar rule in words for "expected ..." messages.
pub(super) fn rule_words(rule: Rule) -> Option<String> {
    let name = format!("{rule:?}");
    if let Some(kw) = name.strip_prefix("kw_") {
        return Some(format!("`{kw}`"));
    }
    let words = match rule {
        Rule::EOI => "end of file",
        Rule::ident | Rule::object_name => "a name",
        Rule::string | Rule::string_body => "a string",
        Rule::number => "a number",
        Rule::method | Rule::methods => "an HTTP method",
        Rule::path_template | Rule::path_literal | Rule::path_param | Rule::param_name => "a path",
        Rule::field | Rule::field_root | Rule::field_seg => "a field such as `body.accountId`",
        Rule::header_name | Rule::bare_header => "a header name",
        Rule::multi_org => "`multi_org`",
        Rule::orgs => "`orgs`",
        Rule::org => "`org`",
        Rule::header => "`header`",
        Rule::object => "`object`",
        Rule::fallback => "`fallback`",
        Rule::route => "`route`",
        Rule::default_route => "`default`",
        Rule::service => "`service`",
        Rule::endpoint => "`endpoint`",
        Rule::fallback_list | Rule::fallback_source => "a fallback source",
        Rule::action => "an action",
        Rule::location => "a location",
        Rule::arrow => "`->`",
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::comma => "`,`",
        _ => return None,
    };
    Some(words.to_string())
}

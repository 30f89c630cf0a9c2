//! Mapping files: validated against the policy, each error with a stable code and a position.

mod common;

use common::*;
use orgscope::diag::Style;
use orgscope_sql::Mapping;

fn errors(text: &str) -> (Vec<&'static str>, String) {
    let policy = policy();
    let e = Mapping::from_source("m.sql.toml", text, &policy).unwrap_err();
    (e.codes(), e.render(Style::default()))
}

#[test]
fn the_shipped_mapping_loads_and_resolves_aliases() {
    let policy = policy();
    let m = mapping(&policy);
    let t = m.object(&policy, "ACCOUNT").unwrap();
    assert_eq!(
        (t.object.as_str(), t.table.quoted()),
        ("account", "\"account\"".into())
    );
    assert!(m.object(&policy, "custom_object").is_none());
}

#[test]
fn unknown_types_are_errors_with_their_position() {
    let (codes, text) = errors("[objects.acount]\ntable = \"a\"\norg_column = \"o\"\n");
    assert_eq!(codes, ["unknown_type"]);
    assert!(
        text.contains("error[unknown_type]: the policy declares no object type `acount`"),
        "{text}"
    );
    assert!(text.contains("m.sql.toml:1:10"), "{text}");
}

#[test]
fn duplicate_tables_and_types_are_errors() {
    let text = "[objects.account]\ntable = \"t\"\norg_column = \"o\"\n\
                [objects.invoice]\ntable = \"billing.t\"\norg_column = \"o\"\n\
                [objects.Account]\ntable = \"u\"\norg_column = \"o\"\n\
                [query]\nunscoped_tables = [\"u2\", \"u2\"]\n";
    let (codes, rendered) = errors(text);
    assert_eq!(
        codes,
        ["duplicate_table", "duplicate_type", "duplicate_table"],
        "{rendered}"
    );
    assert!(
        rendered.contains("table `billing.t` is mapped twice"),
        "{rendered}"
    );
    assert!(rendered.contains("m.sql.toml:5:9"), "{rendered}");
}

#[test]
fn bad_identifiers_are_errors() {
    let text =
        "[objects.account]\ntable = \"Account\"\norg_column = \"org label\"\nid_column = \"x;\"\n\
                [objects.invoice]\ntable = \"a.b.c\"\norg_column = \"o\"\n";
    let (codes, rendered) = errors(text);
    assert_eq!(codes, ["bad_identifier"; 4], "{rendered}");
    assert!(
        rendered.contains("`org label` is not a valid column name"),
        "{rendered}"
    );
    assert!(rendered.contains("m.sql.toml:6:9"), "{rendered}");
}

#[test]
fn functions_that_read_outside_the_query_cannot_be_allowed() {
    let text = "[query]\nfunctions = [\"my_fn\", \"pg_read_file\", \"dblink_exec\", \"LO_IMPORT\", \"public.query_to_xml\"]\n";
    let (codes, rendered) = errors(text);
    assert_eq!(codes, ["dangerous_function"; 4], "{rendered}");
    assert!(rendered.contains("`pg_read_file` reads outside the query and cannot be allowed"));
}

#[test]
fn toml_errors_and_unknown_keys_have_positions() {
    let (codes, rendered) = errors("[objects.account]\ntable = \n");
    assert_eq!(codes, ["invalid_mapping"]);
    assert!(rendered.contains("m.sql.toml:2:"), "{rendered}");
    let (codes, rendered) =
        errors("[objects.account]\ntable = \"a\"\norg_column = \"o\"\norg = 1\n");
    assert_eq!(codes, ["invalid_mapping"]);
    assert!(rendered.contains("unknown field `org`"), "{rendered}");
    assert!(rendered.contains("m.sql.toml:4:1"), "{rendered}");
}

#[test]
fn unknown_types_suggest_the_closest_declared_name_or_alias() {
    let (_, text) = errors("[objects.acount]\ntable = \"a\"\norg_column = \"o\"\n");
    assert!(text.contains("= help: did you mean `account`?"), "{text}");
    let (_, text) = errors("[objects.zebra]\ntable = \"a\"\norg_column = \"o\"\n");
    assert!(!text.contains("did you mean"), "{text}");
    assert!(text.contains("= help: map the types"), "{text}");
}

#[test]
fn shared_types_are_refused_in_objects() {
    let (codes, text) = errors("[objects.custom_object]\ntable = \"c\"\norg_column = \"o\"\n");
    assert_eq!(codes, ["shared_type"], "{text}");
    assert!(text.contains("`query.unscoped_tables`"), "{text}");
}

#[test]
fn labeled_types_left_unmapped_are_warnings_that_do_not_stop_loading() {
    let policy = policy();
    let text = "[objects.account]\ntable = \"account\"\norg_column = \"org_label\"\n";
    let diagnostics = Mapping::check_source(text, &policy);
    let unmapped: Vec<_> = diagnostics
        .iter()
        .map(|d| (d.code, d.is_error(), d.span.line))
        .collect();
    assert_eq!(unmapped.len(), 8, "{diagnostics:?}");
    assert!(unmapped.iter().all(|u| *u == ("unmapped_type", false, 1)));
    assert!(
        diagnostics
            .iter()
            .any(|d| d.message
                == "object type `invoice_item` is labeled by the policy but not mapped")
    );
    assert!(!diagnostics
        .iter()
        .any(|d| d.message.contains("custom_object")));
    assert!(Mapping::from_source("m.sql.toml", text, &policy).is_ok());
    let shipped = std::fs::read_to_string(format!("{ROOT}/policies/zuora-multi-org.sql.toml"));
    let shipped = Mapping::check_source(&shipped.unwrap(), &policy);
    assert!(shipped.is_empty(), "{shipped:?}");
}

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
    assert!(m.object(&policy, "invoice_item").is_none());
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

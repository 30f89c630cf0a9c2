//! No input panics the loader, the linter, the import or the drift report: arbitrary text, and
//! OpenAPI-shaped documents with arbitrary names, locations and `$ref`s (cycles included).

use orgscope::diag::Source;
use orgscope_openapi::{drift, import, lint, Config, Document};
use proptest::prelude::*;

/// Loads, lints, imports and compares `text`; the number of operations, when it loads.
fn run(text: String) -> Option<usize> {
    let config = Config {
        aliases: vec!["org".into()],
        ..Config::default()
    };
    let doc = Document::load("p.yaml", text, &config).ok()?;
    let linted = lint(&doc, &config);
    let _ = import(&linted, &doc);
    let policy = Source::new(
        "p.policy",
        "service s {\n  endpoint GET /a/{b} { unscoped }\n}\n",
    );
    let _ = drift(&linted, &doc, &policy);
    Some(linted.operations.len())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text(text in "\\PC{0,300}") {
        let _ = run(text);
    }

    #[test]
    fn openapi_shaped(
        params in prop::collection::vec(
            ("[a-zA-Z_{}/#~%:é-]{0,14}", prop::sample::select(vec!["path", "query", "header", "cookie", "x"])),
            0..6,
        ),
        path in "(/[a-z{}:é_-]{0,8}){0,4}",
        target in "#(/[a-zA-Z~0-9%]{0,10}){0,4}",
        flags in prop::collection::vec(prop::sample::select(vec!["true", "false", "x"]), 3),
    ) {
        let mut text = format!(
            "openapi: 3.1.0\ninfo: {{title: \"t\", version: \"1\"}}\nx-orgscope-legacy: {}\npaths:\n  \"{path}\":\n    get:\n      x-orgscope-scoped: {}\n      x-orgscope-justification: {}\n      parameters:\n",
            flags[0], flags[1], flags[2]
        );
        for (name, loc) in &params {
            text += &format!("        - {{name: \"{name}\", in: {loc}}}\n");
        }
        text += &format!("        - $ref: \"{target}\"\n");
        text += &format!("      requestBody: {{content: {{application/json: {{schema: {{$ref: \"{target}\"}}}}}}}}\n");
        text += "components:\n  schemas:\n    A: {allOf: [{$ref: '#/components/schemas/A'}], properties: {tenantId: {}}}\n";
        // The generated document is valid YAML with one operation: the linter really ran on it.
        prop_assert_eq!(run(text), Some(1));
    }
}

//! No input panics the parser or the checker, and every input gets a sensible answer: empty
//! files, binary junk, invalid UTF-8, unclosed strings, deep nesting, huge and long-lined files,
//! CRLF and tabs — plus property tests over arbitrary text and mutated shipped policies.

use orgscope::diag::{Diagnostic, Severity, Source};
use orgscope::{check_source, parse};
use proptest::prelude::*;
use std::time::{Duration, Instant};

// The fuzz targets' checks: this file uses the one for diagnostics' positions and messages.
#[allow(dead_code)]
#[path = "../../../fuzz/src/checks.rs"]
mod checks;

/// Decodes like the CLI does, then parses and checks.
fn check_bytes(bytes: Vec<u8>) -> (Source, Vec<Diagnostic>) {
    match parse::decode("t.policy", bytes) {
        Ok(src) => {
            let diags = check_source(&src).diagnostics;
            (src, diags)
        }
        Err((src, e)) => {
            use orgscope::diag::Diagnose as _;
            (src, vec![e.to_diagnostic()])
        }
    }
}

fn check_text(text: &str) -> Vec<Diagnostic> {
    check_bytes(text.as_bytes().to_vec()).1
}

fn codes(diags: &[Diagnostic]) -> Vec<&'static str> {
    diags.iter().map(|d| d.code).collect()
}

/// The codes of the errors only (a file of junk may also get the `empty_policy` warning).
fn error_codes(diags: &[Diagnostic]) -> Vec<&'static str> {
    diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code)
        .collect()
}

fn assert_sorted(diags: &[Diagnostic]) {
    for w in diags.windows(2) {
        assert!(w[0].span.start <= w[1].span.start, "unsorted: {w:?}");
    }
}

#[test]
fn shipped_policies_have_no_diagnostics() {
    for name in ["zuora-multi-org", "aep-organization-id"] {
        let path = format!("{}/policies/{name}.policy", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("read shipped policy");
        let diags = check_text(&text);
        assert!(diags.is_empty(), "{name}: {diags:#?}");
    }
}

#[test]
fn empty_and_blank_files_are_valid_but_warned_about() {
    for text in [
        "",
        "\n\n",
        "   \t\r\n",
        "# only a comment\n",
        "# no newline at the end",
    ] {
        let (src, diags) = check_bytes(text.as_bytes().to_vec());
        assert_eq!(codes(&diags), ["empty_policy"], "{text:?}");
        assert_eq!(diags[0].severity, Severity::Warning);
        checks::check_diagnostics(&src, &diags);
    }
}

#[test]
fn binary_junk_gets_diagnostics() {
    let mut junk = Vec::new();
    let mut x: u32 = 0x2545_f491;
    for _ in 0..4096 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        junk.push((x >> 24) as u8);
    }
    let (src, diags) = check_bytes(junk);
    assert_eq!(codes(&diags), ["invalid_utf8"]);
    checks::check_diagnostics(&src, &diags);

    let nuls = vec![0u8; 1000];
    let (src, diags) = check_bytes(nuls);
    assert_eq!(error_codes(&diags), ["syntax"]);
    assert!(diags[0].message.contains("U+0000"), "{}", diags[0].message);
    checks::check_diagnostics(&src, &diags);

    let text = "object a\n\u{7}\u{1b}[31m route\u{0} GET";
    let (src, diags) = check_bytes(text.as_bytes().to_vec());
    assert!(codes(&diags).contains(&"syntax"));
    checks::check_diagnostics(&src, &diags);
}

#[test]
fn invalid_utf8_points_at_the_first_bad_byte() {
    let (src, diags) = check_bytes(b"object a\nobject \xff\xfeb\n".to_vec());
    assert_eq!(codes(&diags), ["invalid_utf8"]);
    assert_eq!((diags[0].span.line, diags[0].span.col), (2, 8));
    checks::check_diagnostics(&src, &diags);

    // A truncated multi-byte sequence at the very end.
    let (src, diags) = check_bytes(b"object caf\xc3".to_vec());
    assert_eq!((diags[0].span.line, diags[0].span.col), (1, 11));
    checks::check_diagnostics(&src, &diags);
}

#[test]
fn unclosed_strings_are_reported_where_they_open() {
    for (text, line, col) in [
        ("orgs { org \"Asia }\n", 1, 12),
        ("object a { alias \"A\", \"B\n}\n", 1, 23),
        (
            "legacy service s {\n  endpoint GET /x { org_id header \"Organization-ID }\n}",
            2,
            35,
        ),
        ("orgs { org \"", 1, 12),
    ] {
        let (src, diags) = check_bytes(text.as_bytes().to_vec());
        let first = diags
            .iter()
            .find(|d| d.code == "syntax")
            .expect("a syntax error");
        assert_eq!(
            (first.span.line, first.span.col),
            (line, col),
            "{text:?}: {diags:#?}"
        );
        assert!(
            first.message.contains("unclosed string"),
            "{}",
            first.message
        );
        checks::check_diagnostics(&src, &diags);
    }
}

#[test]
fn deeply_nested_braces_do_not_overflow_the_stack() {
    for text in [
        "{".repeat(100_000),
        format!("object a {}", "{".repeat(100_000)),
        format!("orgs {}{}", "{".repeat(50_000), "}".repeat(50_000)),
        format!("route GET /{} -> query", "{a}/".repeat(20_000)),
        "}".repeat(100_000),
        "\"".repeat(100_000),
    ] {
        let (src, diags) = check_bytes(text.into_bytes());
        assert!(diags.iter().any(|d| d.is_error()), "{diags:#?}");
        checks::check_diagnostics(&src, &diags);
    }
}

/// A valid policy of about `bytes` bytes: thousands of object types, routes and endpoints.
fn big_policy(bytes: usize) -> String {
    let mut text = String::from(
        "multi_org { default enabled }\n\
         header Zuora-Org-Ids { role visibility list subset_of user.orgs }\n\
         header Zuora-Working-Org { role working_org single member_of user.orgs }\n\
         fallback working_org, default_org, single_org\n\
         orgs {\n",
    );
    for i in 0..1000 {
        text += &format!("  org Org{i} id \"id-{i}\" parent Org{}\n", i / 2 + 1000);
    }
    for i in 1000..1500 {
        text += &format!("  org Org{i}\n");
    }
    text += "}\n";
    let mut i = 0;
    while text.len() < bytes {
        let parent = if i == 0 {
            String::new()
        } else {
            format!(" inherit type{} via body.parentId", i / 2)
        };
        text += &format!(
            "# Type {i}.\nobject type{i} {{ alias \"Alias{i}\" label body.organizationLabel{parent} }}\n\
             route GET /v1/type{i} -> query type{i}\n\
             route POST /v1/type{i} -> create type{i}\n\
             route GET|PUT /v1/type{i}/{{id}} -> read type{i} id path.id\n\
             service svc{i} {{\n  endpoint GET /v2/organizations/{{organizationId}}/type{i} {{ org_id path organizationId }}\n}}\n"
        );
        i += 1;
    }
    text
}

#[test]
fn a_10_mb_valid_policy_checks_clean_in_reasonable_time() {
    let text = big_policy(10 * 1024 * 1024);
    let started = Instant::now();
    let diags = check_text(&text);
    let took = started.elapsed();
    assert!(diags.is_empty(), "{:#?}", &diags[..diags.len().min(5)]);
    // Generous for a debug build on a slow machine; quadratic behaviour would take hours.
    assert!(took < Duration::from_secs(120), "took {took:?}");
}

#[test]
fn a_10_mb_policy_with_errors_reports_them_all_quickly() {
    // Every route duplicates another and names an unknown type: many diagnostics, still linear.
    let mut text = String::new();
    let mut i = 0;
    while text.len() < 10 * 1024 * 1024 {
        text += &format!("route GET /v1/{{a}}/x{i} -> query nope{i}\nroute GET /v1/{{b}}/x{i} -> query nope{i}\n");
        i += 1;
    }
    let started = Instant::now();
    let (src, diags) = check_bytes(text.into_bytes());
    assert!(started.elapsed() < Duration::from_secs(120));
    assert!(diags.iter().filter(|d| d.code == "duplicate_route").count() == i);
    assert!(
        diags
            .iter()
            .filter(|d| d.code == "unknown_object_type")
            .count()
            == 2 * i
    );
    assert_sorted(&diags);
    checks::check_diagnostics(&src, &diags[..100]);
}

#[test]
fn ten_mb_of_junk_gets_diagnostics() {
    // Text junk made of keywords and punctuation, so the parser resumes many times.
    let words = [
        "object", "{", "route", "->", "GET", "\"", "}", "orgs", "x", "\n", "/", "default",
    ];
    let mut text = String::with_capacity(10 * 1024 * 1024);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while text.len() < 10 * 1024 * 1024 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let word = words[(x % words.len() as u64) as usize];
        text += word;
        if word != "\n" {
            text.push(' ');
        }
    }
    let started = Instant::now();
    let (src, diags) = check_bytes(text.into_bytes());
    assert!(started.elapsed() < Duration::from_secs(120));
    assert!(
        diags.iter().any(|d| d.code == "too_many_errors"),
        "{}",
        diags.len()
    );
    checks::check_diagnostics(&src, &diags);

    // Bytes junk: one diagnostic.
    let mut bytes = Vec::with_capacity(10 * 1024 * 1024);
    while bytes.len() < 10 * 1024 * 1024 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    let (src, diags) = check_bytes(bytes);
    assert_eq!(codes(&diags), ["invalid_utf8"]);
    checks::check_diagnostics(&src, &diags);
}

#[test]
fn large_files_parse_the_same_whatever_the_layout() {
    // Blocks whose inner lines start in column 1 with item keywords (`fallback`, `default`):
    // resume points inside items, where a parse must not be cut.
    // (The header gives `fallback working_org` its source.)
    let mut text = String::from("header W { role working_org single member_of user.orgs }\n");
    let mut n = 0;
    while text.len() < 3 * 1024 * 1024 {
        text += &format!("object t{n} {{\nfallback working_org,\nunlabeled\n}}\n");
        n += 1;
    }
    let checked = check_source(&Source::new("t.policy", text));
    assert!(
        checked.diagnostics.is_empty(),
        "{:#?}",
        &checked.diagnostics[..1]
    );
    assert_eq!(checked.policy.items.len(), n + 1);

    // Syntax errors far apart in a large file: each is found, and every good item is kept.
    let mut text = String::new();
    let mut broken_lines = Vec::new();
    let mut good = 0;
    let mut line = 1;
    for i in 0..60_000 {
        if i % 10_000 == 5_000 {
            text += &format!("object b{i} {{ colour blue }}\n");
            broken_lines.push(line);
        } else {
            text += &format!("object t{i} {{\n  alias \"T{i}\"\n}}\n");
            good += 1;
            line += 2;
        }
        line += 1;
    }
    let (src, diags) = check_bytes(text.clone().into_bytes());
    let lines: Vec<u32> = diags.iter().map(|d| d.span.line).collect();
    assert_eq!(error_codes(&diags), vec!["syntax"; broken_lines.len()]);
    assert_eq!(lines, broken_lines);
    checks::check_diagnostics(&src, &diags);
    assert_eq!(
        check_source(&Source::new("t.policy", text))
            .policy
            .items
            .len(),
        good
    );
}

#[test]
fn very_long_lines_keep_exact_columns() {
    // One line, 2 MB: a valid policy with every item on it, then an error at its end.
    let mut text = String::new();
    let mut i = 0;
    while text.len() < 2 * 1024 * 1024 {
        text += &format!("object t{i} {{ alias \"Ä{i}\" }} route GET /t{i} -> query t{i} ");
        i += 1;
    }
    let col = text.chars().count() as u32 + 1;
    text += "route GET /x -> query missing";
    let started = Instant::now();
    let (src, diags) = check_bytes(text.into_bytes());
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_eq!(codes(&diags), ["unknown_object_type"]);
    assert_eq!(diags[0].span.line, 1);
    assert_eq!(
        diags[0].span.col,
        col + "route GET /x -> query ".len() as u32
    );
    checks::check_diagnostics(&src, &diags);
    // The line is shown as a window around the caret, which still points at the name.
    let rendered = diags[0].render(&src, Default::default());
    assert!(rendered.len() < 1000, "{} bytes", rendered.len());
    let lines: Vec<&str> = rendered.lines().collect();
    let shown = lines
        .iter()
        .find(|l| l.starts_with("1 | "))
        .expect("source line");
    let caret_line = lines.iter().find(|l| l.contains('^')).expect("caret line");
    assert!(
        shown.starts_with("1 | ...") && shown.ends_with("query missing"),
        "{shown}"
    );
    let caret = caret_line.find('^').expect("caret");
    // (The window holds an `Ä`: compare characters, not bytes.)
    let under: String = shown.chars().skip(caret).collect();
    assert_eq!(under, "missing", "{rendered}");
    assert_eq!(caret_line.matches('^').count(), "missing".len());

    // A long line of nothing valid.
    let (src, diags) = check_bytes("x".repeat(1_000_000).into_bytes());
    assert_eq!(error_codes(&diags), ["syntax"]);
    checks::check_diagnostics(&src, &diags);
}

#[test]
fn crlf_line_endings_keep_columns_right() {
    let lf =
        "object account\nroute GET /v1/accounts/{accountId} -> read acount id path.accountId\n";
    let crlf = lf.replace('\n', "\r\n");
    let a = check_text(lf);
    let (src, b) = check_bytes(crlf.into_bytes());
    assert_eq!(codes(&a), ["unknown_object_type"]);
    assert_eq!(codes(&b), ["unknown_object_type"]);
    assert_eq!((b[0].span.line, b[0].span.col), (2, 44));
    assert_eq!(
        (a[0].span.line, a[0].span.col),
        (b[0].span.line, b[0].span.col)
    );
    checks::check_diagnostics(&src, &b);
    let rendered = b[0].render(&src, Default::default());
    assert!(!rendered.contains('\r'), "{rendered:?}");

    // A syntax error at a line end, and a lone CR.
    let (src, diags) =
        check_bytes(b"object a {\r\n  label\r\n}\r\nroute GET /x\r-> query\r\n".to_vec());
    assert!(!diags.is_empty());
    checks::check_diagnostics(&src, &diags);
}

#[test]
fn tabs_count_as_one_column_and_render_aligned() {
    let text = "object account\nroute\tGET\t/v1/x\t->\tread\taccount\n";
    let (src, diags) = check_bytes(text.as_bytes().to_vec());
    assert_eq!(codes(&diags), ["missing_id_field"]);
    assert_eq!((diags[0].span.line, diags[0].span.col), (2, 20));
    checks::check_diagnostics(&src, &diags);
    let rendered = diags[0].render(&src, Default::default());
    let lines: Vec<&str> = rendered.lines().collect();
    let source_line = lines
        .iter()
        .find(|l| l.starts_with("2 |"))
        .expect("source line");
    let caret_line = lines.iter().find(|l| l.contains('^')).expect("caret line");
    let caret = caret_line.find('^').expect("caret");
    assert_eq!(&source_line[caret..caret + 4], "read", "{rendered}");
}

#[test]
fn many_independent_errors_are_all_reported_in_order() {
    let text = "\
orgs { org Asia org China parent Chna }
header Zuora-Org-Ids { role visibility list }
object invoice { inherit acount via body.accountId }
route GET /v1/accounts/{accountId} -> read invoice
service catalog { endpoint GET /v1/products { org_id header Organization-ID } }
object broken { label }
";
    let (src, diags) = check_bytes(text.as_bytes().to_vec());
    assert_eq!(
        codes(&diags),
        [
            "unknown_org",
            "missing_access_constraint",
            "unknown_object_type",
            "missing_id_field",
            "org_id_header_in_new_service",
            "syntax"
        ]
    );
    assert_sorted(&diags);
    checks::check_diagnostics(&src, &diags);
}

/// A few hand-picked mutations of real policies.
fn shipped() -> Vec<String> {
    ["zuora-multi-org", "aep-organization-id"]
        .iter()
        .map(|n| {
            std::fs::read_to_string(format!(
                "{}/policies/{n}.policy",
                env!("CARGO_MANIFEST_DIR")
            ))
            .expect("read shipped policy")
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let (src, diags) = check_bytes(text.into_bytes());
        checks::check_diagnostics(&src, &diags);
        assert_sorted(&diags);
    }

    #[test]
    fn policy_like_text_never_panics(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("object "), Just("route "), Just("GET "), Just("/v1/"), Just("{id}"),
                Just("-> "), Just("read "), Just("id path.id "), Just("{ "), Just("} "),
                Just("header "), Just("role visibility "), Just("list "), Just("orgs "),
                Just("org "), Just("parent "), Just("\""), Just("\n"), Just("\r\n"), Just("\t"),
                Just("legacy service s "), Just("endpoint "), Just("org_id path organizationId "),
                Just("inherit "), Just("via body.x "), Just("a "), Just("b "), Just("# c\n"),
                Just("fallback unlabeled, working_org "), Just("shared "), Just("é"),
            ],
            0..80,
        )
    ) {
        let text: String = parts.concat();
        let (src, diags) = check_bytes(text.into_bytes());
        checks::check_diagnostics(&src, &diags);
        assert_sorted(&diags);
    }

    #[test]
    fn mutated_shipped_policies_never_panic(
        which in 0usize..2,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<u8>()), 1..8),
    ) {
        let mut bytes = shipped()[which].clone().into_bytes();
        for (at, kind, byte) in edits {
            if bytes.is_empty() { break; }
            let i = at.index(bytes.len());
            match kind {
                0 => { bytes.remove(i); }
                1 => bytes.insert(i, byte),
                2 => bytes[i] = byte,
                // Cut a chunk out: drops braces, arrows, whole items.
                _ => { let end = (i + usize::from(byte)).min(bytes.len()); bytes.drain(i..end); }
            }
        }
        let (src, diags) = check_bytes(bytes);
        checks::check_diagnostics(&src, &diags);
        assert_sorted(&diags);
    }
}

//! Differential test of the intake's parsers (issue 13): sonic-rs and simd-json against
//! serde_json on hand-picked strictness cases and on generated descriptions.

use bench_compare::parsers::{Parser, Scratch};
use proptest::prelude::*;

const USER: &str = r#""user":{"orgs":["Asia"]}"#;

/// A case: its name and the description's bytes.
fn cases() -> Vec<(&'static str, Vec<u8>)> {
    let raw = |extra: &[u8]| [b"{", extra, b",", USER.as_bytes(), b"}"].concat();
    let with = |extra: &str| raw(extra.as_bytes());
    let nested = |n: usize| with(&format!(r#""body":{}1{}"#, "[".repeat(n), "]".repeat(n)));
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(with(r#""id":1"#));
    vec![
        ("valid", with(r#""id":1,"method":"GET","path":"/a?b=c""#)),
        ("duplicate field", with(USER)),
        ("duplicate header", with(r#""headers":{"a":"1","a":"2"}"#)),
        (
            "header in two spellings",
            with(r#""headers":{"a":"1","A":"2"}"#),
        ),
        ("duplicate query name", with(r#""query":{"a":"1","a":"2"}"#)),
        (
            "duplicate key in body",
            with(r#""body":{"x":[{"a":1,"a":2}]}"#),
        ),
        ("duplicate key in id", with(r#""id":{"a":1,"a":2}"#)),
        ("unknown field", with(r#""uesr":1"#)),
        ("escaped key", with(r#""\u0069d":1"#)),
        ("nesting 100", nested(100)),
        ("nesting 127", nested(127)),
        ("nesting 200", nested(200)),
        ("nesting 300", nested(300)),
        ("trailing characters", format!("{{{USER}}} x").into_bytes()),
        ("two documents", format!("{{{USER}}}{{}}").into_bytes()),
        (
            "trailing whitespace",
            format!("{{{USER}}} \t\r\n").into_bytes(),
        ),
        ("trailing nul", format!("{{{USER}}}\0").into_bytes()),
        ("invalid UTF-8 in a string", raw(b"\"path\":\"/\xFF\"")),
        ("overlong UTF-8", raw(b"\"path\":\"\xC0\xAF\"")),
        ("lone leading surrogate", with(r#""path":"\ud800""#)),
        ("lone trailing surrogate", with(r#""path":"\udc00""#)),
        (
            "leading surrogate, then a letter",
            with(r#""path":"\ud800\u0041""#),
        ),
        ("surrogate pair", with(r#""path":"\ud83d\ude00""#)),
        ("lone surrogate in body", with(r#""body":"\ud800""#)),
        ("escape \\x", with(r#""path":"\x41""#)),
        ("short \\u escape", with(r#""path":"\u41""#)),
        ("raw control character", with("\"path\":\"a\u{1}b\"")),
        ("raw tab", with("\"path\":\"a\tb\"")),
        ("raw newline", with("\"path\":\"a\nb\"")),
        ("raw DEL", with("\"path\":\"a\u{7f}b\"")),
        ("id 1e400", with(r#""id":1e400"#)),
        ("id -1e400", with(r#""id":-1e400"#)),
        ("id 2^64", with(r#""id":18446744073709551616"#)),
        ("id -2^63-1", with(r#""id":-9223372036854775809"#)),
        ("id 2^64-1", with(r#""id":18446744073709551615"#)),
        ("id 1e-400", with(r#""id":1e-400"#)),
        ("id 0.1", with(r#""id":0.1"#)),
        ("id -0", with(r#""id":-0"#)),
        ("id 1E+2", with(r#""id":1E+2"#)),
        (
            "id 30 digits",
            with(r#""id":123456789012345678901234567890"#),
        ),
        (
            "id 17 significant digits",
            with(r#""id":0.30000000000000004"#),
        ),
        ("id 1E-72", with(r#""id":1E-72"#)),
        (
            "id 249 digits",
            with(&format!(r#""id":551194236847786{}"#, "0".repeat(234))),
        ),
        (
            "id 800 digits",
            with(&format!(r#""id":{}"#, "9".repeat(800))),
        ),
        (
            "body numbers",
            with(r#""body":[1e308,2.2250738585072014e-308,5e-324,-0.0,1.7976931348623157e308]"#),
        ),
        ("leading zero", with(r#""id":01"#)),
        ("no digits after point", with(r#""id":1."#)),
        ("no leading digit", with(r#""id":.5"#)),
        ("plus sign", with(r#""id":+1"#)),
        ("NaN", with(r#""id":NaN"#)),
        ("Infinity", with(r#""id":Infinity"#)),
        ("misspelled null", with(r#""id":nul"#)),
        (
            "trailing comma in object",
            format!("{{{USER},}}").into_bytes(),
        ),
        ("trailing comma in array", with(r#""body":[1,]"#)),
        ("comment", format!("{{/* */{USER}}}").into_bytes()),
        ("single quotes", with("'id':1")),
        ("number key", with("1:1")),
        ("missing user", br#"{"id":1}"#.to_vec()),
        ("orgs a string", br#"{"user":{"orgs":"Asia"}}"#.to_vec()),
        (
            "org null in entity",
            with(r#""entities":[{"type":"t","id":"1","org":null}]"#),
        ),
        (
            "org missing in entity",
            with(r#""entities":[{"type":"t","id":"1"}]"#),
        ),
        ("BOM", bom),
        ("empty", Vec::new()),
        ("whitespace only", b" \n".to_vec()),
        ("unfinished", format!("{{{USER}").into_bytes()),
        ("array", b"[1]".to_vec()),
    ]
}

/// What a parser made of a description: the request, or that it was refused.
fn outcome(p: Parser, bytes: &[u8]) -> Result<orgscope::Request, ()> {
    p.request(bytes, &mut Scratch::default()).map_err(drop)
}

/// Where a parser parts from serde_json on the cases, with every parser's answers as a table.
fn differences(p: Parser) -> Vec<&'static str> {
    let mut out = Vec::new();
    for (name, bytes) in cases() {
        let [s, other] = [Parser::SerdeJson, p].map(|p| outcome(p, &bytes));
        let raw = Parser::ALL.map(|p| {
            if p.accepts_raw(&bytes) {
                "json"
            } else {
                "not json"
            }
        });
        println!(
            "{name:35} serde_json {:6} {} {:6} raw {raw:?}",
            if s.is_ok() { "ok" } else { "refuse" },
            p.name(),
            if other.is_ok() { "ok" } else { "refuse" },
        );
        if s != other {
            out.push(name);
        }
    }
    out
}

// The parsers part where the intake does not depend on them (the intake's own depth scan
// refuses more than 64 levels before any parser runs), on numbers, and nowhere else.

/// Whether serde_json rounds `1E-72` one unit in the last place off, where sonic-rs and
/// simd-json round it correctly: it does without its `float_roundtrip` feature (the `orgscope`
/// binary, built alone), not with it (cedar and regorus turn it on in this package).
fn serde_json_misrounds() -> bool {
    serde_json::from_str::<f64>("1E-72").map_or(true, |f| f != 1e-72)
}

#[test]
fn sonic_rs_parts_from_serde_json_only_on_depth_and_rounding() {
    // Nesting: serde_json refuses 128 levels, sonic-rs 256. The 249-digit integer is rounded
    // like `1E-72`.
    let mut expected = vec!["nesting 127", "nesting 200"];
    if serde_json_misrounds() {
        expected.extend(["id 1E-72", "id 249 digits"]);
    }
    assert_eq!(differences(Parser::SonicRs), expected);
}

#[test]
fn simd_json_parts_from_serde_json_on_depth_and_numbers() {
    // simd-json nests to 1,024 levels, refuses integers outside i64 and u64 where serde_json
    // reads them as floats, and reads `-0` as a float.
    let mut expected = vec![
        "nesting 127",
        "nesting 200",
        "nesting 300",
        "id 2^64",
        "id -2^63-1",
        "id -0",
        "id 30 digits",
    ];
    if serde_json_misrounds() {
        expected.push("id 1E-72");
    }
    expected.push("id 249 digits");
    assert_eq!(differences(Parser::SimdJson), expected);
}

/// A request description, valid or nearly so: fields from the description's vocabulary, strings
/// with escapes, surrogates and control characters, numbers.
fn description() -> impl Strategy<Value = String> {
    let string = prop_oneof![
        8 => "[a-zA-Z/?=&, -]{0,8}",
        1 => Just(r"\ud800".to_string()),
        1 => Just(r"\ud83d\ude00".to_string()),
        1 => Just(r"\n\u0041\/".to_string()),
        1 => Just("\u{1}".to_string()),
        1 => Just("é€".to_string()),
    ]
    .prop_map(|s| format!("\"{s}\""));
    let number = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        // At most 15 digits and exponents of one digit: read exactly by every parser (others
        // may round differently, see the cases above).
        "-?[1-9][0-9]{0,7}(\\.[0-9]{1,6})?([eE][+-]?[0-9])?",
    ];
    let leaf = prop_oneof![
        string.clone(),
        number,
        Just("null".into()),
        Just("true".into())
    ];
    let json = leaf.prop_recursive(4, 24, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(("[a-c]", inner), 0..4).prop_map(|v| object(&v)),
        ]
    });
    let fields = (
        prop::option::of(json.clone().prop_map(|v| format!("\"id\":{v}"))),
        prop::option::of(json.clone().prop_map(|v| format!("\"body\":{v}"))),
        prop::option::of(
            prop::collection::vec(("[a-c]", string.clone()), 0..3)
                .prop_map(|v| format!("\"query\":{}", object(&v))),
        ),
        prop::option::of(string.clone().prop_map(|v| format!("\"path\":{v}"))),
        prop::collection::vec(("[a-cA-C]", string.clone()), 0..4)
            .prop_map(|v| format!("\"headers\":{}", object(&v))),
        prop::collection::vec(string, 0..3)
            .prop_map(|v| format!("\"user\":{{\"orgs\":[{}]}}", v.join(","))),
    );
    fields.prop_map(|(id, body, query, path, headers, user)| {
        let all = [id, body, query, path, Some(headers), Some(user)];
        format!(
            "{{{}}}",
            all.into_iter().flatten().collect::<Vec<_>>().join(",")
        )
    })
}

/// `{"k":v,...}` from names and JSON texts.
fn object(fields: &[(String, String)]) -> String {
    let fields: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
    format!("{{{}}}", fields.join(","))
}

/// A description with one byte replaced by one of JSON's structural or number characters.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (
        description(),
        any::<prop::sample::Index>(),
        prop::sample::select(&b"\"\\{}[],:0.eE-+ \x01\xff"[..]),
    )
        .prop_map(|(d, at, b)| {
            let mut bytes = d.into_bytes();
            let i = at.index(bytes.len());
            bytes[i] = b;
            bytes
        })
}

// simd-json is left out of the generated documents: it already parts on the cases above.
proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_descriptions_read_alike(d in description()) {
        let [s, sonic] = [Parser::SerdeJson, Parser::SonicRs].map(|p| outcome(p, d.as_bytes()));
        prop_assert_eq!(sonic, s, "{}", d);
    }

    #[test]
    fn mutated_descriptions_read_alike(d in mutated()) {
        let [s, sonic] = [Parser::SerdeJson, Parser::SonicRs].map(|p| outcome(p, &d));
        prop_assert_eq!(sonic, s, "{}", String::from_utf8_lossy(&d));
    }
}

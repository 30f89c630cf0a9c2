//! The invariants the fuzz targets assert, one public function per target.
//!
//! This file is shared: the libFuzzer targets in `fuzz/fuzz_targets/` call it, and
//! `tests/fuzz_regressions.rs` includes it by path, so `cargo test` on stable Rust replays the
//! seed corpus and every kept crash input through exactly the same assertions. Each function
//! takes raw fuzzer bytes, never returns an error, and panics when an invariant is broken (a panic
//! inside orgscope itself is a finding too). docs/fuzzing.md lists the invariants in prose.

use orgscope::batch::{evaluate_stream, BatchOptions, BatchStats};
use orgscope::diag::{Diagnose as _, Diagnostic, Source, Style};
use orgscope::format::FmtError;
use orgscope::{check_source, parse, EvalOptions, NoEntities, Policy, Request};
use serde_json::Value;
use std::io::BufReader;
use std::sync::OnceLock;

/// The shipped policies, compiled into the targets.
pub const SHIPPED: [(&str, &str); 2] = [
    (
        "policies/zuora-multi-org.policy",
        include_str!("../../policies/zuora-multi-org.policy"),
    ),
    (
        "policies/aep-organization-id.policy",
        include_str!("../../policies/aep-organization-id.policy"),
    ),
];

/// Requests evaluated against every fuzzed policy that compiles (target `policy_check`): the
/// route shapes of both shipped policies, creates with parents and `objects`, a read by id,
/// Multi-Org off, org IDs in every location.
const PROBE_REQUESTS: [&str; 8] = [
    r#"{"method":"POST","path":"/query/jobs","headers":{"Zuora-Org-Ids":"Asia, China"},"user":{"orgs":["Asia","China","Japan"]}}"#,
    r#"{"method":"POST","path":"/v1/invoices","headers":{"Zuora-Working-Org":"Asia"},"body":{"accountId":"A-1","organizationLabel":"Asia"},"user":{"orgs":["Asia","China"],"default_org":"China"},"entities":[{"type":"account","id":"A-1","org":"Asia"}]}"#,
    r#"{"method":"POST","path":"/v1/action/create","body":{"type":"Account","objects":[{"organizationLabel":"Asia"},{"accountId":"A-2"}]},"user":{"orgs":["Asia"]},"entities":[{"type":"account","id":"A-2","org":null}]}"#,
    r#"{"method":"GET","path":"/v1/accounts/A-1","user":{"orgs":["China"]},"entities":[{"type":"account","id":"A-1","org":"Asia"}]}"#,
    r#"{"method":"POST","path":"/query/jobs","headers":{"Zuora-Org-Ids":"Asia"},"tenant":{"multi_org":false},"user":{"orgs":["Asia"]}}"#,
    r#"{"method":"GET","path":"/v1/organizations/o-1/products","query":{"organizationId":"o-1"},"headers":{"Organization-ID":"o-1"},"user":{"orgs":["o-1","Asia"]}}"#,
    r#"{"method":"POST","path":"/v1/reports:run","body":{"organizationId":"o-2"},"user":{"orgs":["o-2"]},"action":"create","object":"report"}"#,
    r#"{"action":"query","object":"account","user":{"orgs":["Asia","o-1"],"default_org":"Asia"}}"#,
];

/// The shipped policies, compiled once per process.
pub fn shipped() -> &'static [Policy; 2] {
    static POLICIES: OnceLock<[Policy; 2]> = OnceLock::new();
    POLICIES.get_or_init(|| {
        SHIPPED.map(|(name, text)| {
            Policy::from_source(name, text)
                .unwrap_or_else(|e| panic!("shipped policy {name} does not load: {e}"))
        })
    })
}

// ------------------------------------------------------------------------ target: policy_check

/// Policy bytes → `parse::decode` → `check_source` (+ `Policy::from_source` when clean).
///
/// - `decode` fails exactly when the bytes are not UTF-8, with an `invalid_utf8` diagnostic;
/// - every diagnostic points inside the file at a line and column that agree with its byte
///   offset, renders (plain and coloured, and as JSON) without panicking, and has a message;
/// - the hand-written parser reads the text exactly when pest reports no syntax error, into
///   pest's tree, spans included;
/// - `Policy::from_source` succeeds exactly when `check_source` reports no error, and then its
///   warnings are the checker's diagnostics;
/// - a policy that compiles answers a fixed set of probe requests fail-closed (see
///   [`check_decision`]), identically with and without `explain`.
pub fn policy_check(data: &[u8]) {
    let name = "fuzz.policy";
    let src = match parse::decode(name, data.to_vec()) {
        Ok(src) => {
            assert!(
                std::str::from_utf8(data).is_ok(),
                "decode accepted non-UTF-8"
            );
            src
        }
        Err((src, e)) => {
            assert!(
                std::str::from_utf8(data).is_err(),
                "decode refused UTF-8: {e}"
            );
            let d = e.to_diagnostic();
            assert_eq!(d.code, "invalid_utf8");
            check_diagnostics(&src, &[d]);
            return;
        }
    };
    let fast = parse::parse_fast(&src);
    let (tree, errors) = parse::parse_with_pest(&src);
    assert_eq!(
        fast.is_some(),
        errors.is_empty(),
        "the fast parser and pest disagree on whether the text parses: {errors:?}"
    );
    if let Some(fast) = fast {
        // `Debug` shows every field, spans included (the tree's `==` ignores spans).
        assert_eq!(
            format!("{fast:?}"),
            format!("{tree:?}"),
            "the two parsers' trees differ"
        );
    }
    let checked = check_source(&src);
    check_diagnostics(&src, &checked.diagnostics);
    match Policy::from_source(name, src.text()) {
        Ok(policy) => {
            assert!(
                !checked.has_errors(),
                "from_source accepted a policy check_source rejects: {:?}",
                checked.diagnostics
            );
            assert_eq!(policy.warnings(), &checked.diagnostics[..]);
            let _ = policy.rules();
            for json in PROBE_REQUESTS {
                let (d, _) = evaluate_both_ways(&policy, json);
                // Fuzzed directories may use ids and descendant access: no subset check here.
                check_decision(&d, None);
            }
        }
        Err(e) => {
            assert!(
                checked.has_errors(),
                "from_source rejected a policy check_source accepts: {e}"
            );
            assert_eq!(e.code(), "invalid_policy");
            let _ = e.render(Style::default());
        }
    }
}

/// Positions, rendering and message shape of diagnostics over `src` (also used by
/// `tests/robustness.rs`).
pub fn check_diagnostics(src: &Source, diags: &[Diagnostic]) {
    let text = src.text();
    let lines: Vec<&str> = text.split('\n').collect();
    // Where each line starts, computed once: per diagnostic it would be quadratic on big files.
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(lines.iter().scan(0, |at, l| {
            *at += l.len() + 1;
            Some(*at)
        }))
        .collect();
    for d in diags {
        let s = d.span;
        assert!(s.start <= text.len(), "{d:?} starts past the end");
        assert!(s.end >= s.start, "{d:?} ends before it starts");
        assert!(
            s.line >= 1 && (s.line as usize) <= lines.len(),
            "{d:?}: no such line"
        );
        let start_of_line = line_starts[s.line as usize - 1];
        if let Some(prefix) = text.get(start_of_line..s.start) {
            assert_eq!(
                prefix.chars().count() + 1,
                s.col as usize,
                "{d:?}: column disagrees with the offset"
            );
        }
        assert!(!d.message.is_empty(), "{d:?}: empty message");
        assert!(
            !d.message.ends_with('.'),
            "{d:?}: message ends with a period"
        );
        assert!(
            !d.message.starts_with(|c: char| c.is_uppercase()),
            "{d:?}: message starts upper case"
        );
        let plain = d.render(src, Style::default());
        assert!(
            plain.contains(&format!(":{}:{}", s.line, s.col)),
            "{d:?}: rendering lacks the position:\n{plain}"
        );
        let _ = d.render(src, Style { color: true });
    }
}

// ------------------------------------------------------------------------ target: request_eval

/// Request JSON bytes → `Policy::evaluate_json` against both shipped policies.
///
/// Each decision must be fail-closed and well-formed ([`check_decision`]), with the visible orgs
/// and labels inside the user's orgs as `serde_json` reads them from the input; `explain` may add
/// a trace but must not change anything else; and an allow means the description parsed.
/// Non-UTF-8 input is decoded lossily (the API takes `&str`).
pub fn request_eval(data: &[u8]) {
    let json = String::from_utf8_lossy(data);
    let orgs = user_orgs(&json);
    for policy in shipped() {
        let (d, _) = evaluate_both_ways(policy, &json);
        if d["decision"] == "allow" {
            assert!(
                Request::from_json(&json).is_ok(),
                "allowed a request that does not parse: {json:?}"
            );
        }
        check_decision(&d, orgs.as_deref());
    }
}

/// Evaluates `json` plain and with `explain`; both must agree but for the trace. Returns the
/// plain decision as JSON, and the explained one.
fn evaluate_both_ways(policy: &Policy, json: &str) -> (Value, Value) {
    let plain = policy.evaluate_json(json, &EvalOptions::default());
    assert!(plain.trace.is_none(), "trace without explain");
    let explained = policy.evaluate_json(json, &EvalOptions::new().explain(true));
    let mut a = serde_json::to_value(&plain).expect("decision serializes");
    let b = serde_json::to_value(&explained).expect("decision serializes");
    let mut b_untraced = b.clone();
    if let Some(m) = b_untraced.as_object_mut() {
        m.remove("trace");
    }
    assert_eq!(a, b_untraced, "explain changed the decision for {json:?}");
    if let Some(m) = a.as_object_mut() {
        m.remove("trace");
    }
    (a, b)
}

/// `user.orgs` of a request description as `serde_json` reads it (each trimmed, as the engine
/// trims org references), when the text is a JSON object with such an array of strings.
pub fn user_orgs(json: &str) -> Option<Vec<String>> {
    let v: Value = serde_json::from_str(json).ok()?;
    let orgs = v.get("user")?.get("orgs")?.as_array()?;
    orgs.iter()
        .map(|o| o.as_str().map(|s| s.trim().to_string()))
        .collect()
}

/// The stable error codes of SPEC §1–§3 and their HTTP statuses.
const ERROR_CODES: [(&str, u64); 14] = [
    ("org_access_denied", 403),
    ("org_label_required", 400),
    ("org_label_conflict", 400),
    ("parent_not_found", 404),
    ("parent_required", 400),
    ("multi_org_disabled", 400),
    ("not_found", 404),
    ("org_id_missing", 400),
    ("org_id_ambiguous", 400),
    ("org_id_conflict", 400),
    ("org_id_wrong_location", 400),
    ("org_id_header_forbidden", 400),
    ("invalid_request", 400),
    ("no_route", 404),
];

const LABEL_SOURCES: [&str; 7] = [
    "explicit",
    "inherited",
    "working_org",
    "default_org",
    "single_org",
    "shared",
    "none",
];

/// One decision (as JSON) is fail-closed and well-formed:
///
/// - `decision` is `allow` or `deny`; deny ⇔ `errors` is non-empty; `status` is 200 ⇔ allow;
/// - a deny has the status of one of its errors' codes (400, 403 or 404), every code is one of
///   the stable codes, every message is non-empty, `visible_orgs` is null and
///   `include_unlabeled` false;
/// - `visible_orgs` has no duplicates; with `user_orgs` given (the request's `user.orgs`,
///   trimmed), every visible org and every label's org is one of them, and on an allow every
///   label's org is inside `visible_orgs` when that is a list;
/// - every label has a known `source`, and a `shared` label has no org.
pub fn check_decision(d: &Value, user_orgs: Option<&[String]>) {
    let effect = d["decision"].as_str().expect("decision is a string");
    assert!(effect == "allow" || effect == "deny", "decision {effect:?}");
    let allow = effect == "allow";
    let errors = d["errors"].as_array().expect("errors is an array");
    let status = d["status"].as_u64().expect("status is a number");
    assert_eq!(allow, errors.is_empty(), "deny ⇔ errors: {d}");
    assert_eq!(allow, status == 200, "status 200 ⇔ allow: {d}");
    let mut statuses = Vec::new();
    for e in errors {
        let code = e["code"].as_str().expect("error code is a string");
        let known = ERROR_CODES.iter().find(|(c, _)| *c == code);
        let &(_, s) = known.unwrap_or_else(|| panic!("unknown error code {code:?}: {d}"));
        statuses.push(s);
        let message = e["message"].as_str().expect("error message is a string");
        assert!(!message.is_empty(), "empty error message: {d}");
    }
    if !allow {
        assert!(
            statuses.contains(&status),
            "deny status {status} is none of its errors': {d}"
        );
        assert!(d["visible_orgs"].is_null(), "deny with visible orgs: {d}");
        assert_eq!(
            d["include_unlabeled"], false,
            "deny includes unlabeled: {d}"
        );
    }
    let visible: Option<Vec<&str>> = d["visible_orgs"].as_array().map(|v| {
        v.iter()
            .map(|o| o.as_str().expect("visible org is a string"))
            .collect()
    });
    if let Some(visible) = &visible {
        for (i, o) in visible.iter().enumerate() {
            assert!(!visible[..i].contains(o), "visible org {o:?} twice: {d}");
            if let Some(user) = user_orgs {
                assert!(
                    user.iter().any(|u| u == o),
                    "visible org {o:?} is not one of the user's {user:?}: {d}"
                );
            }
        }
    }
    let labels = d["labels"].as_array().expect("labels is an array");
    for l in labels {
        let source = l["source"].as_str().expect("label source is a string");
        assert!(LABEL_SOURCES.contains(&source), "label source {source:?}");
        let org = match &l["org"] {
            Value::Null => {
                continue;
            }
            Value::String(s) => s.as_str(),
            other => panic!("label org {other}"),
        };
        assert_ne!(source, "shared", "a shared object got org {org:?}: {d}");
        if !allow {
            continue;
        }
        if let Some(user) = user_orgs {
            assert!(
                user.iter().any(|u| u == org),
                "label org {org:?} is not one of the user's {user:?}: {d}"
            );
        }
        if let Some(visible) = &visible {
            assert!(
                visible.contains(&org),
                "label org {org:?} is outside the visible orgs: {d}"
            );
        }
    }
}

// ----------------------------------------------------------------------- target: fmt_roundtrip

/// Policy text → `fmt::format`, when the text parses without syntax errors.
///
/// - text with syntax errors is refused with `FmtError::Syntax`, never formatted;
/// - otherwise `format` succeeds (an `Internal` error is a formatter bug), its output parses
///   without errors to an AST equal to the input's (spans ignored), the checker reports the same
///   (severity, code) multiset for both, formatting the output again changes nothing, and the
///   output is at most 10× the input.
pub fn fmt_roundtrip(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let src = Source::new("fuzz.policy", text);
    let (ast, errors) = parse::parse(&src);
    let out = match orgscope::format::format(&src) {
        Ok(out) => {
            assert!(errors.is_empty(), "formatted text with syntax errors");
            out
        }
        Err(FmtError::Syntax(e)) => {
            assert!(
                !errors.is_empty(),
                "format reported syntax errors parse did not"
            );
            assert_eq!(e, errors);
            return;
        }
        Err(e) => panic!("format failed on text that parses: {e}\n--- input\n{text}"),
    };
    // Alignment is capped: formatting cannot blow a file up.
    assert!(
        out.len() <= 10 * text.len(),
        "{} bytes formatted to {}",
        text.len(),
        out.len()
    );
    let out_src = Source::new("fuzz.policy", out.as_str());
    let (again, again_errors) = parse::parse(&out_src);
    assert!(
        again_errors.is_empty(),
        "formatted text does not parse: {again_errors:?}\n--- output\n{out}"
    );
    assert_eq!(again, ast, "formatting changed the AST\n--- output\n{out}");
    let codes = |s: &Source| {
        let mut c: Vec<_> = check_source(s)
            .diagnostics
            .iter()
            .map(|d| (d.severity, d.code))
            .collect();
        c.sort();
        c
    };
    assert_eq!(
        codes(&src),
        codes(&out_src),
        "formatting changed the diagnostics\n--- output\n{out}"
    );
    let twice = orgscope::format::format(&out_src)
        .unwrap_or_else(|e| panic!("formatting formatted text failed: {e}\n--- output\n{out}"));
    assert_eq!(twice, out, "formatting is not idempotent");
}

// ------------------------------------------------------------------------ target: batch_stream

/// Arbitrary bytes (NDJSON lines, pretty documents, junk, invalid UTF-8) →
/// `batch::evaluate_stream` against both shipped policies.
///
/// Always:
/// - no panic and no I/O error (input and output are in memory);
/// - the output is a sequence of JSON values, each followed by a newline, each a decision that
///   passes [`check_decision`]; their count and denies equal the returned [`BatchStats`];
/// - with N non-blank input lines, 1 ≤ decisions ≤ N when N > 0, and no output when N = 0
///   (each decision answers at least one line of its own; every line is answered), unless a
///   line opens a JSON array, whose requests are answered one by one;
/// - the output does not depend on how the reader splits the input (a 1..=16 byte
///   `BufReader` gives the same bytes as reading the whole slice).
///
/// When no non-blank line can open a multi-line document or an array (a line is *closed* when,
/// trimmed, it does not start with `{` or `[`, or `serde_json` rejects it for a reason other
/// than its end, and it is not an array), the
/// input is plain NDJSON and the stream must be exactly one compact output line per non-blank
/// input line, in order, each equal to `Policy::evaluate_json` of that line (ignoring error
/// messages, which name the line) and, for a non-UTF-8 line, an `invalid_request` deny.
pub fn batch_stream(data: &[u8]) {
    let lines: Vec<&[u8]> = data
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty())
        .collect();
    let capacity = 1 + data.first().map_or(0, |&b| usize::from(b % 16));
    for (i, policy) in shipped().iter().enumerate() {
        let (out, stats) = run_stream(policy, data, None);
        if i == 0 {
            let (split, split_stats) = run_stream(policy, data, Some(capacity));
            assert_eq!(stats, split_stats, "stats depend on the reader's buffer");
            assert!(out == split, "output depends on the reader's buffer");
        }
        let decisions: Vec<Value> = serde_json::Deserializer::from_slice(&out)
            .into_iter::<Value>()
            .map(|v| v.expect("the output is a sequence of JSON values"))
            .collect();
        assert!(
            out.is_empty() || out.ends_with(b"\n"),
            "output ends mid-line"
        );
        assert_eq!(decisions.len() as u64, stats.decisions, "stats.decisions");
        let denies = decisions.iter().filter(|d| d["decision"] == "deny").count();
        assert_eq!(denies as u64, stats.denies, "stats.denies");
        for d in &decisions {
            check_decision(d, None);
        }
        if lines.is_empty() {
            assert!(out.is_empty(), "output for blank input");
        } else if !lines.iter().any(|l| l.starts_with(b"[")) {
            assert!(
                (1..=lines.len()).contains(&decisions.len()),
                "{} decisions for {} non-blank lines",
                decisions.len(),
                lines.len()
            );
        }
        if !lines.is_empty() && lines.iter().all(|l| is_closed(l)) {
            check_ndjson(policy, &lines, &out, &decisions);
        }
    }
}

fn run_stream(policy: &Policy, data: &[u8], capacity: Option<usize>) -> (Vec<u8>, BatchStats) {
    let mut out = Vec::new();
    let options = BatchOptions::default();
    let stats = match capacity {
        None => evaluate_stream(policy, &NoEntities, data, &mut out, options),
        Some(c) => {
            let reader = BufReader::with_capacity(c, data);
            evaluate_stream(policy, &NoEntities, reader, &mut out, options)
        }
    }
    .expect("evaluate_stream over memory does not fail");
    (out, stats)
}

/// Whether a trimmed, non-blank line cannot be the start or middle of a multi-line document.
fn is_closed(line: &[u8]) -> bool {
    if line.starts_with(b"[") {
        return false;
    }
    if !line.starts_with(b"{") {
        return true;
    }
    match serde_json::from_slice::<Value>(line) {
        Ok(_) => true,
        Err(e) => !e.is_eof(),
    }
}

/// Plain NDJSON: one compact decision line per line, each as `evaluate_json` decides alone.
fn check_ndjson(policy: &Policy, lines: &[&[u8]], out: &[u8], decisions: &[Value]) {
    let out_lines: Vec<&[u8]> = out
        .strip_suffix(b"\n")
        .unwrap_or(out)
        .split(|&b| b == b'\n')
        .collect();
    assert_eq!(
        out_lines.len(),
        lines.len(),
        "NDJSON: one output line per non-blank input line"
    );
    assert_eq!(
        decisions.len(),
        lines.len(),
        "NDJSON: one decision per line"
    );
    for ((line, d), out_line) in lines.iter().zip(decisions).zip(&out_lines) {
        let parsed: Value = serde_json::from_slice(out_line).expect("each output line is JSON");
        assert_eq!(&parsed, d, "NDJSON: a decision spans several lines");
        match std::str::from_utf8(line) {
            Ok(text) => {
                let alone =
                    serde_json::to_value(policy.evaluate_json(text, &EvalOptions::default()))
                        .expect("decision serializes");
                assert_eq!(
                    without_messages(d),
                    without_messages(&alone),
                    "the batch and evaluate_json disagree on {text:?}"
                );
                if d["decision"] == "allow" {
                    check_decision(d, user_orgs(text).as_deref());
                }
            }
            Err(_) => {
                assert_eq!(d["decision"], "deny", "a non-UTF-8 line was allowed");
                assert_eq!(d["errors"][0]["code"], "invalid_request");
            }
        }
    }
}

/// A decision with its error messages blanked (the batch's name the input line).
fn without_messages(d: &Value) -> Value {
    let mut d = d.clone();
    if let Some(errors) = d.get_mut("errors").and_then(Value::as_array_mut) {
        for e in errors {
            if let Some(m) = e.get_mut("message") {
                *m = Value::Null;
            }
        }
    }
    d
}

//! Decisions and expected values shown to people: JSON spaced the way people write it, and
//! explain traces as numbered steps with a verdict. Every string from a request, a policy or a
//! test file is shown with its non-printing characters escaped, so that none can forge a line.

use orgscope::diag::escape_non_printing;
use serde_json::Value;
use std::fmt::Write as _;

/// `v` with every string in it (keys too) escaped for printing.
fn escaped(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(escape_non_printing(s).into_owned()),
        Value::Array(items) => Value::Array(items.iter().map(escaped).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (escape_non_printing(k).into_owned(), escaped(v)))
                .collect(),
        ),
        scalar => scalar.clone(),
    }
}

/// JSON on one line, spaced the way people write it: `{"org": "Asia", "source": "explicit"}`.
pub fn show(v: &Value) -> String {
    let mut out = String::new();
    show_into(v, &mut out);
    // JSON escapes C0 controls; DEL, C1 and invisible format characters it leaves as they are.
    escape_non_printing(&out).into_owned()
}

fn show_into(v: &Value, out: &mut String) {
    match v {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                show_into(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push_str(": ");
                show_into(item, out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// A decision with its explain trace, for people: numbered steps `file:line:col  step: outcome`,
/// then the decision and why — for a deny, the error and what would have to change for the
/// request to be allowed.
///
/// ```text
///  1. policies/zuora-multi-org.policy:98:1  route: matched `/query/jobs` -> query
///  2. policies/zuora-multi-org.policy:9:1   multi_org: enabled
/// => deny 403 org_access_denied, decided by policies/zuora-multi-org.policy:29:3
///    the user has no access to org `China`
///    to allow it: the user would need access to `China`
/// ```
pub fn render(decision: &Value) -> String {
    let decision = &escaped(decision);
    let steps: &[Value] = decision
        .get("trace")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    // The last step is the decision itself: the verdict below says it in full.
    let steps = match steps.split_last() {
        Some((last, init)) if last.get("step").and_then(Value::as_str) == Some("decision") => init,
        _ => steps,
    };
    let rule_of = |s: &Value| {
        s.get("rule")
            .and_then(Value::as_str)
            .unwrap_or("-")
            .to_string()
    };
    let width = steps
        .iter()
        .map(|s| rule_of(s).chars().count())
        .max()
        .unwrap_or(0);
    let num_width = steps.len().to_string().len();
    let mut out = String::new();
    if steps.is_empty() {
        out.push_str("(no rule was consulted)\n");
    }
    for (i, s) in steps.iter().enumerate() {
        let text = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let _ = writeln!(
            out,
            "{:>num_width$}. {:<width$}  {}: {}",
            i + 1,
            rule_of(s),
            text("step"),
            text("outcome")
        );
    }
    out.push_str(&render_verdict(decision));
    out
}

/// The verdict alone (see [`render_verdict`]), for a failed test.
pub fn verdict(decision: &Value) -> String {
    render_verdict(&escaped(decision))
}

/// The closing lines of an explanation: `=> allow 200 …` with what the request may see and the
/// labels it gets, or `=> deny STATUS CODE …` with the message and the way to an allow.
fn render_verdict(d: &Value) -> String {
    let str_of = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
    let effect = str_of(d.get("decision"));
    let status = d.get("status").map_or(String::new(), Value::to_string);
    let by = |rule: Option<&Value>| match rule.and_then(Value::as_str) {
        Some(r) => format!(", decided by {r}"),
        None => String::new(),
    };
    let mut out = String::new();
    let errors: &[Value] = d
        .get("errors")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    if effect == "allow" || errors.is_empty() {
        let _ = writeln!(out, "=> {effect} {status}{}", by(d.get("rule")));
        match d.get("visible_orgs").and_then(Value::as_array) {
            Some(orgs) => {
                let names: Vec<String> = orgs.iter().map(|o| str_of(Some(o))).collect();
                let names = if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                };
                let unlabeled = if d.get("include_unlabeled") == Some(&Value::Bool(true)) {
                    ", and unlabeled records"
                } else {
                    ""
                };
                let _ = writeln!(out, "   visible orgs: {names}{unlabeled}");
            }
            None => out.push_str("   not org-scoped (Multi-Org is off)\n"),
        }
        for l in d
            .get("labels")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let org = l.get("org").and_then(Value::as_str).unwrap_or("(none)");
            let source = str_of(l.get("source"));
            let from = match l.get("from").and_then(Value::as_str) {
                Some(f) => format!(" from {f}"),
                None => String::new(),
            };
            let _ = writeln!(out, "   label: {org} ({source}{from})");
        }
    }
    for e in errors {
        let code = str_of(e.get("code"));
        let message = str_of(e.get("message"));
        let _ = writeln!(out, "=> {effect} {status} {code}{}", by(e.get("rule")));
        let _ = writeln!(out, "   {message}");
        if let Some(hint) = hint(d, &code, &message) {
            let _ = writeln!(out, "   to allow it: {hint}");
        }
    }
    for w in d
        .get("warnings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let _ = writeln!(
            out,
            "   warning[{}]: {}",
            str_of(w.get("code")),
            str_of(w.get("message"))
        );
    }
    out
}

/// What would have to change, from the trace's closing step `deny (CODE): MESSAGE; HINT`.
fn hint(d: &Value, code: &str, message: &str) -> Option<String> {
    let last = d.get("trace")?.as_array()?.last()?;
    if last.get("step").and_then(Value::as_str) != Some("decision") {
        return None;
    }
    let outcome = last.get("outcome")?.as_str()?;
    let rest = outcome.strip_prefix(&format!("deny ({code}): {message}"))?;
    let hint = rest.strip_prefix("; ")?.trim();
    (!hint.is_empty()).then(|| hint.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn show_spaces_json_like_people_write_it() {
        assert_eq!(
            show(&json!([{"org": "Asia", "source": "explicit"}, null, 3])),
            r#"[{"org": "Asia", "source": "explicit"}, null, 3]"#
        );
        assert_eq!(show(&json!("a\u{7f}\u{202e}\n")), r#""a\u{7f}\u{202e}\n""#);
    }

    #[test]
    fn explanations_escape_every_string() {
        let d = json!({
            "decision": "deny", "status": 403, "errors": [{"code": "c\n", "message": "m\u{1b}"}],
            "trace": [{"rule": "r\r", "step": "s\u{85}", "outcome": "o\n=> allow"}],
            "warnings": [{"code": "w", "message": "x\u{2028}"}]
        });
        let text = render(&d);
        assert!(
            !text.contains(['\r', '\u{1b}', '\u{85}', '\u{2028}']),
            "{text}"
        );
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(text.contains("r\\r  s\\u{85}: o\\n=> allow"), "{text}");
    }
}

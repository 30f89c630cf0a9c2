//! Target `big_inputs`: a few fuzzer bytes describe the *structure* of a policy (repeat counts,
//! name lengths, chain depths), which [`expand`] turns into up to [`BUDGET`] bytes of policy
//! text, so the fuzzer explores sizes no byte-level mutation reaches. The expanded policy then
//! goes through every check of `policy_check` and `fmt_roundtrip` (formatted text within 10× the
//! input included), and a policy that compiles answers a request naming many orgs. Also
//! included by path by `crates/orgscope/tests/scaling.rs`, which replays the seeds.

use crate::checks;
use orgscope::{Policy, Request};
use std::fmt::Write as _;

/// The most policy text one input expands to.
pub const BUDGET: usize = 2 << 20;

/// One byte as a count: the low nibble is a mantissa, the high nibble a power of two, so one
/// byte spans 1 to 524,288 and the fuzzer reaches every scale with one mutation.
fn count(b: u8) -> usize {
    (usize::from(b & 0x0f) + 1) << (b >> 4)
}

/// The fuzzer bytes, read one at a time (zeros once they run out).
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn next(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        *first
    }
}

/// The sections of the policy being built, assembled in a fixed order.
#[derive(Default)]
struct Parts {
    orgs: String,
    descendant_access: bool,
    objects: String,
    routes: String,
    services: String,
    comments: String,
    /// Org names declared so far, for the request.
    org_names: Vec<String>,
}

impl Parts {
    fn size(&self) -> usize {
        self.orgs.len()
            + self.objects.len()
            + self.routes.len()
            + self.services.len()
            + self.comments.len()
    }
}

/// Expands `data` into policy text (see the module documentation) and the orgs it declares.
pub fn expand(data: &[u8]) -> (String, Vec<String>) {
    let mut b = Bytes(data);
    let mut p = Parts::default();
    while !b.0.is_empty() && p.size() < BUDGET {
        let op = b.next();
        let n = count(b.next());
        let len = count(b.next()) % 4096;
        let pad = "x".repeat(len);
        // Each loop stops at the budget, so that no input can expand without bound.
        let full = |p: &Parts| p.size() >= BUDGET;
        match op % 8 {
            // A chain: each org the parent of the next.
            0 => {
                p.descendant_access |= op & 0x80 != 0;
                for _ in 0..n {
                    if full(&p) {
                        break;
                    }
                    let name = format!("o{}{pad}", p.org_names.len());
                    let _ = match p.org_names.last() {
                        Some(parent) => writeln!(p.orgs, "  org {name} parent {parent}"),
                        None => writeln!(p.orgs, "  org {name}"),
                    };
                    p.org_names.push(name);
                }
            }
            // A star: many children of the first org.
            1 => {
                for _ in 0..n {
                    if full(&p) {
                        break;
                    }
                    let name = format!("o{}{pad}", p.org_names.len());
                    let _ = match p.org_names.first() {
                        Some(root) => writeln!(p.orgs, "  org {name} parent {root} id \"i{name}\""),
                        None => writeln!(p.orgs, "  org {name}"),
                    };
                    p.org_names.push(name);
                }
            }
            // Routes, `depth` segments deep, every other one a parameter.
            2 => {
                let depth = usize::from(op >> 3) + 1;
                for i in 0..n {
                    if full(&p) {
                        break;
                    }
                    let mut path = String::new();
                    for d in 0..depth {
                        if d % 2 == 1 {
                            let _ = write!(path, "/{{p{d}}}");
                        } else {
                            let _ = write!(path, "/s{i}{pad}");
                        }
                    }
                    let _ = writeln!(p.routes, "route GET|POST {path} -> query");
                }
            }
            // One long route among the others.
            3 => {
                let room = BUDGET.saturating_sub(p.size());
                let _ = writeln!(p.routes, "route GET /{} -> query", "a".repeat(n.min(room)));
            }
            // An `inherit` chain of object types.
            4 => {
                let base = p.objects.matches("object ").count();
                for i in 0..n {
                    if full(&p) {
                        break;
                    }
                    let _ = write!(p.objects, "object t{}{pad}", base + i);
                    if i > 0 {
                        let _ = write!(
                            p.objects,
                            " {{\n  inherit t{}{pad} via body.p\n}}",
                            base + i - 1
                        );
                    }
                    p.objects.push('\n');
                }
            }
            // A service with many endpoints.
            5 => {
                let _ = writeln!(p.services, "service s{} {{", p.services.len());
                for i in 0..n {
                    if full(&p) {
                        break;
                    }
                    let _ = writeln!(p.services, "  endpoint GET /e{i}{pad}/{{id}}");
                }
                p.services.push_str("}\n");
            }
            // Comments: many, long.
            6 => {
                for _ in 0..n {
                    if full(&p) {
                        break;
                    }
                    let _ = writeln!(p.comments, "# {pad}");
                }
            }
            // Nothing: a byte the fuzzer may spend on the counts of the next op.
            _ => {}
        }
    }
    let mut text = String::with_capacity(p.size() + 256);
    if !p.org_names.is_empty() {
        let on = if p.descendant_access { "on" } else { "off" };
        let _ = writeln!(text, "orgs {{\n  descendant_access {on}\n{}}}\n", p.orgs);
        text.push_str(
            "header X-Org {\n  role visibility\n  list\n  subset_of user.orgs\n  max_items 1000000\n}\n\n",
        );
    }
    for part in [&p.comments, &p.objects, &p.routes, &p.services] {
        text.push_str(part);
        text.push('\n');
    }
    (text, p.org_names)
}

/// The target: expand, then check, format and evaluate (see the module documentation).
pub fn big_inputs(data: &[u8]) {
    let (text, orgs) = expand(data);
    checks::policy_check(text.as_bytes());
    checks::fmt_roundtrip(text.as_bytes());
    let Ok(policy) = Policy::from_source("big.policy", &text) else {
        return;
    };
    // The user holds the first org; the request names every org (descendants of the first
    // when the hierarchy grants them, else denied).
    let (Some(first), Some(path)) = (orgs.first(), text.lines().find_map(route_path)) else {
        return;
    };
    let request = serde_json::json!({
        "method": "GET",
        "path": path,
        "headers": {"X-Org": orgs.join(",")},
        "user": {"orgs": [first]},
    });
    let Ok(req) = Request::from_json(&request.to_string()) else {
        return;
    };
    let decision = serde_json::to_value(policy.evaluate(&req)).unwrap_or_default();
    // Descendant access makes orgs visible that the user does not hold by name.
    let held = (!text.contains("descendant_access on")).then(|| std::slice::from_ref(first));
    checks::check_decision(&decision, held);
}

/// A request path a `route` line matches, parameters filled in.
fn route_path(line: &str) -> Option<String> {
    let template = line.strip_prefix("route ")?.split(' ').nth(1)?;
    let segments: Vec<&str> = template
        .split('/')
        .map(|s| if s.starts_with('{') { "v" } else { s })
        .collect();
    Some(segments.join("/"))
}

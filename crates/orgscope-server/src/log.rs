//! The decision log: one NDJSON event per decision (id, time, revision, the request with the
//! configured fields masked, the decision, latency), to stdout or a file.

use orgscope::{Decision, Request, Values};
use serde_json::{json, Map, Value};
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

/// Where decision events go, and which request fields they never show.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecisionLog {
    /// `-` for stdout, otherwise a file appended to.
    pub path: PathBuf,
    /// JSON pointers into the request description (`/body/card`, `/headers/authorization`,
    /// `/user/id`): each value is replaced by `"***"`, and its text is cut out of every other
    /// string of the event (a path, a label's `from`, an error message), so it never appears.
    pub mask: Vec<String>,
}

impl DecisionLog {
    /// Events to `path` (`-` is stdout), masking the fields at the `mask` pointers.
    pub fn new(path: impl Into<PathBuf>, mask: Vec<String>) -> DecisionLog {
        DecisionLog {
            path: path.into(),
            mask,
        }
    }
}

/// What a masked value becomes.
const MASK: &str = "***";

/// An open decision log.
pub(crate) struct Sink {
    out: Mutex<Box<dyn Write + Send>>,
    mask: Vec<Vec<String>>,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sink({} masks)", self.mask.len())
    }
}

/// What was asked, as the front door had it.
#[derive(Clone, Copy)]
pub(crate) enum Asked<'a> {
    /// A request description's JSON text (`/v1/decide`).
    Json(&'a [u8]),
    /// A description built by the service (forward-auth and other gateway front doors).
    Request(&'a Request),
}

impl Sink {
    /// Opens the log; a mask that is not a JSON pointer is refused.
    pub(crate) fn open(log: &DecisionLog) -> io::Result<Sink> {
        let mut mask = Vec::new();
        for pointer in &log.mask {
            let Some(rest) = pointer.strip_prefix('/') else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("mask `{pointer}` is not a JSON pointer (it starts with `/`)"),
                ));
            };
            let mut parts: Vec<String> = rest
                .split('/')
                .map(|p| p.replace("~1", "/").replace("~0", "~"))
                .collect();
            // Header names match case-insensitively; the description stores them lower-cased.
            if parts.first().is_some_and(|p| p == "headers") {
                if let Some(name) = parts.get_mut(1) {
                    *name = name.to_ascii_lowercase();
                }
            }
            mask.push(parts);
        }
        let out: Box<dyn Write + Send> = if log.path == Path::new("-") {
            Box::new(io::stdout())
        } else {
            Box::new(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&log.path)?,
            )
        };
        Ok(Sink {
            out: Mutex::new(out),
            mask,
        })
    }

    /// Writes one event; a log that cannot be written is reported, never a reason to fail the
    /// decision.
    pub(crate) fn write(
        &self,
        id: &str,
        revision: &str,
        asked: Asked<'_>,
        decision: &Decision,
        took: Duration,
    ) {
        let request = match asked {
            // Text that is not JSON cannot be masked field by field: it is left out.
            Asked::Json(bytes) => serde_json::from_slice(bytes).unwrap_or(Value::Null),
            Asked::Request(r) => describe(r),
        };
        let mut event = json!({
            "id": id,
            "time": rfc3339(SystemTime::now()),
            "revision": revision,
            "request": request,
            "decision": serde_json::to_value(decision).unwrap_or(Value::Null),
            "latency_us": u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
        });
        let mut secrets = Vec::new();
        if let Some(request) = event.get_mut("request") {
            for pointer in &self.mask {
                mask(request, pointer, &mut secrets);
            }
        }
        secrets.retain(|s| !s.is_empty());
        if !secrets.is_empty() {
            // Longest first, so a secret containing another is cut whole.
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
            scrub(&mut event, &secrets);
        }
        let mut line = serde_json::to_vec(&event).unwrap_or_default();
        line.push(b'\n');
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = out.write_all(&line).and_then(|()| out.flush()) {
            static LOG_DOWN: crate::throttle::Throttle = crate::throttle::Throttle::new();
            LOG_DOWN.warn(|| format!("orgscope: cannot write the decision log: {e}"));
        }
    }
}

/// Replaces the value at `pointer` with the mask, keeping the text of everything it held.
fn mask(value: &mut Value, pointer: &[String], secrets: &mut Vec<String>) {
    let Some((first, rest)) = pointer.split_first() else {
        leaves(value, secrets);
        *value = Value::String(MASK.to_string());
        return;
    };
    let next = match value {
        Value::Object(map) => map.get_mut(first),
        Value::Array(items) => first.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
        _ => None,
    };
    if let Some(next) = next {
        mask(next, rest, secrets);
    }
}

/// The text of every scalar (and key) in a value.
fn leaves(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Array(items) => items.iter().for_each(|v| leaves(v, out)),
        Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                leaves(v, out);
            }
        }
        Value::Bool(_) | Value::Null => {}
    }
}

/// Cuts every secret out of every string, key and number of the event.
fn scrub(value: &mut Value, secrets: &[String]) {
    let clean = |s: &str| -> Option<String> {
        secrets.iter().any(|x| s.contains(x.as_str())).then(|| {
            secrets
                .iter()
                .fold(s.to_string(), |acc, x| acc.replace(x.as_str(), MASK))
        })
    };
    match value {
        Value::String(s) => {
            if let Some(c) = clean(s) {
                *s = c;
            }
        }
        Value::Number(n) => {
            if let Some(c) = clean(&n.to_string()) {
                *value = Value::String(c);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| scrub(v, secrets)),
        Value::Object(map) => {
            let old = std::mem::take(map);
            let mut new = Map::with_capacity(old.len());
            for (k, mut v) in old {
                scrub(&mut v, secrets);
                new.insert(clean(&k).unwrap_or(k), v);
            }
            *map = new;
        }
        Value::Bool(_) | Value::Null => {}
    }
}

/// A request description built by the service, as JSON in the description's own shape.
fn describe(r: &Request) -> Value {
    let values = |m: &indexmap::IndexMap<String, Values>| -> Value {
        m.iter()
            .map(|(k, v)| {
                let v = match v {
                    Values::One(s) => json!(s),
                    Values::Many(all) => json!(all),
                };
                (k.clone(), v)
            })
            .collect::<Map<_, _>>()
            .into()
    };
    let mut out = json!({
        "id": r.id,
        "method": r.method,
        "path": r.path,
        "headers": values(&r.headers),
        "query": values(&r.query),
        "user": {"id": r.user.id, "orgs": r.user.orgs, "default_org": r.user.default_org},
    });
    if let (Some(map), Some(body)) = (out.as_object_mut(), &r.body) {
        map.insert("body".into(), body.clone());
    }
    if let (Some(map), Some(t)) = (out.as_object_mut(), &r.tenant) {
        map.insert(
            "tenant".into(),
            json!({"id": t.id, "multi_org": t.multi_org}),
        );
    }
    out
}

/// `2026-01-31T12:34:56.789012Z`.
fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_micros()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_micros(951_827_696_000_123);
        assert_eq!(rfc3339(t), "2000-02-29T12:34:56.000123Z");
        assert_eq!(
            rfc3339(SystemTime::UNIX_EPOCH),
            "1970-01-01T00:00:00.000000Z"
        );
    }

    #[test]
    fn masked_text_is_cut_everywhere() {
        let mut v = json!({"request": {"body": {"ssn": "123-45"}, "path": "/x/123-45"},
                           "decision": {"errors": [{"message": "`123-45` bad"}]}});
        let mut secrets = Vec::new();
        mask(
            v.get_mut("request").unwrap(),
            &["body".into(), "ssn".into()],
            &mut secrets,
        );
        scrub(&mut v, &secrets);
        assert!(!v.to_string().contains("123-45"), "{v}");
        assert_eq!(v["request"]["body"]["ssn"], "***");
        assert_eq!(v["request"]["path"], "/x/***");
    }
}

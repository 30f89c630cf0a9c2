//! Request intake: the bytes of one request description in, a [`Request`] or an
//! `invalid_request` deny out, within the policy's [`Limits`]. Every entry point (the crate's
//! `evaluate_json`, the batch, a service) reads descriptions through here.

use super::{ReadBody, Request, Text, UniqueJson};
use crate::limits::{json_depth_exceeds, Limits};
use crate::Decision;
use serde::de::{Error as _, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

impl Request {
    /// Reads one request description as a client sent it: refused with an `invalid_request`
    /// deny (naming line and column, echoing the `id` when one can be read) when it is over
    /// `max_request_bytes`, not UTF-8, not a JSON object, nested deeper than `max_json_depth`,
    /// or not a valid description.
    ///
    /// ```
    /// use orgscope::{Limits, Request};
    ///
    /// let ok = Request::intake(br#"{"action": "query", "user": {"orgs": ["Asia"]}}"#, &Limits::DEFAULT);
    /// assert!(ok.is_ok());
    /// let refused = Request::intake(b"[1]", &Limits::DEFAULT).unwrap_err();
    /// assert_eq!(refused.errors[0].message, "the request on line 1 is not a JSON object");
    /// ```
    pub fn intake(bytes: &[u8], limits: &Limits) -> Result<Request, Box<Decision<'static>>> {
        intake(bytes, limits, 1).map_err(|r| Box::new(r.decision()))
    }
}

/// Why a description was refused, before it becomes a deny.
#[derive(Debug)]
pub(crate) struct Refused {
    message: String,
    id: Option<Value>,
    /// The text ends inside a JSON value: it may be the first line of a multi-line document.
    pub(crate) unfinished: bool,
    /// The text is one JSON value, just not a valid description.
    pub(crate) well_formed: bool,
}

impl Refused {
    fn new(message: String) -> Refused {
        Refused {
            message,
            id: None,
            unfinished: false,
            well_formed: false,
        }
    }

    /// The `invalid_request` deny.
    pub(crate) fn decision(self) -> Decision<'static> {
        Decision::invalid_request(self.id, self.message)
    }
}

/// [`Request::intake`] for a description whose first line is line `line` of the input, its
/// strings owned (`String`) or borrowed from `bytes` ([`super::Str`]).
pub(crate) fn intake<'a, S: Text + Deserialize<'a> + From<&'a str>>(
    bytes: &'a [u8],
    limits: &Limits,
    line: usize,
) -> Result<Request<S>, Refused>
where
    S::Body: ReadBody<'a>,
{
    let text = text(bytes, limits, line)?;
    match super::reader::read(text, limits.max_json_depth) {
        Some(request) => Ok(request),
        None => through_serde(text, limits, line),
    }
}

/// [`intake`], the request handed to `decide` where it was read instead of returned: it is
/// large, and each return copied it (callers that decide and drop it need no more).
pub(crate) fn intake_with<'a, S: Text + Deserialize<'a> + From<&'a str>, T>(
    bytes: &'a [u8],
    limits: &Limits,
    line: usize,
    decide: impl FnOnce(&Request<S>) -> T,
) -> Result<T, Refused>
where
    S::Body: ReadBody<'a>,
{
    let text = text(bytes, limits, line)?;
    let read = super::reader::read(text, limits.max_json_depth);
    match &read {
        Some(request) => Ok(decide(request)),
        None => through_serde(text, limits, line).map(|request| decide(&request)),
    }
}

/// The text of a description within `max_request_bytes`, checked as UTF-8 once (rather than
/// each of its strings by serde_json).
fn text<'a>(bytes: &'a [u8], limits: &Limits, line: usize) -> Result<&'a str, Refused> {
    if bytes.len() > limits.max_request_bytes {
        return Err(refusal(
            line,
            format!("is over the limit of {} bytes", limits.max_request_bytes),
        ));
    }
    std::str::from_utf8(bytes).map_err(|_| refusal(line, "is not valid UTF-8".to_string()))
}

fn refusal(line: usize, what: String) -> Refused {
    Refused::new(format!("the request on line {line} {what}"))
}

/// A description the reader left to serde (an escape, a fraction, any error): read by serde,
/// which words every refusal.
fn through_serde<'a, S: Text + Deserialize<'a> + From<&'a str>>(
    text: &'a str,
    limits: &Limits,
    line: usize,
) -> Result<Request<S>, Refused>
where
    S::Body: ReadBody<'a>,
{
    if !text.trim_start().starts_with('{') {
        return Err(refusal(line, "is not a JSON object".to_string()));
    }
    if json_depth_exceeds(text.as_bytes(), limits.max_json_depth) {
        return Err(refusal(
            line,
            format!("nests deeper than {} levels", limits.max_json_depth),
        ));
    }
    let e = match serde_json::from_str::<Request<S>>(text) {
        Ok(request) => return Ok(request),
        // Worded as the owned request reads it: a borrowed body is checked once read whole,
        // where serde would name the line and column of the fault.
        Err(e) => serde_json::from_str::<Request>(text).err().unwrap_or(e),
    };
    let full = e.to_string();
    // serde_json ends messages with " at line L column C", relative to the text.
    let what = full
        .rsplit_once(" at line ")
        .map_or(full.as_str(), |(m, _)| m);
    let well_formed = e.is_data();
    Err(Refused {
        message: format!(
            "invalid request on line {}, column {}: {what}",
            line + e.line().saturating_sub(1),
            e.column()
        ),
        id: if well_formed { salvage_id(text) } else { None },
        unfinished: e.is_eof(),
        well_formed,
    })
}

/// The `id` of a description that is JSON but not a valid [`Request`], unless it is given
/// twice or holds a duplicate key (then what it says is ambiguous).
fn salvage_id(json: &str) -> Option<Value> {
    struct Id(Option<Value>);
    impl<'de> Deserialize<'de> for Id {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Id;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Id, A::Error> {
                    let mut id = None;
                    while let Some(key) = map.next_key::<String>()? {
                        if key != "id" {
                            map.next_value::<IgnoredAny>()?;
                        } else if id.replace(map.next_value::<UniqueJson>()?.0).is_some() {
                            return Err(A::Error::custom("`id` twice"));
                        }
                    }
                    Ok(Id(id))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_str::<Id>(json).ok()?.0
}

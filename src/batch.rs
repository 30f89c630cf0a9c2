//! Streaming evaluation: request descriptions in (one JSON document, or NDJSON), decisions out,
//! one per request, in order, in constant memory.

use crate::limits::{json_depth_exceeds, Limits};
use crate::{Decision, EntityLookup, Policy, Request};
use std::io::{self, BufRead, Write};

/// How a batch is evaluated.
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchOptions {
    /// Add a trace of every rule consulted to each decision.
    pub explain: bool,
}

/// What a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchStats {
    /// Decisions written.
    pub decisions: u64,
    /// Of which denies.
    pub denies: u64,
}

/// Evaluates every request in `input`, writing one decision per request to `output`.
///
/// Each line holding a complete JSON value is one request, answered by one compact JSON line.
/// A JSON object spread over several lines (a pretty-printed request) is one request, answered
/// by one pretty-printed decision. Blank lines are skipped. A line that is not a valid request
/// (bad JSON, unknown fields, invalid UTF-8, over the policy's [`crate::Limits`]) gets an
/// `invalid_request` deny naming its line, and the batch goes on. Memory stays bounded by
/// `max_request_bytes` whatever the input. Output is flushed whenever the input has nothing more
/// buffered, so a process feeding requests one at a time gets each answer at once.
pub fn evaluate_stream<R: BufRead, W: Write>(
    policy: &Policy,
    entities: &dyn EntityLookup,
    mut input: R,
    mut output: W,
    options: BatchOptions,
) -> io::Result<BatchStats> {
    let limits = *policy.limits();
    let mut stats = BatchStats::default();
    let mut line = Vec::new();
    let mut doc: Vec<u8> = Vec::new();
    let mut doc_start = 0usize;
    let mut line_no = 0usize;
    // Decisions are serialized into one reused buffer and written whole: serde_json writing
    // token by token through `io::Write` costs more than the evaluation itself.
    let mut scratch = Vec::with_capacity(1024);
    let mut emit = |out: &mut W, d: &Decision, pretty: bool| -> io::Result<()> {
        stats.decisions += 1;
        if !d.is_allow() {
            stats.denies += 1;
        }
        scratch.clear();
        let r = if pretty {
            serde_json::to_writer_pretty(&mut scratch, d)
        } else {
            d.write_compact(&mut scratch)
        };
        r.map_err(io::Error::from)?;
        scratch.push(b'\n');
        out.write_all(&scratch)
    };
    let answer = |req: &Request| decide(policy, entities, req, options);
    loop {
        if input.fill_buf()?.is_empty() {
            output.flush()?;
        }
        if !read_line(&mut input, &mut line, limits.max_request_bytes)? {
            break;
        }
        line_no += 1;
        if !doc.is_empty() {
            // Inside a multi-line document: keep reading until it parses or cannot.
            doc.extend_from_slice(&line);
            match parse(&doc, doc_start, &limits) {
                Parsed::Incomplete => continue,
                Parsed::Request(req) => emit(&mut output, &answer(&req), true)?,
                Parsed::Invalid(_) => {
                    // Not one document after all: answer its first line as malformed and
                    // the lines after it one by one.
                    for (n, part) in doc.split(|&b| b == b'\n').enumerate() {
                        let part = part.trim_ascii();
                        if part.is_empty() {
                            continue;
                        }
                        let d = match parse(part, doc_start + n, &limits) {
                            Parsed::Request(req) if n > 0 => answer(&req),
                            Parsed::Invalid(d) => *d,
                            _ => malformed(part, doc_start + n),
                        };
                        emit(&mut output, &d, false)?;
                    }
                }
            }
            doc.clear();
            continue;
        }
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            continue;
        }
        match parse(trimmed, line_no, &limits) {
            Parsed::Request(req) => emit(&mut output, &answer(&req), false)?,
            Parsed::Incomplete => {
                doc_start = line_no;
                doc.extend_from_slice(&line);
            }
            Parsed::Invalid(d) => emit(&mut output, &d, false)?,
        }
    }
    if !doc.is_empty() {
        emit(&mut output, &malformed(doc.trim_ascii(), doc_start), false)?;
    }
    output.flush()?;
    Ok(stats)
}

/// Reads one line into `buf` (cleared first), keeping at most `max + 1` bytes of it so that an
/// endless line cannot exhaust memory; the rest of an over-long line is skipped. False at the
/// end of the input.
fn read_line<R: BufRead>(input: &mut R, buf: &mut Vec<u8>, max: usize) -> io::Result<bool> {
    buf.clear();
    let mut read_any = false;
    loop {
        let available = input.fill_buf()?;
        if available.is_empty() {
            return Ok(read_any);
        }
        read_any = true;
        let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (available.get(..=i).unwrap_or_default(), true),
            None => (available, false),
        };
        let room = (max + 1).saturating_sub(buf.len());
        buf.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
        let used = chunk.len();
        input.consume(used);
        if done {
            return Ok(true);
        }
    }
}

enum Parsed {
    Request(Box<Request>),
    /// The start of a multi-line document.
    Incomplete,
    Invalid(Box<Decision>),
}

fn invalid(message: String) -> Parsed {
    Parsed::Invalid(Box::new(Decision::invalid_request(None, message)))
}

/// Parses one request description within the limits.
fn parse(bytes: &[u8], line: usize, limits: &Limits) -> Parsed {
    if bytes.len() > limits.max_request_bytes {
        return invalid(format!(
            "the request on line {line} is over the limit of {} bytes",
            limits.max_request_bytes
        ));
    }
    if !bytes.starts_with(b"{") && std::str::from_utf8(bytes).is_ok() {
        return invalid(format!("the request on line {line} is not a JSON object"));
    }
    if json_depth_exceeds(bytes, limits.max_json_depth) {
        return invalid(format!(
            "the request on line {line} nests deeper than {} levels",
            limits.max_json_depth
        ));
    }
    // One UTF-8 check of the whole line, rather than serde_json's check of every string in it.
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Parsed::Invalid(Box::new(malformed(bytes, line)));
    };
    match serde_json::from_str::<Request>(text) {
        Ok(req) => Parsed::Request(Box::new(req)),
        Err(e) if e.is_eof() && bytes.starts_with(b"{") => Parsed::Incomplete,
        Err(_) => Parsed::Invalid(Box::new(malformed(bytes, line))),
    }
}

fn decide(
    policy: &Policy,
    entities: &dyn EntityLookup,
    req: &Request,
    options: BatchOptions,
) -> Decision {
    if options.explain {
        policy.explain(req, entities)
    } else {
        policy.evaluate_with(req, entities)
    }
}

/// The deny for input that is not a request description, naming its line.
fn malformed(bytes: &[u8], line: usize) -> Decision {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Decision::invalid_request(None, format!("line {line} is not valid UTF-8"));
    };
    let message = match serde_json::from_str::<Request>(text) {
        Err(e) => {
            let full = e.to_string();
            // serde_json ends messages with " at line L column C" relative to the text.
            let what = full
                .rsplit_once(" at line ")
                .map_or(full.as_str(), |(m, _)| m);
            format!(
                "invalid request on line {}, column {}: {what}",
                line + e.line().saturating_sub(1),
                e.column()
            )
        }
        Ok(_) => format!("invalid request on line {line}"),
    };
    Decision::invalid_request(crate::request::salvage_id(text), message)
}

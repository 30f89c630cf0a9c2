//! Streaming evaluation: request descriptions in (one JSON document, or NDJSON), decisions out,
//! one per request, in order, in constant memory.

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

/// A multi-line document may be at most this long before it is answered as malformed, so a
/// stray `{` cannot make the reader buffer the rest of a large batch.
const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// Evaluates every request in `input`, writing one decision per request to `output`.
///
/// Each line holding a complete JSON value is one request, answered by one compact JSON line.
/// A JSON object spread over several lines (a pretty-printed request) is one request, answered
/// by one pretty-printed decision. Blank lines are skipped. A line that is not a valid request
/// (bad JSON, unknown fields, invalid UTF-8) gets an `invalid_request` deny naming its line, and
/// the batch goes on. Output is flushed whenever the input has nothing more buffered, so a
/// process feeding requests one at a time gets each answer at once.
pub fn evaluate_stream<R: BufRead, W: Write>(
    policy: &Policy,
    entities: &dyn EntityLookup,
    mut input: R,
    mut output: W,
    options: BatchOptions,
) -> io::Result<BatchStats> {
    let mut stats = BatchStats::default();
    let mut line = Vec::new();
    let mut doc: Vec<u8> = Vec::new();
    let mut doc_start = 0usize;
    let mut doc_lines: Vec<usize> = Vec::new();
    let mut line_no = 0usize;
    let mut emit = |out: &mut W, d: &Decision, pretty: bool| -> io::Result<()> {
        stats.decisions += 1;
        if !d.is_allow() {
            stats.denies += 1;
        }
        let r = if pretty {
            serde_json::to_writer_pretty(&mut *out, d)
        } else {
            serde_json::to_writer(&mut *out, d)
        };
        r.map_err(io::Error::from)?;
        out.write_all(b"\n")
    };
    loop {
        if input.fill_buf()?.is_empty() {
            output.flush()?;
        }
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        line_no += 1;
        if !doc.is_empty() {
            // Inside a multi-line document: keep reading until it parses or cannot.
            doc_lines.push(doc.len());
            doc.extend_from_slice(&line);
            match serde_json::from_slice::<Request>(&doc) {
                Err(e) if e.is_eof() && doc.len() < MAX_DOCUMENT_BYTES => continue,
                Ok(req) => {
                    emit(&mut output, &decide(policy, entities, &req, options), true)?;
                    doc.clear();
                    doc_lines.clear();
                }
                Err(_) => {
                    // Not one document after all: answer its first line as malformed and
                    // read the lines after it again, one by one.
                    let first = doc_lines.first().copied().unwrap_or(doc.len());
                    let first_line = doc.get(..first).unwrap_or_default().trim_ascii();
                    let d = malformed(first_line, doc_start);
                    emit(&mut output, &d, false)?;
                    let rest = std::mem::take(&mut doc);
                    let tail = rest.get(first..).unwrap_or_default();
                    let sub = evaluate_lines(policy, entities, tail, doc_start + 1, options);
                    for (d, _) in sub {
                        emit(&mut output, &d, false)?;
                    }
                    doc_lines.clear();
                }
            }
            continue;
        }
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            continue;
        }
        match serde_json::from_slice::<Request>(trimmed) {
            Ok(req) => emit(&mut output, &decide(policy, entities, &req, options), false)?,
            Err(e) if e.is_eof() && trimmed.starts_with(b"{") => {
                doc_start = line_no;
                doc.extend_from_slice(&line);
            }
            Err(_) => emit(&mut output, &malformed(trimmed, line_no), false)?,
        }
    }
    if !doc.is_empty() {
        let d = malformed(&doc, doc_start);
        emit(&mut output, &d, false)?;
    }
    output.flush()?;
    Ok(stats)
}

/// Answers already-buffered lines one by one (after a multi-line document turned out broken).
fn evaluate_lines(
    policy: &Policy,
    entities: &dyn EntityLookup,
    bytes: &[u8],
    first_line: usize,
    options: BatchOptions,
) -> Vec<(Decision, usize)> {
    let mut out = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let n = first_line + i;
        let d = match serde_json::from_slice::<Request>(line) {
            Ok(req) => decide(policy, entities, &req, options),
            Err(_) => malformed(line, n),
        };
        out.push((d, n));
    }
    out
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

//! Streaming evaluation: request descriptions in (one JSON document, or NDJSON), decisions out,
//! one per request, in order, in constant memory.

use crate::limits::{json_depth_exceeds, Limits};
use crate::{Decision, EntityLookup, EvalOptions, Policy, Request};
use std::io::{self, BufRead, Write};

/// How a batch is evaluated.
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchOptions {
    /// Add a trace of every rule consulted to each decision.
    pub explain: bool,
    /// Refuse requests that carry their own `entities` (`EvalOptions::inline_entities(false)`).
    pub no_inline_entities: bool,
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
    let mut stream = Stream {
        policy,
        entities,
        options,
        limits: *policy.limits(),
        stats: BatchStats::default(),
        scratch: Vec::with_capacity(1024),
        doc: Vec::new(),
        doc_start: 0,
        line_no: 0,
    };
    let mut line = Vec::new();
    loop {
        let available = input.fill_buf()?;
        if available.is_empty() {
            break;
        }
        if let Some(i) = available.iter().position(|&b| b == b'\n') {
            // The common case: a whole line in the buffer, answered in place without a copy.
            let drained = i + 1 == available.len();
            stream.line(&mut output, available.get(..=i).unwrap_or_default())?;
            input.consume(i + 1);
            if drained {
                output.flush()?;
            }
        } else {
            // A line split across reads: the rest may be slow to come, so answer what came
            // before it first.
            output.flush()?;
            let drained = read_line(&mut input, &mut line, stream.limits.max_request_bytes)?;
            stream.line(&mut output, &line)?;
            if drained {
                output.flush()?;
            }
        }
    }
    stream.finish(&mut output)?;
    output.flush()?;
    Ok(stream.stats)
}

/// The state of a batch between lines.
struct Stream<'p> {
    policy: &'p Policy,
    entities: &'p dyn EntityLookup,
    options: BatchOptions,
    limits: Limits,
    stats: BatchStats,
    /// Decisions are serialized into one reused buffer and written whole: serde_json writing
    /// token by token through `io::Write` costs more than the evaluation itself.
    scratch: Vec<u8>,
    /// The lines so far of a multi-line document (empty outside one).
    doc: Vec<u8>,
    doc_start: usize,
    line_no: usize,
}

impl Stream<'_> {
    /// Answers one input line (with its `\n`, if it has one), or adds it to a multi-line document.
    fn line<W: Write>(&mut self, out: &mut W, line: &[u8]) -> io::Result<()> {
        self.line_no += 1;
        if !self.doc.is_empty() {
            // Inside a multi-line document: keep reading until it parses or cannot.
            self.doc.extend_from_slice(line);
            match parse(&self.doc, self.doc_start, &self.limits) {
                Parsed::Incomplete => return Ok(()),
                Parsed::Request(req) => {
                    let d = self.answer(&req);
                    self.emit(out, &d, true)?;
                }
                Parsed::Invalid(_) => {
                    // Not one document after all: answer its first line as malformed and
                    // the lines after it one by one.
                    let doc = std::mem::take(&mut self.doc);
                    for (n, part) in doc.split(|&b| b == b'\n').enumerate() {
                        let part = part.trim_ascii();
                        if part.is_empty() {
                            continue;
                        }
                        let d = match parse(part, self.doc_start + n, &self.limits) {
                            Parsed::Request(req) if n > 0 => self.answer(&req),
                            Parsed::Invalid(d) => *d,
                            _ => malformed(part, self.doc_start + n),
                        };
                        self.emit(out, &d, false)?;
                    }
                }
            }
            self.doc.clear();
            return Ok(());
        }
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            return Ok(());
        }
        match parse(trimmed, self.line_no, &self.limits) {
            Parsed::Request(req) => {
                let d = self.answer(&req);
                self.emit(out, &d, false)
            }
            Parsed::Incomplete => {
                self.doc_start = self.line_no;
                self.doc.extend_from_slice(line);
                Ok(())
            }
            Parsed::Invalid(d) => self.emit(out, &d, false),
        }
    }

    /// Answers a document the input left unfinished.
    fn finish<W: Write>(&mut self, out: &mut W) -> io::Result<()> {
        if self.doc.is_empty() {
            return Ok(());
        }
        let d = malformed(self.doc.trim_ascii(), self.doc_start);
        self.emit(out, &d, false)
    }

    fn answer(&self, req: &Request) -> Decision {
        let options = EvalOptions::new()
            .entities(self.entities)
            .explain(self.options.explain)
            .inline_entities(!self.options.no_inline_entities);
        self.policy.evaluate_with(req, &options)
    }

    fn emit<W: Write>(&mut self, out: &mut W, d: &Decision, pretty: bool) -> io::Result<()> {
        self.stats.decisions += 1;
        if !d.is_allow() {
            self.stats.denies += 1;
        }
        self.scratch.clear();
        let r = if pretty {
            serde_json::to_writer_pretty(&mut self.scratch, d)
        } else {
            d.write_compact(&mut self.scratch)
        };
        r.map_err(io::Error::from)?;
        self.scratch.push(b'\n');
        out.write_all(&self.scratch)
    }
}

/// Reads one line into `buf` (cleared first), keeping at most `max + 1` bytes of it so that an
/// endless line cannot exhaust memory; the rest of an over-long line is skipped. Returns whether
/// the reader's buffer is empty after the line (the end of the input counts as empty).
fn read_line<R: BufRead>(input: &mut R, buf: &mut Vec<u8>, max: usize) -> io::Result<bool> {
    buf.clear();
    loop {
        let available = input.fill_buf()?;
        if available.is_empty() {
            return Ok(true);
        }
        let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (available.get(..=i).unwrap_or_default(), true),
            None => (available, false),
        };
        let room = (max + 1).saturating_sub(buf.len());
        buf.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
        let used = chunk.len();
        let drained = used == available.len();
        input.consume(used);
        if done {
            return Ok(drained);
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

//! Streaming evaluation: request descriptions in (one JSON document, or NDJSON), decisions out,
//! one per request, in order, in constant memory.

use super::intake::{intake, intake_with};
use super::{Request, Str};
use crate::limits::Limits;
use crate::{Decision, EntityLookup, EvalOptions, Policy};
use serde::de::IgnoredAny;
use std::io::{self, BufRead, Write};

/// How a batch is evaluated.
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchOptions {
    /// Add a trace of every rule consulted to each decision.
    pub explain: bool,
    /// Refuse requests that carry their own `entities` (`EvalOptions::inline_entities(false)`).
    pub no_inline_entities: bool,
    /// How the input is split into requests.
    pub input: InputFormat,
    /// Pretty-print each decision over several lines; by default each is one compact line,
    /// whatever the layout of its request.
    pub pretty: bool,
}

/// How a batch's input is split into requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputFormat {
    /// NDJSON, unless the first request is unfinished on its line and the whole input is one
    /// JSON document (a pretty-printed request).
    #[default]
    Auto,
    /// The whole input is one request description.
    Json,
    /// One request description per line, whatever the first line holds.
    Ndjson,
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
/// With [`InputFormat::Auto`] (the default) and [`InputFormat::Ndjson`], a line is a request:
/// every non-blank line gets exactly one answer, in order, and a line that is not a valid
/// request (bad or unfinished JSON, unknown fields, invalid UTF-8, over the policy's
/// [`crate::Limits`]) gets an `invalid_request` deny naming its line while the batch goes on.
/// Each line is parsed once. The one exception, in `Auto` only: when the first request is
/// unfinished on its line, the input is held (up to `max_request_bytes`) until its end, and if
/// the whole input is one JSON document it is one request; otherwise its lines are answered one
/// by one. [`InputFormat::Json`] reads the whole input as one request. A JSON array of requests
/// (on one line, or as the whole input) is answered element by element. Each answer is one
/// compact JSON line, or a pretty-printed decision with [`BatchOptions::pretty`]. Memory stays bounded by `max_request_bytes` whatever the input. Output
/// is flushed whenever the input has nothing more buffered, so a process feeding requests one
/// at a time gets each answer at once (with `Auto`, from its first complete line on).
pub fn evaluate_stream<R: BufRead, W: Write>(
    policy: &Policy,
    entities: &dyn EntityLookup,
    mut input: R,
    mut output: W,
    options: BatchOptions,
) -> io::Result<BatchStats> {
    let mut stream = Stream::new(policy, entities, options);
    let mut line = Vec::new();
    let max = stream.limits.max_request_bytes;
    if options.input == InputFormat::Json {
        read_capped(&mut input, &mut line, max, false)?;
        if line.trim_ascii_start().starts_with(b"[") {
            stream.array(&mut output, &line, 1)?;
        } else {
            let d = stream.decide(&line, 1);
            stream.emit(&mut output, &d)?;
        }
        stream.flush(&mut output)?;
        return Ok(stream.stats);
    }
    loop {
        let available = input.fill_buf()?;
        if available.is_empty() {
            break;
        }
        if let Some(i) = memchr::memchr(b'\n', available) {
            // The common case: a whole line in the buffer, answered in place without a copy.
            let drained = i + 1 == available.len();
            stream.line(&mut output, available.get(..=i).unwrap_or_default())?;
            input.consume(i + 1);
            if drained {
                stream.flush(&mut output)?;
            }
        } else {
            // A line split across reads: the rest may be slow to come, so answer what came
            // before it first.
            stream.flush(&mut output)?;
            let drained = read_capped(&mut input, &mut line, max, true)?;
            stream.line(&mut output, &line)?;
            if drained {
                stream.flush(&mut output)?;
            }
        }
    }
    stream.finish(&mut output)?;
    stream.flush(&mut output)?;
    Ok(stream.stats)
}

/// Decisions are written once this many bytes of them are pending: a write then carries whole
/// decisions and stays under a pipe's 64 KiB, so it never stalls with a decision half-written
/// (a decision is a few hundred bytes).
const WRITE_AT: usize = 60 * 1024;

/// The state of a batch between lines.
struct Stream<'p> {
    policy: &'p Policy,
    entities: &'p dyn EntityLookup,
    options: BatchOptions,
    limits: Limits,
    stats: BatchStats,
    /// Decisions not yet written, serialized straight into one reused buffer: serde_json
    /// writing token by token through `io::Write` costs more than the evaluation itself.
    pending: Vec<u8>,
    /// The input so far and the line it starts on, when its first request is unfinished on
    /// its line: it may be one document spread over the whole input.
    doc: Option<(usize, Vec<u8>)>,
    /// Whether a non-blank line was seen.
    started: bool,
    line_no: usize,
}

impl<'p> Stream<'p> {
    fn new(policy: &'p Policy, entities: &'p dyn EntityLookup, options: BatchOptions) -> Self {
        Stream {
            policy,
            entities,
            options,
            limits: *policy.limits(),
            stats: BatchStats::default(),
            // Room for a write's worth, so that it never grows.
            pending: Vec::with_capacity(WRITE_AT + 4 * 1024),
            doc: None,
            started: false,
            line_no: 0,
        }
    }

    /// Answers one input line (with its `\n`, if it has one), or adds it to the document.
    fn line<W: Write>(&mut self, out: &mut W, line: &[u8]) -> io::Result<()> {
        self.line_no += 1;
        if let Some((_, doc)) = &mut self.doc {
            doc.extend_from_slice(line);
            if doc.len() > self.limits.max_request_bytes {
                // Too large to be one request: the input is NDJSON after all.
                return self.replay(out);
            }
            return Ok(());
        }
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            return Ok(());
        }
        let first = !std::mem::replace(&mut self.started, true);
        let hold = first && self.options.input == InputFormat::Auto;
        if trimmed.starts_with(b"[") {
            if hold && unfinished(trimmed) {
                self.doc = Some((self.line_no, line.to_vec()));
                return Ok(());
            }
            return self.array(out, trimmed, self.line_no);
        }
        let (limits, line_no) = (self.limits, self.line_no);
        let written = intake_with::<Str<'_>, _>(trimmed, &limits, line_no, |req| {
            let d = self.answer(req);
            self.emit(out, &d)
        });
        match written {
            Ok(written) => written,
            Err(r) if hold && r.unfinished => {
                self.doc = Some((self.line_no, line.to_vec()));
                Ok(())
            }
            Err(r) => self.emit(out, &r.decision()),
        }
    }

    /// Answers a JSON array of requests starting on input line `line`, element by element;
    /// text that is not a whole JSON array gets one `invalid_request` deny.
    fn array<W: Write>(&mut self, out: &mut W, bytes: &[u8], line: usize) -> io::Result<()> {
        match elements(bytes) {
            Ok(elements) => {
                for (at, element) in elements {
                    let before = bytes.get(..at).unwrap_or_default();
                    let n = line + before.iter().filter(|&&b| b == b'\n').count();
                    let d = self.decide(element, n);
                    self.emit(out, &d)?;
                }
                Ok(())
            }
            Err(e) => {
                let full = e.to_string();
                let what = full
                    .rsplit_once(" at line ")
                    .map_or(full.as_str(), |(m, _)| m);
                let message = format!(
                    "the requests from line {line} are not a JSON array: line {}, column {}: {what}",
                    line + e.line().saturating_sub(1),
                    e.column(),
                );
                self.emit(out, &Decision::invalid_request(None, message))
            }
        }
    }

    /// Answers the input held as a possible document at its end: one pretty-printed decision
    /// if it is one JSON document, else one decision per line. A later line holding a whole
    /// JSON object is a request of its own, never part of the first one.
    fn finish<W: Write>(&mut self, out: &mut W) -> io::Result<()> {
        let Some((start, doc)) = self.doc.take() else {
            return Ok(());
        };
        // An array answers element by element only when it is the whole input; otherwise
        // every line is answered, as for NDJSON.
        if doc.trim_ascii_start().starts_with(b"[") {
            if elements(&doc).is_ok() {
                return self.array(out, &doc, start);
            }
            self.doc = Some((start, doc));
            return self.replay(out);
        }
        let lines_are_requests = doc.split(|&b| b == b'\n').skip(1).any(is_object);
        let d = match intake::<Str<'_>>(&doc, &self.limits, start) {
            Ok(req) if !lines_are_requests => self.answer(&req),
            Err(r) if r.well_formed && !lines_are_requests => r.decision(),
            _ => {
                self.doc = Some((start, doc));
                return self.replay(out);
            }
        };
        self.emit(out, &d)
    }

    /// Answers each line of the held input on its own, as NDJSON.
    fn replay<W: Write>(&mut self, out: &mut W) -> io::Result<()> {
        let Some((start, doc)) = self.doc.take() else {
            return Ok(());
        };
        for (n, part) in doc.split(|&b| b == b'\n').enumerate() {
            let part = part.trim_ascii();
            if part.is_empty() {
                continue;
            }
            if part.starts_with(b"[") {
                self.array(out, part, start + n)?;
                continue;
            }
            let d = self.decide(part, start + n);
            self.emit(out, &d)?;
        }
        Ok(())
    }

    /// The decision for one request description starting on input line `line`.
    fn decide(&self, bytes: &[u8], line: usize) -> Decision<'p> {
        intake_with::<Str<'_>, _>(bytes, &self.limits, line, |req| self.answer(req))
            .unwrap_or_else(|r| r.decision())
    }

    fn answer(&self, req: &Request<Str<'_>>) -> Decision<'p> {
        let options = EvalOptions::new()
            .entities(self.entities)
            .explain(self.options.explain)
            .inline_entities(!self.options.no_inline_entities);
        self.policy.evaluate_any(req, &options)
    }

    fn emit<W: Write>(&mut self, out: &mut W, d: &Decision) -> io::Result<()> {
        self.stats.decisions += 1;
        if !d.is_allow() {
            self.stats.denies += 1;
        }
        let start = self.pending.len();
        let r = if self.options.pretty {
            serde_json::to_writer_pretty(&mut self.pending, d)
        } else {
            d.write_json(&mut self.pending)
        };
        if let Err(e) = r {
            self.pending.truncate(start);
            return Err(e.into());
        }
        self.pending.push(b'\n');
        if self.pending.len() >= WRITE_AT {
            self.write_pending(out)?;
        }
        Ok(())
    }

    /// Writes the decisions not yet written, in one write.
    fn write_pending<W: Write>(&mut self, out: &mut W) -> io::Result<()> {
        if !self.pending.is_empty() {
            out.write_all(&self.pending)?;
            self.pending.clear();
        }
        Ok(())
    }

    /// Writes the decisions not yet written, and flushes `out`.
    fn flush<W: Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.write_pending(out)?;
        out.flush()
    }
}

/// Whether `bytes` end inside a JSON value: the first line of a multi-line document.
fn unfinished(bytes: &[u8]) -> bool {
    serde_json::from_slice::<IgnoredAny>(bytes).is_err_and(|e| e.is_eof())
}

/// The elements of the JSON array `bytes`, each with its offset, unparsed: every request is
/// then read by [`intake`] from its own bytes, so duplicate keys are still refused.
fn elements(bytes: &[u8]) -> Result<Vec<(usize, &[u8])>, serde_json::Error> {
    serde_json::from_slice::<Vec<IgnoredAny>>(bytes)?;
    let skip = |at: &mut usize| {
        while bytes.get(*at).is_some_and(|b| b.is_ascii_whitespace()) {
            *at += 1;
        }
    };
    // Checked above: whitespace, `[`, then values separated by commas up to `]`.
    let mut at = 0;
    skip(&mut at);
    at += 1;
    skip(&mut at);
    let mut out = Vec::new();
    while bytes.get(at).is_some_and(|&b| b != b']') {
        let rest = bytes.get(at..).unwrap_or_default();
        let mut values = serde_json::Deserializer::from_slice(rest).into_iter::<IgnoredAny>();
        values.next().transpose()?;
        let end = at + values.byte_offset();
        out.push((at, bytes.get(at..end).unwrap_or_default()));
        at = end;
        skip(&mut at);
        if bytes.get(at) == Some(&b',') {
            at += 1;
            skip(&mut at);
        }
    }
    Ok(out)
}

/// Whether a line holds one whole JSON object.
fn is_object(line: &[u8]) -> bool {
    let line = line.trim_ascii();
    line.starts_with(b"{")
        && line.ends_with(b"}")
        && serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok()
}

/// Reads one line (or, without `by_line`, the rest of the input) into `buf`, cleared first,
/// keeping at most `max + 1` bytes of it so that an endless line cannot exhaust memory; the
/// rest of an over-long line is skipped. Returns whether the reader's buffer is empty after the
/// line (the end of the input counts as empty).
fn read_capped<R: BufRead>(
    input: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
    by_line: bool,
) -> io::Result<bool> {
    buf.clear();
    loop {
        let available = input.fill_buf()?;
        if available.is_empty() {
            return Ok(true);
        }
        let newline = by_line.then(|| memchr::memchr(b'\n', available)).flatten();
        let (chunk, done) = match newline {
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

/// Lines per chunk of a parallel batch, and bytes (a chunk ends at whichever comes first).
const CHUNK_LINES: usize = 1024;
const CHUNK_BYTES: usize = 256 * 1024;

/// Input lines for a worker of a parallel batch: the `seq`th chunk, starting on input line
/// `first_line`, each line with its `\n`; `out` is an empty buffer for the answers.
struct Chunk {
    seq: u64,
    first_line: usize,
    bytes: Vec<u8>,
    out: Vec<u8>,
}

/// A worker's answers to one chunk, with the chunk's buffer back for reuse.
struct Answered {
    seq: u64,
    out: Vec<u8>,
    bytes: Vec<u8>,
    stats: BatchStats,
}

/// Like [`evaluate_stream`], with the lines of NDJSON decided by `jobs` threads: the calling
/// thread and `jobs - 1` workers. The output is the same, byte for byte, in the same order:
/// the calling thread reads lines in chunks (at most 1,024 lines or 256 KiB) and hands them to
/// the workers, at most two chunks per worker in flight, answering a chunk itself whenever the
/// workers have enough queued; answers are written in input order, so memory stays bounded
/// whatever the input. The first request (which, with
/// [`InputFormat::Auto`], may start a pretty-printed document) and [`InputFormat::Json`] input
/// are decided on the calling thread. Output is flushed whenever the input has nothing more
/// buffered, after every answer before it is written. `jobs` of 0 or 1 is [`evaluate_stream`].
pub fn evaluate_stream_jobs<R: BufRead, W: Write>(
    policy: &Policy,
    entities: &(dyn EntityLookup + Sync),
    input: R,
    output: W,
    options: BatchOptions,
    jobs: usize,
) -> io::Result<BatchStats> {
    if jobs <= 1 || options.input == InputFormat::Json {
        return evaluate_stream(policy, entities, input, output, options);
    }
    // No thread only reads and writes: on two cores, three busy threads would take turns.
    let workers = jobs - 1;
    let (work_tx, work_rx) = std::sync::mpsc::sync_channel::<Chunk>(2 * workers);
    let work_rx = std::sync::Mutex::new(work_rx);
    let (done_tx, done_rx) = std::sync::mpsc::channel::<io::Result<Answered>>();
    std::thread::scope(|s| {
        for _ in 0..workers {
            let (work_rx, done_tx) = (&work_rx, done_tx.clone());
            s.spawn(move || {
                // The lock is held only while waiting for the next chunk.
                while let Some(chunk) = work_rx.lock().ok().and_then(|rx| rx.recv().ok()) {
                    let answered = answer_chunk(policy, entities, options, chunk);
                    if done_tx.send(answered).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let mut pipeline = Pipeline {
            policy,
            entities,
            options,
            work: work_tx,
            done: done_rx,
            max_in_flight: 2 * workers,
            in_flight: 0,
            next_seq: 0,
            next_write: 0,
            ready: std::collections::BTreeMap::new(),
            spare: Vec::new(),
            stats: BatchStats::default(),
        };
        let result = read_lines(policy, entities, options, input, output, &mut pipeline);
        result.map(|stats| BatchStats {
            decisions: stats.decisions + pipeline.stats.decisions,
            denies: stats.denies + pipeline.stats.denies,
        })
    })
}

/// The reading side of a parallel batch: the first request (and a document it may start)
/// decided here, every later line sent to the workers in chunks.
fn read_lines<R: BufRead, W: Write>(
    policy: &Policy,
    entities: &(dyn EntityLookup + Sync),
    options: BatchOptions,
    mut input: R,
    mut output: W,
    pipeline: &mut Pipeline<'_>,
) -> io::Result<BatchStats> {
    let mut stream = Stream::new(policy, entities, options);
    let max = stream.limits.max_request_bytes;
    let mut line = Vec::new();
    let mut chunk = pipeline.buffer();
    let (mut chunk_lines, mut chunk_first) = (0, 0);
    loop {
        let available = input.fill_buf()?;
        if available.is_empty() {
            break;
        }
        // After the first request of NDJSON, the whole lines in the buffer (up to the chunk's
        // line limit) go to the chunk in one copy: the reading thread only finds their newlines.
        let (lines, end) = if stream.started && stream.doc.is_none() {
            memchr::memchr_iter(b'\n', available)
                .take(CHUNK_LINES - chunk_lines)
                .fold((0, 0), |(n, _), i| (n + 1, i + 1))
        } else {
            (0, 0)
        };
        let (added, drained) = if lines > 0 {
            chunk.extend_from_slice(available.get(..end).unwrap_or_default());
            let drained = end == available.len();
            input.consume(end);
            (lines, drained)
        } else {
            // The first request, a document, or a line longer than the buffer: one line.
            let drained = match memchr::memchr(b'\n', available) {
                Some(i) => {
                    line.clear();
                    line.extend_from_slice(available.get(..=i).unwrap_or_default());
                    let drained = i + 1 == available.len();
                    input.consume(i + 1);
                    drained
                }
                None => read_capped(&mut input, &mut line, max, true)?,
            };
            if !stream.started || stream.doc.is_some() {
                stream.line(&mut output, &line)?;
                // Written now: the workers' answers, written later, come after it.
                stream.write_pending(&mut output)?;
                (0, drained)
            } else {
                chunk.extend_from_slice(&line);
                (1, drained)
            }
        };
        if added > 0 {
            if chunk_lines == 0 {
                chunk_first = stream.line_no + 1;
            }
            stream.line_no += added;
            chunk_lines += added;
        }
        if chunk_lines > 0 && (drained || chunk_lines == CHUNK_LINES || chunk.len() >= CHUNK_BYTES)
        {
            let bytes = std::mem::replace(&mut chunk, pipeline.buffer());
            pipeline.send(&mut output, chunk_first, bytes)?;
            chunk_lines = 0;
        }
        if drained {
            // Nothing more to read for now: whoever feeds the batch waits for these answers.
            pipeline.wait(&mut output, 0)?;
            output.flush()?;
        }
    }
    if chunk_lines > 0 {
        pipeline.send(&mut output, chunk_first, chunk)?;
    }
    pipeline.wait(&mut output, 0)?;
    stream.finish(&mut output)?;
    stream.flush(&mut output)?;
    Ok(stream.stats)
}

/// Decides one chunk's lines, as [`Stream::line`] decides lines after the first request.
fn answer_chunk(
    policy: &Policy,
    entities: &(dyn EntityLookup + Sync),
    options: BatchOptions,
    chunk: Chunk,
) -> io::Result<Answered> {
    let mut stream = Stream::new(policy, entities, options);
    stream.started = true;
    stream.line_no = chunk.first_line.saturating_sub(1);
    let mut out = chunk.out;
    out.reserve(chunk.bytes.len());
    let mut rest = chunk.bytes.as_slice();
    while !rest.is_empty() {
        let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
        let (line, tail) = rest.split_at(end);
        stream.line(&mut out, line)?;
        rest = tail;
    }
    stream.write_pending(&mut out)?;
    Ok(Answered {
        seq: chunk.seq,
        out,
        bytes: chunk.bytes,
        stats: stream.stats,
    })
}

/// Chunks on their way to the workers and answers on their way back, written in order.
struct Pipeline<'p> {
    policy: &'p Policy,
    entities: &'p (dyn EntityLookup + Sync),
    options: BatchOptions,
    work: std::sync::mpsc::SyncSender<Chunk>,
    done: std::sync::mpsc::Receiver<io::Result<Answered>>,
    /// Chunks the workers may hold at once (answering or queued); those `in_flight` now.
    max_in_flight: usize,
    in_flight: usize,
    next_seq: u64,
    next_write: u64,
    /// Answers that came back (or were answered here) before an earlier chunk's.
    ready: std::collections::BTreeMap<u64, Answered>,
    /// Emptied buffers of chunks and answers, used again: a buffer allocated on one thread
    /// and freed on another costs both threads' allocators more than the copy into it.
    spare: Vec<Vec<u8>>,
    stats: BatchStats,
}

impl Pipeline<'_> {
    /// Hands a chunk to the workers or, when they already hold `max_in_flight`, answers it on
    /// this thread instead of waiting for them.
    fn send<W: Write>(&mut self, out: &mut W, first_line: usize, bytes: Vec<u8>) -> io::Result<()> {
        let chunk = Chunk {
            seq: self.next_seq,
            first_line,
            bytes,
            out: self.buffer(),
        };
        self.next_seq += 1;
        while let Ok(answered) = self.done.try_recv() {
            self.returned(out, answered)?;
        }
        // Answers held back for an earlier chunk stay few, however slow that chunk is.
        while self.ready.len() >= self.max_in_flight && self.in_flight > 0 {
            let answered = self.done.recv();
            self.returned(out, answered.map_err(|_| stopped())?)?;
        }
        if self.in_flight < self.max_in_flight {
            self.work.send(chunk).map_err(|_| stopped())?;
            self.in_flight += 1;
            return Ok(());
        }
        let answered = answer_chunk(self.policy, self.entities, self.options, chunk)?;
        self.ready.insert(answered.seq, answered);
        self.write_ready(out)
    }

    /// Writes answers in order until at most `left` chunks are with the workers; with 0, until
    /// every chunk sent is answered and written.
    fn wait<W: Write>(&mut self, out: &mut W, left: usize) -> io::Result<()> {
        while self.in_flight > left {
            let answered = self.done.recv().map_err(|_| stopped())?;
            self.returned(out, answered)?;
        }
        Ok(())
    }

    /// Takes a worker's answers back, and writes what is now in order.
    fn returned<W: Write>(
        &mut self,
        out: &mut W,
        answered: io::Result<Answered>,
    ) -> io::Result<()> {
        self.in_flight -= 1;
        let answered = answered?;
        self.ready.insert(answered.seq, answered);
        self.write_ready(out)
    }

    /// Writes the answers that are next in input order.
    fn write_ready<W: Write>(&mut self, out: &mut W) -> io::Result<()> {
        while let Some(a) = self.ready.remove(&self.next_write) {
            out.write_all(&a.out)?;
            self.stats.decisions += a.stats.decisions;
            self.stats.denies += a.stats.denies;
            self.next_write += 1;
            // As many buffers as chunks can be out at once, and no more: memory stays flat.
            for mut b in [a.out, a.bytes] {
                if self.spare.len() < 2 * (self.max_in_flight + 2) {
                    b.clear();
                    self.spare.push(b);
                }
            }
        }
        Ok(())
    }

    /// An empty buffer for a chunk or its answers.
    fn buffer(&mut self) -> Vec<u8> {
        self.spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(CHUNK_BYTES))
    }
}

fn stopped() -> io::Error {
    io::Error::other("the batch workers stopped")
}

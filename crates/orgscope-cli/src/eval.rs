//! `orgscope eval`: evaluate request descriptions (one JSON document, or NDJSON) into decisions.

use crate::explain;
use orgscope::batch::{evaluate_stream_jobs, BatchOptions, BatchStats, InputFormat};
use orgscope::{EntityLookup, EntityStore, NoEntities, Policy};
use serde_json::Value;
use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Arguments of `orgscope eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file.
    #[arg(long, value_name = "POLICY")]
    policy: PathBuf,
    /// Existing objects: a JSON array or NDJSON of `{"type", "id", "org"}`.
    #[arg(long, value_name = "FILE")]
    entities: Option<PathBuf>,
    /// Explain every decision: `--explain` (or `--explain json`) adds a `trace` of every rule
    /// consulted to each JSON decision; `--explain text` prints, for people, the numbered steps
    /// and the decision with why (for a deny, what would have to change) instead of JSON.
    #[arg(
        long,
        value_enum,
        value_name = "FORMAT",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "json"
    )]
    explain: Option<Explain>,
    /// Exit 1 when any decision is a deny.
    #[arg(long)]
    fail_on_deny: bool,
    /// Refuse requests that carry their own `entities` (`invalid_request`): existing objects
    /// come only from `--entities`.
    #[arg(long)]
    no_inline_entities: bool,
    /// Request files, read in order (each one JSON object, NDJSON, or a JSON array of
    /// requests); `-` or nothing reads standard input.
    #[arg(value_name = "REQUEST")]
    inputs: Vec<PathBuf>,
    /// How the input is split into requests: `ndjson` (a line is a request), `json` (the whole
    /// input is one request), or `auto`: NDJSON, unless the first line is unfinished and the
    /// whole input is one JSON document (then nothing is answered before the input ends).
    #[arg(
        long = "input",
        value_enum,
        value_name = "FORMAT",
        default_value = "auto"
    )]
    format: Format,
    /// How each decision is written: `compact` (one JSON line, NDJSON) or `pretty` (indented
    /// over several lines), whatever the layout of the request.
    #[arg(
        long = "format",
        value_enum,
        value_name = "FORMAT",
        default_value = "compact"
    )]
    output: Output,
    /// Decide NDJSON lines on N threads; the output is the same as with one, in the same
    /// order, and memory stays bounded.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    jobs: u16,
    #[command(flatten)]
    policy_limits: super::PolicyLimits,
    #[command(flatten)]
    request_limits: super::RequestLimits,
}

/// How `--input` splits the input into requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// NDJSON, or one document when the whole input is one.
    Auto,
    /// The whole input is one request.
    Json,
    /// One request per line.
    Ndjson,
}

/// How `--format` writes each decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Output {
    /// One JSON line per decision.
    Compact,
    /// Indented JSON.
    Pretty,
}

/// How `--explain` shows the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Explain {
    /// A `trace` array in each JSON decision.
    Json,
    /// Numbered steps and the decision, for people.
    Text,
}

pub fn run(args: Args) -> i32 {
    let limits = args.policy_limits.with(&args.request_limits);
    let policy = match Policy::from_file_with(&args.policy, limits) {
        Ok(p) => p,
        Err(e) => {
            eprint!("{}", e.render(super::stderr_style()));
            eprintln!("error: cannot evaluate with `{}`", args.policy.display());
            return 2;
        }
    };
    let store;
    let entities: &(dyn EntityLookup + Sync) = match &args.entities {
        None => &NoEntities,
        Some(path) => {
            let loaded = std::fs::read_to_string(path)
                .map_err(|e| e.to_string())
                .and_then(|text| EntityStore::parse(&policy, &text).map_err(|e| e.to_string()));
            match loaded {
                Ok(s) => {
                    store = s;
                    &store
                }
                Err(e) => {
                    eprintln!("error: entities file `{}`: {e}", path.display());
                    return 2;
                }
            }
        }
    };
    let options = BatchOptions {
        explain: args.explain.is_some(),
        no_inline_entities: args.no_inline_entities,
        input: match args.format {
            Format::Auto => InputFormat::Auto,
            Format::Json => InputFormat::Json,
            Format::Ndjson => InputFormat::Ndjson,
        },
        pretty: args.output == Output::Pretty,
    };
    let stdout = io::stdout();
    // JSON goes straight to standard output: the batch already gathers decisions into writes
    // of whole lines. The text rendering writes piece by piece, so it is buffered.
    let mut output: Box<dyn Write> = match args.explain {
        Some(Explain::Text) => Box::new(TextExplain {
            inner: io::BufWriter::with_capacity(64 * 1024, stdout.lock()),
            buf: Vec::new(),
            count: 0,
        }),
        _ => Box::new(stdout.lock()),
    };
    let stdin = [PathBuf::from("-")];
    let inputs = if args.inputs.is_empty() {
        &stdin[..]
    } else {
        &args.inputs[..]
    };
    let jobs = usize::from(args.jobs);
    let mut denies = 0;
    let result = inputs.iter().try_for_each(|path| {
        let stats = evaluate_file(path, |input| {
            evaluate_stream_jobs(&policy, entities, input, &mut output, options, jobs)
        })?;
        denies += stats.denies;
        Ok::<_, io::Error>(())
    });
    match result {
        Ok(()) if args.fail_on_deny && denies > 0 => 1,
        Ok(()) => 0,
        // A reader that went away (`orgscope eval … | head`) is not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

/// Runs `f` over the requests in `path` (`-`: standard input, announced on a terminal). A read
/// error names the file it came from.
fn evaluate_file(
    path: &Path,
    f: impl FnOnce(&mut dyn BufRead) -> io::Result<BatchStats>,
) -> io::Result<BatchStats> {
    let named =
        |e: io::Error, what: &str| io::Error::new(e.kind(), format!("cannot read {what}: {e}"));
    if path.as_os_str() == "-" {
        let stdin = io::stdin();
        if stdin.is_terminal() {
            eprintln!("orgscope: reading requests from standard input (end with Ctrl-D)");
        }
        let mut input = Named {
            inner: stdin.lock(),
            name: "standard input".to_string(),
        };
        return f(&mut input);
    }
    let file = std::fs::File::open(path).map_err(|e| named(e, &format!("`{}`", path.display())))?;
    let mut input = Named {
        inner: BufReader::with_capacity(64 * 1024, file),
        name: format!("`{}`", path.display()),
    };
    f(&mut input)
}

/// A reader whose errors say what was being read.
struct Named<R> {
    inner: R,
    name: String,
}

impl<R: BufRead> io::Read for Named<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| error(&self.name, e))
    }
}

impl<R: BufRead> BufRead for Named<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        // The name borrowed apart from the reader, so the buffer is asked for once a line.
        let name = &self.name;
        self.inner.fill_buf().map_err(|e| error(name, e))
    }

    fn consume(&mut self, n: usize) {
        self.inner.consume(n)
    }
}

/// A read error, saying what was being read.
fn error(name: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("cannot read {name}: {e}"))
}

/// `--explain=text`: turns the decisions the batch writes (JSON with a trace) into text as each
/// one is complete, so a batch still streams.
struct TextExplain<W: Write> {
    inner: W,
    /// Bytes of the decision being written.
    buf: Vec<u8>,
    /// Decisions written so far.
    count: u64,
}

impl<W: Write> TextExplain<W> {
    /// Renders every complete decision in the buffer.
    fn drain(&mut self) -> io::Result<()> {
        loop {
            let mut values = serde_json::Deserializer::from_slice(&self.buf).into_iter::<Value>();
            match values.next() {
                Some(Ok(decision)) => {
                    let end = values.byte_offset();
                    self.count += 1;
                    if self.count > 1 {
                        writeln!(self.inner)?;
                    }
                    match decision.get("id").filter(|id| !id.is_null()) {
                        Some(id) => writeln!(
                            self.inner,
                            "request {} (id {})",
                            self.count,
                            explain::show(id)
                        )?,
                        None => writeln!(self.inner, "request {}", self.count)?,
                    }
                    self.inner
                        .write_all(explain::render(&decision).as_bytes())?;
                    self.buf.drain(..end);
                }
                Some(Err(e)) if e.is_eof() => return Ok(()),
                None => {
                    self.buf.clear();
                    return Ok(());
                }
                Some(Err(e)) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
        }
    }
}

impl<W: Write> Write for TextExplain<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        // Every decision ends with a newline: only then can one be complete.
        if bytes.contains(&b'\n') {
            self.drain()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain()?;
        self.inner.flush()
    }
}

//! `orgscope eval`: evaluate request descriptions (one JSON document, or NDJSON) into decisions.

use orgscope::batch::{evaluate_stream, BatchOptions};
use orgscope::{EntityLookup, EntityStore, NoEntities, Policy};
use std::io::{self, BufReader};
use std::path::PathBuf;

/// Arguments of `orgscope eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file.
    #[arg(long, value_name = "POLICY")]
    policy: PathBuf,
    /// Existing objects: a JSON array or NDJSON of `{"type", "id", "org"}`.
    #[arg(long, value_name = "FILE")]
    entities: Option<PathBuf>,
    /// Add a trace of every rule consulted to each decision.
    #[arg(long)]
    explain: bool,
    /// Exit 1 when any decision is a deny.
    #[arg(long)]
    fail_on_deny: bool,
    /// Request file (one JSON object, or NDJSON); `-` or nothing reads standard input.
    #[arg(value_name = "REQUEST")]
    input: Option<PathBuf>,
}

pub fn run(args: Args) -> i32 {
    let policy = match Policy::from_file(&args.policy) {
        Ok(p) => p,
        Err(e) => {
            eprint!("{}", e.render(super::stderr_style()));
            eprintln!("error: cannot evaluate with `{}`", args.policy.display());
            return 2;
        }
    };
    let store;
    let entities: &dyn EntityLookup = match &args.entities {
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
        explain: args.explain,
    };
    let stdout = io::stdout();
    let output = io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let result = match args.input.as_deref() {
        None => evaluate_stream(&policy, entities, io::stdin().lock(), output, options),
        Some(p) if p.as_os_str() == "-" => {
            evaluate_stream(&policy, entities, io::stdin().lock(), output, options)
        }
        Some(path) => match std::fs::File::open(path) {
            Ok(f) => evaluate_stream(
                &policy,
                entities,
                BufReader::with_capacity(64 * 1024, f),
                output,
                options,
            ),
            Err(e) => {
                eprintln!("error: cannot read `{}`: {e}", path.display());
                return 2;
            }
        },
    };
    match result {
        Ok(stats) if args.fail_on_deny && stats.denies > 0 => 1,
        Ok(_) => 0,
        // A reader that went away (`orgscope eval … | head`) is not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

//! `orgscope sql`: decisions as SQL filters, PostgreSQL row-level security and scoped queries.

use orgscope::{Decision, EvalOptions, Policy};
use orgscope_sql::{Dialect, Mapping};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Arguments of `orgscope sql`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Print the predicate a request's decision puts on one object type's table, as JSON
    /// `{"sql", "params"}`.
    Filter(FilterArgs),
    /// Print PostgreSQL row-level security DDL for every mapped table; with `--request`, print
    /// instead the per-transaction statement that sets what the request may see, as JSON
    /// `{"sql", "params"}`.
    Rls(RlsArgs),
    /// Rewrite a SELECT so it reads only the request's visible rows of every mapped table, and
    /// print it as JSON `{"sql", "params"}`; refuse what cannot be scoped safely.
    Scope(ScopeArgs),
}

/// The policy and its mapping file, for every `sql` subcommand.
#[derive(Debug, clap::Args)]
struct Sources {
    /// The policy file.
    #[arg(long, value_name = "POLICY")]
    policy: PathBuf,
    /// The mapping file: where each object type's rows live (docs/data.md).
    #[arg(long, value_name = "MAP")]
    map: PathBuf,
}

#[derive(Debug, clap::Args)]
struct FilterArgs {
    #[command(flatten)]
    sources: Sources,
    /// The request description (one JSON object); `-` reads standard input.
    #[arg(long, value_name = "REQUEST")]
    request: PathBuf,
    /// The object type whose table is filtered (its name or an alias).
    #[arg(long, value_name = "TYPE")]
    object: String,
    /// The database the SQL is for: `postgres` or `sqlite`.
    #[arg(long, default_value_t = Dialect::Postgres)]
    dialect: Dialect,
}

#[derive(Debug, clap::Args)]
struct RlsArgs {
    #[command(flatten)]
    sources: Sources,
    /// A request description: print the settings for its decision instead of the DDL.
    #[arg(long, value_name = "REQUEST")]
    request: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct ScopeArgs {
    #[command(flatten)]
    sources: Sources,
    /// The request description (one JSON object); `-` reads standard input.
    #[arg(long, value_name = "REQUEST")]
    request: PathBuf,
    /// The database the SQL is for: `postgres` or `sqlite`.
    #[arg(long, default_value_t = Dialect::Postgres)]
    dialect: Dialect,
    /// The query; without it, the request's `body.query` (the seed's query jobs).
    query: Option<String>,
}

pub fn run(args: Args) -> i32 {
    let result = match args.command {
        Command::Filter(a) => filter(a),
        Command::Rls(a) => rls(a),
        Command::Scope(a) => scope(a),
    };
    match result {
        Ok(out) => {
            println!("{out}");
            0
        }
        Err(code) => code,
    }
}

/// Loads the policy and the mapping, or prints why not.
fn load(sources: &Sources) -> Result<(Policy, Mapping), i32> {
    let policy = Policy::from_file(&sources.policy).map_err(|e| {
        eprint!("{}", e.render(super::stderr_style()));
        eprintln!("error: cannot load `{}`", sources.policy.display());
        2
    })?;
    let mapping = Mapping::from_file(&sources.map, &policy).map_err(|e| {
        eprint!("{}", e.render(super::stderr_style()));
        eprintln!("error: cannot load `{}`", sources.map.display());
        2
    })?;
    Ok((policy, mapping))
}

/// Decides the request in `path` (`-`: standard input), returning its text too; an unreadable
/// one is an error.
fn decide<'p>(policy: &'p Policy, path: &Path) -> Result<(Decision<'p>, String), i32> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    };
    match text {
        Ok(t) => Ok((policy.evaluate_json(&t, &EvalOptions::new()), t)),
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", path.display());
            Err(2)
        }
    }
}

fn filter(args: FilterArgs) -> Result<String, i32> {
    let (policy, mapping) = load(&args.sources)?;
    let (decision, _) = decide(&policy, &args.request)?;
    let Some(table) = mapping.object(&policy, &args.object) else {
        eprintln!(
            "error: object type `{}` has no table in `{}`",
            args.object,
            args.sources.map.display()
        );
        return Err(2);
    };
    let f = orgscope_sql::filter(&decision, table, args.dialect);
    Ok(json!({"sql": f.sql(), "params": f.params()}).to_string())
}

fn rls(args: RlsArgs) -> Result<String, i32> {
    let (policy, mapping) = load(&args.sources)?;
    let Some(request) = &args.request else {
        return Ok(orgscope_sql::rls::ddl(&mapping).trim_end().to_string());
    };
    let (decision, _) = decide(&policy, request)?;
    match orgscope_sql::rls::settings(&decision) {
        Ok(s) => Ok(json!(s).to_string()),
        Err(e) => {
            eprintln!("error[multi_org_off]: {e}");
            Err(1)
        }
    }
}

fn scope(args: ScopeArgs) -> Result<String, i32> {
    let (policy, mapping) = load(&args.sources)?;
    let (decision, request) = decide(&policy, &args.request)?;
    let query = match &args.query {
        Some(q) => q.clone(),
        None => match body_query(&request) {
            Some(q) => q,
            None => {
                eprintln!("error: no query given, and the request has no string `body.query`");
                return Err(2);
            }
        },
    };
    match orgscope_sql::scope(&query, &decision, &mapping, args.dialect) {
        Ok(s) => Ok(json!(s).to_string()),
        Err(e) => {
            eprintln!("error[{}]: {e}", e.code);
            if let Some(d) = decision.errors.first() {
                eprintln!("  = note: {}: {}", d.code, d.message);
            }
            Err(1)
        }
    }
}

/// The request's `body.query`, the seed's query job text.
fn body_query(request: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(request).ok()?;
    v.pointer("/body/query")?.as_str().map(str::to_string)
}

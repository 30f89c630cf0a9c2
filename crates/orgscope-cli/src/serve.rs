//! `orgscope serve`: run the decision service (the `orgscope-server` crate) from flags.

use orgscope_server::{Config, DecisionLog, IdentityHeaders, Jwt, JwtAlgorithm, JwtClaims};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `orgscope serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file (reloaded when it changes, and on SIGHUP).
    #[arg(long, value_name = "POLICY")]
    policy: PathBuf,
    /// Trusted existing objects: a JSON array or NDJSON of `{"type", "id", "org"}`, reloaded
    /// with the policy.
    #[arg(long, value_name = "FILE")]
    entities: Option<PathBuf>,
    /// Trusted entity stores (SQLite, PostgreSQL) per object type, a TOML file (docs/server.md);
    /// read again with the policy. Object types it does not configure use `--entities`.
    #[arg(long, value_name = "FILE")]
    stores: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free port; the address is printed on stderr).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8181")]
    listen: SocketAddr,
    /// Also serve Envoy ext_authz over gRPC on this address, over the same policy (port 0
    /// picks a free port; the address is printed on stderr).
    #[cfg(feature = "envoy")]
    #[arg(long, value_name = "ADDR")]
    grpc_addr: Option<SocketAddr>,
    /// Believe the identity headers on forward-auth requests. Only when a trusted
    /// authentication layer sets them and the gateway drops the client's copies; without this
    /// flag every forward-auth request is answered 401.
    #[arg(long)]
    trust_identity_headers: bool,
    /// Verify `Authorization: Bearer` JWTs with this key (HS256: the secret's bytes; RS256,
    /// ES256: a PEM public key); the token then says who the user is.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "trust_identity_headers",
        requires = "jwt_alg"
    )]
    jwt_key: Option<PathBuf>,
    /// The one algorithm tokens may use: HS256, RS256 or ES256.
    #[arg(long, value_name = "ALG", requires = "jwt_key")]
    jwt_alg: Option<JwtAlgorithm>,
    /// Required `iss` of tokens.
    #[arg(long, value_name = "ISSUER", requires = "jwt_key")]
    jwt_issuer: Option<String>,
    /// Required `aud` of tokens.
    #[arg(long, value_name = "AUDIENCE", requires = "jwt_key")]
    jwt_audience: Option<String>,
    /// Claim with the user's id (a name, or a JSON pointer such as `/ext/user`).
    #[arg(long, value_name = "CLAIM", default_value = "sub")]
    jwt_claim_user: String,
    /// Claim with the user's orgs: an array of strings or a comma-separated string.
    #[arg(long, value_name = "CLAIM", default_value = "orgs")]
    jwt_claim_orgs: String,
    /// Claim with the user's default org.
    #[arg(long, value_name = "CLAIM", default_value = "default_org")]
    jwt_claim_default_org: String,
    /// Claim with the tenant's Multi-Org switch (a boolean).
    #[arg(long, value_name = "CLAIM", default_value = "multi_org")]
    jwt_claim_multi_org: String,
    /// Write one NDJSON event per decision to this file (`-`: stdout).
    #[arg(long, value_name = "PATH")]
    decision_log: Option<PathBuf>,
    /// A request field never shown in the decision log: a JSON pointer such as `/body/ssn` or
    /// `/headers/cookie` (repeatable).
    #[arg(long, value_name = "POINTER", requires = "decision_log")]
    mask: Vec<String>,
    /// Header with the user's id.
    #[arg(long, value_name = "NAME", default_value = "x-auth-user")]
    user_header: String,
    /// Header with the user's orgs, comma-separated (required on every forward-auth request).
    #[arg(long, value_name = "NAME", default_value = "x-auth-orgs")]
    orgs_header: String,
    /// Header with the user's default org.
    #[arg(long, value_name = "NAME", default_value = "x-auth-default-org")]
    default_org_header: String,
    /// Header with the tenant's Multi-Org switch (`true` or `false`).
    #[arg(long, value_name = "NAME", default_value = "x-auth-multi-org")]
    multi_org_header: String,
    /// Largest `/v1/decide` body (a whole NDJSON batch), in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    max_body_bytes: usize,
    /// Largest request head (request line and headers), in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 10)]
    max_head_bytes: usize,
    /// Decisions in progress at once; more wait for a slot.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    max_concurrency: usize,
    /// Longest wait for a slot, and longest time to answer, in milliseconds (then 503).
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    timeout_ms: u64,
    /// How often to check the policy and entities files for changes, in milliseconds; 0 never.
    #[arg(long, value_name = "MS", default_value_t = 1_000)]
    watch_interval_ms: u64,
    #[command(flatten)]
    policy_limits: super::PolicyLimits,
    #[command(flatten)]
    request_limits: super::RequestLimits,
}

pub fn run(args: Args) -> i32 {
    let identity = match identity(&args) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let jwt = match &args.jwt_key {
        None => None,
        Some(key) => {
            let claims = JwtClaims {
                user: args.jwt_claim_user.clone(),
                orgs: args.jwt_claim_orgs.clone(),
                default_org: args.jwt_claim_default_org.clone(),
                multi_org: args.jwt_claim_multi_org.clone(),
            };
            let alg = args.jwt_alg.unwrap_or(JwtAlgorithm::Rs256);
            let issuer = args.jwt_issuer.as_deref();
            match Jwt::from_file(alg, key, issuer, args.jwt_audience.as_deref(), claims) {
                Ok(j) => Some(j),
                Err(e) => {
                    eprintln!("error: {e}");
                    return 2;
                }
            }
        }
    };
    let mut config = Config::new(args.policy);
    config.entities = args.entities;
    config.stores = args.stores;
    config.jwt = jwt;
    config.decision_log = args
        .decision_log
        .map(|path| DecisionLog::new(path, args.mask.clone()));
    config.listen = args.listen;
    config.limits = args.policy_limits.with(&args.request_limits);
    config.identity = identity;
    config.max_body_bytes = args.max_body_bytes;
    config.max_header_bytes = args.max_head_bytes;
    config.max_concurrency = args.max_concurrency;
    config.timeout = Duration::from_millis(args.timeout_ms);
    config.watch_interval =
        (args.watch_interval_ms > 0).then(|| Duration::from_millis(args.watch_interval_ms));
    #[cfg(feature = "envoy")]
    let grpc = args.grpc_addr;
    #[cfg(not(feature = "envoy"))]
    let grpc = None;
    match serve(config, grpc) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: cannot serve: {e}");
            2
        }
    }
}

#[cfg(feature = "envoy")]
fn serve(config: Config, grpc: Option<SocketAddr>) -> std::io::Result<()> {
    let Some(grpc) = grpc else {
        return orgscope_server::run(config);
    };
    orgscope_server::run_with(config, move |decider, stopping| async move {
        let listener = tokio::net::TcpListener::bind(grpc)
            .await
            .map_err(|e| std::io::Error::new(e.kind(), format!("`{grpc}`: {e}")))?;
        eprintln!("orgscope: ext_authz on grpc://{}", listener.local_addr()?);
        orgscope_envoy::serve(listener, decider, stopping.wait()).await
    })
}

#[cfg(not(feature = "envoy"))]
fn serve(config: Config, _: Option<SocketAddr>) -> std::io::Result<()> {
    orgscope_server::run(config)
}

/// The identity headers, when trusted; names are checked here so a typo fails at start.
fn identity(args: &Args) -> Result<Option<IdentityHeaders>, String> {
    if !args.trust_identity_headers {
        return Ok(None);
    }
    let name = |n: &str| {
        let lower = n.to_ascii_lowercase();
        if lower.starts_with("x-orgscope-") {
            return Err(format!(
                "identity header `{n}` uses the reserved `x-orgscope-` prefix"
            ));
        }
        lower
            .parse()
            .map_err(|_| format!("`{n}` is not a valid header name"))
    };
    Ok(Some(IdentityHeaders {
        user: name(&args.user_header)?,
        orgs: name(&args.orgs_header)?,
        default_org: name(&args.default_org_header)?,
        multi_org: name(&args.multi_org_header)?,
    }))
}

//! `orgscope serve`: the decision service over one compiled policy (docs/server.md).
//!
//! Three front doors share the policy serving now, read once per request from an atomically
//! swapped handle: `POST /v1/decide` (a request description in, a decision out; NDJSON in,
//! NDJSON out), `/v1/forward-auth` (nginx `auth_request`, Caddy, Traefik) and the operational
//! endpoints `/health`, `/health/ready` and `/metrics`. The policy and its entities file are
//! reloaded when they change (and, from [`run`], on `SIGHUP`); a policy that fails to load never
//! replaces the one serving.
//!
//! ```no_run
//! let mut config = orgscope_server::Config::new("policies/zuora-multi-org.policy");
//! config.listen = "127.0.0.1:0".parse()?;
//! let server = orgscope_server::Server::start(config)?;
//! println!("deciding on http://{}", server.addr());
//! server.stop()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod check;
mod forward_auth;
mod http;
mod jwt;
mod log;
mod metrics;
mod state;
mod stores;
mod throttle;

pub use check::{Answer, Decider, Original, Verdict};
pub use forward_auth::{scope_headers, IdentityHeaders};
pub use jwt::{Jwt, JwtAlgorithm, JwtClaims};
pub use log::DecisionLog;
pub use metrics::Endpoint;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulConnection, GracefulShutdown};
use orgscope::Limits;
use state::App;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// How the service runs. [`Config::new`] gives the defaults; every field can then be changed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The policy file.
    pub policy: PathBuf,
    /// The trusted entities file (a JSON array or NDJSON of `{type, id, org}`), reloaded with
    /// the policy.
    pub entities: Option<PathBuf>,
    /// Trusted entity stores (SQLite, PostgreSQL) per object type: a TOML file
    /// (docs/server.md), read again with the policy. Types it does not configure use
    /// `entities`.
    pub stores: Option<PathBuf>,
    /// Where to listen.
    pub listen: SocketAddr,
    /// Limits for the policy and for each request description (one NDJSON line).
    pub limits: Limits,
    /// The identity headers of a trusted authentication layer; `None` (the default) answers
    /// every forward-auth request 401.
    pub identity: Option<IdentityHeaders>,
    /// Verified bearer tokens say who the user is (not together with `identity`).
    pub jwt: Option<Jwt>,
    /// One NDJSON event per decision, with fields masked.
    pub decision_log: Option<DecisionLog>,
    /// Largest body of one `/v1/decide` request (a whole NDJSON batch), in bytes.
    pub max_body_bytes: usize,
    /// Largest request head (request line and headers), in bytes.
    pub max_header_bytes: usize,
    /// Decisions in progress at once; more wait for a slot up to `timeout`.
    pub max_concurrency: usize,
    /// Longest wait for a slot, and longest time to answer once in one.
    pub timeout: Duration,
    /// How often the policy and entities files are checked for changes; `None` never.
    pub watch_interval: Option<Duration>,
}

impl Config {
    /// The defaults, serving `policy` on 127.0.0.1:8181.
    pub fn new(policy: impl Into<PathBuf>) -> Config {
        Config {
            policy: policy.into(),
            entities: None,
            stores: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8181)),
            limits: Limits::default(),
            identity: None,
            jwt: None,
            decision_log: None,
            max_body_bytes: 64 << 20,
            max_header_bytes: 64 << 10,
            max_concurrency: 1024,
            timeout: Duration::from_secs(10),
            watch_interval: Some(Duration::from_secs(1)),
        }
    }
}

/// A service running on its own threads, for embedding and tests; [`run`] is the process form.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    app: Arc<App>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<io::Result<()>>>,
}

impl Server {
    /// Binds `config.listen`, then loads the policy and serves. A policy that fails to load is
    /// reported on stderr and the service answers 503 (not ready) until a good one loads.
    pub fn start(config: Config) -> io::Result<Server> {
        let rt = runtime()?;
        let listener = rt.block_on(TcpListener::bind(config.listen))?;
        let addr = listener.local_addr()?;
        let app = Arc::new(App::new(config, rt.handle().clone())?);
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = app.clone();
        let thread = std::thread::Builder::new()
            .name("orgscope-server".into())
            .spawn(move || {
                rt.block_on(serve(listener, serving, async {
                    let _ = stopped.await;
                }))
            })?;
        Ok(Server {
            addr,
            app,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address the service listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Reloads the policy and its entities now; the new revision, or why the old one stays.
    pub fn reload(&self) -> Result<String, String> {
        self.app.reload()
    }

    /// A handle another front door decides through, sharing this service's policy and limits.
    pub fn decider(&self) -> Decider {
        Decider {
            app: self.app.clone(),
        }
    }

    /// Stops accepting, lets the requests in progress finish, and returns.
    pub fn stop(mut self) -> io::Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("the server thread panicked")),
            None => Ok(()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// Completes when the service is stopping: a front door started by [`run_with`] stops
/// accepting then, and finishes the requests in progress.
#[derive(Debug, Clone)]
pub struct Stopping(tokio::sync::watch::Receiver<bool>);

impl Stopping {
    /// Waits until the service is stopping.
    pub async fn wait(mut self) {
        let _ = self.0.wait_for(|stopping| *stopping).await;
    }
}

/// Runs the service in this process until `SIGTERM` or `SIGINT` (then drains the requests in
/// progress); `SIGHUP` reloads the policy. Prints `listening on http://ADDR` to stderr.
pub fn run(config: Config) -> io::Result<()> {
    run_with(config, |_, _| async { Ok(()) })
}

/// [`run`], with one more front door over the same hot-reloaded policy: `door` is spawned on
/// the service's runtime with a [`Decider`] and a [`Stopping`]. Should it fail, the whole
/// service stops and its error is returned.
pub fn run_with<F, Fut>(config: Config, door: F) -> io::Result<()>
where
    F: FnOnce(Decider, Stopping) -> Fut,
    Fut: Future<Output = io::Result<()>> + Send + 'static,
{
    let rt = runtime()?;
    rt.block_on(async {
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("`{}`: {e}", config.listen)))?;
        eprintln!("orgscope: listening on http://{}", listener.local_addr()?);
        let app = Arc::new(App::new(config, tokio::runtime::Handle::current())?);
        let mut hangup = signal(tokio::signal::unix::SignalKind::hangup())?;
        let mut terminate = signal(tokio::signal::unix::SignalKind::terminate())?;
        let mut interrupt = signal(tokio::signal::unix::SignalKind::interrupt())?;
        let reloading = app.clone();
        tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                let app = reloading.clone();
                let _ = tokio::task::spawn_blocking(move || app.reload()).await;
            }
        });
        let (stopping, stopped) = tokio::sync::watch::channel(false);
        let mut door = tokio::spawn(door(Decider { app: app.clone() }, Stopping(stopped)));
        let mut door_done = false;
        let mut failed = None;
        let stop = async {
            let door_failed = async {
                let e = match (&mut door).await {
                    Ok(Ok(())) => {
                        // A door that has nothing more to do leaves the service running.
                        door_done = true;
                        return std::future::pending().await;
                    }
                    Ok(Err(e)) => e,
                    Err(e) => io::Error::other(e),
                };
                door_done = true;
                e
            };
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
                e = door_failed => failed = Some(e),
            }
            eprintln!("orgscope: shutting down");
        };
        let timeout = app.config.timeout;
        serve(listener, app, stop).await?;
        let _ = stopping.send(true);
        if let Some(e) = failed {
            return Err(e);
        }
        if !door_done {
            // The other front door drains within the same time limit.
            let _ = tokio::time::timeout(timeout, door).await;
        }
        Ok(())
    })
}

fn signal(kind: tokio::signal::unix::SignalKind) -> io::Result<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(kind)
}

fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("orgscope-worker")
        .build()
}

/// Loads the policy, watches its files, and accepts connections until `stop` completes.
async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    stop: impl Future<Output = ()>,
) -> io::Result<()> {
    let loading = app.clone();
    let _ = tokio::task::spawn_blocking(move || loading.reload()).await;
    if let Some(every) = app.config.watch_interval {
        tokio::spawn(watch(app.clone(), every));
    }
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(app.config.timeout)
        .max_buf_size(app.config.max_header_bytes.max(8192));
    let timeout = app.config.timeout;
    let graceful = accept_until(listener, stop, |io| {
        let app = app.clone();
        let service = hyper::service::service_fn(move |req| http::handle(app.clone(), req));
        builder.serve_connection(io, service)
    })
    .await;
    // Requests in progress get the time limit to finish.
    let _ = tokio::time::timeout(timeout, graceful.shutdown()).await;
    Ok(())
}

/// How long the accept loop waits after a failed `accept` (hyper's and axum's servers wait
/// too): long enough not to spin, short enough that a freed descriptor is used at once.
const ACCEPT_PAUSE: Duration = Duration::from_millis(50);

/// The accept loop of every front door: each connection `listener` accepts (with TCP_NODELAY:
/// an answer's last small write must not wait for the peer's delayed ACK) is served by the
/// hyper connection `connection` makes of it, until `stop` completes; then the listener is
/// closed, and the returned handle's `shutdown()` ends the connections gracefully (requests
/// in progress finish), as long as the caller cares to wait.
pub async fn accept_until<C>(
    listener: TcpListener,
    stop: impl Future<Output = ()>,
    mut connection: impl FnMut(TokioIo<TcpStream>) -> C,
) -> GracefulShutdown
where
    C: GracefulConnection + Send + 'static,
    C::Error: Send,
{
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors, the connection stays queued and `accept`
                        // fails again at once: pause instead of spinning a core, and say so.
                        static ACCEPT_FAILS: throttle::Throttle = throttle::Throttle::new();
                        ACCEPT_FAILS.warn(|| format!("orgscope: cannot accept a connection: {e}"));
                        tokio::select! {
                            () = tokio::time::sleep(ACCEPT_PAUSE) => continue,
                            () = &mut stop => break,
                        }
                    }
                };
                // Only latency depends on it: a socket that refuses still serves.
                let _ = stream.set_nodelay(true);
                let conn = graceful.watch(connection(TokioIo::new(stream)));
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            () = &mut stop => break,
        }
    }
    graceful
}

/// Reloads when the policy, entities or stores file changes (its modification time or size), polling:
/// portable, and a file replaced by a rename (as Kubernetes updates a ConfigMap) is seen too.
async fn watch(app: Arc<App>, every: Duration) {
    let files: Vec<PathBuf> = std::iter::once(app.config.policy.clone())
        .chain(app.config.entities.clone())
        .chain(app.config.stores.clone())
        .collect();
    let stamps = |files: &[PathBuf]| files.iter().map(|f| state::stamp(f)).collect::<Vec<_>>();
    let mut seen = stamps(&files);
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let now = stamps(&files);
        if now != seen {
            seen = now;
            let app = app.clone();
            let _ = tokio::task::spawn_blocking(move || app.reload()).await;
        }
    }
}

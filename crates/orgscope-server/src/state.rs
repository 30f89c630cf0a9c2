//! What serves: the compiled policy and its trusted store, loaded together, swapped atomically.

use crate::forward_auth::Who;
use crate::log::{Asked, Sink};
use crate::metrics::{Endpoint, Metrics};
use crate::stores::{RequestLookup, Stores};
use crate::Config;
use arc_swap::ArcSwapOption;
use orgscope::{Decision, EntityStore, EvalOptions, Policy};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime};
use tokio::runtime::Handle;
use tokio::sync::Semaphore;

/// One compiled policy with its store: immutable once built, shared by every request.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) policy: Policy,
    store: Option<EntityStore>,
    stores: Option<Stores>,
    /// The first 12 hex digits of the SHA-256 of the policy's sources (and the entities and
    /// stores files).
    pub(crate) revision: String,
}

/// The service's shared state: the serving policy (read once per request, lock-free), the
/// configuration and the metrics.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) config: Config,
    current: ArcSwapOption<Loaded>,
    pub(crate) metrics: Metrics,
    /// Decisions in progress at once (`Config::max_concurrency`).
    pub(crate) permits: Arc<Semaphore>,
    /// One reload at a time (SIGHUP and the file watcher may fire together), so an older load
    /// can never be swapped in after a newer one.
    reloading: Mutex<()>,
    next_id: AtomicU64,
    id_prefix: String,
    /// The runtime PostgreSQL connections run on.
    handle: Handle,
    log: Option<Sink>,
}

impl App {
    pub(crate) fn new(config: Config, handle: Handle) -> std::io::Result<App> {
        if config.identity.is_some() && config.jwt.is_some() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "identity headers and JWT are two identity sources: configure one",
            ));
        }
        let log = config.decision_log.as_ref().map(Sink::open).transpose()?;
        // Decision ids unique across restarts and replicas: the start time and pid, then a counter.
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let seed = Sha256::digest(format!("{nanos}:{}", std::process::id()));
        Ok(App {
            handle,
            log,
            reloading: Mutex::new(()),
            permits: Arc::new(Semaphore::new(config.max_concurrency.max(1))),
            config,
            current: ArcSwapOption::empty(),
            metrics: Metrics::default(),
            next_id: AtomicU64::new(1),
            id_prefix: hex(&seed, 8),
        })
    }

    /// Who may say who the user is.
    pub(crate) fn who(&self) -> Who<'_> {
        match (&self.config.jwt, &self.config.identity) {
            (Some(jwt), _) => Who::Jwt(jwt),
            (None, Some(headers)) => Who::Headers(headers),
            (None, None) => Who::Nobody,
        }
    }

    /// The one path from a request to a decision, for every front door: the policy with its
    /// trusted stores (cached for this request only), then the metrics and the decision log.
    pub(crate) fn decide<'l>(
        &self,
        loaded: &'l Loaded,
        endpoint: Endpoint,
        id: &str,
        asked: Asked<'_>,
    ) -> Decision<'l> {
        let start = Instant::now();
        let lookup = RequestLookup::new(loaded.store.as_ref(), loaded.stores.as_ref());
        let options = EvalOptions::new().entities(&lookup);
        let d = match asked {
            Asked::Json(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => loaded.policy.evaluate_json(text, &options),
                Err(_) => {
                    Decision::invalid_request(None, "the request is not valid UTF-8".to_string())
                }
            },
            Asked::Request(r) => loaded.policy.evaluate_with(r, &options),
        };
        let took = start.elapsed();
        self.metrics.decision(endpoint, &d, took);
        if let Some(log) = &self.log {
            log.write(id, &loaded.revision, asked, &d, took);
        }
        d
    }

    /// The policy serving now, if one has loaded.
    pub(crate) fn current(&self) -> Option<Arc<Loaded>> {
        self.current.load_full()
    }

    /// A fresh decision id.
    pub(crate) fn decision_id(&self) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n}", self.id_prefix)
    }

    /// Loads the policy and its store from their files; on success swaps them in, otherwise
    /// keeps what serves. Returns the new revision or why the load failed.
    pub(crate) fn reload(&self) -> Result<String, String> {
        let _one = self
            .reloading
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let result = load(&self.config, &self.handle);
        self.metrics.reload(result.is_ok());
        match result {
            Ok(loaded) => {
                let revision = loaded.revision.clone();
                let previous = self.current.swap(Some(Arc::new(loaded)));
                let was = previous.map_or_else(|| "none".to_string(), |p| p.revision.clone());
                eprintln!("orgscope: policy revision {revision} serving (was {was})");
                Ok(revision)
            }
            Err(e) => {
                let keeps = self.current().map_or_else(
                    || "no policy is serving".to_string(),
                    |p| format!("revision {} keeps serving", p.revision),
                );
                eprintln!("orgscope: reload failed, {keeps}\n{e}");
                Err(e)
            }
        }
    }
}

/// Parses, checks and compiles the policy, then loads the entities file and opens the stores
/// against it.
fn load(config: &Config, handle: &Handle) -> Result<Loaded, String> {
    let policy = Policy::from_file_with(&config.policy, config.limits)
        .map_err(|e| e.render(orgscope::diag::Style { color: false }))?;
    let mut hash = Sha256::new();
    hash.update(policy.source().text().as_bytes());
    let store = match &config.entities {
        None => None,
        Some(path) => {
            let text = read(path)?;
            hash.update([0]);
            hash.update(text.as_bytes());
            let store = EntityStore::parse(&policy, &text)
                .map_err(|e| format!("error: entities file `{}`: {e}", path.display()))?;
            Some(store)
        }
    };
    let stores = match &config.stores {
        None => None,
        Some(path) => {
            let (stores, text) = Stores::open(path, &policy, handle)?;
            hash.update([1]);
            hash.update(text.as_bytes());
            Some(stores)
        }
    };
    Ok(Loaded {
        policy,
        store,
        stores,
        revision: hex(&hash.finalize(), 6),
    })
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map_err(|e| format!("error: cannot read `{}`: {e}", path.display()))
}

/// The first `bytes` bytes of `digest` in lower-case hex.
fn hex(digest: &[u8], bytes: usize) -> String {
    digest
        .iter()
        .take(bytes)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What a file's metadata says about its content: a change in either means reload.
pub(crate) fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

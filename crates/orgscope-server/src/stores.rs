//! Trusted entity stores from one TOML file: SQLite and PostgreSQL tables per object type,
//! queried with prepared statements, behind a per-request cache; a store that fails or is slow
//! answers [`Found::Unavailable`], so the decision is a 503 deny.

use crate::throttle::Throttle;
use orgscope::{Entity, EntityLookup, EntityStore, Found, Policy};
use rusqlite::OpenFlags;
use serde::Deserialize;
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::runtime::{Handle, RuntimeFlavor};

/// The stores file (docs/server.md, "Entity stores").
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// Longest wait for one lookup (and for one connection), in milliseconds.
    #[serde(default = "default_timeout_ms")]
    timeout_ms: u64,
    sqlite: Option<SqliteFile>,
    postgres: Option<PostgresFile>,
    #[serde(default)]
    objects: HashMap<String, ObjectFile>,
}

fn default_timeout_ms() -> u64 {
    500
}

fn default_pool() -> usize {
    4
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SqliteFile {
    /// The database, relative to the stores file.
    path: PathBuf,
    /// An entities file (relative to the stores file) to create the database from when it
    /// does not exist.
    seed: Option<PathBuf>,
    #[serde(default = "default_pool")]
    pool: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PostgresFile {
    /// A libpq-style connection string (`host=… port=… user=… dbname=…`) or URL.
    url: String,
    #[serde(default = "default_pool")]
    pool: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ObjectFile {
    store: Kind,
    table: String,
    #[serde(default = "default_id")]
    id: String,
    #[serde(default = "default_org")]
    org: String,
}

fn default_id() -> String {
    "id".into()
}

fn default_org() -> String {
    "org".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Sqlite,
    Postgres,
}

/// The stores of one loaded policy: which object types each answers for, and the
/// connections.
#[derive(Debug)]
pub(crate) struct Stores {
    /// Policy type name → (backend, the type's prepared query).
    by_type: HashMap<String, (Kind, String)>,
    sqlite: Option<Sqlite>,
    postgres: Option<Postgres>,
}

impl Stores {
    /// Reads the stores file, checks it against the policy, and opens every store (so a
    /// policy is ready only once its stores answer). The file's text goes into the revision.
    pub(crate) fn open(
        path: &Path,
        policy: &Policy,
        handle: &Handle,
    ) -> Result<(Stores, String), String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("error: cannot read `{}`: {e}", path.display()))?;
        let here = |m: String| format!("error: stores file `{}`: {m}", path.display());
        let file: File = toml::from_str(&text).map_err(|e| here(e.message().to_string()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let timeout = Duration::from_millis(file.timeout_ms.max(1));
        let mut by_type = HashMap::new();
        for (name, object) in &file.objects {
            let Some(ty) = policy.type_name(name) else {
                return Err(here(format!(
                    "`[objects.{name}]` is not an object type of the policy"
                )));
            };
            let sql = query(object).map_err(here)?;
            if by_type
                .insert(ty.to_string(), (object.store, sql))
                .is_some()
            {
                return Err(here(format!("object type `{ty}` is configured twice")));
            }
            let declared = match object.store {
                Kind::Sqlite => file.sqlite.is_some(),
                Kind::Postgres => file.postgres.is_some(),
            };
            if !declared {
                return Err(here(format!(
                    "`[objects.{name}]` uses a store the file does not configure"
                )));
            }
        }
        let queries = |kind: Kind| -> Vec<String> {
            let mut q: Vec<String> = by_type
                .values()
                .filter(|(k, _)| *k == kind)
                .map(|(_, sql)| sql.clone())
                .collect();
            q.sort();
            q.dedup();
            q
        };
        let sqlite = match &file.sqlite {
            None => None,
            Some(s) => {
                let db = dir.join(&s.path);
                if let Some(seed) = &s.seed {
                    if !db.exists() {
                        create_from_seed(&db, &dir.join(seed), policy, &file.objects)
                            .map_err(here)?;
                    }
                }
                Some(Sqlite::open(&db, s.pool, timeout, &queries(Kind::Sqlite)).map_err(here)?)
            }
        };
        let postgres = match &file.postgres {
            None => None,
            Some(p) => Some(
                Postgres::open(&p.url, p.pool, timeout, queries(Kind::Postgres), handle)
                    .map_err(here)?,
            ),
        };
        let stores = Stores {
            by_type,
            sqlite,
            postgres,
        };
        Ok((stores, text))
    }

    /// What the store configured for `object_type` says, if one is; `Err` when it failed.
    fn find(&self, object_type: &str, id: &str) -> Option<Result<Found<'static>, String>> {
        let (kind, sql) = self.by_type.get(object_type)?;
        let row = match kind {
            Kind::Sqlite => self.sqlite.as_ref().map(|s| s.find(sql, id)),
            Kind::Postgres => self.postgres.as_ref().map(|p| p.find(sql, id)),
        }?;
        Some(row.map(|org| match org {
            None => Found::Missing,
            Some(None) => Found::Unlabeled,
            Some(Some(org)) => Found::Org(Cow::Owned(org)),
        }))
    }
}

/// A SQL identifier from the stores file: letters, digits and `_` (a table may be
/// `schema.table`), quoted so reserved words work. Anything else is refused, so the file can
/// never smuggle SQL into a query.
fn ident(what: &str, name: &str, dotted: bool) -> Result<String, String> {
    let part_ok = |p: &str| {
        p.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let parts: Vec<&str> = name.split('.').collect();
    let most = if dotted { 2 } else { 1 };
    if parts.len() > most || !parts.iter().all(|p| part_ok(p)) {
        return Err(format!(
            "{what} `{name}` must be letters, digits and `_`{}",
            if dotted { " (or `schema.table`)" } else { "" }
        ));
    }
    Ok(parts
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join("."))
}

/// The lookup of one object type: its org as text (or NULL) by id; two rows mean the id is not
/// unique, which no decision may rest on.
fn query(o: &ObjectFile) -> Result<String, String> {
    let (table, id, org) = (
        ident("table", &o.table, true)?,
        ident("column", &o.id, false)?,
        ident("column", &o.org, false)?,
    );
    let param = match o.store {
        Kind::Sqlite => "?1",
        Kind::Postgres => "$1",
    };
    Ok(format!(
        "SELECT CAST({org} AS TEXT) FROM {table} WHERE {id} = {param} LIMIT 2"
    ))
}

/// Creates a SQLite database from an entities file: one table per object type stored in
/// SQLite, written to a temporary file then renamed, so a crash leaves no half database.
fn create_from_seed(
    db: &Path,
    seed: &Path,
    policy: &Policy,
    objects: &HashMap<String, ObjectFile>,
) -> Result<(), String> {
    let text = std::fs::read_to_string(seed)
        .map_err(|e| format!("cannot read seed `{}`: {e}", seed.display()))?;
    // The entities file's own checks (known types, no duplicates) first.
    EntityStore::parse(policy, &text).map_err(|e| format!("seed `{}`: {e}", seed.display()))?;
    let entities: Vec<Entity> = if text.trim_start().starts_with('[') {
        serde_json::from_str(&text).map_err(|e| e.to_string())?
    } else {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(serde_json::from_str)
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?
    };
    let tmp = db.with_extension("seeding");
    let _ = std::fs::remove_file(&tmp);
    let fail = |e: rusqlite::Error| format!("cannot create `{}`: {e}", db.display());
    let mut conn = rusqlite::Connection::open(&tmp).map_err(fail)?;
    let tx = conn.transaction().map_err(fail)?;
    let mut tables: HashMap<String, String> = HashMap::new();
    for (name, o) in objects.iter().filter(|(_, o)| o.store == Kind::Sqlite) {
        let (table, id, org) = (
            ident("table", &o.table, true)?,
            ident("column", &o.id, false)?,
            ident("column", &o.org, false)?,
        );
        tx.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {table} ({id} TEXT PRIMARY KEY NOT NULL, {org} TEXT)"
        ))
        .map_err(fail)?;
        if let Some(ty) = policy.type_name(name) {
            tables.insert(
                ty.to_string(),
                format!("INSERT INTO {table} ({id}, {org}) VALUES (?1, ?2)"),
            );
        }
    }
    for e in &entities {
        let ty = policy.type_name(&e.object_type).unwrap_or(&e.object_type);
        let Some(insert) = tables.get(ty) else {
            return Err(format!(
                "seed `{}` has a `{ty}` entity, but no `[objects.{ty}]` stored in SQLite",
                seed.display()
            ));
        };
        tx.execute(insert, (&e.id, &e.org)).map_err(fail)?;
    }
    tx.commit().map_err(fail)?;
    drop(conn);
    std::fs::rename(&tmp, db).map_err(|e| format!("cannot create `{}`: {e}", db.display()))
}

/// Read-only SQLite connections, each locked while one lookup runs.
struct Sqlite {
    pool: Vec<Mutex<rusqlite::Connection>>,
    next: AtomicUsize,
    timeout: Duration,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sqlite({} connections)", self.pool.len())
    }
}

impl Sqlite {
    fn open(
        db: &Path,
        pool: usize,
        timeout: Duration,
        queries: &[String],
    ) -> Result<Sqlite, String> {
        let fail = |e: rusqlite::Error| format!("sqlite `{}`: {e}", db.display());
        let mut conns = Vec::new();
        for _ in 0..pool.clamp(1, 64) {
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let conn = rusqlite::Connection::open_with_flags(db, flags).map_err(fail)?;
            conn.busy_timeout(timeout).map_err(fail)?;
            // Preparing every query now checks the tables and columns exist.
            for sql in queries {
                conn.prepare_cached(sql).map_err(fail)?;
            }
            conns.push(Mutex::new(conn));
        }
        Ok(Sqlite {
            pool: conns,
            next: AtomicUsize::new(0),
            timeout,
        })
    }

    fn find(&self, sql: &str, id: &str) -> Result<Option<Option<String>>, String> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.pool.len().max(1);
        let conn = self
            .pool
            .get(i)
            .ok_or("no connection")?
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // `busy_timeout` bounds the wait for a lock; this bounds the query itself (a table
        // without an index on its id column, a huge scan): past the deadline SQLite stops it,
        // and the lookup is an error, so a 503.
        let deadline = std::time::Instant::now() + self.timeout;
        conn.progress_handler(1000, Some(move || std::time::Instant::now() > deadline));
        let found = Self::query(&conn, sql, id);
        conn.progress_handler(0, None::<fn() -> bool>);
        found
    }

    fn query(
        conn: &rusqlite::Connection,
        sql: &str,
        id: &str,
    ) -> Result<Option<Option<String>>, String> {
        let mut stmt = conn.prepare_cached(sql).map_err(|e| e.to_string())?;
        let rows = stmt
            .query_map([id], |r| r.get::<_, Option<String>>(0))
            .map_err(|e| e.to_string())?;
        one(rows
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?)
    }
}

/// The org of the one row found (`None` when there is none); two rows are an error.
fn one(mut rows: Vec<Option<String>>) -> Result<Option<Option<String>>, String> {
    match rows.len() {
        0 => Ok(None),
        1 => Ok(rows.pop()),
        _ => Err("the id is not unique in its table".to_string()),
    }
}

/// A few PostgreSQL connections (one client pipelines many queries), each with every query
/// prepared; a broken one is replaced on its next use.
struct Postgres {
    url: String,
    queries: Vec<String>,
    slots: Vec<Mutex<Option<Arc<PgConn>>>>,
    next: AtomicUsize,
    timeout: Duration,
    handle: Handle,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Postgres({} connections)", self.slots.len())
    }
}

struct PgConn {
    client: tokio_postgres::Client,
    statements: HashMap<String, tokio_postgres::Statement>,
}

impl Postgres {
    fn open(
        url: &str,
        pool: usize,
        timeout: Duration,
        queries: Vec<String>,
        handle: &Handle,
    ) -> Result<Postgres, String> {
        let pg = Postgres {
            url: url.to_string(),
            queries,
            slots: (0..pool.clamp(1, 64)).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
            timeout,
            handle: handle.clone(),
        };
        // Every connection now: a policy is ready only once its stores answer.
        for slot in &pg.slots {
            let conn = pg.block(pg.connect())?;
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(conn);
        }
        Ok(pg)
    }

    async fn connect(&self) -> Result<Arc<PgConn>, String> {
        let fail = |e: tokio_postgres::Error| format!("postgres: {e}");
        let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .map_err(fail)?;
        self.handle.spawn(connection);
        let mut statements = HashMap::new();
        for sql in &self.queries {
            let st = client.prepare(sql).await.map_err(fail)?;
            statements.insert(sql.clone(), st);
        }
        Ok(Arc::new(PgConn { client, statements }))
    }

    /// Runs `work` on the service's runtime within the store's time limit, from the
    /// synchronous lookup: a slow database is an error, never a wait past the limit.
    fn block<T: Send>(
        &self,
        work: impl Future<Output = Result<T, String>> + Send,
    ) -> Result<T, String> {
        let limited = async {
            tokio::time::timeout(self.timeout, work)
                .await
                .unwrap_or_else(|_| Err("postgres: timed out".to_string()))
        };
        match Handle::try_current().map(|h| h.runtime_flavor()) {
            // On a worker of a multi-thread runtime: hand its other tasks off while blocked.
            Ok(RuntimeFlavor::MultiThread) => {
                tokio::task::block_in_place(|| self.handle.block_on(limited))
            }
            // On another kind of runtime, blocking it is not allowed: wait from a thread.
            Ok(_) => std::thread::scope(|s| {
                s.spawn(|| self.handle.block_on(limited))
                    .join()
                    .unwrap_or_else(|_| Err("postgres: lookup thread failed".to_string()))
            }),
            Err(_) => self.handle.block_on(limited),
        }
    }

    fn find(&self, sql: &str, id: &str) -> Result<Option<Option<String>>, String> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len().max(1);
        let slot = self.slots.get(i).ok_or("no connection")?;
        let held = slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .filter(|c| !c.client.is_closed());
        self.block(async {
            let conn = match held {
                Some(c) => c,
                None => {
                    let c = self.connect().await?;
                    *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(c.clone());
                    c
                }
            };
            let st = conn
                .statements
                .get(sql)
                .ok_or("postgres: unprepared query")?;
            let rows = conn
                .client
                .query(st, &[&id])
                .await
                .map_err(|e| format!("postgres: {e}"))?;
            let orgs = rows
                .iter()
                .map(|r| r.try_get::<_, Option<String>>(0))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("postgres: {e}"))?;
            one(orgs)
        })
    }
}

/// The trusted lookup of one request: the store configured for the type, else the entities
/// file. Answers are cached for the request only (a store's data can change between requests,
/// never within one decision); a failing store is reported on stderr, at most once a second.
pub(crate) struct RequestLookup<'a> {
    file: Option<&'a EntityStore>,
    stores: Option<&'a Stores>,
    cache: RefCell<Vec<(String, String, Found<'static>)>>,
}

impl<'a> RequestLookup<'a> {
    pub(crate) fn new(file: Option<&'a EntityStore>, stores: Option<&'a Stores>) -> Self {
        RequestLookup {
            file,
            stores,
            cache: RefCell::new(Vec::new()),
        }
    }
}

impl EntityLookup for RequestLookup<'_> {
    fn find(&self, object_type: &str, id: &str) -> Found<'_> {
        if let Some(stores) = self.stores {
            let cached = self
                .cache
                .borrow()
                .iter()
                .find(|(t, i, _)| t == object_type && i == id)
                .map(|(_, _, f)| f.clone());
            if let Some(found) = cached {
                return found;
            }
            if let Some(answer) = stores.find(object_type, id) {
                let found = answer.unwrap_or_else(|e| {
                    static STORE_DOWN: Throttle = Throttle::new();
                    STORE_DOWN
                        .warn(|| format!("orgscope: store of `{object_type}` cannot answer: {e}"));
                    Found::Unavailable
                });
                self.cache.borrow_mut().push((
                    object_type.to_string(),
                    id.to_string(),
                    found.clone(),
                ));
                return found;
            }
        }
        match self.file {
            Some(f) => f.find(object_type, id),
            None => Found::Missing,
        }
    }
}

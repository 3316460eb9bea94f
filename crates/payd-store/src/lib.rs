//! payd's storage: one API, two backends.
//!
//! [`Store`] is chosen by the database URL's scheme: `sqlite:` (the embedded default, WAL) or
//! `postgres:` (production, several payd nodes on one database). The queries are written once
//! (`ops.rs`) and compiled for each backend; each backend has its own migrations. The
//! invariants live in the schema as constraints: one payment per (merchant, mode, idempotency
//! key), unique slugs, unique key hashes.

/// Calls the same query function (`f(…)` or `module::f(…)`) on whichever backend the store
/// runs: every `Store` method that is one query goes through it.
macro_rules! dispatch {
    ($self:ident, $($f:ident)::+ ( $($arg:expr),* )) => {
        match $self {
            Store::Sqlite(p, _) => sqlite::$($f)::+(p, $($arg),*).await,
            Store::Postgres(p, _) => postgres::$($f)::+(p, $($arg),*).await,
        }
    };
}

pub mod auth;
mod batch;
mod catalog;
pub mod chain;
mod evm;
mod keycache;
pub mod manage;
mod postgres;
mod rows;
pub mod settings;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
pub mod users;
pub mod views;
pub mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use payd_core::apikey::{ApiKey, Mode};
use payd_core::event::{Event, EventKind};
use payd_core::ids::{AccountId, ApiKeyId, MerchantId, PaymentId};
use payd_core::merchant::{Merchant, MerchantStatus, NewMerchant};
use payd_core::payment::{Dialect, Payment, PaymentStatus};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use batch::CreateJob;
pub use batch::Creates;

/// How many times an update that lost a race is retried before giving up.
pub(crate) const MUTATE_RETRIES: usize = 8;

/// A PostgreSQL connection idle at least this long is pinged before it is handed out.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness constraint refused the write (the constraint's name).
    #[error("conflict on {0}")]
    Conflict(&'static str),
    /// An update kept losing races with other writers.
    #[error("the record is being changed concurrently; try again")]
    Contended,
    /// A stored value does not parse: the database was changed outside payd.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database URL names no supported backend.
    #[error("unsupported database URL: use sqlite:… or postgres://…")]
    UnsupportedUrl,
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Text the database cannot store (PostgreSQL refuses NUL characters): the caller's
    /// input, so a client error, not an outage.
    #[error("text the database cannot store (a NUL character)")]
    InvalidText,
    /// A deposit address could not be derived for the index allocated to it.
    #[error("deposit address: {0}")]
    Address(String),
    /// Anything else the driver reported.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// The transaction a create was batched into did not commit (or its writer stopped):
    /// nothing of it was acknowledged.
    #[error("not committed: {0}")]
    NotCommitted(String),
}

impl StoreError {
    /// Whether the database gave up on the transaction for a reason that running it again
    /// may not meet: a deadlock (40P01) or a serialization failure (40001), which PostgreSQL
    /// reports when payd nodes sharing it lock the same rows in different orders.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(db)) => {
                matches!(db.code().as_deref(), Some("40P01" | "40001"))
            }
            _ => false,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            // 22021 character_not_in_repertoire, 22P05 untranslatable_character: a NUL in text
            // or in a JSON string.
            if matches!(db.code().as_deref(), Some("22021" | "22P05")) {
                return StoreError::InvalidText;
            }
            if db.is_unique_violation() {
                // Name the invariant, not the driver's text, so callers can map it to a
                // client error.
                let constraint = db.constraint().unwrap_or_default();
                let msg = db.message();
                for name in ["payments_slug_key", "payments_idempotency_key", "api_keys_key_hash_key"] {
                    if constraint == name || msg.contains(name) {
                        return StoreError::Conflict(name);
                    }
                }
                // SQLite names columns, not constraints, in its message.
                if msg.contains("payments.slug") {
                    return StoreError::Conflict("payments_slug_key");
                }
                if msg.contains("payments.idempotency_key") {
                    return StoreError::Conflict("payments_idempotency_key");
                }
                if msg.contains("api_keys.key_hash") {
                    return StoreError::Conflict("api_keys_key_hash_key");
                }
                return StoreError::Conflict("unique");
            }
        }
        StoreError::Database(e)
    }
}

/// Which backend a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A response saved for an idempotency key, replayed byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// Exact body bytes (JSON text).
    pub body: String,
}

/// An idempotency key presented with a create request.
#[derive(Debug, Clone)]
pub struct IdempotencyRequest {
    /// Scope: the merchant…
    pub merchant_id: MerchantId,
    /// …and mode…
    pub mode: Mode,
    /// …and the API it was sent to (the same key on two APIs names two requests).
    pub api: Dialect,
    /// The key as sent.
    pub key: String,
    /// A digest of the request (path and canonical body) that must match on replay.
    pub fingerprint: String,
}

/// How a payment being created gets its deposit address: inside the create's transaction,
/// after its idempotency key is claimed, so a replayed request never takes one.
#[derive(Clone)]
pub struct AddressPlan {
    /// The counter the derivation index comes from (one per extended public key).
    pub key_id: String,
    /// The address family recorded (`evm`, `devnet`, …); an AlpPay client reuses its first
    /// address of the family.
    pub family: String,
    /// Derives the address at an index (the error says why it could not).
    pub derive: Derive,
}

/// Derives a deposit address at an index (the error says why it could not). Owned, because
/// the create's transaction runs on the store's writer, not in the caller.
pub type Derive = std::sync::Arc<dyn Fn(u64) -> Result<String, String> + Send + Sync>;

/// Renders the response a create saves for replays, from the payment as written. Owned, for
/// the same reason as [`Derive`].
pub type Render = std::sync::Arc<dyn Fn(&Payment) -> Result<StoredResponse, StoreError> + Send + Sync>;

impl std::fmt::Debug for AddressPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddressPlan").field("key_id", &self.key_id).field("family", &self.family).finish()
    }
}

/// What a create call did.
#[derive(Debug)]
pub enum CreateOutcome {
    /// A new payment was written, with its events; `response` is what was saved.
    Created {
        /// The rendered response.
        response: StoredResponse,
        /// Events written.
        events: Vec<Event>,
    },
    /// The key was used before: the saved response, and whether the request matched.
    Replayed {
        /// Whether the fingerprint matched the first request.
        same_request: bool,
        /// The first response.
        response: StoredResponse,
        /// The payment the first request created.
        payment_id: Option<PaymentId>,
    },
}

/// Filters for listing payments, newest first.
#[derive(Debug, Clone)]
pub struct PaymentFilter {
    /// Merchants whose payments to include (a key's reach).
    pub merchant_ids: Vec<MerchantId>,
    /// Mode.
    pub mode: Mode,
    /// Only this status.
    pub status: Option<PaymentStatus>,
    /// Only one of these statuses (when not empty).
    pub any_status: Vec<PaymentStatus>,
    /// Only payments in one of these states (when not empty): a dialect's status, as the
    /// cases of payd's status and flags it covers.
    pub cases: Vec<payd_core::dialect_status::StateCase>,
    /// Only payments with (or without) the `underpaid` flag.
    pub underpaid: Option<bool>,
    /// Only payments with (or without) the `overpaid` flag.
    pub overpaid: Option<bool>,
    /// Only payments with one of these invoice numbers (when not empty).
    pub invoices: Vec<String>,
    /// Only payments whose id, slug, customer email or customer name matches (email and id
    /// exactly, names by substring).
    pub search: Option<String>,
    /// Only this reference.
    pub reference: Option<String>,
    /// Only payments of this customer (`customer.external_id`).
    pub customer_external_id: Option<String>,
    /// Created at or after.
    pub created_gte: Option<DateTime<Utc>>,
    /// Created at or before.
    pub created_lte: Option<DateTime<Utc>>,
    /// Keyset cursor: only payments strictly older than this (created_at, id).
    pub before: Option<(DateTime<Utc>, PaymentId)>,
    /// Page size.
    pub limit: u32,
    /// Rows to skip (offset pagination, for dialects that page by number).
    pub offset: u32,
}

impl PaymentFilter {
    /// Every payment of these merchants in `mode`, first page of 20.
    pub fn new(merchant_ids: Vec<MerchantId>, mode: Mode) -> Self {
        PaymentFilter {
            merchant_ids,
            mode,
            status: None,
            any_status: Vec::new(),
            cases: Vec::new(),
            underpaid: None,
            overpaid: None,
            invoices: Vec::new(),
            search: None,
            reference: None,
            customer_external_id: None,
            created_gte: None,
            created_lte: None,
            before: None,
            limit: 20,
            offset: 0,
        }
    }
}

/// Connection settings beyond the URL.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Pool size.
    pub max_connections: u32,
    /// How long to wait for a connection (and, on SQLite, for the write lock).
    pub acquire_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self { max_connections: 10, acquire_timeout: Duration::from_secs(10) }
    }
}

/// The current time at the store's precision (milliseconds), so what is written reads back
/// equal.
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

/// The store: a connection pool on one of the backends, and the writer its payment creates
/// are group-committed by.
#[derive(Debug, Clone)]
pub enum Store {
    /// SQLite.
    Sqlite(SqlitePool, Creates),
    /// PostgreSQL.
    Postgres(PgPool, Creates),
}

impl Store {
    /// Connects to `url` (`sqlite:path?mode=rwc`, `sqlite::memory:`, `postgres://…`). A SQLite
    /// file and its directory are created when missing.
    pub async fn connect(url: &str, opts: &ConnectOptions) -> Result<Store, StoreError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: every commit is fsynced to the WAL before it is acknowledged. NORMAL
                // would lose the last commits on power loss (a payment, or the address
                // counter bump that keeps one deposit address to one payment). Measured in
                // bench/create.
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(opts.acquire_timeout);
            if let Some(dir) = options.get_filename().parent() {
                if !dir.as_os_str().is_empty() && !dir.exists() {
                    std::fs::create_dir_all(dir).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
                }
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(opts.acquire_timeout)
                .connect_with(options)
                .await?;
            Ok(Store::Sqlite(pool, Creates::default()))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(opts.acquire_timeout)
                // sqlx pings every connection it hands out by default: a round trip per
                // acquire, 11 % of a create's CPU under load (perf, docs/benchmarks.md). A
                // connection that was just in use is known good; one idle for a while may have
                // been cut (a restarted server, a proxy's timeout), so only that one is
                // pinged, and a failed ping gets a fresh connection instead.
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for < PING_IF_IDLE_FOR {
                            return Ok(true);
                        }
                        Ok(sqlx::Connection::ping(conn).await.is_ok())
                    })
                })
                .connect_with(options)
                .await?;
            Ok(Store::Postgres(pool, Creates::default()))
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }

    /// Applies the backend's pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(p, _) => {
                // SQLite cannot drop a constraint, so some migrations rebuild a table, which
                // its documented procedure does with foreign keys off (the pragma is a no-op
                // inside the migration's transaction, so it is set on the connection first)
                // and a foreign key check before they are turned back on.
                let mut conn = p.acquire().await?;
                sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut *conn).await?;
                let migrated = sqlx::migrate!("./migrations/sqlite").run(&mut *conn).await;
                let violations = sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut *conn).await;
                sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await?;
                migrated?;
                if !violations?.is_empty() {
                    return Err(StoreError::Corrupt("foreign keys broken by a migration".into()));
                }
            }
            Store::Postgres(p, _) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Connects to an existing database without changing anything: no file or directory is
    /// created (a missing SQLite file is `Ok(None)`), no migration runs, and every statement
    /// is refused a write (`query_only` on SQLite, read-only transactions on PostgreSQL).
    /// For checks, such as `payd config check`, that must write nothing.
    pub async fn connect_read_only(url: &str, opts: &ConnectOptions) -> Result<Option<Store>, StoreError> {
        if url.starts_with("sqlite:") {
            // Opened read-write on purpose: a read-only SQLite connection to a WAL database
            // may leave -wal and -shm files behind, which a normal close removes.
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(false)
                .pragma("query_only", "ON")
                .busy_timeout(opts.acquire_timeout);
            if !options.get_filename().exists() {
                return Ok(None);
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(opts.acquire_timeout)
                .connect_with(options)
                .await?;
            Ok(Some(Store::Sqlite(pool, Creates::default())))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?.options([("default_transaction_read_only", "on")]);
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(opts.acquire_timeout)
                .connect_with(options)
                .await?;
            Ok(Some(Store::Postgres(pool, Creates::default())))
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }

    /// The migrations this build has that the database has not applied yet (`0005_evm`),
    /// read without applying anything.
    pub async fn pending_migrations(&self) -> Result<Vec<String>, StoreError> {
        let (migrator, applied): (sqlx::migrate::Migrator, Vec<i64>) = match self {
            Store::Sqlite(p, _) => {
                let exists: Option<(String,)> = sqlx::query_as(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
                )
                .fetch_optional(p)
                .await?;
                let applied = match exists {
                    Some(_) => {
                        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                            .fetch_all(p)
                            .await?
                    }
                    None => Vec::new(),
                };
                (sqlx::migrate!("./migrations/sqlite"), applied)
            }
            Store::Postgres(p, _) => {
                let exists: Option<String> =
                    sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text").fetch_one(p).await?;
                let applied = match exists {
                    Some(_) => {
                        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                            .fetch_all(p)
                            .await?
                    }
                    None => Vec::new(),
                };
                (sqlx::migrate!("./migrations/postgres"), applied)
            }
        };
        Ok(migrator
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .map(|m| format!("{:04}_{}", m.version, m.description.replace(' ', "_")))
            .collect())
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self {
            Store::Sqlite(..) => Backend::Sqlite,
            Store::Postgres(..) => Backend::Postgres,
        }
    }

    /// Closes the pool.
    pub async fn close(&self) {
        match self {
            Store::Sqlite(p, _) => p.close().await,
            Store::Postgres(p, _) => p.close().await,
        }
    }

    /// Connections open in the pool, and of them idle.
    pub fn pool_use(&self) -> (u32, usize) {
        match self {
            Store::Sqlite(p, _) => (p.size(), p.num_idle()),
            Store::Postgres(p, _) => (p.size(), p.num_idle()),
        }
    }

    /// Webhook deliveries not yet delivered or given up on (pending, waiting for a retry, or
    /// being sent): the dispatcher's queue, counted over its partial index.
    pub async fn webhook_queue_depth(&self) -> Result<u64, StoreError> {
        dispatch!(self, webhooks::webhook_queue_depth())
    }

    /// Signalled when this store committed webhook deliveries (through any of its clones):
    /// the dispatcher waits on it besides its poll interval.
    pub fn deliveries_queued(&self) -> &tokio::sync::Notify {
        self.creates().queued()
    }

    fn creates(&self) -> &Creates {
        match self {
            Store::Sqlite(_, c) | Store::Postgres(_, c) => c,
        }
    }

    /// Runs `op`, a store transaction that may queue webhook deliveries, and wakes the
    /// dispatcher after it if it did.
    pub(crate) async fn waking<T>(&self, op: impl std::future::Future<Output = T>) -> T {
        self.creates().woken(op).await
    }

    /// Wakes the dispatcher: deliveries were queued (or made due again) by a change that does
    /// not go through `fan_out`.
    pub(crate) fn wake_dispatcher(&self) {
        self.creates().wake();
    }

    /// Round-trips a trivial query (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self, ping())
    }

    /// Creates a merchant, and its account unless `new.account_id` names one.
    pub async fn create_merchant(
        &self,
        new: &NewMerchant,
        now: DateTime<Utc>,
    ) -> Result<Merchant, StoreError> {
        let created = dispatch!(self, create_merchant(new, now));
        self.forget_api_keys();
        created
    }

    /// A merchant by id.
    pub async fn get_merchant(&self, id: &MerchantId) -> Result<Option<Merchant>, StoreError> {
        dispatch!(self, get_merchant(id))
    }

    /// The merchants of an account.
    pub async fn merchants_of_account(&self, account: &AccountId) -> Result<Vec<Merchant>, StoreError> {
        dispatch!(self, merchants_of_account(account))
    }

    /// How many merchants exist (zero means a fresh database).
    pub async fn count_merchants(&self) -> Result<i64, StoreError> {
        dispatch!(self, count_merchants())
    }

    /// Suspends or reactivates a merchant.
    pub async fn set_merchant_status(
        &self,
        id: &MerchantId,
        status: MerchantStatus,
        now: DateTime<Utc>,
    ) -> Result<Merchant, StoreError> {
        let changed = dispatch!(self, set_merchant_status(id, status, now));
        self.forget_api_keys();
        changed
    }

    /// Stores a key under the hash of its secret.
    pub async fn insert_api_key(&self, key: &ApiKey, key_hash: &str) -> Result<(), StoreError> {
        dispatch!(self, insert_api_key(key, key_hash))
    }

    /// Finds a key by the hash of its secret (revoked keys included; the caller checks).
    ///
    /// On PostgreSQL the answer may come from the node's cache, which every change of a key's
    /// authenticating columns, on any node, empties (`keycache.rs`).
    pub async fn find_api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKey>, StoreError> {
        match self {
            Store::Sqlite(p, _) => sqlite::find_api_key_by_hash(p, hash).await,
            Store::Postgres(p, c) => {
                let cache = c.keys();
                cache.start(p);
                if let Some(key) = cache.get(hash) {
                    return Ok(Some(key));
                }
                let epoch = cache.epoch();
                let found = postgres::find_api_key_by_hash(p, hash).await?;
                if let Some(key) = &found {
                    cache.put(hash, key.clone(), epoch);
                }
                Ok(found)
            }
        }
    }

    /// The merchants `key` acts for (its one merchant, or its account's), suspended ones
    /// included; `hash` is the hash of its secret, under which it was found.
    ///
    /// On PostgreSQL the answer may come from the node's key cache, which every change of the
    /// merchants table, on any node, empties (`keycache.rs`).
    pub async fn merchants_of_key(&self, hash: &str, key: &ApiKey) -> Result<Vec<Merchant>, StoreError> {
        let read = || async {
            match &key.merchant_id {
                Some(id) => Ok(self.get_merchant(id).await?.into_iter().collect::<Vec<_>>()),
                None => self.merchants_of_account(&key.account_id).await,
            }
        };
        match self {
            Store::Sqlite(..) => read().await,
            Store::Postgres(p, c) => {
                let cache = c.keys();
                cache.start(p);
                if let Some(merchants) = cache.merchants(hash) {
                    return Ok(merchants);
                }
                let epoch = cache.epoch();
                let merchants = read().await?;
                cache.put_merchants(hash, merchants.clone(), epoch);
                Ok(merchants)
            }
        }
    }

    /// Records that a key authenticated a request at `at` (the dashboard's "last used"); an
    /// earlier time than the one recorded changes nothing.
    pub async fn note_api_key_use(&self, id: &ApiKeyId, at: DateTime<Utc>) -> Result<(), StoreError> {
        dispatch!(self, note_api_key_use(id, at))?;
        self.creates().keys().note_use(id, at);
        Ok(())
    }

    /// Empties this node's API key cache at once (other nodes empty theirs when the
    /// database's notification reaches them): after a change of a key or a merchant made on
    /// this node, so that this node's next request already sees it.
    pub(crate) fn forget_api_keys(&self) {
        self.creates().keys().invalidate();
    }

    /// A key by id.
    pub async fn get_api_key(&self, id: &ApiKeyId) -> Result<Option<ApiKey>, StoreError> {
        dispatch!(self, get_api_key(id))
    }

    /// Revokes a key; `false` when it was already revoked or does not exist.
    pub async fn revoke_api_key(&self, id: &ApiKeyId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let revoked = dispatch!(self, revoke_api_key(id, now));
        self.forget_api_keys();
        revoked
    }

    /// Writes a new payment and its events in one transaction. With an idempotency key, a key
    /// seen before returns the saved response instead, and concurrent requests with one key
    /// create one payment. With an address plan, the payment's deposit address is taken in the
    /// same transaction, after the key is claimed (a replay takes none). `render` produces the
    /// response saved for replays from the payment as written; it runs inside the transaction.
    ///
    /// Concurrent creates are group-committed: the store's writer runs those waiting in one
    /// transaction, each isolated from the others (an error undoes only its own writes), and
    /// answers each only once that transaction committed; if it does not commit, every create
    /// in it fails with [`StoreError::NotCommitted`].
    pub async fn create_payment(
        &self,
        payment: &Payment,
        events: &[EventKind],
        idempotency: Option<&IdempotencyRequest>,
        address: Option<&AddressPlan>,
        render: impl Fn(&Payment) -> Result<StoredResponse, StoreError> + Send + Sync + 'static,
    ) -> Result<CreateOutcome, StoreError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = CreateJob {
            payment: payment.clone(),
            events: events.to_vec(),
            idempotency: idempotency.cloned(),
            address: address.cloned(),
            render: std::sync::Arc::new(render),
            reply,
        };
        match self {
            Store::Sqlite(p, creates) => creates.submit(job, p, sqlite::create_batch),
            Store::Postgres(p, creates) => creates.submit(job, p, postgres::create_batch),
        }
        self.waking(answer)
            .await
            .unwrap_or_else(|_| Err(StoreError::NotCommitted("the store's writer stopped".into())))
    }

    /// What [`Store::create_payment`] would answer now for a create carrying `req` if its
    /// key was already used (the saved response, or a mismatch when the fingerprint differs);
    /// `None` when the key is unused. Writes nothing: the engine asks this only when it is
    /// about to refuse a create, so a retry of a create that once succeeded still replays.
    pub async fn idempotent_replay(
        &self,
        req: &IdempotencyRequest,
    ) -> Result<Option<CreateOutcome>, StoreError> {
        dispatch!(self, idempotent_replay(req))
    }

    /// A payment by id.
    pub async fn get_payment(&self, id: &PaymentId) -> Result<Option<Payment>, StoreError> {
        dispatch!(self, get_payment(id))
    }

    /// A payment by its public slug.
    pub async fn get_payment_by_slug(&self, slug: &str) -> Result<Option<Payment>, StoreError> {
        dispatch!(self, get_payment_by_slug(slug))
    }

    /// How many payments match `filter` (ignoring its cursor, limit and offset).
    pub async fn count_payments(&self, filter: &PaymentFilter) -> Result<i64, StoreError> {
        dispatch!(self, count_payments(filter))
    }

    /// Payments matching `filter`, newest first.
    pub async fn list_payments(&self, filter: &PaymentFilter) -> Result<Vec<Payment>, StoreError> {
        dispatch!(self, list_payments(filter))
    }

    /// Applies a transition: loads the payment, runs `f` (which changes it and returns the
    /// events it emits), and writes the payment and its events in one transaction. A
    /// concurrent change makes it start over from the newer row. `f` returning an error
    /// leaves everything as it was.
    pub async fn mutate_payment<E>(
        &self,
        id: &PaymentId,
        f: &mut (dyn FnMut(&mut Payment) -> Result<Vec<EventKind>, E> + Send),
    ) -> Result<Result<(Payment, Vec<Event>), E>, StoreError> {
        self.waking(async { dispatch!(self, mutate_payment(id, None, None, f)) }).await
    }

    /// Like [`Store::mutate_payment`] for a transition that fixes the payment's asset
    /// (`Payment::choose_asset`): in the same transaction the payment gets its deposit address
    /// from `plan` — the one it has when of the plan's family, else the plan's next index.
    pub async fn choose_payment_asset<E>(
        &self,
        id: &PaymentId,
        plan: Option<&AddressPlan>,
        f: &mut (dyn FnMut(&mut Payment) -> Result<Vec<EventKind>, E> + Send),
    ) -> Result<Result<(Payment, Vec<Event>), E>, StoreError> {
        self.waking(async { dispatch!(self, mutate_payment(id, plan, None, f)) }).await
    }

    /// Open payments whose expiry has passed, oldest first.
    pub async fn payments_due_for_expiry(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<PaymentId>, StoreError> {
        dispatch!(self, payments_due_for_expiry(now, limit))
    }

    /// A payment's events in order.
    pub async fn list_events(&self, payment: &PaymentId) -> Result<Vec<Event>, StoreError> {
        dispatch!(self, list_events(payment))
    }
}

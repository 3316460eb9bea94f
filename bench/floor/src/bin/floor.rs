//! The floor for payd's create benchmarks: the same stack as payd (axum 0.8 on tokio, sqlx
//! 0.8 with payd's SQLite pragmas or PostgreSQL) doing the least a create can do. `POST
//! /v1/payments` runs exactly one INSERT of a row shaped like payd's `payments` row (the same
//! columns, a primary key, a unique slug, a foreign key to a merchant and an index on merchant
//! and time) and answers 201 with a small JSON body; `POST /echo` answers the JSON it was sent
//! without touching a database (the HTTP ceiling).
//!
//!   payd-floor <database url | none> <listen address>
//!
//! Prints `floor is listening on port N` once it accepts connections.
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::Value;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

#[derive(Clone)]
enum Db {
    None,
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

struct App {
    db: Db,
    // Unique ids without a random source: the start time and a counter.
    started: u64,
    next: AtomicU64,
}

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS merchants (id TEXT PRIMARY KEY, name TEXT NOT NULL)",
    "INSERT INTO merchants (id, name) VALUES ('mer_floor', 'floor') ON CONFLICT DO NOTHING",
    // payd's payments columns (crates/payd-store/migrations), the ones a create fills.
    "CREATE TABLE IF NOT EXISTS payments (
        id TEXT PRIMARY KEY,
        merchant_id TEXT NOT NULL REFERENCES merchants (id),
        mode TEXT NOT NULL, dialect TEXT NOT NULL, slug TEXT NOT NULL UNIQUE, status TEXT NOT NULL,
        underpaid BOOLEAN NOT NULL, overpaid BOOLEAN NOT NULL, paid_late BOOLEAN NOT NULL,
        price_amount TEXT NOT NULL, price_currency TEXT NOT NULL, token TEXT, network TEXT,
        token_decimals BIGINT, amount_due TEXT, confirmations BIGINT, deposit_address TEXT,
        received_confirmed TEXT NOT NULL, received_pending TEXT NOT NULL, line_items TEXT NOT NULL,
        metadata TEXT NOT NULL, expires_at BIGINT NOT NULL, created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL, completed_at BIGINT, version BIGINT NOT NULL,
        partial_seen BOOLEAN NOT NULL, paid_in_time BOOLEAN NOT NULL, received_late TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS payments_merchant_created ON payments (merchant_id, created_at)",
];

const INSERT_SQLITE: &str = "INSERT INTO payments (id, merchant_id, mode, dialect, slug, status, underpaid, \
    overpaid, paid_late, price_amount, price_currency, token, network, token_decimals, amount_due, confirmations, \
    deposit_address, received_confirmed, received_pending, line_items, metadata, expires_at, created_at, \
    updated_at, completed_at, version, partial_seen, paid_in_time, received_late) VALUES (?, 'mer_floor', 'test', \
    'native', ?, 'pending', FALSE, FALSE, FALSE, ?, ?, ?, ?, 6, ?, 12, ?, '0', '0', '[]', ?, ?, ?, ?, NULL, 1, \
    FALSE, FALSE, '0')";
const INSERT_POSTGRES: &str = "INSERT INTO payments (id, merchant_id, mode, dialect, slug, status, underpaid, \
    overpaid, paid_late, price_amount, price_currency, token, network, token_decimals, amount_due, confirmations, \
    deposit_address, received_confirmed, received_pending, line_items, metadata, expires_at, created_at, \
    updated_at, completed_at, version, partial_seen, paid_in_time, received_late) VALUES ($1, 'mer_floor', 'test', \
    'native', $2, 'pending', FALSE, FALSE, FALSE, $3, $4, $5, $6, 6, $7, 12, $8, '0', '0', '[]', $9, $10, $11, $12, \
    NULL, 1, FALSE, FALSE, '0')";

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(listen)) = (args.next(), args.next()) else {
        eprintln!("usage: payd-floor <sqlite:PATH | postgres://… | none> <listen address>");
        std::process::exit(2);
    };
    let db = match connect(&url).await {
        Ok(db) => db,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let started = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos() as u64;
    let app = Arc::new(App { db, started, next: AtomicU64::new(0) });
    let router = Router::new().route("/v1/payments", post(create)).route("/echo", post(echo)).with_state(app);
    let listener = tokio::net::TcpListener::bind(&listen).await.unwrap_or_else(|e| {
        eprintln!("error: cannot listen on {listen}: {e}");
        std::process::exit(1);
    });
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    println!("floor is listening on port {port}");
    if let Err(e) = axum::serve(listener, router).await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// Opens the pool as payd's `Store::connect` does (pool of 10, 10 s acquire and busy timeout;
/// on SQLite WAL, synchronous=FULL, foreign keys on) and creates the table.
async fn connect(url: &str) -> Result<Db, sqlx::Error> {
    let timeout = Duration::from_secs(10);
    if url == "none" {
        return Ok(Db::None);
    }
    if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(timeout);
        let pool = SqlitePoolOptions::new()
            .max_connections(10)
            .acquire_timeout(timeout)
            .connect_with(options)
            .await?;
        for stmt in SCHEMA {
            sqlx::query(stmt).execute(&pool).await?;
        }
        Ok(Db::Sqlite(pool))
    } else {
        let pool = PgPoolOptions::new().max_connections(10).acquire_timeout(timeout).connect(url).await?;
        for stmt in SCHEMA {
            sqlx::query(stmt).execute(&pool).await?;
        }
        Ok(Db::Postgres(pool))
    }
}

async fn echo(Json(body): Json<Value>) -> Json<Value> {
    Json(body)
}

async fn create(State(app): State<Arc<App>>, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    let n = app.next.fetch_add(1, Ordering::Relaxed);
    let id = format!("pay_{:016x}{:016x}", app.started, n);
    let slug = format!("{:x}{:x}", app.started, n);
    let address = format!("0x{:024x}{:016x}", app.started, n);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as i64;
    let field = |k: &str, d: &str| body.get(k).and_then(Value::as_str).unwrap_or(d).to_owned();
    let (amount, currency) = (field("amount", "10.00"), field("currency", "USD"));
    let (token, network) = (field("token", "USDC"), field("network", "base"));
    let metadata = body.get("metadata").map(Value::to_string).unwrap_or_else(|| "{}".into());
    let result = match &app.db {
        Db::None => Ok(()),
        Db::Sqlite(pool) => sqlx::query(INSERT_SQLITE)
            .bind(&id)
            .bind(&slug)
            .bind(&amount)
            .bind(&currency)
            .bind(&token)
            .bind(&network)
            .bind("10000000")
            .bind(&address)
            .bind(&metadata)
            .bind(now + 86_400_000)
            .bind(now)
            .bind(now)
            .execute(pool)
            .await
            .map(drop),
        Db::Postgres(pool) => sqlx::query(INSERT_POSTGRES)
            .bind(&id)
            .bind(&slug)
            .bind(&amount)
            .bind(&currency)
            .bind(&token)
            .bind(&network)
            .bind("10000000")
            .bind(&address)
            .bind(&metadata)
            .bind(now + 86_400_000)
            .bind(now)
            .bind(now)
            .execute(pool)
            .await
            .map(drop),
    };
    match result {
        Ok(()) => (
            StatusCode::CREATED,
            Json(
                serde_json::json!({"id": id, "status": "pending", "amount": amount, "deposit_address": address}),
            ),
        ),
        Err(e) => {
            eprintln!("insert failed: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, Json(serde_json::json!({"error": "insert failed"})))
        }
    }
}

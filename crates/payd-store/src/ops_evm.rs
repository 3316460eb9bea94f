// Queries for EVM networks (merchant xpubs, watcher leases, client addresses), compiled for
// each backend like ops.rs (included into an `evm` submodule of sqlite.rs and postgres.rs,
// which supply `Db`).

use chrono::{DateTime, Utc};
use payd_core::ids::MerchantId;
use sqlx::{Pool, QueryBuilder};

use crate::rows::ms;
use crate::StoreError;

pub(crate) async fn set_merchant_xpub_evm(
    pool: &Pool<Db>,
    merchant: &MerchantId,
    xpub: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = sqlx::query("UPDATE merchants SET xpub_evm = $2, updated_at = $3 WHERE id = $1")
        .bind(merchant.to_string())
        .bind(xpub)
        .bind(ms(now))
        .execute(pool)
        .await?
        .rows_affected();
    Ok(n == 1)
}

pub(crate) async fn merchant_xpub_evm(pool: &Pool<Db>, merchant: &MerchantId) -> Result<Option<String>, StoreError> {
    let row: Option<(Option<String>,)> = sqlx::query_as("SELECT xpub_evm FROM merchants WHERE id = $1")
        .bind(merchant.to_string())
        .fetch_optional(pool)
        .await?;
    Ok(row.and_then(|(v,)| v))
}

pub(crate) async fn acquire_lease(
    pool: &Pool<Db>,
    network: &str,
    holder: &str,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    // Take a free or expired lease, or renew our own; a live lease of another holder wins.
    let n = sqlx::query(
        "INSERT INTO chain_leases (network, holder, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (network) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
         WHERE chain_leases.holder = excluded.holder OR chain_leases.expires_at < $4",
    )
    .bind(network)
    .bind(holder)
    .bind(ms(until))
    .bind(ms(now))
    .execute(pool)
    .await?
    .rows_affected();
    Ok(n == 1)
}

pub(crate) async fn release_lease(pool: &Pool<Db>, network: &str, holder: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM chain_leases WHERE network = $1 AND holder = $2")
        .bind(network)
        .bind(holder)
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn lease_holder(pool: &Pool<Db>, network: &str) -> Result<Option<(String, i64)>, StoreError> {
    Ok(sqlx::query_as("SELECT holder, expires_at FROM chain_leases WHERE network = $1")
        .bind(network)
        .fetch_optional(pool)
        .await?)
}

pub(crate) async fn merchant_xpubs(pool: &Pool<Db>) -> Result<Vec<(String, Option<String>)>, StoreError> {
    Ok(sqlx::query_as("SELECT id, xpub_evm FROM merchants WHERE status = 'active' ORDER BY id")
        .fetch_all(pool)
        .await?)
}

pub(crate) async fn derived_among(
    pool: &Pool<Db>,
    family: &str,
    candidates: &[String],
) -> Result<Vec<String>, StoreError> {
    let mut found = Vec::new();
    // Chunks keep each statement well under SQLite's limit on bound parameters.
    for chunk in candidates.chunks(500) {
        let mut q: QueryBuilder<Db> = QueryBuilder::new("SELECT address FROM deposit_addresses WHERE family = ");
        q.push_bind(family).push(" AND address IN (");
        let mut list = q.separated(", ");
        for a in chunk {
            list.push_bind(a);
        }
        list.push_unseparated(")");
        let rows: Vec<(String,)> = q.build_query_as().fetch_all(pool).await?;
        found.extend(rows.into_iter().map(|(a,)| a));
    }
    Ok(found)
}

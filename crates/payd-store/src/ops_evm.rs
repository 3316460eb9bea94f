// Queries for live chains (merchant xpubs per family, watcher leases, derived addresses), compiled for
// each backend like ops.rs (included into an `evm` submodule of sqlite.rs and postgres.rs,
// which supply `Db`).

use chrono::{DateTime, Utc};
use payd_core::ids::MerchantId;
use sqlx::{Pool, QueryBuilder};

use crate::rows::ms;
use crate::StoreError;

pub(crate) async fn set_merchant_xpub(
    pool: &Pool<Db>,
    merchant: &MerchantId,
    family: &str,
    xpub: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let n = sqlx::query("UPDATE merchants SET updated_at = $2 WHERE id = $1")
        .bind(merchant.to_string())
        .bind(ms(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n != 1 {
        return Ok(false);
    }
    match xpub {
        Some(xpub) => {
            sqlx::query(
                "INSERT INTO merchant_xpubs (merchant_id, family, xpub, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (merchant_id, family) DO UPDATE SET xpub = excluded.xpub, updated_at = excluded.updated_at",
            )
            .bind(merchant.to_string())
            .bind(family)
            .bind(xpub)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM merchant_xpubs WHERE merchant_id = $1 AND family = $2")
                .bind(merchant.to_string())
                .bind(family)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}

pub(crate) async fn merchant_xpub(
    pool: &Pool<Db>,
    merchant: &MerchantId,
    family: &str,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT xpub FROM merchant_xpubs WHERE merchant_id = $1 AND family = $2")
        .bind(merchant.to_string())
        .bind(family)
        .fetch_optional(pool)
        .await?)
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

pub(crate) async fn merchant_xpubs(
    pool: &Pool<Db>,
    family: &str,
) -> Result<Vec<(String, Option<String>)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT m.id, x.xpub FROM merchants m \
         LEFT JOIN merchant_xpubs x ON x.merchant_id = m.id AND x.family = $1 \
         WHERE m.status = 'active' ORDER BY m.id",
    )
    .bind(family)
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

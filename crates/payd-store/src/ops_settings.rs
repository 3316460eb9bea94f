// Queries for a merchant's checkout settings, compiled for each backend like ops.rs (included
// into a `settings` submodule of sqlite.rs and postgres.rs, which supply `Db` and `BEGIN`).
// Each change is written with its audit line in one transaction.

use chrono::{DateTime, Utc};
use payd_core::ids::MerchantId;
use sqlx::Pool;

use super::users::insert_audit;
use super::Tx;
use crate::rows::ms;
use crate::users::AuditEntry;
use crate::StoreError;

pub(crate) async fn assets(pool: &Pool<Db>, merchant: &MerchantId) -> Result<Vec<(String, String)>, StoreError> {
    Ok(sqlx::query_as("SELECT token, network FROM merchant_assets WHERE merchant_id = $1 ORDER BY network, token")
        .bind(merchant.to_string())
        .fetch_all(pool)
        .await?)
}

/// Touches the merchant's row first: a merchant that does not exist writes nothing.
async fn touch(tx: &mut Tx, merchant: &MerchantId, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let n = sqlx::query("UPDATE merchants SET updated_at = $2 WHERE id = $1")
        .bind(merchant.to_string())
        .bind(ms(now))
        .execute(&mut **tx)
        .await?
        .rows_affected();
    Ok(n == 1)
}

async fn replace_assets(
    tx: &mut Tx,
    merchant: &MerchantId,
    assets: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM merchant_assets WHERE merchant_id = $1")
        .bind(merchant.to_string())
        .execute(&mut **tx)
        .await?;
    for (token, network) in assets {
        sqlx::query(
            "INSERT INTO merchant_assets (merchant_id, token, network, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (merchant_id, token, network) DO NOTHING",
        )
        .bind(merchant.to_string())
        .bind(token)
        .bind(network)
        .bind(ms(now))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub(crate) async fn set_assets(
    pool: &Pool<Db>,
    merchant: &MerchantId,
    assets: &[(String, String)],
    audit: &AuditEntry,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    if !touch(&mut tx, merchant, now).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    replace_assets(&mut tx, merchant, assets, now).await?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(true)
}

pub(crate) async fn set_profile(
    pool: &Pool<Db>,
    merchant: &MerchantId,
    email: Option<&str>,
    site_url: Option<&str>,
    audit: &AuditEntry,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    let n = sqlx::query("UPDATE merchants SET email = $2, site_url = $3, updated_at = $4 WHERE id = $1")
        .bind(merchant.to_string())
        .bind(email)
        .bind(site_url)
        .bind(ms(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(true)
}

pub(crate) async fn configure(
    pool: &Pool<Db>,
    merchant: &MerchantId,
    change: &crate::settings::MerchantConfig,
    audit: &AuditEntry,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    if !touch(&mut tx, merchant, now).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    let id = merchant.to_string();
    if let Some(min) = &change.min_amount_usd {
        sqlx::query("UPDATE merchants SET min_amount_usd = $2 WHERE id = $1")
            .bind(&id)
            .bind(min)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(asset) = &change.settlement {
        let (token, network) = asset.clone().unzip();
        sqlx::query("UPDATE merchants SET settlement_token = $2, settlement_network = $3 WHERE id = $1")
            .bind(&id)
            .bind(token)
            .bind(network)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(bp) = change.underpayment_tolerance_bp {
        sqlx::query("UPDATE merchants SET underpayment_tolerance_bp = $2 WHERE id = $1")
            .bind(&id)
            .bind(i64::from(bp))
            .execute(&mut *tx)
            .await?;
    }
    for (family, xpub) in &change.xpubs {
        match xpub {
            Some(xpub) => {
                sqlx::query(
                    "INSERT INTO merchant_xpubs (merchant_id, family, xpub, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (merchant_id, family) DO UPDATE SET xpub = excluded.xpub, updated_at = excluded.updated_at",
                )
                .bind(&id)
                .bind(family)
                .bind(xpub)
                .bind(ms(now))
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM merchant_xpubs WHERE merchant_id = $1 AND family = $2")
                    .bind(&id)
                    .bind(family)
                    .execute(&mut *tx)
                    .await?;
            }
        }
    }
    if let Some(assets) = &change.assets {
        replace_assets(&mut tx, merchant, assets, now).await?;
    }
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(true)
}

// Queries for the dashboard's management pages, compiled for each backend like ops.rs
// (included into a `manage` submodule of sqlite.rs and postgres.rs, which supply `Db` and
// `BEGIN`). Each change is written with its audit line in one transaction: the line exists
// exactly when the change does.

use chrono::{DateTime, Utc};
use payd_core::apikey::ApiKey;
use payd_core::event::Event;
use payd_core::ids::{ApiKeyId, DeliveryId, MerchantId, WebhookEndpointId};
use payd_core::webhook::WebhookEndpoint;
use sqlx::Pool;

use super::users::insert_audit;
use super::webhooks;
use super::Tx;
use crate::manage::{BrandChange, Branding, LogoChange, LogoRef};
use crate::rows::ms;
use crate::users::AuditEntry;
use crate::StoreError;

pub(crate) async fn update_endpoint(
    pool: &Pool<Db>,
    e: &WebhookEndpoint,
    audit: &AuditEntry,
) -> Result<bool, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    if !webhooks::update_endpoint(&mut *tx, e).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(true)
}

pub(crate) async fn insert_endpoint(
    pool: &Pool<Db>,
    e: &WebhookEndpoint,
    max: u32,
    audit: &AuditEntry,
) -> Result<bool, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    if !webhooks::insert_endpoint_capped(&mut tx, e, max).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(true)
}

pub(crate) async fn insert_api_key(
    pool: &Pool<Db>,
    key: &ApiKey,
    key_hash: &str,
    audit: &AuditEntry,
) -> Result<(), StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    super::insert_api_key(&mut *tx, key, key_hash).await?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn revoke_api_key(
    pool: &Pool<Db>,
    id: &ApiKeyId,
    now: DateTime<Utc>,
    audit: &AuditEntry,
) -> Result<bool, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    // Already revoked (or gone): nothing changes, so no line.
    if !super::revoke_api_key(&mut *tx, id, now).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(true)
}

pub(crate) async fn delete_endpoint(
    pool: &Pool<Db>,
    id: &WebhookEndpointId,
    now: DateTime<Utc>,
    audit: &AuditEntry,
) -> Result<bool, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    if !webhooks::delete_endpoint(&mut *tx, id, now).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(true)
}

pub(crate) async fn replay_delivery(
    pool: &Pool<Db>,
    id: &DeliveryId,
    now: DateTime<Utc>,
    audit: &AuditEntry,
) -> Result<bool, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    if !webhooks::replay_delivery(&mut *tx, id, now).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(true)
}

pub(crate) async fn send_test_event(
    pool: &Pool<Db>,
    endpoint: &WebhookEndpointId,
    event: &Event,
    delivery: &DeliveryId,
    event_name: &str,
    audit: &AuditEntry,
) -> Result<bool, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    // The endpoint must still be there and enabled (a disabled one is not sent to); its row
    // is locked on PostgreSQL so a concurrent delete or disable waits for this.
    let sql = format!(
        "SELECT id FROM webhook_endpoints WHERE id = $1 AND enabled = TRUE AND deleted = FALSE{}",
        super::LOCK_ROW
    );
    let found: Option<(String,)> = sqlx::query_as(&sql).bind(endpoint.to_string()).fetch_optional(&mut *tx).await?;
    if found.is_none() {
        tx.rollback().await?;
        return Ok(false);
    }
    let payload = serde_json::to_string(&event.payload).map_err(|e| StoreError::Corrupt(format!("test event: {e}")))?;
    sqlx::query(
        "INSERT INTO webhook_test_events (id, endpoint_id, merchant_id, mode, payment_id, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(event.id.to_string())
    .bind(endpoint.to_string())
    .bind(event.merchant_id.to_string())
    .bind(event.mode.as_str())
    .bind(event.payment_id.to_string())
    .bind(payload)
    .bind(ms(event.created_at))
    .execute(&mut *tx)
    .await?;
    // Due at once, by the clock, like the fan-out's deliveries.
    let now = ms(crate::now());
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, test_event_id, endpoint_id, event_name, status, attempts, \
         next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5, $5)",
    )
    .bind(delivery.to_string())
    .bind(event.id.to_string())
    .bind(endpoint.to_string())
    .bind(event_name)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(true)
}

// ---- checkout branding ----

/// `(display_name, accent, logo_digest, logo_type)`.
type BrandRow = (Option<String>, Option<String>, Option<String>, Option<String>);

pub(crate) async fn branding(
    pool: &Pool<Db>,
    merchant: &MerchantId,
) -> Result<Option<Branding>, StoreError> {
    let row: Option<BrandRow> = sqlx::query_as(
        "SELECT display_name, accent, logo_digest, logo_type FROM merchant_branding WHERE merchant_id = $1",
    )
    .bind(merchant.to_string())
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(display_name, accent, digest, content_type)| Branding {
        display_name,
        accent,
        logo: digest.zip(content_type).map(|(digest, content_type)| LogoRef { digest, content_type }),
    }))
}

pub(crate) async fn set_branding(
    pool: &Pool<Db>,
    merchant: &MerchantId,
    brand: &BrandChange,
    audit: &AuditEntry,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    sqlx::query(
        "INSERT INTO merchant_branding (merchant_id, display_name, accent, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (merchant_id) DO UPDATE SET display_name = excluded.display_name, accent = excluded.accent, \
         updated_at = excluded.updated_at",
    )
    .bind(merchant.to_string())
    .bind(&brand.display_name)
    .bind(&brand.accent)
    .bind(ms(now))
    .execute(&mut *tx)
    .await?;
    let logo: Option<(&[u8], &str, &str)> = match &brand.logo {
        LogoChange::Keep => None,
        LogoChange::Remove => Some((&[], "", "")),
        LogoChange::Set { bytes, content_type, digest } => Some((bytes, content_type, digest)),
    };
    if let Some((bytes, content_type, digest)) = logo {
        // Removing writes NULLs: the three columns are whole or absent (a CHECK says so).
        let set = !digest.is_empty();
        sqlx::query("UPDATE merchant_branding SET logo = $2, logo_type = $3, logo_digest = $4 WHERE merchant_id = $1")
            .bind(merchant.to_string())
            .bind(set.then_some(bytes))
            .bind(set.then_some(content_type))
            .bind(set.then_some(digest))
            .execute(&mut *tx)
            .await?;
    }
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn brand_logo(pool: &Pool<Db>, digest: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    // Two merchants may upload the same file: either row serves it.
    let row: Option<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT logo_type, logo FROM merchant_branding WHERE logo_digest = $1 AND logo IS NOT NULL LIMIT 1",
    )
    .bind(digest)
    .fetch_optional(pool)
    .await?;
    Ok(row)
}

// Queries for the dashboard's management pages, compiled for each backend like ops.rs
// (included into a `manage` submodule of sqlite.rs and postgres.rs, which supply `Db` and
// `BEGIN`). Each change is written with its audit line in one transaction: the line exists
// exactly when the change does.

use chrono::{DateTime, Utc};
use payd_core::event::Event;
use payd_core::ids::{DeliveryId, WebhookEndpointId};
use payd_core::webhook::WebhookEndpoint;
use sqlx::Pool;

use super::users::insert_audit;
use super::webhooks;
use super::Tx;
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

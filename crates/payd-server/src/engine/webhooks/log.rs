//! The delivery log as a caller sees it: a merchant's deliveries, one delivery (visible to
//! whoever may see its payment, also after its endpoint was deleted) with its attempts, and
//! replays (one delivery, or every failed one of an endpoint). A test event's delivery is
//! visible to whoever may see its endpoint.

use chrono::{DateTime, Utc};
use payd_core::apikey::Mode;
use payd_core::ids::{DeliveryId, WebhookEndpointId};
use payd_core::merchant::Merchant;
use payd_core::webhook::{Attempt, Delivery};
use payd_store::webhooks::DeliveryFilter;
use payd_store::{Store, StoreError};

use crate::engine::payments::{self, PaymentRef};

/// Why a delivery could not be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// It is being sent right now; its attempt is not recorded yet.
    #[error("the delivery is being sent right now; replay it once the attempt is recorded")]
    InFlight,
    /// It is gone.
    #[error("no such webhook delivery")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The deliveries `filter` selects (its merchant and mode are the caller's), newest first.
pub async fn list(store: &Store, filter: &DeliveryFilter) -> Result<Vec<Delivery>, StoreError> {
    store.list_webhook_deliveries(filter).await
}

/// The delivery `id` names if a caller in `mode` acting for `merchants` may see it: an
/// endpoint receives only its merchant's events in its mode, so whoever may see the payment
/// may see its deliveries; anything else is `None`, like a delivery that does not exist.
pub async fn find(
    store: &Store,
    id: &DeliveryId,
    mode: Mode,
    merchants: &[Merchant],
) -> Result<Option<Delivery>, StoreError> {
    let Some(delivery) = store.get_webhook_delivery(id).await? else { return Ok(None) };
    if delivery.kind == payd_core::event::EventKind::Test {
        // A test event's sample payment is no payment: its endpoint says whose it is.
        let endpoint = store.get_webhook_endpoint(&delivery.endpoint_id).await?;
        let seen =
            endpoint.is_some_and(|e| e.mode == mode && merchants.iter().any(|m| m.id == e.merchant_id));
        return Ok(seen.then_some(delivery));
    }
    let payment = delivery.payment_id.to_string();
    let seen = payments::find(store, PaymentRef::Id(&payment), mode, merchants).await?.visible();
    Ok(seen.map(|_| delivery))
}

/// A delivery's attempts, oldest first.
pub async fn attempts(store: &Store, id: &DeliveryId) -> Result<Vec<Attempt>, StoreError> {
    store.list_webhook_attempts(id).await
}

/// Queues a delivery again now with a fresh retry schedule, whatever became of it, and
/// returns it as it is then.
pub async fn replay(store: &Store, id: &DeliveryId, now: DateTime<Utc>) -> Result<Delivery, ReplayError> {
    if !store.replay_webhook_delivery(id, now).await? {
        return Err(ReplayError::InFlight);
    }
    store.get_webhook_delivery(id).await?.ok_or(ReplayError::NotFound)
}

/// Queues every failed or dead delivery of an endpoint again; returns how many.
pub async fn replay_failed(
    store: &Store,
    endpoint: &WebhookEndpointId,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    store.replay_failed_webhook_deliveries(endpoint, now).await
}

//! The store's webhook API: endpoints, the deliveries the fan-out writes beside each event,
//! leased claims for the dispatcher, and the attempt log.

use std::time::Duration;

use chrono::{DateTime, Utc};
use payd_core::apikey::Mode;
use payd_core::event::Event;
use payd_core::ids::{DeliveryId, EventId, MerchantId, PaymentId, WebhookEndpointId};
use payd_core::webhook::{Attempt, Delivery, DeliveryStatus, WebhookEndpoint, WebhookFormat};

use crate::{postgres, sqlite, Store, StoreError};

/// A delivery a dispatcher claimed, with what it needs to send it.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    /// The delivery (status `delivering`).
    pub delivery: Delivery,
    /// The claim's token: only its holder may record the result.
    pub lease_token: String,
    /// The event to send.
    pub event: Event,
    /// Where to send it.
    pub endpoint: WebhookEndpoint,
}

/// What an attempt means, for its delivery and its endpoint (payd-core's: the judgement is
/// the server engine's, the store records it).
pub use payd_core::webhook::{DeliveryOutcome, EndpointHealth};

/// Which deliveries to list, newest first.
#[derive(Debug, Clone)]
pub struct DeliveryFilter {
    /// The endpoints' merchant.
    pub merchant_id: MerchantId,
    /// The endpoints' mode.
    pub mode: Mode,
    /// Only to this endpoint.
    pub endpoint_id: Option<WebhookEndpointId>,
    /// Only of this event.
    pub event_id: Option<EventId>,
    /// Only about this payment.
    pub payment_id: Option<PaymentId>,
    /// Only in this state.
    pub status: Option<DeliveryStatus>,
    /// Keyset cursor: only deliveries with a smaller (older) id.
    pub before: Option<DeliveryId>,
    /// Page size.
    pub limit: u32,
}

/// Which endpoints to list, oldest first.
#[derive(Debug, Clone)]
pub struct EndpointFilter {
    /// The merchant.
    pub merchant_id: MerchantId,
    /// The mode.
    pub mode: Mode,
    /// Only endpoints of this format.
    pub format: Option<WebhookFormat>,
    /// Keyset cursor: only endpoints created after this one.
    pub after: Option<WebhookEndpointId>,
    /// Rows to skip (page numbers).
    pub offset: u32,
    /// Page size.
    pub limit: u32,
}

impl Store {
    /// Stores a new endpoint.
    pub async fn insert_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        dispatch!(self, webhooks::insert_endpoint(endpoint))
    }

    /// Stores a new endpoint unless its merchant already has `max` in its mode (deleted ones
    /// do not count); `false` then, and nothing is written. Concurrent creates cannot pass
    /// the cap together.
    pub async fn insert_webhook_endpoint_within(
        &self,
        endpoint: &WebhookEndpoint,
        max: u32,
    ) -> Result<bool, StoreError> {
        dispatch!(self, webhooks::insert_endpoint_within(endpoint, max))
    }

    /// A page of endpoints matching `filter`, and how many match in all.
    pub async fn page_webhook_endpoints(
        &self,
        filter: &EndpointFilter,
    ) -> Result<(Vec<WebhookEndpoint>, i64), StoreError> {
        dispatch!(self, webhooks::page_endpoints(filter))
    }

    /// An endpoint by id (deleted ones are gone).
    pub async fn get_webhook_endpoint(
        &self,
        id: &WebhookEndpointId,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        dispatch!(self, webhooks::get_endpoint(id))
    }

    /// A merchant's endpoints in a mode, oldest first.
    pub async fn list_webhook_endpoints(
        &self,
        merchant: &MerchantId,
        mode: Mode,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        dispatch!(self, webhooks::list_endpoints(merchant, mode))
    }

    /// Writes a changed endpoint; `false` when it no longer exists.
    pub async fn update_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<bool, StoreError> {
        dispatch!(self, webhooks::update_endpoint(endpoint))
    }

    /// Deletes an endpoint: nothing more is sent to it; its delivery log stays.
    pub async fn delete_webhook_endpoint(
        &self,
        id: &WebhookEndpointId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        dispatch!(self, webhooks::delete_endpoint(id, now))
    }

    /// Claims up to `limit` due deliveries for `lease` and commits the claim, so no
    /// transaction stays open while they are sent. Several dispatchers never claim the same
    /// delivery (`FOR UPDATE SKIP LOCKED` on the delivery rows only, on PostgreSQL; SQLite has
    /// one writer).
    pub async fn claim_webhook_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(1));
        dispatch!(self, webhooks::claim(now, until, limit))
    }

    /// Records an attempt and its consequences in one transaction. `false`: the claim had
    /// lapsed and another dispatcher owns the delivery now; nothing was written.
    pub async fn finish_webhook_delivery(
        &self,
        claim: &ClaimedDelivery,
        attempt: &Attempt,
        outcome: DeliveryOutcome,
        health: EndpointHealth,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        dispatch!(self, webhooks::finish(claim, attempt, outcome, health, now))
    }

    /// Deliveries matching `filter`, newest first.
    pub async fn list_webhook_deliveries(
        &self,
        filter: &DeliveryFilter,
    ) -> Result<Vec<Delivery>, StoreError> {
        dispatch!(self, webhooks::list_deliveries(filter))
    }

    /// A delivery by id.
    pub async fn get_webhook_delivery(&self, id: &DeliveryId) -> Result<Option<Delivery>, StoreError> {
        dispatch!(self, webhooks::get_delivery(id))
    }

    /// A delivery's attempts, oldest first.
    pub async fn list_webhook_attempts(&self, id: &DeliveryId) -> Result<Vec<Attempt>, StoreError> {
        dispatch!(self, webhooks::list_attempts(id))
    }

    /// Sends a delivery again now, whatever became of it (unless it is being sent right now).
    pub async fn replay_webhook_delivery(
        &self,
        id: &DeliveryId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let replayed = dispatch!(self, webhooks::replay_delivery(id, now))?;
        if replayed {
            self.wake_dispatcher();
        }
        Ok(replayed)
    }

    /// Sends every failed or dead delivery of an endpoint again now; how many.
    pub async fn replay_failed_webhook_deliveries(
        &self,
        endpoint: &WebhookEndpointId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let replayed = dispatch!(self, webhooks::replay_failed(endpoint, now))?;
        if replayed > 0 {
            self.wake_dispatcher();
        }
        Ok(replayed)
    }
}

//! The store's API for the dashboard's management pages: endpoint changes, deletions and
//! replays written together with their audit line, and test events (a delivery of a sample
//! payment to one endpoint, through the ordinary dispatcher and delivery log).

use chrono::{DateTime, Utc};
use payd_core::event::Event;
use payd_core::ids::{DeliveryId, WebhookEndpointId};
use payd_core::webhook::WebhookEndpoint;

use crate::users::AuditEntry;
use crate::{postgres, sqlite, Store, StoreError};

impl Store {
    /// Writes a changed endpoint and `audit` in one transaction; `false` (and nothing
    /// written) when the endpoint no longer exists.
    pub async fn update_webhook_endpoint_audited(
        &self,
        endpoint: &WebhookEndpoint,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        dispatch!(self, manage::update_endpoint(endpoint, audit))
    }

    /// Deletes an endpoint and writes `audit` in one transaction; `false` (and nothing
    /// written) when it was already gone.
    pub async fn delete_webhook_endpoint_audited(
        &self,
        id: &WebhookEndpointId,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        dispatch!(self, manage::delete_endpoint(id, now, audit))
    }

    /// Queues a delivery again now (like [`Store::replay_webhook_delivery`]) and writes
    /// `audit` in one transaction; `false` (and nothing written) while it is being sent.
    pub async fn replay_webhook_delivery_audited(
        &self,
        id: &DeliveryId,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        dispatch!(self, manage::replay_delivery(id, now, audit))
    }

    /// Stores a test event (`event`: kind `webhook.test`, its payload a sample payment) and
    /// its one delivery, `delivery` to `endpoint` under `event_name`, due at once, with
    /// `audit`, in one transaction. `false` (and nothing written) when the endpoint is gone
    /// or disabled.
    pub async fn send_test_webhook_event(
        &self,
        endpoint: &WebhookEndpointId,
        event: &Event,
        delivery: &DeliveryId,
        event_name: &str,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        dispatch!(self, manage::send_test_event(endpoint, event, delivery, event_name, audit))
    }
}

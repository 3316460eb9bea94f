//! The store's API for the dashboard's management pages: a person's changes written together
//! with their audit line (a payment's transition such as a cancel, an endpoint's
//! registration, change, deletion and replays, an API key's creation and revocation), test events (a delivery of a sample
//! payment to one endpoint, through the ordinary dispatcher and delivery log), and each
//! merchant's checkout branding (its logo kept in the database, found by its SHA-256).

use chrono::{DateTime, Utc};
use payd_core::apikey::ApiKey;
use payd_core::event::{Event, EventKind};
use payd_core::ids::{ApiKeyId, DeliveryId, MerchantId, PaymentId, WebhookEndpointId};
use payd_core::payment::Payment;
use payd_core::webhook::WebhookEndpoint;

use crate::users::AuditEntry;
use crate::{postgres, sqlite, Store, StoreError};

/// A merchant's checkout branding as stored (checked by the engine before it is written).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Branding {
    /// The name the checkout shows instead of the merchant's own.
    pub display_name: Option<String>,
    /// The accent colour, `#rrggbb`.
    pub accent: Option<String>,
    /// The logo, when one was uploaded.
    pub logo: Option<LogoRef>,
}

/// Where a stored logo is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoRef {
    /// The SHA-256 of its bytes, hex: its name in URLs.
    pub digest: String,
    /// `image/png`, `image/jpeg` or `image/webp`.
    pub content_type: String,
}

/// What to do with the logo when branding is saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoChange {
    /// Leave it as it is.
    Keep,
    /// Remove it.
    Remove,
    /// Replace it.
    Set {
        /// The file.
        bytes: Vec<u8>,
        /// Its type, by its magic bytes.
        content_type: String,
        /// Its SHA-256, hex.
        digest: String,
    },
}

/// Branding to save: the name and colour replace the stored ones (`None` clears them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrandChange {
    /// The display name.
    pub display_name: Option<String>,
    /// The accent colour, `#rrggbb`.
    pub accent: Option<String>,
    /// The logo.
    pub logo: LogoChange,
}

impl Store {
    /// A merchant's checkout branding; `None` when none was ever saved.
    pub async fn merchant_branding(&self, merchant: &MerchantId) -> Result<Option<Branding>, StoreError> {
        dispatch!(self, manage::branding(merchant))
    }

    /// Saves a merchant's checkout branding with `audit`, in one transaction.
    pub async fn set_merchant_branding(
        &self,
        merchant: &MerchantId,
        brand: &BrandChange,
        audit: &AuditEntry,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dispatch!(self, manage::set_branding(merchant, brand, audit, now))
    }

    /// A stored logo by its digest: `(content type, bytes)`.
    pub async fn brand_logo(&self, digest: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        dispatch!(self, manage::brand_logo(digest))
    }

    /// Like [`Store::mutate_payment`], with `audit` written in the transaction that commits
    /// the change: when `f` refuses (or changes nothing) neither the change nor the line is
    /// written. The rule stays the caller's (`f`, a `Payment` transition).
    pub async fn mutate_payment_audited<E>(
        &self,
        id: &PaymentId,
        audit: &AuditEntry,
        f: &mut (dyn FnMut(&mut Payment) -> Result<Vec<EventKind>, E> + Send),
    ) -> Result<Result<(Payment, Vec<Event>), E>, StoreError> {
        self.waking(async { dispatch!(self, mutate_payment(id, None, Some(audit), f)) }).await
    }

    /// Stores a new endpoint with `audit` in one transaction, unless its merchant already has
    /// `max` in its mode (like [`Store::insert_webhook_endpoint_within`]); `false` then, and
    /// nothing is written.
    pub async fn insert_webhook_endpoint_audited(
        &self,
        endpoint: &WebhookEndpoint,
        max: u32,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        dispatch!(self, manage::insert_endpoint(endpoint, max, audit))
    }

    /// Stores a key under the hash of its secret with `audit`, in one transaction.
    pub async fn insert_api_key_audited(
        &self,
        key: &ApiKey,
        key_hash: &str,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        dispatch!(self, manage::insert_api_key(key, key_hash, audit))
    }

    /// Revokes a key with `audit`, in one transaction; `false` (and no line) when it was
    /// already revoked or does not exist. Like [`Store::revoke_api_key`], this node's key
    /// cache is emptied at once (other nodes' by the database's notification).
    pub async fn revoke_api_key_audited(
        &self,
        id: &ApiKeyId,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let revoked = dispatch!(self, manage::revoke_api_key(id, now, audit));
        // Emptied whatever the outcome, as `revoke_api_key` does: an error may come after
        // the commit.
        self.forget_api_keys();
        revoked
    }

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

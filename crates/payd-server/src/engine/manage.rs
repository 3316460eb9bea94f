//! What the dashboard's management pages do, bounded by the user's reach like
//! [`super::dashboard`]: one webhook endpoint's page (edit it through the engine's URL policy,
//! enable or disable it, rotate its secret with an overlap, send it a test event, its
//! delivery log with replays). Every change is stored with its audit line in one transaction
//! (the store's `*_audited` operations), so a line exists exactly when its change does.

use chrono::{DateTime, Utc};
use payd_core::ids::{AccountId, DeliveryId};
use payd_core::secret::Secret;
use payd_core::user::User;
use payd_core::webhook::{Delivery, WebhookEndpoint};
use payd_store::webhooks::DeliveryFilter;
use payd_store::{Store, StoreError};

use super::dashboard::DeliveryView;
use super::users::{audit, Actor};
use super::webhooks::endpoints::{self, EndpointChange, EndpointError};
use super::webhooks::log::{self, ReplayError};
use super::webhooks::test_event::{self, TestEventError};

/// Deliveries a page of an endpoint's log shows.
pub const LOG_PAGE: u32 = 20;

/// One page of an endpoint's delivery log, newest first.
#[derive(Debug)]
pub struct LogPage {
    /// The deliveries, each with its attempts.
    pub deliveries: Vec<DeliveryView>,
    /// The cursor of the next (older) page, when there is one.
    pub older: Option<DeliveryId>,
}

/// The deliveries to `endpoint` older than `before` (the newest when `None`), with their
/// attempts.
pub async fn endpoint_log(
    store: &Store,
    endpoint: &WebhookEndpoint,
    before: Option<DeliveryId>,
) -> Result<LogPage, StoreError> {
    let filter = DeliveryFilter {
        merchant_id: endpoint.merchant_id.clone(),
        mode: endpoint.mode,
        endpoint_id: Some(endpoint.id.clone()),
        event_id: None,
        payment_id: None,
        status: None,
        before,
        // One more than shown says whether an older page exists.
        limit: LOG_PAGE + 1,
    };
    let mut found = log::list(store, &filter).await?;
    let more = found.len() > LOG_PAGE as usize;
    found.truncate(LOG_PAGE as usize);
    let older = if more { found.last().map(|d| d.id.clone()) } else { None };
    let mut deliveries = Vec::with_capacity(found.len());
    for d in found {
        let attempts = log::attempts(store, &d.id).await?;
        deliveries.push(DeliveryView { delivery: d, attempts });
    }
    Ok(LogPage { deliveries, older })
}

/// Which of an endpoint's fields a change touches, for the audit line.
fn touched(change: &EndpointChange) -> String {
    let mut out = Vec::new();
    if change.url.is_some() {
        out.push("url");
    }
    if change.events.is_some() {
        out.push("events");
    }
    if change.format.is_some() {
        out.push("format");
    }
    if change.description.is_some() {
        out.push("description");
    }
    if out.is_empty() {
        "nothing changed".to_owned()
    } else {
        out.join(", ")
    }
}

async fn store_change(
    store: &Store,
    endpoint: &WebhookEndpoint,
    line: &payd_store::users::AuditEntry,
) -> Result<(), EndpointError> {
    if store.update_webhook_endpoint_audited(endpoint, line).await? {
        Ok(())
    } else {
        Err(EndpointError::NotFound)
    }
}

/// Changes an endpoint's URL (already checked by the engine's URL policy: a `Target`),
/// events, format or description, with its audit line `webhook_endpoint.edit` naming the
/// fields sent. A field the change leaves `None` stays as it is.
pub async fn edit_endpoint(
    store: &Store,
    user: &User,
    endpoint: WebhookEndpoint,
    account: AccountId,
    change: EndpointChange,
    now: DateTime<Utc>,
) -> Result<WebhookEndpoint, EndpointError> {
    let mut line =
        audit(&Actor::User(user), "webhook_endpoint.edit", endpoint.id.to_string(), Some(account), now);
    line.detail = touched(&change);
    let done = endpoints::changed(endpoint, EndpointChange { enabled: None, ..change }, now);
    store_change(store, &done, &line).await?;
    Ok(done)
}

/// Enables (forgetting a failure run and why it was disabled) or disables an endpoint, with
/// its audit line.
pub async fn set_endpoint_enabled(
    store: &Store,
    user: &User,
    endpoint: WebhookEndpoint,
    account: AccountId,
    enabled: bool,
    now: DateTime<Utc>,
) -> Result<WebhookEndpoint, EndpointError> {
    let action = if enabled { "webhook_endpoint.enable" } else { "webhook_endpoint.disable" };
    let line = audit(&Actor::User(user), action, endpoint.id.to_string(), Some(account), now);
    let done = endpoints::changed(
        endpoint,
        EndpointChange { enabled: Some(enabled), ..EndpointChange::default() },
        now,
    );
    store_change(store, &done, &line).await?;
    Ok(done)
}

/// Gives an endpoint a new secret (the engine's rotation: the old one keeps signing beside it
/// for `overlap`, at most [`endpoints::MAX_SECRET_OVERLAP`]), with its audit line. The new
/// secret is in the result, once.
pub async fn rotate_endpoint(
    store: &Store,
    master: &payd_core::crypto::MasterKey,
    user: &User,
    endpoint: &WebhookEndpoint,
    account: AccountId,
    overlap: std::time::Duration,
    now: DateTime<Utc>,
) -> Result<(WebhookEndpoint, Secret), EndpointError> {
    let (done, secret) = endpoints::rotated(master, endpoint, overlap, now)?;
    let mut line = audit(
        &Actor::User(user),
        "webhook_endpoint.rotate_secret",
        endpoint.id.to_string(),
        Some(account),
        now,
    );
    line.detail = format!("previous secret signs for {} s more", overlap.as_secs());
    store_change(store, &done, &line).await?;
    Ok((done, secret))
}

/// Deletes an endpoint (nothing more is sent to it; its log stays), with its audit line.
pub async fn delete_endpoint(
    store: &Store,
    user: &User,
    endpoint: &WebhookEndpoint,
    account: AccountId,
    now: DateTime<Utc>,
) -> Result<(), EndpointError> {
    let line =
        audit(&Actor::User(user), "webhook_endpoint.delete", endpoint.id.to_string(), Some(account), now);
    if store.delete_webhook_endpoint_audited(&endpoint.id, now, &line).await? {
        Ok(())
    } else {
        Err(EndpointError::NotFound)
    }
}

/// Sends `endpoint` a test event through the ordinary pipeline, with its audit line
/// `webhook_endpoint.test`; returns the delivery's id.
pub async fn send_test_event(
    store: &Store,
    user: &User,
    endpoint: &WebhookEndpoint,
    account: AccountId,
    now: DateTime<Utc>,
) -> Result<DeliveryId, TestEventError> {
    let mut line =
        audit(&Actor::User(user), "webhook_endpoint.test", endpoint.id.to_string(), Some(account), now);
    line.detail = endpoint.format.test_event_name();
    test_event::send(store, endpoint, &line, now).await
}

/// Queues one of `endpoint`'s deliveries again now, with its audit line `webhook.redeliver`.
/// `ReplayError::NotFound` when the delivery is not this endpoint's.
pub async fn redeliver(
    store: &Store,
    user: &User,
    endpoint: &WebhookEndpoint,
    delivery: &DeliveryId,
    account: AccountId,
    now: DateTime<Utc>,
) -> Result<Delivery, ReplayError> {
    let Some(d) = store.get_webhook_delivery(delivery).await? else { return Err(ReplayError::NotFound) };
    if d.endpoint_id != endpoint.id {
        return Err(ReplayError::NotFound);
    }
    let mut line = audit(&Actor::User(user), "webhook.redeliver", delivery.to_string(), Some(account), now);
    line.detail = format!("endpoint {}", endpoint.id);
    if !store.replay_webhook_delivery_audited(delivery, now, &line).await? {
        return Err(ReplayError::InFlight);
    }
    store.get_webhook_delivery(delivery).await?.ok_or(ReplayError::NotFound)
}

//! Webhook endpoints: registering one (within the per-merchant cap, its secret sealed under
//! the master key and shown once), finding one as a caller sees it, changing it, deleting it, rotating its secret with an
//! overlap, and paging a merchant's list. Each surface parses its own vocabulary (AstraPay's
//! event names, the CLI's flags) and calls these.

use std::time::Duration;

use chrono::{DateTime, Utc};
use payd_core::apikey::Mode;
use payd_core::crypto::{CryptoError, MasterKey};
use payd_core::event::EventKind;
use payd_core::ids::{MerchantId, WebhookEndpointId};
use payd_core::merchant::Merchant;
use payd_core::secret::Secret;
use payd_core::webhook::{generate_secret, WebhookEndpoint, WebhookFormat};
use payd_store::webhooks::EndpointFilter;
use payd_store::{Store, StoreError};

use crate::engine::webhooks::targets::Target;

/// Longest overlap of a rotated secret with its successor.
pub const MAX_SECRET_OVERLAP: Duration = Duration::from_secs(7 * 86_400);

/// An endpoint to register.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    /// Owner.
    pub merchant_id: MerchantId,
    /// Mode.
    pub mode: Mode,
    /// Where deliveries go.
    pub url: Target,
    /// Note.
    pub description: Option<String>,
    /// Kinds; empty for all.
    pub events: Vec<EventKind>,
    /// Format.
    pub format: WebhookFormat,
    /// Whether deliveries start at once.
    pub enabled: bool,
}

/// Changes to an endpoint; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct EndpointChange {
    /// A new target.
    pub url: Option<Target>,
    /// New kinds (empty for all).
    pub events: Option<Vec<EventKind>>,
    /// A new format.
    pub format: Option<WebhookFormat>,
    /// A new note, or `Some(None)` to clear it.
    pub description: Option<Option<String>>,
    /// Enable (which forgets a failure run and why it was disabled) or disable.
    pub enabled: Option<bool>,
}

/// Why an endpoint operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// No randomness for a new secret.
    #[error("cannot create a signing secret: {0}")]
    Random(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A secret could not be sealed or opened under the master key.
    #[error("signing secret: {0}")]
    Sealing(#[from] CryptoError),
    /// The merchant already has the most endpoints allowed in this mode.
    #[error(
        "this merchant already has the most webhook endpoints allowed in this mode ({0}, \
         webhooks.max_endpoints); delete one first"
    )]
    Limit(u32),
    /// A rotated secret may keep signing for at most [`MAX_SECRET_OVERLAP`].
    #[error("the previous secret may keep signing for at most 604800 seconds")]
    OverlapTooLong,
    /// The endpoint is gone (deleted meanwhile).
    #[error("no such webhook endpoint")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn new_sealed_secret(master_key: &MasterKey) -> Result<(Secret, String), EndpointError> {
    let secret = generate_secret().map_err(|e| EndpointError::Random(Box::new(e)))?;
    let sealed = master_key.seal(&secret)?;
    Ok((secret, sealed))
}

/// Registers an endpoint, unless its merchant already has `max_endpoints` in its mode
/// (checked and inserted in one transaction); the secret is returned this once and stored
/// only sealed.
pub async fn create(
    store: &Store,
    master_key: &MasterKey,
    new: NewEndpoint,
    max_endpoints: u32,
    now: DateTime<Utc>,
) -> Result<(WebhookEndpoint, Secret), EndpointError> {
    let (endpoint, secret) = prepare(master_key, new, now)?;
    if !store.insert_webhook_endpoint_within(&endpoint, max_endpoints).await? {
        return Err(EndpointError::Limit(max_endpoints));
    }
    Ok((endpoint, secret))
}

/// A new endpoint with a fresh secret (returned this once, kept only sealed), not stored yet:
/// for a caller that stores it together with something else (the dashboard, with its audit
/// line, through `Store::insert_webhook_endpoint_audited`, which applies the same cap).
pub fn prepare(
    master_key: &MasterKey,
    new: NewEndpoint,
    now: DateTime<Utc>,
) -> Result<(WebhookEndpoint, Secret), EndpointError> {
    let (secret, sealed) = new_sealed_secret(master_key)?;
    let endpoint = WebhookEndpoint {
        id: WebhookEndpointId::new(),
        merchant_id: new.merchant_id,
        mode: new.mode,
        url: new.url.into_string(),
        description: new.description,
        events: new.events,
        format: new.format,
        enabled: new.enabled,
        disabled_reason: None,
        secret_sealed: sealed,
        previous_secret_sealed: None,
        previous_secret_expires_at: None,
        failing_since: None,
        created_at: now,
        updated_at: now,
    };
    Ok((endpoint, secret))
}

/// The endpoint `id` names if a caller in `mode` acting for `merchants` may see it; another
/// merchant's or mode's endpoint is `None`, like a deleted one.
pub async fn find(
    store: &Store,
    id: &WebhookEndpointId,
    mode: Mode,
    merchants: &[Merchant],
) -> Result<Option<WebhookEndpoint>, EndpointError> {
    Ok(store
        .get_webhook_endpoint(id)
        .await?
        .filter(|e| e.mode == mode && merchants.iter().any(|m| m.id == e.merchant_id)))
}

/// Applies `change` to `endpoint` and stores it.
pub async fn update(
    store: &Store,
    endpoint: WebhookEndpoint,
    change: EndpointChange,
    now: DateTime<Utc>,
) -> Result<WebhookEndpoint, EndpointError> {
    let endpoint = changed(endpoint, change, now);
    if !store.update_webhook_endpoint(&endpoint).await? {
        return Err(EndpointError::NotFound);
    }
    Ok(endpoint)
}

/// `endpoint` with `change` applied, not yet stored (for callers that store it with more in
/// one transaction, such as the dashboard with its audit line).
pub fn changed(mut endpoint: WebhookEndpoint, change: EndpointChange, now: DateTime<Utc>) -> WebhookEndpoint {
    if let Some(url) = change.url {
        endpoint.url = url.into_string();
    }
    if let Some(events) = change.events {
        endpoint.events = events;
    }
    if let Some(format) = change.format {
        endpoint.format = format;
    }
    if let Some(description) = change.description {
        endpoint.description = description;
    }
    if let Some(enabled) = change.enabled {
        endpoint.set_enabled(enabled);
    }
    endpoint.updated_at = now;
    endpoint
}

/// Deletes an endpoint: nothing more is sent to it, and it no longer counts towards the cap.
pub async fn delete(store: &Store, id: &WebhookEndpointId, now: DateTime<Utc>) -> Result<(), EndpointError> {
    if store.delete_webhook_endpoint(id, now).await? {
        Ok(())
    } else {
        Err(EndpointError::NotFound)
    }
}

/// Replaces an endpoint's secret. The old one keeps signing (beside the new one, in the
/// formats that carry several signatures) for `overlap`, so receivers can switch without
/// dropping deliveries.
pub async fn rotate_secret(
    store: &Store,
    master_key: &MasterKey,
    endpoint: &WebhookEndpoint,
    overlap: Duration,
    now: DateTime<Utc>,
) -> Result<(WebhookEndpoint, Secret), EndpointError> {
    let (e, secret) = rotated(master_key, endpoint, overlap, now)?;
    if !store.update_webhook_endpoint(&e).await? {
        return Err(EndpointError::NotFound);
    }
    Ok((e, secret))
}

/// [`rotate_secret`]'s new endpoint and secret, not yet stored (for callers that store it
/// with more in one transaction).
pub fn rotated(
    master_key: &MasterKey,
    endpoint: &WebhookEndpoint,
    overlap: Duration,
    now: DateTime<Utc>,
) -> Result<(WebhookEndpoint, Secret), EndpointError> {
    if overlap > MAX_SECRET_OVERLAP {
        return Err(EndpointError::OverlapTooLong);
    }
    let (secret, sealed) = new_sealed_secret(master_key)?;
    let mut e = endpoint.clone();
    let overlap = chrono::Duration::from_std(overlap).unwrap_or(chrono::Duration::zero());
    if overlap > chrono::Duration::zero() {
        e.previous_secret_sealed = Some(std::mem::replace(&mut e.secret_sealed, sealed));
        e.previous_secret_expires_at = Some(now + overlap);
    } else {
        e.secret_sealed = sealed;
        e.previous_secret_sealed = None;
        e.previous_secret_expires_at = None;
    }
    e.updated_at = now;
    Ok((e, secret))
}

/// The secrets that sign a delivery to `endpoint` now, newest first: its own, and the
/// previous one during a rotation. Every format, AlpPay's included, signs with the endpoint's
/// secret: never an API key's, which any holder of that key (read-only ones too) would know.
pub fn signing_secrets(
    master_key: &MasterKey,
    endpoint: &WebhookEndpoint,
    now: DateTime<Utc>,
) -> Result<Vec<Secret>, EndpointError> {
    Ok(endpoint
        .signing_secrets_sealed(now)
        .into_iter()
        .map(|s| master_key.open(s))
        .collect::<Result<_, _>>()?)
}

/// One page of a merchant's endpoints, oldest first.
#[derive(Debug, Clone)]
pub struct EndpointPage {
    /// The page.
    pub endpoints: Vec<WebhookEndpoint>,
    /// Whether more follow it.
    pub has_more: bool,
    /// How many match the filter, all pages together.
    pub total: i64,
}

/// The page `filter` names (its `after` cursor or its `offset`, and `limit`).
pub async fn page(store: &Store, filter: &EndpointFilter) -> Result<EndpointPage, EndpointError> {
    let ask = EndpointFilter { limit: filter.limit.saturating_add(1), ..filter.clone() };
    let (mut endpoints, total) = store.page_webhook_endpoints(&ask).await?;
    let has_more = endpoints.len() > filter.limit as usize;
    endpoints.truncate(filter.limit as usize);
    Ok(EndpointPage { endpoints, has_more, total })
}

//! Webhooks on the server side: registering endpoints (shared by the native API, AstraPay's
//! API and the CLI), the bodies each format sends ([`payload`]), the SSRF guard ([`guard`]).
//! The dispatcher that sends them is `workers::webhooks`.

pub mod guard;
pub mod payload;

use std::time::Duration;

use chrono::{DateTime, Utc};
use payd_core::apikey::Mode;
use payd_core::crypto::MasterKey;
use payd_core::event::EventKind;
use payd_core::ids::{MerchantId, WebhookEndpointId};
use payd_core::secret::Secret;
use payd_core::webhook::{generate_secret, WebhookEndpoint, WebhookFormat};
use payd_store::{Store, StoreError};

/// Longest endpoint URL accepted.
pub const MAX_URL: usize = 2048;

/// An endpoint to register.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    /// Owner.
    pub merchant_id: MerchantId,
    /// Mode.
    pub mode: Mode,
    /// Checked URL (see [`check_url`]).
    pub url: String,
    /// Note.
    pub description: Option<String>,
    /// Kinds; empty for all.
    pub events: Vec<EventKind>,
    /// Format.
    pub format: WebhookFormat,
    /// Whether deliveries start at once.
    pub enabled: bool,
}

/// Why an endpoint operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// The secret could not be generated or sealed.
    #[error("cannot create a signing secret: {0}")]
    Secret(String),
    /// The merchant already has the most endpoints allowed in this mode.
    #[error(
        "this merchant already has the most webhook endpoints allowed in this mode ({0}, \
         webhooks.max_endpoints); delete one first"
    )]
    Limit(u32),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not an absolute http(s) URL.
    #[error("url must be an absolute http or https URL of at most 2048 characters")]
    Malformed,
    /// http where https is required.
    #[error("url must use https")]
    NotHttps,
    /// Credentials in the URL would be sent to, and logged by, every proxy on the way.
    #[error("url must not contain a user name or password")]
    Credentials,
    /// Loopback, private or similar, without `webhooks.allow_private_targets`. The message
    /// names the setting, so whoever reads it knows what the operator can change.
    #[error(
        "url points at a loopback, private or otherwise non-public address; the operator allows \
         such targets with webhooks.allow_private_targets = true (PAYD_WEBHOOKS_ALLOW_PRIVATE_TARGETS)"
    )]
    Private,
}

/// Checks an endpoint URL when it is registered. Names are resolved only when delivering
/// (their addresses can change); literal internal addresses and `localhost` are refused here.
pub fn check_url(text: &str, allow_private: bool, require_https: bool) -> Result<String, UrlError> {
    if text.len() > MAX_URL || text.chars().any(char::is_control) {
        return Err(UrlError::Malformed);
    }
    let url = url::Url::parse(text).map_err(|_| UrlError::Malformed)?;
    match url.scheme() {
        "https" => {}
        "http" if require_https => return Err(UrlError::NotHttps),
        "http" => {}
        _ => return Err(UrlError::Malformed),
    }
    if url.host().is_none() {
        return Err(UrlError::Malformed);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::Credentials);
    }
    if !allow_private && guard::plainly_internal(&url) {
        return Err(UrlError::Private);
    }
    Ok(url.to_string())
}

fn new_sealed_secret(master_key: &MasterKey) -> Result<(Secret, String), EndpointError> {
    let secret = generate_secret().map_err(|e| EndpointError::Secret(e.to_string()))?;
    let sealed = master_key.seal(&secret).map_err(|e| EndpointError::Secret(e.to_string()))?;
    Ok((secret, sealed))
}

/// Registers an endpoint, unless its merchant already has `max_endpoints` in its mode; the
/// secret is returned this once and stored only sealed.
pub async fn create_endpoint(
    store: &Store,
    master_key: &MasterKey,
    new: NewEndpoint,
    max_endpoints: u32,
    now: DateTime<Utc>,
) -> Result<(WebhookEndpoint, Secret), EndpointError> {
    let (secret, sealed) = new_sealed_secret(master_key)?;
    let endpoint = WebhookEndpoint {
        id: WebhookEndpointId::new(),
        merchant_id: new.merchant_id,
        mode: new.mode,
        url: new.url,
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
    if !store.insert_webhook_endpoint_within(&endpoint, max_endpoints).await? {
        return Err(EndpointError::Limit(max_endpoints));
    }
    Ok((endpoint, secret))
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
    if !store.update_webhook_endpoint(&e).await? {
        return Err(StoreError::NotFound("webhook endpoint").into());
    }
    Ok((e, secret))
}

/// The secrets that sign a delivery to `endpoint` now, newest first: its own, and the
/// previous one during a rotation. Every format, AlpPay's included, signs with the endpoint's
/// secret: never an API key's, which any holder of that key (read-only ones too) would know.
pub fn signing_secrets(
    master_key: &MasterKey,
    endpoint: &WebhookEndpoint,
    now: DateTime<Utc>,
) -> Result<Vec<Secret>, String> {
    endpoint
        .signing_secrets_sealed(now)
        .into_iter()
        .map(|s| master_key.open(s).map_err(|e| e.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_for_shape_scheme_and_target() {
        assert!(check_url("https://shop.example/hooks", false, true).is_ok());
        assert_eq!(check_url("http://shop.example/hooks", false, true), Err(UrlError::NotHttps));
        assert!(check_url("http://shop.example/hooks", false, false).is_ok());
        assert_eq!(check_url("ftp://shop.example/", false, false), Err(UrlError::Malformed));
        assert_eq!(check_url("not a url", false, false), Err(UrlError::Malformed));
        assert_eq!(check_url("https://u:p@shop.example/", false, false), Err(UrlError::Credentials));
        assert_eq!(check_url("http://127.0.0.1:9000/", false, false), Err(UrlError::Private));
        assert_eq!(check_url("http://localhost/", false, false), Err(UrlError::Private));
        assert!(check_url("http://127.0.0.1:9000/", true, false).is_ok());
        let long = format!("https://shop.example/{}", "a".repeat(MAX_URL));
        assert_eq!(check_url(&long, false, false), Err(UrlError::Malformed));
    }
}

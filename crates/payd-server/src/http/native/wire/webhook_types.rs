//! Request and response types of the native webhook API.

use payd_core::webhook::{Attempt, Delivery, WebhookEndpoint};
use serde::{Deserialize, Serialize};
use utoipa::{IntoResponses, ToSchema};

use super::types::{ts, ErrorOut};

/// `POST /v1/webhook_endpoints`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpointIn {
    /// Where deliveries go: an absolute http(s) URL.
    #[schema(example = "https://shop.example/webhooks/payd")]
    pub url: String,
    /// Event kinds to receive (`payment.completed`, …); omitted or empty for all.
    pub events: Option<Vec<String>>,
    /// Payload shape and signature: `native` (default), `astrapay`, `paygentic`, `mutopay`, `alppay`.
    pub format: Option<String>,
    /// A note for yourself.
    pub description: Option<String>,
    /// Whether it receives deliveries (default true).
    pub enabled: Option<bool>,
    /// The merchant, for a key that spans several.
    pub merchant: Option<String>,
}

/// `PATCH /v1/webhook_endpoints/{id}`: only the fields given change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEndpointIn {
    /// New URL.
    pub url: Option<String>,
    /// New event filter; empty for all.
    pub events: Option<Vec<String>>,
    /// New format.
    pub format: Option<String>,
    /// New note; an empty string clears it.
    pub description: Option<String>,
    /// Enable (also after payd disabled it) or disable.
    pub enabled: Option<bool>,
}

/// `POST /v1/webhook_endpoints/{id}/rotate_secret`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecretIn {
    /// Seconds the old secret keeps signing beside the new one (0 to 604800; default 86400).
    pub expire_previous_in: Option<u64>,
}

/// A webhook endpoint. `secret` appears only when it is created or rotated.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointOut {
    pub id: String,
    #[schema(pattern = "^webhook_endpoint$")]
    pub object: &'static str,
    pub merchant: String,
    #[schema(pattern = "^(test|live)$")]
    pub mode: &'static str,
    pub url: String,
    pub description: Option<String>,
    /// Empty: every kind.
    pub events: Vec<&'static str>,
    #[schema(pattern = "^(native|astrapay|paygentic|mutopay|alppay)$")]
    pub format: &'static str,
    pub enabled: bool,
    /// `gone` (the endpoint answered 410) or `failing` (failures past the grace period).
    pub disabled_reason: Option<String>,
    /// Start of the current run of failed attempts.
    pub failing_since: Option<String>,
    /// The previous secret, after a rotation, signs until then.
    pub previous_secret_expires_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// `whsec_…`: shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub secret: Option<String>,
}

impl EndpointOut {
    /// The view of an endpoint (without its secret).
    pub fn new(e: &WebhookEndpoint) -> Self {
        EndpointOut {
            id: e.id.to_string(),
            object: "webhook_endpoint",
            merchant: e.merchant_id.to_string(),
            mode: e.mode.as_str(),
            url: e.url.clone(),
            description: e.description.clone(),
            events: e.events.iter().map(|k| k.as_str()).collect(),
            format: e.format.as_str(),
            enabled: e.enabled,
            disabled_reason: e.disabled_reason.clone(),
            failing_since: e.failing_since.map(ts),
            previous_secret_expires_at: e.previous_secret_expires_at.map(ts),
            created_at: ts(e.created_at),
            updated_at: ts(e.updated_at),
            secret: None,
        }
    }
}

/// A page of endpoints, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointListOut {
    #[schema(pattern = "^list$")]
    pub object: &'static str,
    pub data: Vec<EndpointOut>,
    pub has_more: bool,
    /// Pass as `starting_after` for the next page.
    pub next_cursor: Option<String>,
}

/// What deleting answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedOut {
    pub id: String,
    #[schema(pattern = "^webhook_endpoint$")]
    pub object: &'static str,
    pub deleted: bool,
}

/// One attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptOut {
    pub at: String,
    /// The HTTP status answered; null when there was no answer.
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    /// Why it failed without an answer, or the redirect not followed.
    pub error: Option<String>,
    /// The first 1 KiB of the answer.
    pub response_snippet: Option<String>,
}

impl AttemptOut {
    /// The view of an attempt.
    pub fn new(a: &Attempt) -> Self {
        AttemptOut {
            at: ts(a.at),
            status_code: a.status_code,
            latency_ms: a.latency_ms,
            error: a.error.clone(),
            response_snippet: a.response_snippet.clone(),
        }
    }
}

/// One event's delivery to one endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryOut {
    pub id: String,
    #[schema(pattern = "^webhook_delivery$")]
    pub object: &'static str,
    /// The event id: the `webhook-id` a receiver deduplicates on.
    pub event: String,
    /// payd's kind (`payment.completed`).
    pub event_type: &'static str,
    /// The name the endpoint's format gives it (`payment.canceled` for AstraPay).
    pub event_name: String,
    pub payment: String,
    pub endpoint: String,
    #[schema(pattern = "^(pending|delivering|delivered|failed|dead)$")]
    pub status: &'static str,
    pub attempts: u32,
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Every attempt, oldest first (on a single delivery only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub attempt_log: Option<Vec<AttemptOut>>,
}

impl DeliveryOut {
    /// The view of a delivery.
    pub fn new(d: &Delivery, attempts: Option<&[Attempt]>) -> Self {
        DeliveryOut {
            id: d.id.to_string(),
            object: "webhook_delivery",
            event: d.event_id.to_string(),
            event_type: d.kind.as_str(),
            event_name: d.event_name.clone(),
            payment: d.payment_id.to_string(),
            endpoint: d.endpoint_id.to_string(),
            status: d.status.as_str(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at.map(ts),
            created_at: ts(d.created_at),
            updated_at: ts(d.updated_at),
            attempt_log: attempts.map(|a| a.iter().map(AttemptOut::new).collect()),
        }
    }
}

/// A page of deliveries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryListOut {
    #[schema(pattern = "^list$")]
    pub object: &'static str,
    pub data: Vec<DeliveryOut>,
    pub has_more: bool,
    /// Pass as `starting_after` for the next page.
    pub next_cursor: Option<String>,
}

/// `GET /v1/webhook_deliveries` filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListDeliveriesIn {
    /// Only to this endpoint.
    pub endpoint: Option<String>,
    /// Only of this event.
    pub event: Option<String>,
    /// Only about this payment.
    pub payment: Option<String>,
    /// Only in this state.
    pub status: Option<String>,
    /// 1 to 100 (default 20).
    pub limit: Option<String>,
    /// A delivery id: the page after it.
    pub starting_after: Option<String>,
    /// The merchant, for a key that spans several.
    pub merchant: Option<String>,
}

/// `GET /v1/webhook_endpoints` filter and page.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListEndpointsIn {
    /// The merchant, for a key that spans several.
    pub merchant: Option<String>,
    /// 1 to 100 (default 20).
    pub limit: Option<String>,
    /// An endpoint id: the page after it.
    pub starting_after: Option<String>,
}

/// What a replay answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayOut {
    #[schema(pattern = "^replay$")]
    pub object: &'static str,
    /// Deliveries queued again.
    pub replayed: u64,
}

/// The errors every webhook operation can answer.
#[derive(Debug, IntoResponses)]
#[allow(dead_code)]
pub enum Errors {
    /// Bad input.
    #[response(status = 400)]
    BadRequest(ErrorOut),
    /// Missing or invalid API key.
    #[response(status = 401)]
    Unauthorized(ErrorOut),
    /// Missing `webhooks:manage` scope or suspended merchant.
    #[response(status = 403)]
    Forbidden(ErrorOut),
    /// No such endpoint or delivery.
    #[response(status = 404)]
    NotFound(ErrorOut),
    /// The delivery is being sent right now, or the merchant has the most endpoints allowed.
    #[response(status = 409)]
    Conflict(ErrorOut),
    /// Body too large.
    #[response(status = 413)]
    TooLarge(ErrorOut),
    /// Not JSON.
    #[response(status = 415)]
    Unsupported(ErrorOut),
    /// Rate limited.
    #[response(status = 429)]
    RateLimited(ErrorOut),
}

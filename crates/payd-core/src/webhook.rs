//! Webhook endpoints and deliveries: what a merchant registers, which events reach which
//! endpoint under which name, and the state of each delivery. Signing is in
//! [`crate::webhook_sign`]; sending is the server's dispatcher.

use std::fmt;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::apikey::Mode;
use crate::event::EventKind;
use crate::ids::{DeliveryId, EventId, MerchantId, PaymentId, WebhookEndpointId};
use crate::payment::Payment;
use crate::secret::Secret;

/// The payload shape and signature scheme of an endpoint: payd's own (Standard Webhooks) or a
/// provider's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// Standard Webhooks v1 (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
    Native,
    /// `X-AstraPay-Signature: t=…,v1=<hex>`.
    Astrapay,
    /// Svix headers, `{eventType, eventId, timestamp, data}`.
    Paygentic,
    /// `X-MutoPay-Signature: sha256=<hex>`, flat payload.
    Mutopay,
    /// `X-HMAC: <hex>` under the endpoint's secret, the payment object.
    Alppay,
}

impl WebhookFormat {
    /// Every format.
    pub const ALL: [WebhookFormat; 5] = [
        WebhookFormat::Native,
        WebhookFormat::Astrapay,
        WebhookFormat::Paygentic,
        WebhookFormat::Mutopay,
        WebhookFormat::Alppay,
    ];

    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Native => "native",
            WebhookFormat::Astrapay => "astrapay",
            WebhookFormat::Paygentic => "paygentic",
            WebhookFormat::Mutopay => "mutopay",
            WebhookFormat::Alppay => "alppay",
        }
    }

    /// Parses the spelling.
    pub fn parse(s: &str) -> Option<Self> {
        WebhookFormat::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// The name this format gives an event of `kind` about `payment`, or `None` when the
    /// provider has no such webhook (AstraPay sends four kinds, MutoPay only final states).
    pub fn event_name(self, kind: EventKind, payment_underpaid: bool) -> Option<String> {
        use EventKind as K;
        match self {
            WebhookFormat::Native | WebhookFormat::Alppay => Some(kind.as_str().to_owned()),
            // Paygentic documents no payment events; `.v0` follows its naming of the others.
            WebhookFormat::Paygentic => Some(format!("{}.v0", kind.as_str())),
            WebhookFormat::Astrapay => match kind {
                K::Completed => Some("payment.completed".into()),
                K::Expired => Some("payment.expired".into()),
                K::Cancelled => Some("payment.canceled".into()),
                K::PartiallyPaid => Some("payment.partially_paid".into()),
                _ => None,
            },
            WebhookFormat::Mutopay => match kind {
                K::Completed => Some("payment.completed".into()),
                K::Expired if payment_underpaid => Some("payment.underpaid".into()),
                K::Expired => Some("payment.expired".into()),
                // MutoPay calls a payment that will never complete `failed`.
                K::Cancelled => Some("payment.failed".into()),
                _ => None,
            },
        }
    }
}

impl fmt::Display for WebhookFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A merchant's webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// Id.
    pub id: WebhookEndpointId,
    /// Owner.
    pub merchant_id: MerchantId,
    /// Which payments' events it receives.
    pub mode: Mode,
    /// Where deliveries go.
    pub url: String,
    /// The merchant's note.
    pub description: Option<String>,
    /// The kinds it receives; empty means all.
    pub events: Vec<EventKind>,
    /// Payload shape and signature scheme.
    pub format: WebhookFormat,
    /// Whether new events are delivered to it.
    pub enabled: bool,
    /// Why payd disabled it (`gone`, `failing`), or `None` when enabled or disabled by the
    /// merchant.
    pub disabled_reason: Option<String>,
    /// The signing secret (`whsec_…`), sealed under the master key.
    pub secret_sealed: String,
    /// The secret before the last rotation, still signing until `previous_secret_expires_at`.
    pub previous_secret_sealed: Option<String>,
    /// When the previous secret stops signing.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Start of the current run of failed attempts.
    pub failing_since: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl WebhookEndpoint {
    /// Enables or disables the endpoint at the merchant's request. Enabling ends whatever
    /// payd had recorded against it: its reason for disabling it and the run of failures.
    pub fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
        if enabled {
            self.disabled_reason = None;
            self.failing_since = None;
        }
    }
}

impl WebhookEndpoint {
    /// Whether an event of `kind` about `payment` goes to this endpoint, and under which name.
    pub fn wants(&self, kind: EventKind, payment: &Payment) -> Option<String> {
        if !self.enabled || payment.merchant_id != self.merchant_id || payment.mode != self.mode {
            return None;
        }
        if !self.events.is_empty() && !self.events.contains(&kind) {
            return None;
        }
        self.format.event_name(kind, payment.underpaid)
    }

    /// The sealed secrets that sign a delivery at `now`: the current one, and the previous one
    /// while it has not expired.
    pub fn signing_secrets_sealed(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut out = vec![self.secret_sealed.as_str()];
        if let (Some(prev), Some(until)) = (&self.previous_secret_sealed, self.previous_secret_expires_at) {
            if until > now {
                out.push(prev);
            }
        }
        out
    }
}

/// The state of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its first attempt (or a replay).
    Pending,
    /// Claimed by a dispatcher, which holds a lease on it.
    Delivering,
    /// The endpoint answered 2xx.
    Delivered,
    /// The last attempt failed; another is scheduled.
    Failed,
    /// Attempts are exhausted, or the endpoint was disabled: only a replay sends it again.
    Dead,
}

impl DeliveryStatus {
    /// Every status.
    pub const ALL: [DeliveryStatus; 5] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Delivering,
        DeliveryStatus::Delivered,
        DeliveryStatus::Failed,
        DeliveryStatus::Dead,
    ];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivering => "delivering",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Dead => "dead",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        DeliveryStatus::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One event's delivery to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Id.
    pub id: DeliveryId,
    /// The event.
    pub event_id: EventId,
    /// The endpoint.
    pub endpoint_id: WebhookEndpointId,
    /// The event's kind.
    pub kind: EventKind,
    /// The event's payment.
    pub payment_id: PaymentId,
    /// The name the endpoint's format gives the event.
    pub event_name: String,
    /// State.
    pub status: DeliveryStatus,
    /// Attempts made since creation or the last replay.
    pub attempts: u32,
    /// When the next attempt is due (pending and failed deliveries).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// One attempt to deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// When it was sent.
    pub at: DateTime<Utc>,
    /// The HTTP status answered, if any.
    pub status_code: Option<u16>,
    /// How long the endpoint took.
    pub latency_ms: u64,
    /// Why it failed without an answer (timeout, refused address), or a redirect's target.
    pub error: Option<String>,
    /// The first bytes of the answer.
    pub response_snippet: Option<String>,
}

/// Largest response snippet kept per attempt.
pub const SNIPPET_BYTES: usize = 1024;

/// The default retry schedule: the delay before each retry after a failed attempt, about
/// three days in all.
pub const DEFAULT_RETRY_SCHEDULE: [Duration; 9] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(14 * 3600),
    Duration::from_secs(20 * 3600),
    Duration::from_secs(24 * 3600),
];

/// The delay before the next attempt after `attempts` failed ones, or `None` when the
/// schedule is exhausted. `jitter_permille` (0..=200) spreads retries by -10 %..+10 % so a
/// recovering endpoint is not hit by every retry at once; `retry_after` (the endpoint's own
/// request) lengthens the delay, up to a day.
pub fn retry_delay(
    schedule: &[Duration],
    attempts: u32,
    jitter_permille: u32,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    let index = usize::try_from(attempts.checked_sub(1)?).ok()?;
    let base = *schedule.get(index)?;
    let jitter = jitter_permille.min(200);
    let ms = base.as_millis().saturating_mul(u128::from(900 + jitter)) / 1000;
    let delay = Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX));
    let day = Duration::from_secs(86_400);
    Some(match retry_after {
        Some(asked) if asked > delay => asked.min(day).max(delay),
        _ => delay,
    })
}

/// A new signing secret: `whsec_` and the base64 of 32 random bytes (the Standard Webhooks
/// and Svix form).
pub fn generate_secret() -> Result<Secret, getrandom::Error> {
    let mut buf = [0u8; 32];
    getrandom::getrandom(&mut buf)?;
    Ok(Secret::new(format!("whsec_{}", B64.encode(buf))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_names_only_the_events_its_provider_sends() {
        use EventKind as K;
        let f = WebhookFormat::Astrapay;
        assert_eq!(f.event_name(K::Cancelled, false).as_deref(), Some("payment.canceled"));
        assert_eq!(f.event_name(K::Created, false), None);
        assert_eq!(
            WebhookFormat::Paygentic.event_name(K::Completed, false).as_deref(),
            Some("payment.completed.v0")
        );
        let m = WebhookFormat::Mutopay;
        assert_eq!(m.event_name(K::Expired, true).as_deref(), Some("payment.underpaid"));
        assert_eq!(m.event_name(K::Expired, false).as_deref(), Some("payment.expired"));
        assert_eq!(m.event_name(K::Processing, false), None);
        for k in EventKind::ALL {
            assert_eq!(WebhookFormat::Native.event_name(k, false).as_deref(), Some(k.as_str()));
        }
        for f in WebhookFormat::ALL {
            assert_eq!(WebhookFormat::parse(f.as_str()), Some(f));
        }
    }

    #[test]
    fn the_schedule_spreads_retries_and_ends() {
        let s = DEFAULT_RETRY_SCHEDULE;
        assert_eq!(retry_delay(&s, 0, 100, None), None);
        assert_eq!(retry_delay(&s, 1, 100, None), Some(Duration::from_secs(5)));
        assert_eq!(retry_delay(&s, 1, 0, None), Some(Duration::from_millis(4500)));
        assert_eq!(retry_delay(&s, 1, 200, None), Some(Duration::from_millis(5500)));
        assert_eq!(retry_delay(&s, 9, 100, None), Some(Duration::from_secs(86_400)));
        assert_eq!(retry_delay(&s, 10, 100, None), None);
        let total: Duration = s.iter().sum();
        assert!(total > Duration::from_secs(3 * 86_400) && total < Duration::from_secs(4 * 86_400));
    }

    #[test]
    fn retry_after_lengthens_but_never_shortens_and_is_capped() {
        let s = DEFAULT_RETRY_SCHEDULE;
        let asked = Some(Duration::from_secs(60));
        assert_eq!(retry_delay(&s, 1, 100, asked), Some(Duration::from_secs(60)));
        assert_eq!(retry_delay(&s, 2, 100, asked), Some(Duration::from_secs(300)));
        let huge = Some(Duration::from_secs(10 * 86_400));
        assert_eq!(retry_delay(&s, 1, 100, huge), Some(Duration::from_secs(86_400)));
    }

    #[test]
    fn secrets_are_whsec_and_32_random_bytes() {
        let a = generate_secret().map(|s| s.expose().to_owned()).unwrap_or_default();
        let b = generate_secret().map(|s| s.expose().to_owned()).unwrap_or_default();
        assert_ne!(a, b);
        let raw = a.strip_prefix("whsec_").map(|r| B64.decode(r).unwrap_or_default()).unwrap_or_default();
        assert_eq!(raw.len(), 32);
    }
}

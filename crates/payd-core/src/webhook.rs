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

    /// The name a test event goes by in this format: payd's `webhook.test`, which the
    /// formats that carry a name show in their body (and AstraPay in `x-astrapay-event`);
    /// Paygentic's names end in `.v0`. AlpPay's body has no name: its sample payment says it
    /// is a test in its invoice (and, where shown, its description and metadata).
    pub fn test_event_name(self) -> String {
        match self {
            WebhookFormat::Paygentic => format!("{}.v0", EventKind::Test.as_str()),
            _ => EventKind::Test.as_str().to_owned(),
        }
    }

    /// The deliveries one change of a payment sends in this format, as `(event, filter kind,
    /// name)`: the index in `kinds` of the event it rides on (every event of one change
    /// carries the same snapshot), the kind an endpoint's event filter is matched against,
    /// and the name the receiver sees. `before` is the payment before the change (`None` at
    /// creation), `after` the payment the events describe.
    ///
    /// payd's own format and Paygentic's send every event. The providers that speak in
    /// statuses send one delivery when their status changes, named as they document it
    /// ([`crate::dialect_status`]): AstraPay also announces each further partial payment and
    /// late money that leaves its status as it was (`payment.paid_late`, payd's addition);
    /// MutoPay only its final states; AlpPay the whole payment at every change.
    pub fn plan(
        self,
        before: Option<&Payment>,
        after: &Payment,
        kinds: &[EventKind],
    ) -> Vec<(usize, EventKind, String)> {
        use crate::dialect_status as status;
        use EventKind as K;
        let Some(last) = kinds.len().checked_sub(1) else { return Vec::new() };
        let has = |k: K| kinds.contains(&k);
        match self {
            WebhookFormat::Native => {
                kinds.iter().enumerate().map(|(i, k)| (i, *k, k.as_str().to_owned())).collect()
            }
            // Paygentic documents no payment events; `.v0` follows its naming of the others.
            WebhookFormat::Paygentic => {
                kinds.iter().enumerate().map(|(i, k)| (i, *k, format!("{}.v0", k.as_str()))).collect()
            }
            WebhookFormat::Astrapay => {
                let now = status::astrapay(after);
                let changed = before.is_some_and(|b| status::astrapay(b) != now);
                let named = |kind: K, name: &str| vec![(last, kind, name.to_owned())];
                match now {
                    "PARTIALLY_PAID" if changed || has(K::PartiallyPaid) => {
                        named(K::PartiallyPaid, "payment.partially_paid")
                    }
                    "COMPLETED" if changed => named(K::Completed, "payment.completed"),
                    "EXPIRED" if changed => named(K::Expired, "payment.expired"),
                    "CANCELED" if changed => named(K::Cancelled, "payment.canceled"),
                    _ if has(K::PaidLate) => named(K::PaidLate, "payment.paid_late"),
                    _ => Vec::new(),
                }
            }
            WebhookFormat::Mutopay => {
                let now = status::mutopay(after);
                if before.is_none_or(|b| status::mutopay(b) == now) {
                    return Vec::new();
                }
                let kind = match now {
                    "completed" => K::Completed,
                    "expired" | "underpaid" => K::Expired,
                    "failed" => K::Cancelled,
                    _ => return Vec::new(),
                };
                vec![(last, kind, format!("payment.{now}"))]
            }
            // The whole payment, once per change; named after the change's last event in
            // the delivery log (AlpPay's body carries no name).
            WebhookFormat::Alppay => vec![(last, kinds[last], kinds[last].as_str().to_owned())],
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
    /// The deliveries one change of `after` sends to this endpoint, as `(index in kinds,
    /// name)`: none when it is disabled, another merchant's or mode's, or filters them out.
    /// AlpPay's whole-payment deliveries pass a filter that names any of the change's kinds.
    pub fn deliveries(
        &self,
        before: Option<&Payment>,
        after: &Payment,
        kinds: &[EventKind],
    ) -> Vec<(usize, String)> {
        if !self.enabled || after.merchant_id != self.merchant_id || after.mode != self.mode {
            return Vec::new();
        }
        let wanted = |k: &EventKind| self.events.is_empty() || self.events.contains(k);
        self.format
            .plan(before, after, kinds)
            .into_iter()
            .filter(|(_, kind, _)| match self.format {
                WebhookFormat::Alppay => kinds.iter().any(wanted),
                _ => wanted(kind),
            })
            .map(|(i, _, name)| (i, name))
            .collect()
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

/// What an attempt means for its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// 2xx: done.
    Delivered,
    /// Failed; try again at this time.
    RetryAt(DateTime<Utc>),
    /// Failed for the last time.
    Dead,
}

/// What an attempt means for its endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointHealth {
    /// It answered 2xx: any run of failures is over.
    Healthy,
    /// It failed: a run of failures starts (or goes on).
    Failing,
    /// Stop sending to it, for this reason (`gone`, `failing`).
    Disable(&'static str),
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
    fn each_format_names_only_the_changes_its_provider_sends() {
        use crate::payment::{test_payment, test_t0, Funds};
        use EventKind as K;
        let names = |f: WebhookFormat, b: &Payment, a: &Payment, k: &[K]| -> Vec<String> {
            f.plan(Some(b), a, k).into_iter().map(|(_, _, n)| n).collect()
        };
        let created = test_payment(100);
        assert!(WebhookFormat::Astrapay.plan(None, &created, &[K::Created]).is_empty());
        assert!(WebhookFormat::Mutopay.plan(None, &created, &[K::Created]).is_empty());
        assert_eq!(WebhookFormat::Alppay.plan(None, &created, &[K::Created]).len(), 1);

        // A partial payment, then the rest seen but not yet confirmed, then confirmed.
        let mut partial = created.clone();
        let k1 = partial
            .apply_funds(Funds { confirmed: 0, pending: 40, late: 0 }, 0, test_t0())
            .unwrap_or_default();
        let mut rest = partial.clone();
        let k2 =
            rest.apply_funds(Funds { confirmed: 0, pending: 100, late: 0 }, 0, test_t0()).unwrap_or_default();
        let mut done = rest.clone();
        let k3 =
            done.apply_funds(Funds { confirmed: 100, pending: 0, late: 0 }, 0, test_t0()).unwrap_or_default();
        let a = WebhookFormat::Astrapay;
        assert_eq!(names(a, &created, &partial, &k1), ["payment.partially_paid"]);
        assert!(names(a, &partial, &rest, &k2).is_empty(), "still PARTIALLY_PAID, nothing to say");
        assert_eq!(names(a, &rest, &done, &k3), ["payment.completed"]);
        let m = WebhookFormat::Mutopay;
        assert!(names(m, &created, &partial, &k1).is_empty());
        assert!(names(m, &partial, &rest, &k2).is_empty(), "confirming is not announced");
        assert_eq!(names(m, &rest, &done, &k3), ["payment.completed"]);
        assert_eq!(names(WebhookFormat::Paygentic, &rest, &done, &k3), ["payment.completed.v0"]);
        assert_eq!(names(WebhookFormat::Alppay, &created, &partial, &k1).len(), 1, "one whole-payment body");
        assert_eq!(
            names(WebhookFormat::Native, &created, &partial, &k1),
            ["payment.processing", "payment.partially_paid"]
        );

        // Expired part paid, then late money that covers the amount.
        let mut expired = partial.clone();
        let k4 = expired.expire(test_t0() + chrono::Duration::hours(1)).unwrap_or_default();
        assert_eq!(names(m, &partial, &expired, &k4), ["payment.underpaid"]);
        assert_eq!(names(a, &partial, &expired, &k4), ["payment.expired"]);
        let mut late = expired.clone();
        let k5 = late
            .apply_funds(Funds { confirmed: 100, pending: 0, late: 60 }, 0, test_t0())
            .unwrap_or_default();
        assert_eq!(k5, [K::PaidLate]);
        assert_eq!(names(m, &expired, &late, &k5), ["payment.completed"]);
        assert_eq!(names(a, &expired, &late, &k5), ["payment.completed"]);
        assert_eq!(names(WebhookFormat::Native, &expired, &late, &k5), ["payment.paid_late"]);
        // More late money after that changes no status: AstraPay still tells.
        let mut more = late.clone();
        let k6 = more
            .apply_funds(Funds { confirmed: 120, pending: 0, late: 80 }, 0, test_t0())
            .unwrap_or_default();
        assert_eq!(names(a, &late, &more, &k6), ["payment.paid_late"]);
        assert!(names(m, &late, &more, &k6).is_empty());
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

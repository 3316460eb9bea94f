//! What an attempt's answer means: 2xx delivers and ends the endpoint's failure run; 410 Gone
//! kills the delivery and disables the endpoint; anything else (no answer, a redirect, any
//! other status) retries on the schedule, lengthened by the endpoint's `Retry-After`, until
//! the schedule runs out, and disables an endpoint that has been failing for
//! `webhooks.disable_after`. The dispatcher (`workers::webhooks`) sends and records; the
//! judgement is here.

use std::time::Duration;

use chrono::{DateTime, Utc};
use payd_core::webhook::{retry_delay, DeliveryOutcome, EndpointHealth};

use crate::config::webhooks::WebhooksConfig;

/// What came back from one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status, when the endpoint answered.
    pub status_code: Option<u16>,
    /// Its `Retry-After`, when it gave one.
    pub retry_after: Option<Duration>,
}

/// Whether an answer counts as delivered.
pub fn is_success(status_code: Option<u16>) -> bool {
    status_code.is_some_and(|c| (200..300).contains(&c))
}

/// What an attempt means for the delivery and the endpoint. `attempts_before`: the
/// delivery's failed attempts before this one; `failing_since`: the start of the endpoint's
/// failure run; `jitter_permille` (0..=200) spreads the retry by ±10 % ([`jitter_permille`]).
pub fn judge(
    config: &WebhooksConfig,
    answer: Answer,
    attempts_before: u32,
    failing_since: Option<DateTime<Utc>>,
    jitter_permille: u32,
    now: DateTime<Utc>,
) -> (DeliveryOutcome, EndpointHealth) {
    if is_success(answer.status_code) {
        return (DeliveryOutcome::Delivered, EndpointHealth::Healthy);
    }
    if answer.status_code == Some(410) {
        // Gone: the receiver says this endpoint no longer exists.
        return (DeliveryOutcome::Dead, EndpointHealth::Disable("gone"));
    }
    let attempts = attempts_before.saturating_add(1);
    let outcome = match retry_delay(&config.retry_schedule, attempts, jitter_permille, answer.retry_after) {
        Some(delay) => DeliveryOutcome::RetryAt(
            now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::days(1)),
        ),
        None => DeliveryOutcome::Dead,
    };
    let grace = chrono::Duration::from_std(config.disable_after).unwrap_or(chrono::Duration::days(5));
    let health = match failing_since {
        Some(since) if now - since >= grace => EndpointHealth::Disable("failing"),
        _ => EndpointHealth::Failing,
    };
    (outcome, health)
}

/// `Retry-After`: seconds, or an HTTP date (a date in the past asks for nothing).
pub fn parse_retry_after(v: &str, now: DateTime<Utc>) -> Option<Duration> {
    if let Ok(secs) = v.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(v.trim()).ok()?.with_timezone(&Utc);
    (at - now).to_std().ok()
}

/// 0..=200, for ±10 % around each scheduled delay. A v4 UUID is 122 bits from the OS
/// generator, which the server already uses for ids.
pub fn jitter_permille() -> u32 {
    let b = uuid::Uuid::new_v4().into_bytes();
    u32::from(u16::from_le_bytes([b[0], b[1]])) % 201
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        let now = at("2026-01-01T00:00:00Z");
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Thu, 01 Jan 2026 00:01:00 GMT", now), Some(Duration::from_secs(60)));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("Wed, 31 Dec 2025 00:00:00 GMT", now), None);
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        assert!((0..100).map(|_| jitter_permille()).all(|j| j <= 200));
    }

    #[test]
    fn answers_are_judged_for_the_delivery_and_the_endpoint() {
        let config = WebhooksConfig {
            retry_schedule: vec![Duration::from_secs(5), Duration::from_secs(60)],
            disable_after: Duration::from_secs(3600),
            ..WebhooksConfig::default()
        };
        let now = at("2026-01-01T12:00:00Z");
        let answer = |status_code| Answer { status_code, retry_after: None };
        let judge = |a, attempts, since| judge(&config, a, attempts, since, 100, now);
        assert_eq!(
            judge(answer(Some(204)), 5, Some(now)),
            (DeliveryOutcome::Delivered, EndpointHealth::Healthy)
        );
        assert_eq!(
            judge(answer(Some(410)), 0, None),
            (DeliveryOutcome::Dead, EndpointHealth::Disable("gone"))
        );
        let retry = DeliveryOutcome::RetryAt(now + chrono::Duration::seconds(5));
        assert_eq!(judge(answer(Some(500)), 0, None), (retry, EndpointHealth::Failing));
        assert_eq!(judge(answer(None), 2, None).0, DeliveryOutcome::Dead, "the schedule is spent");
        let redirect = judge(answer(Some(302)), 0, Some(now - chrono::Duration::hours(2)));
        assert_eq!(redirect.1, EndpointHealth::Disable("failing"), "failing past disable_after");
        let asked = Answer { status_code: Some(429), retry_after: Some(Duration::from_secs(600)) };
        assert_eq!(judge(asked, 0, None).0, DeliveryOutcome::RetryAt(now + chrono::Duration::seconds(600)));
    }
}

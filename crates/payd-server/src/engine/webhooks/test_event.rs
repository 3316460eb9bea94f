//! Test events: what a merchant sends to one endpoint to check it ("Send test event"). The
//! event is a sample payment (10.00 USD, pending, its description and metadata saying it is
//! a test), named `webhook.test` in the endpoint's format
//! ([`WebhookFormat::test_event_name`](payd_core::webhook::WebhookFormat::test_event_name)).
//! It goes through the ordinary pipeline: stored with its one delivery, claimed by the
//! dispatcher, rendered by the format's own body, signed with the endpoint's secrets, retried
//! on the schedule, and listed in the endpoint's delivery log with every attempt. The sample
//! is not a row of `payments`, so it never shows in a list, a search or a total.

use chrono::{DateTime, Duration, Utc};
use payd_core::event::{Event, EventKind};
use payd_core::ids::{DeliveryId, EventId};
use payd_core::money::{Currency, Money};
use payd_core::payment::{generate_slug, Customer, Dialect, NewPayment, Payment, RedirectUrls};
use payd_core::webhook::{WebhookEndpoint, WebhookFormat};
use payd_store::users::AuditEntry;
use payd_store::{Store, StoreError};

/// What the sample payment's description says, in every format's body.
pub const SAMPLE_DESCRIPTION: &str = "payd test event: a sample payment, no money moved";

/// Why a test event was not sent.
#[derive(Debug, thiserror::Error)]
pub enum TestEventError {
    /// The endpoint is disabled (deliveries to it wait) or was deleted meanwhile.
    #[error("this endpoint is disabled or gone; enable it to send a test event")]
    NotSendable,
    /// The sample could not be built (no randomness for its slug, or a bad constant).
    #[error("building the sample payment: {0}")]
    Sample(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn dialect_of(format: WebhookFormat) -> Dialect {
    match format {
        WebhookFormat::Native => Dialect::Native,
        WebhookFormat::Astrapay => Dialect::Astrapay,
        WebhookFormat::Paygentic => Dialect::Paygentic,
        WebhookFormat::Mutopay => Dialect::Mutopay,
        WebhookFormat::Alppay => Dialect::Alppay,
    }
}

/// The sample payment a test event to `endpoint` describes: its merchant and mode, created
/// through the endpoint's format's API, pending, no asset chosen yet.
pub fn sample_payment(endpoint: &WebhookEndpoint, now: DateTime<Utc>) -> Result<Payment, TestEventError> {
    let price = Money::parse("10.00", Currency::USD).map_err(|e| TestEventError::Sample(e.to_string()))?;
    let slug = generate_slug().map_err(|e| TestEventError::Sample(e.to_string()))?;
    let new = NewPayment {
        merchant_id: endpoint.merchant_id.clone(),
        mode: endpoint.mode,
        dialect: dialect_of(endpoint.format),
        price,
        fx: None,
        asset: None,
        customer: Customer::default(),
        reference: Some("payd-test-event".to_owned()),
        external_id: None,
        // AlpPay's body carries neither name nor description: its invoice says it.
        invoice: Some("payd-test-event".to_owned()),
        description: Some(SAMPLE_DESCRIPTION.to_owned()),
        line_items: Vec::new(),
        metadata: serde_json::json!({ "payd_test_event": true }),
        urls: RedirectUrls::default(),
        idempotency_key: None,
        client_id: None,
        product_id: None,
        expires_at: now + Duration::hours(1),
    };
    Ok(Payment::create(new, slug, now).0)
}

/// The test event for `endpoint`: kind [`EventKind::Test`], the sample as its snapshot.
pub fn event(endpoint: &WebhookEndpoint, now: DateTime<Utc>) -> Result<Event, TestEventError> {
    let p = sample_payment(endpoint, now)?;
    let payload = serde_json::to_value(&p).map_err(|e| TestEventError::Sample(e.to_string()))?;
    Ok(Event {
        id: EventId::new(),
        kind: EventKind::Test,
        payment_id: p.id,
        merchant_id: p.merchant_id,
        mode: p.mode,
        sequence: 0,
        payload,
        created_at: now,
    })
}

/// Stores a test event and its delivery to `endpoint` (due at once) with `audit`, in one
/// transaction; the dispatcher sends it. Returns the delivery's id.
pub async fn send(
    store: &Store,
    endpoint: &WebhookEndpoint,
    audit: &AuditEntry,
    now: DateTime<Utc>,
) -> Result<DeliveryId, TestEventError> {
    if !endpoint.enabled {
        return Err(TestEventError::NotSendable);
    }
    let event = event(endpoint, now)?;
    let delivery = DeliveryId::new();
    let name = endpoint.format.test_event_name();
    if !store.send_test_webhook_event(&endpoint.id, &event, &delivery, &name, audit).await? {
        return Err(TestEventError::NotSendable);
    }
    Ok(delivery)
}

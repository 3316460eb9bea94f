//! Paygentic's webhook body (Svix-style envelope; Paygentic documents no payment events).

use payd_core::event::Event;
use payd_core::payment::Payment;
use serde_json::{json, Value};

use super::payment::payment_json;

/// `{eventType, eventId, timestamp, data: <the payment>}`.
pub fn body(event: &Event, event_name: &str, at: &str, p: &Payment, public_url: &str) -> Value {
    json!({
        "eventType": event_name,
        "eventId": event.id.to_string(),
        "timestamp": at,
        "data": payment_json(p, public_url),
    })
}

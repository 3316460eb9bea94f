//! The native webhook body.

use payd_core::event::Event;
use payd_core::payment::Payment;
use serde_json::{json, Value};

use super::types::PaymentOut;

/// `{id, type, timestamp, sequence, data: <the payment>}`.
pub fn body(event: &Event, event_name: &str, at: &str, p: &Payment, public_url: &str) -> Value {
    json!({
        "id": event.id.to_string(),
        "type": event_name,
        "timestamp": at,
        "sequence": event.sequence,
        "data": PaymentOut::new(p, public_url),
    })
}

//! AstraPay's webhook body.

use payd_core::apikey::Mode;
use payd_core::payment::Payment;
use serde_json::{json, Value};

use super::payment::{status, AstraPayment};

/// `{event, timestamp, data{payment_id, short_id, amount, token, network, status,
/// transaction_hash, test_mode, metadata}}` with the status in lower case, as AstraPay's
/// webhooks write it.
pub fn body(p: &Payment, event_name: &str, at: &str, tx: Option<String>, public_url: &str) -> Value {
    let view = serde_json::to_value(AstraPayment::new(p, public_url).with_tx(tx)).unwrap_or(Value::Null);
    json!({
        "event": event_name,
        "timestamp": at,
        "data": {
            "payment_id": view["id"],
            "short_id": view["short_id"],
            "amount": view["amount"],
            "token": view["token"],
            "network": view["network"],
            "status": status(p).to_ascii_lowercase(),
            "transaction_hash": view["transaction_hash"],
            "test_mode": p.mode == Mode::Test,
            "paid_late": p.paid_late,
            "metadata": p.metadata,
        },
    })
}

//! MutoPay's webhook body.

use payd_core::payment::Payment;
use serde_json::{json, Value};

use super::payment::status_json;

/// MutoPay's flat payload: the status object's fields with `event`, `payment_id` and
/// `timestamp`. payd settles in the token the customer pays, so `src_*` and `dest_*` match.
pub fn body(p: &Payment, event_name: &str, at: &str, tx: Option<String>, public_url: &str) -> Value {
    let mut v = status_json(p, public_url, tx);
    if let Some(obj) = v.as_object_mut() {
        let id = obj.remove("id").unwrap_or(Value::Null);
        obj.insert("event".into(), json!(event_name));
        obj.insert("payment_id".into(), id);
        obj.insert("src_token".into(), obj.get("dest_token").cloned().unwrap_or(Value::Null));
        obj.insert("src_chain_id".into(), obj.get("dest_chain_id").cloned().unwrap_or(Value::Null));
        obj.insert("src_amount".into(), obj.get("dest_amount").cloned().unwrap_or(Value::Null));
        obj.insert("timestamp".into(), json!(at));
    }
    v
}

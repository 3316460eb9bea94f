//! Webhook bodies, one shape per format, built from the event's snapshot of the payment (so a
//! retry hours later still describes the moment it announces) in the view each API already
//! uses for its responses.

use payd_core::apikey::Mode;
use payd_core::event::Event;
use payd_core::payment::Payment;
use payd_core::webhook::WebhookFormat;
use payd_store::{Store, StoreError};
use serde_json::{json, Value};

use crate::engine;
use crate::http::dialects::{alppay, astrapay, mutopay, paygentic};
use crate::http::native::PaymentOut;
use crate::http::wire::wire_time;

/// Why a body could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// The stored snapshot is not a payment.
    #[error("event snapshot does not parse: {0}")]
    Snapshot(serde_json::Error),
    /// Reading the payment's transfers or merchant failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The exact bytes to send for `event` in `format`.
pub async fn body(
    store: &Store,
    format: WebhookFormat,
    event: &Event,
    event_name: &str,
    public_url: &str,
) -> Result<Vec<u8>, PayloadError> {
    let p: Payment = serde_json::from_value(event.payload.clone()).map_err(PayloadError::Snapshot)?;
    let at = wire_time(event.created_at);
    let value = match format {
        WebhookFormat::Native => json!({
            "id": event.id.to_string(),
            "type": event_name,
            "timestamp": at,
            "sequence": event.sequence,
            "data": PaymentOut::new(&p, public_url),
        }),
        WebhookFormat::Astrapay => {
            let tx = engine::first_tx_hash(store, &p.id).await?;
            astrapay_body(&p, event_name, &at, tx, public_url)
        }
        WebhookFormat::Paygentic => json!({
            "eventType": event_name,
            "eventId": event.id.to_string(),
            "timestamp": at,
            "data": paygentic::payments::payment_json(&p, public_url),
        }),
        WebhookFormat::Mutopay => {
            let tx = engine::first_tx_hash(store, &p.id).await?;
            mutopay_body(&p, event_name, &at, tx, public_url)
        }
        WebhookFormat::Alppay => {
            let merchant =
                store.get_merchant(&p.merchant_id).await?.ok_or(StoreError::NotFound("merchant"))?;
            let transfers = store.transfers_of_payment(&p.id).await?;
            alppay::payments::payment_json(&p, &merchant, &transfers, public_url, false)
        }
    };
    serde_json::to_vec(&value).map_err(PayloadError::Snapshot)
}

/// `{event, timestamp, data{payment_id, short_id, amount, token, network, status,
/// transaction_hash, test_mode, metadata}}` with the status in lower case, as AstraPay's
/// webhooks write it.
fn astrapay_body(p: &Payment, event_name: &str, at: &str, tx: Option<String>, public_url: &str) -> Value {
    let view = serde_json::to_value(astrapay::payments::AstraPayment::new(p, public_url).with_tx(tx))
        .unwrap_or(Value::Null);
    json!({
        "event": event_name,
        "timestamp": at,
        "data": {
            "payment_id": view["id"],
            "short_id": view["short_id"],
            "amount": view["amount"],
            "token": view["token"],
            "network": view["network"],
            "status": astrapay::payments::status(p).to_ascii_lowercase(),
            "transaction_hash": view["transaction_hash"],
            "test_mode": p.mode == Mode::Test,
            "paid_late": p.paid_late,
            "metadata": p.metadata,
        },
    })
}

/// MutoPay's flat payload: the status object's fields with `event`, `payment_id` and
/// `timestamp`. payd settles in the token the customer pays, so `src_*` and `dest_*` match.
fn mutopay_body(p: &Payment, event_name: &str, at: &str, tx: Option<String>, public_url: &str) -> Value {
    let mut v = mutopay::payments::status_json(p, public_url, tx);
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

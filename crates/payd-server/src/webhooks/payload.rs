//! Webhook bodies, one shape per format, built from the event's snapshot of the payment (so a
//! retry hours later still describes the moment it announces). This module reads what a body
//! needs from the store; each API's `wire::webhook` writes the body in the view it already
//! uses for its responses (wire types only, never a handler).

use payd_core::event::Event;
use payd_core::payment::Payment;
use payd_core::webhook::WebhookFormat;
use payd_store::{Store, StoreError};

use crate::engine;
use crate::http::dialects::{alppay, astrapay, mutopay, paygentic};
use crate::http::native::wire as native;
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
        WebhookFormat::Native => native::webhook::body(event, event_name, &at, &p, public_url),
        WebhookFormat::Astrapay => {
            let tx = engine::first_tx_hash(store, &p.id).await?;
            astrapay::wire::webhook::body(&p, event_name, &at, tx, public_url)
        }
        WebhookFormat::Paygentic => paygentic::wire::webhook::body(event, event_name, &at, &p, public_url),
        WebhookFormat::Mutopay => {
            let tx = engine::first_tx_hash(store, &p.id).await?;
            mutopay::wire::webhook::body(&p, event_name, &at, tx, public_url)
        }
        WebhookFormat::Alppay => {
            let merchant =
                store.get_merchant(&p.merchant_id).await?.ok_or(StoreError::NotFound("merchant"))?;
            let transfers = store.transfers_of_payment(&p.id).await?;
            alppay::wire::webhook::body(&p, &merchant, &transfers, public_url)
        }
    };
    serde_json::to_vec(&value).map_err(PayloadError::Snapshot)
}

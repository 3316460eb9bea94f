//! payd's own API under `/v1`: Stripe-like resources, `Authorization: Bearer`, cursor lists
//! and `Idempotency-Key`. `mod.rs` mounts the routes; `wire/` holds the API's wire types and
//! webhook body; the other files are its handlers and its OpenAPI document.

pub mod openapi;
mod payments;
mod test_pay;
mod webhooks;
pub mod wire;

pub use webhooks::url_error;
pub use wire::api::Native;
pub use wire::types::PaymentOut;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// The native routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/payments", post(payments::create_payment).get(payments::list_payments))
        .route("/v1/payments/{id}", get(payments::get_payment))
        .route("/v1/payments/{id}/cancel", post(payments::cancel_payment))
        .route("/v1/payments/{id}/test_pay", post(test_pay::test_pay))
        .route("/v1/webhook_endpoints", post(webhooks::create_endpoint).get(webhooks::list_endpoints))
        .route(
            "/v1/webhook_endpoints/{id}",
            get(webhooks::get_endpoint).patch(webhooks::update_endpoint).delete(webhooks::delete_endpoint),
        )
        .route("/v1/webhook_endpoints/{id}/rotate_secret", post(webhooks::rotate_secret))
        .route("/v1/webhook_endpoints/{id}/replay_failed", post(webhooks::replay_failed))
        .route("/v1/webhook_deliveries", get(webhooks::list_deliveries))
        .route("/v1/webhook_deliveries/{id}", get(webhooks::get_delivery))
        .route("/v1/webhook_deliveries/{id}/replay", post(webhooks::replay_delivery))
}

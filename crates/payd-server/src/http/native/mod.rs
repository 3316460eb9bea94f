//! payd's own API under `/v1`: Stripe-like resources, `Authorization: Bearer`, cursor lists
//! and `Idempotency-Key`.

pub mod openapi;
mod payments;
mod test_pay;
mod types;

use axum::routing::{get, post};
use axum::Router;

use crate::app::AppState;

/// The native routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/payments", post(payments::create_payment).get(payments::list_payments))
        .route("/v1/payments/{id}", get(payments::get_payment))
        .route("/v1/payments/{id}/cancel", post(payments::cancel_payment))
        .route("/v1/payments/{id}/test_pay", post(test_pay::test_pay))
}

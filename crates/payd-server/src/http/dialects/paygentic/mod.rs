//! Paygentic (`/v0/...`): `Authorization: Bearer`, camelCase bodies, decimal-string amounts,
//! `pay_…` ids with `object: "payment"`, the body's `idempotencyKey` returning the existing
//! payment with 200, and its `Error` / `ValidationError` bodies. See docs/dialects/paygentic.md.

mod customers;
mod duration;
pub mod openapi;
pub mod payments;
pub mod wire;

use axum::routing::{get, post};
use axum::Router;
use wire::error::PgError;

use crate::http::error::ApiError;
use crate::state::AppState;

/// The Paygentic routes.
pub fn routes() -> Router<AppState> {
    let api = Router::new()
        .route("/payments", post(payments::create_payment).get(payments::list_payments))
        .route("/payments/{id}", get(payments::get_payment))
        .route("/customers", post(customers::create_customer))
        .route("/customers/{id}", get(customers::get_customer))
        .fallback(|| async { PgError::from(ApiError::not_found("route")) });
    Router::new().nest("/v0", api)
}

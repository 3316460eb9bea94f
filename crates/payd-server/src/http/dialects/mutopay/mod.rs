//! MutoPay (`/api/...`): a channel's key in `X-API-Key`, flat JSON bodies with USD amounts
//! as JSON numbers, `{"error", "message"}` errors. A payd key acting for one merchant is a
//! MutoPay channel. See docs/dialects/mutopay.md.

pub mod openapi;
pub mod payments;
pub mod wire;

use axum::routing::{get, post};
use axum::Router;
use wire::error::MutoError;

use crate::http::error::ApiError;
use crate::state::AppState;

/// The MutoPay routes.
pub fn routes() -> Router<AppState> {
    let api = Router::new()
        .route("/payments", post(payments::create_payment))
        .route("/payments/{id}", get(payments::get_payment_by_id))
        .route("/payments/{id}/status", get(payments::get_payment))
        .fallback(|| async { MutoError(ApiError::not_found("route")) });
    Router::new().nest("/api", api)
}

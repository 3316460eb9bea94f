//! AlpPay (`/v2/...`): `API-KEY`, and on every request with a body `X-HMAC`, the lowercase
//! hex HMAC-SHA256 of the exact body bytes under the key's signing secret. Amounts are
//! decimal strings; business failures are 422. See docs/dialects/alppay.md.

pub mod openapi;
pub mod payments;
pub mod wire;

use axum::routing::get;
use axum::Router;
use wire::error::AlpError;

use crate::http::error::ApiError;
use crate::state::AppState;

/// The AlpPay routes.
pub fn routes() -> Router<AppState> {
    let api = Router::new()
        .route("/payment", get(payments::list_payments).post(payments::create_payment))
        .route("/payment/{id}", get(payments::get_payment))
        .route("/payments", axum::routing::post(payments::create_payment_plural))
        .fallback(|| async { AlpError(ApiError::not_found("route")) });
    Router::new().nest("/v2", api)
}

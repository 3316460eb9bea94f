//! payd's own API under `/v1`: Stripe-like resources, `Authorization: Bearer`, cursor lists
//! and `Idempotency-Key`.

pub mod openapi;
mod payments;
mod test_pay;
mod types;
mod webhook_types;
mod webhooks;

pub use types::PaymentOut;
pub use webhooks::url_error;

use axum::routing::{get, post};
use axum::Router;
use payd_core::webhook::WebhookFormat;

use crate::http::caller::{Api, AuthScheme};
use crate::http::error::ApiError;
use crate::ratelimit::Surface;
use crate::state::AppState;

/// payd's own API: `Authorization: Bearer <key>`, its own quota (`rate_limits.native`),
/// `{"error": {code, message, param}}` errors.
#[derive(Debug)]
pub struct Native;

impl Api for Native {
    const AUTH: AuthScheme = AuthScheme::Bearer;
    const SURFACE: Surface = Surface::Native;
    const WEBHOOK: WebhookFormat = WebhookFormat::Native;
    type Error = ApiError;
}

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

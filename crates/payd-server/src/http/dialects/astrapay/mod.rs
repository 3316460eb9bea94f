//! AstraPay (`/v1/api/...`): `X-Api-Key`, the `{success, statusCode, data}` envelope, the
//! `{"error": {code, message, status}}` error body, UPPERCASE statuses, UUID ids with a
//! `short_id`, JSON-number USD amounts. See docs/dialects/astrapay.md.

pub mod openapi;
pub mod payments;
pub mod products;
pub mod webhooks;
pub mod wire;

use axum::routing::{get, post};
use axum::Router;
use wire::error::AstraError;

use crate::http::code::Code;
use crate::http::error::ApiError;
use crate::state::AppState;

/// The AstraPay routes.
pub fn routes() -> Router<AppState> {
    let api = Router::new()
        .route("/payments", post(payments::create_payment).get(payments::list_payments))
        .route("/payments/{id}", get(payments::get_payment))
        .route("/payments/{id}/cancel", post(payments::cancel_payment))
        .route("/products", post(products::create_product).get(products::list_products))
        .route(
            "/products/{id}",
            get(products::get_product)
                .patch(products::update_product)
                .put(products::update_product)
                .delete(products::delete_product),
        )
        .route("/webhooks", post(webhooks::create_webhook).get(webhooks::list_webhooks))
        .route(
            "/webhooks/{id}",
            get(webhooks::get_webhook)
                .patch(webhooks::update_webhook)
                .put(webhooks::update_webhook)
                .delete(webhooks::delete_webhook),
        )
        .fallback(|| async { AstraError(ApiError::new(Code::NotFound, "Route not found")) });
    Router::new().nest("/v1/api", api)
}

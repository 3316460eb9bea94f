//! AstraPay (`/v1/api/...`): `X-Api-Key`, the `{success, statusCode, data}` envelope, the
//! `{"error": {code, message, status}}` error body, UPPERCASE statuses, UUID ids with a
//! `short_id`, JSON-number USD amounts. See docs/dialects/astrapay.md.

pub mod openapi;
pub mod payments;
pub mod products;
pub mod webhooks;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;
use serde_json::json;

use crate::http::caller::{Api, AuthScheme};
use crate::http::code::Code;
use crate::http::error::{set_retry_after, ApiError};
use crate::ratelimit::Surface;
use crate::state::AppState;
use payd_core::webhook::WebhookFormat;

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

/// An error in AstraPay's shape. Statuses outside its documented table (413, 415, 405) are
/// answered as 400 `BAD_REQUEST`, which its clients handle.
#[derive(Debug)]
pub struct AstraError(pub ApiError);

impl From<ApiError> for AstraError {
    fn from(e: ApiError) -> Self {
        AstraError(e)
    }
}

impl From<payd_store::StoreError> for AstraError {
    fn from(e: payd_store::StoreError) -> Self {
        AstraError(e.into())
    }
}

impl IntoResponse for AstraError {
    fn into_response(self) -> Response {
        let e = self.0;
        let (status, code) = match e.status.as_u16() {
            401 => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
            403 => (StatusCode::FORBIDDEN, "FORBIDDEN"),
            404 => (StatusCode::NOT_FOUND, "NOT_FOUND"),
            409 => (StatusCode::CONFLICT, "CONFLICT"),
            422 => (StatusCode::UNPROCESSABLE_ENTITY, "UNPROCESSABLE_ENTITY"),
            429 => (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMIT_EXCEEDED"),
            s if s >= 500 => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"),
            _ => (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
        };
        let body = json!({ "error": { "code": code, "message": e.message, "status": status.as_u16() } });
        let mut res = (status, axum::Json(body)).into_response();
        set_retry_after(&mut res, e.retry_after);
        res
    }
}

/// The success envelope.
#[derive(Debug, Serialize)]
pub struct Envelope<T> {
    success: bool,
    #[serde(rename = "statusCode")]
    status_code: u16,
    data: T,
}

/// Wraps `data` for a response with `status`.
pub fn envelope<T: Serialize>(status: StatusCode, data: T) -> Envelope<T> {
    Envelope { success: true, status_code: status.as_u16(), data }
}

/// Serialises an envelope into a JSON response.
pub fn respond<T: Serialize>(status: StatusCode, data: T) -> Result<Response, AstraError> {
    let body = serde_json::to_string(&envelope(status, data)).map_err(ApiError::internal)?;
    Ok(crate::http::wire::json_text(status, body))
}

/// The AstraPay API: the key in `x-api-key`, its own quota, its error body.
#[derive(Debug)]
pub struct AstraPay;

impl Api for AstraPay {
    const AUTH: AuthScheme = AuthScheme::Header("x-api-key");
    const SURFACE: Surface = Surface::Astrapay;
    const WEBHOOK: WebhookFormat = WebhookFormat::Astrapay;
    type Error = AstraError;

    /// AstraPay answers a missing, unknown or revoked key, and a banned or inactive account,
    /// with 401.
    fn unauthenticated(e: ApiError) -> ApiError {
        let message = match (e.code, e.status) {
            (Code::MerchantSuspended, _) => "Account is not active",
            (Code::MissingApiKey, _) => "Missing API key: send it in the X-Api-Key header",
            (_, StatusCode::UNAUTHORIZED) => "Invalid API key",
            _ => return e,
        };
        ApiError::new(Code::Unauthorized, message)
    }
}

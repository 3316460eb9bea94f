//! MutoPay (`/api/...`): a channel's key in `X-API-Key`, flat JSON bodies with USD amounts
//! as JSON numbers, `{"error", "message"}` errors. A payd key acting for one merchant is a
//! MutoPay channel. See docs/dialects/mutopay.md.

pub mod openapi;
pub mod payments;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

use crate::http::auth::{authenticate, Principal};
use crate::http::error::{set_retry_after, ApiError};
use crate::http::ratelimit::Surface;
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

/// An error in MutoPay's shape: `{"error": "<code>", "message": "<human>"}`.
#[derive(Debug)]
pub struct MutoError(pub ApiError);

impl From<ApiError> for MutoError {
    fn from(e: ApiError) -> Self {
        MutoError(e)
    }
}

impl From<payd_store::StoreError> for MutoError {
    fn from(e: payd_store::StoreError) -> Self {
        MutoError(e.into())
    }
}

impl IntoResponse for MutoError {
    fn into_response(self) -> Response {
        let e = self.0;
        let (status, code) = match e.status.as_u16() {
            401 => (StatusCode::UNAUTHORIZED, "unauthorized"),
            403 if e.code == "merchant_suspended" => (StatusCode::FORBIDDEN, "merchant suspended"),
            403 => (StatusCode::FORBIDDEN, "forbidden"),
            404 => (StatusCode::NOT_FOUND, "not_found"),
            409 => (StatusCode::CONFLICT, "conflict"),
            422 => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable"),
            429 => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            s if s >= 500 => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
            _ => (StatusCode::BAD_REQUEST, "invalid_request"),
        };
        let mut res = (status, axum::Json(json!({ "error": code, "message": e.message }))).into_response();
        set_retry_after(&mut res, e.retry_after);
        res
    }
}

/// A MutoPay caller: the channel key in `X-API-Key`.
#[derive(Debug)]
pub struct Muto(pub Principal);

impl FromRequestParts<AppState> for Muto {
    type Rejection = MutoError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, MutoError> {
        let unauthorized = || {
            MutoError(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "Missing or invalid API key"))
        };
        let secret = parts.headers.get("x-api-key").and_then(|v| v.to_str().ok()).ok_or_else(unauthorized)?;
        let principal = match authenticate(state, secret.trim()).await {
            Ok(p) => p,
            Err(e) if e.status == StatusCode::UNAUTHORIZED => return Err(unauthorized()),
            Err(e) => return Err(MutoError(e)),
        };
        state
            .rate_limits
            .check(Surface::Mutopay, &principal.key.id)
            .map_err(|w| MutoError(ApiError::rate_limited(w)))?;
        Ok(Muto(principal))
    }
}

//! AstraPay's error body (`{"error": {code, message, status}}`) and the [`Api`] it is to
//! payd's transport.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use payd_core::webhook::WebhookFormat;
use serde_json::json;

use crate::http::caller::{Api, AuthScheme};
use crate::http::code::Code;
use crate::http::error::{set_retry_after, ApiError};
use crate::ratelimit::Surface;

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

//! MutoPay's error body (`{"error": "<code>", "message"}`) and the [`Api`] it is to payd's
//! transport.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use payd_core::webhook::WebhookFormat;
use serde_json::json;

use crate::http::caller::{Api, AuthScheme};
use crate::http::code::Code;
use crate::http::error::{set_retry_after, ApiError};
use crate::ratelimit::Surface;

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
            // MutoPay has no 422 for a missing exchange rate: its documented 400.
            422 if e.code == Code::FxUnavailable => (StatusCode::BAD_REQUEST, "invalid_request"),
            403 if e.code == Code::MerchantSuspended => (StatusCode::FORBIDDEN, "merchant suspended"),
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

/// The MutoPay API: the key in `x-api-key`, its own quota, its error body.
#[derive(Debug)]
pub struct MutoPay;

impl Api for MutoPay {
    const AUTH: AuthScheme = AuthScheme::Header("x-api-key");
    const SURFACE: Surface = Surface::Mutopay;
    const WEBHOOK: WebhookFormat = WebhookFormat::Mutopay;
    type Error = MutoError;

    fn unauthenticated(e: ApiError) -> ApiError {
        if e.status != StatusCode::UNAUTHORIZED {
            return e;
        }
        ApiError::new(Code::Unauthorized, "Missing or invalid API key")
    }
}

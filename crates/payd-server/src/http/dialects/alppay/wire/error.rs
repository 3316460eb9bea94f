//! AlpPay's error body (`{"error": "<code>", "message"}`) and the [`Api`] it is to payd's
//! transport.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use payd_core::webhook::WebhookFormat;
use serde_json::json;

use crate::http::caller::{Api, AuthScheme};
use crate::http::code::Code;
use crate::http::error::{set_retry_after, ApiError};
use crate::ratelimit::Surface;

/// An error in AlpPay's shape: `{"error": "<code>", "message": "<human>"}`. Business-rule
/// failures are 422, as AlpPay documents; malformed JSON is 400.
#[derive(Debug)]
pub struct AlpError(pub ApiError);

impl From<ApiError> for AlpError {
    fn from(e: ApiError) -> Self {
        AlpError(e)
    }
}

impl From<payd_store::StoreError> for AlpError {
    fn from(e: payd_store::StoreError) -> Self {
        AlpError(e.into())
    }
}

impl IntoResponse for AlpError {
    fn into_response(self) -> Response {
        let e = self.0;
        let (status, code) = match e.status.as_u16() {
            // Only a body that is not JSON is a 400; a valid body that breaks a rule is a 422.
            400 if matches!(e.code, Code::MalformedJson | Code::MissingBody | Code::InvalidBody) => {
                (StatusCode::BAD_REQUEST, "bad_request")
            }
            400 | 422 => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable_entity"),
            401 => (StatusCode::UNAUTHORIZED, "unauthorized"),
            403 => (StatusCode::FORBIDDEN, "forbidden"),
            404 => (StatusCode::NOT_FOUND, "not_found"),
            409 => (StatusCode::CONFLICT, "conflict"),
            413 | 415 => (StatusCode::BAD_REQUEST, "bad_request"),
            429 => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            s if s >= 500 => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
            _ => (StatusCode::BAD_REQUEST, "bad_request"),
        };
        let mut res = (status, axum::Json(json!({ "error": code, "message": e.message }))).into_response();
        set_retry_after(&mut res, e.retry_after);
        res
    }
}

/// The AlpPay API: the key in `api-key`, its own quota, its error body.
#[derive(Debug)]
pub struct AlpPay;

impl Api for AlpPay {
    const AUTH: AuthScheme = AuthScheme::Header("api-key");
    const SURFACE: Surface = Surface::Alppay;
    const WEBHOOK: WebhookFormat = WebhookFormat::Alppay;
    type Error = AlpError;

    fn unauthenticated(e: ApiError) -> ApiError {
        if e.status != StatusCode::UNAUTHORIZED {
            return e;
        }
        ApiError::new(Code::Unauthorized, "Missing or invalid API-KEY")
    }
}

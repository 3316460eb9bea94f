//! API errors: a status, a stable machine code, a human message and (for bad input) the
//! parameter at fault. Internal failures are logged with their cause and answered with a
//! generic 500 whose body reveals nothing.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use payd_store::StoreError;
use serde_json::json;

/// An error answered to an API client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code (`amount_too_precise`).
    pub code: &'static str,
    /// Human message.
    pub message: String,
    /// The request field at fault, when there is one.
    pub param: Option<String>,
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), param: None }
    }

    /// 400 with a code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// Names the request field at fault.
    pub fn param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    /// 404 for a resource the caller cannot see (whether or not it exists).
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("no such {what}"))
    }

    /// 500, logging the cause.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "an internal error occurred")
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Contended => ApiError::new(
                StatusCode::CONFLICT,
                "concurrent_update",
                "the payment was being changed concurrently; retry the request",
            ),
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let (Some(param), Some(obj)) = (self.param, error.as_object_mut()) {
            obj.insert("param".into(), param.into());
        }
        (self.status, axum::Json(json!({ "error": error }))).into_response()
    }
}

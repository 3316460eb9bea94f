//! API errors: a status, a stable machine code, a human message and (for bad input) the
//! parameter at fault. Internal failures are logged with their cause and answered with a
//! generic 500 whose body reveals nothing.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use payd_store::StoreError;
use serde_json::json;

use super::code::Code;

/// An error answered to an API client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code (`amount_too_precise`); the status is the code's.
    pub code: Code,
    /// Human message.
    pub message: String,
    /// The request field at fault, when there is one.
    pub param: Option<String>,
    /// Seconds to wait before retrying (429), sent as `Retry-After`.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// A new error, answered with the code's status.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self { status: code.status(), code, message: message.into(), param: None, retry_after: None }
    }

    /// Names the request field at fault.
    pub fn param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    /// 404 for a resource the caller cannot see (whether or not it exists).
    pub fn not_found(what: &str) -> Self {
        Self::new(Code::NotFound, format!("no such {what}"))
    }

    /// 429 for a key over its rate limit.
    pub fn rate_limited(wait: std::time::Duration) -> Self {
        let secs = crate::ratelimit::retry_after_secs(wait);
        let mut e =
            Self::new(Code::RateLimited, format!("too many requests for this API key; retry in {secs} s"));
        e.retry_after = Some(secs);
        e
    }

    /// 500, logging the cause.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(Code::InternalError, "an internal error occurred")
    }
}

impl From<crate::engine::CreateError> for ApiError {
    fn from(e: crate::engine::CreateError) -> Self {
        use crate::engine::CreateError;
        match e {
            CreateError::NoXpub { .. } => {
                ApiError::new(Code::NetworkNotEnabled, e.to_string()).param("network")
            }
            CreateError::NetworkNotWatched(_) => {
                ApiError::new(Code::NetworkNotConfigured, e.to_string()).param("network")
            }
            CreateError::FamilyNotSupported(_) => {
                ApiError::new(Code::NetworkNotSupported, e.to_string()).param("network")
            }
            CreateError::AssetNotEnabled { .. } => {
                ApiError::new(Code::UnsupportedAsset, e.to_string()).param("token")
            }
            CreateError::BadXpub { .. } => ApiError::internal(e),
            CreateError::Store(e) => e.into(),
        }
    }
}

impl From<crate::engine::QuoteError> for ApiError {
    fn from(e: crate::engine::QuoteError) -> Self {
        use crate::engine::QuoteError;
        let m = e.to_string();
        match &e {
            QuoteError::UnknownNetwork(_) => ApiError::new(Code::UnsupportedNetwork, m).param("network"),
            QuoteError::UnsupportedAsset { .. } => ApiError::new(Code::UnsupportedAsset, m).param("token"),
            QuoteError::NoFxRate { .. } => ApiError::new(Code::FxUnavailable, m).param("currency"),
            QuoteError::OutOfRange(_) => ApiError::new(Code::AmountTooLargeForToken, m).param("amount"),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Contended => ApiError::new(
                Code::ConcurrentUpdate,
                "the payment was being changed concurrently; retry the request",
            ),
            StoreError::InvalidText => {
                ApiError::new(Code::InvalidText, "text must not contain NUL characters")
            }
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code.as_str(), "message": self.message });
        if let (Some(param), Some(obj)) = (self.param, error.as_object_mut()) {
            obj.insert("param".into(), param.into());
        }
        let mut res = (self.status, axum::Json(json!({ "error": error }))).into_response();
        set_retry_after(&mut res, self.retry_after);
        res
    }
}

/// Adds `Retry-After` when there is a wait to announce.
pub fn set_retry_after(res: &mut Response, secs: Option<u64>) {
    if let Some(secs) = secs {
        if let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string()) {
            res.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
        }
    }
}

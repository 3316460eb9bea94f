//! Mutopay's response and error schemas for its OpenAPI document and handlers' annotations.

use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};

/// MutoPay's error codes.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = mutopay::ErrorCode)]
pub enum ErrorCode {
    #[serde(rename = "invalid_request")]
    InvalidRequest,
    #[serde(rename = "unauthorized")]
    Unauthorized,
    #[serde(rename = "merchant suspended")]
    MerchantSuspended,
    #[serde(rename = "forbidden")]
    Forbidden,
    #[serde(rename = "not_found")]
    NotFound,
    #[serde(rename = "conflict")]
    Conflict,
    #[serde(rename = "unprocessable")]
    Unprocessable,
    #[serde(rename = "rate_limited")]
    RateLimited,
    #[serde(rename = "internal_error")]
    InternalError,
}

/// `{"error", "message"}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = mutopay::Error)]
pub struct ErrorBody {
    error: ErrorCode,
    message: String,
}

/// The errors every MutoPay operation can answer.
#[derive(Debug, IntoResponses)]
#[allow(dead_code)]
pub enum Errors {
    /// Invalid input, including an amount under the channel's minimum (the message states it)
    /// and a currency with no usable exchange rate.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// Missing or invalid `X-API-Key`.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// Missing scope, suspended merchant, or another channel's payment.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such payment.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// `Idempotency-Key` reused with another request.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// An unsupported settlement asset.
    #[response(status = 422)]
    Unprocessable(ErrorBody),
    /// Too many requests on this key; `Retry-After` says when to retry.
    #[response(status = 429)]
    RateLimited(ErrorBody),
}

//! MutoPay's OpenAPI document (`/openapi/mutopay.json`), from the handlers' annotations.

use serde::Serialize;
use utoipa::{IntoResponses, OpenApi, ToSchema};

use super::payments::{self, CreateIn};
use super::wire::payment::Status;
use super::wire::payment::{Created, StatusOut};
use crate::http::schema::ApiKeyAuth;

/// The key travels in `X-API-Key`.
const AUTH: ApiKeyAuth = ApiKeyAuth("X-API-Key");

/// The document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "payd — MutoPay dialect",
        description = "MutoPay's invoice API as payd serves it, a payd key acting as a MutoPay channel. USD amounts are JSON numbers; token amounts are base-unit strings. See docs/dialects/mutopay.md."
    ),
    paths(payments::create_payment, payments::get_payment_by_id, payments::get_payment),
    components(schemas(CreateIn, Created, StatusOut, Status, ErrorBody, ErrorCode)),
    modifiers(&AUTH),
    security(("api_key" = []))
)]
pub struct MutoPayApi;

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

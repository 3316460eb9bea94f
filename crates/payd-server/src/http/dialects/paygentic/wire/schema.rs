//! Paygentic's response and error schemas for its OpenAPI document and handlers' annotations.

use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};

use crate::http::dialects::paygentic::wire::error::FieldError;
use crate::http::dialects::paygentic::wire::payment::PaygenticPayment;

/// `GET /v0/payments`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = paygentic::PaymentList)]
pub struct PaymentList {
    #[schema(pattern = "^list$")]
    object: String,
    data: Vec<PaygenticPayment<'static>>,
    pagination: Pagination,
}

/// Where a page sits.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = paygentic::Pagination)]
pub struct Pagination {
    limit: u32,
    offset: u32,
    total: u64,
}

/// `Error`'s category.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = paygentic::ErrorCategory)]
pub enum ErrorCategory {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    RateLimited,
    InternalError,
}

/// Paygentic's `Error`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = paygentic::Error)]
pub struct ErrorBody {
    error: ErrorCategory,
    message: String,
    /// An upper-case code (`PAYMENT_NOT_FOUND`).
    code: String,
}

/// `ValidationError`'s category.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = paygentic::ValidationCategory)]
pub enum ValidationCategory {
    ValidationError,
}

/// Paygentic's `ValidationError`: every field's problem at once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = paygentic::ValidationError)]
pub struct ValidationError {
    error: ValidationCategory,
    message: String,
    errors: Vec<FieldError>,
}

/// A 400 is a `ValidationError` when fields are wrong, an `Error` otherwise (a body that is
/// not JSON, too large, or a currency without an exchange rate).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = paygentic::BadRequest)]
pub enum BadRequest {
    Validation(ValidationError),
    Other(ErrorBody),
}

/// The errors every Paygentic operation can answer.
#[derive(Debug, IntoResponses)]
#[allow(dead_code)]
pub enum Errors {
    /// Invalid input.
    #[response(status = 400)]
    BadRequest(BadRequest),
    /// Missing or invalid bearer key.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// Missing scope, suspended merchant, or a `merchantId` the key cannot use.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such payment or customer for this key.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// Too many requests on this key; `Retry-After` says when to retry.
    #[response(status = 429)]
    RateLimited(ErrorBody),
}

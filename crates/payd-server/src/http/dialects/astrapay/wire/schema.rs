//! Astrapay's response and error schemas for its OpenAPI document and handlers' annotations.

use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};

use super::page::Meta;
use super::payment::AstraPayment;
use super::product::ProductOut;

/// `{success, statusCode, data}` around one payment.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = astrapay::PaymentResponse)]
pub struct PaymentResponse {
    success: bool,
    #[serde(rename = "statusCode")]
    status_code: u16,
    data: AstraPayment<'static>,
}

/// A page of payments.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = astrapay::PaymentPage)]
pub struct PaymentPage {
    data: Vec<AstraPayment<'static>>,
    meta: Meta,
}

/// `{success, statusCode, data}` around a page of payments.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = astrapay::PaymentPageResponse)]
pub struct PaymentPageResponse {
    success: bool,
    #[serde(rename = "statusCode")]
    status_code: u16,
    data: PaymentPage,
}

/// `{success, statusCode, data}` around one product.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = astrapay::ProductResponse)]
pub struct ProductResponse {
    success: bool,
    #[serde(rename = "statusCode")]
    status_code: u16,
    data: ProductOut<'static>,
}

/// A page of products.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = astrapay::ProductPage)]
pub struct ProductPage {
    data: Vec<ProductOut<'static>>,
    meta: Meta,
}

/// `{success, statusCode, data}` around a page of products.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = astrapay::ProductPageResponse)]
pub struct ProductPageResponse {
    success: bool,
    #[serde(rename = "statusCode")]
    status_code: u16,
    data: ProductPage,
}

/// What a delete answers.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = astrapay::Deleted)]
pub struct Deleted {
    #[schema(format = "uuid")]
    id: String,
    deleted: bool,
}

/// `{success, statusCode, data}` around [`Deleted`].
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = astrapay::DeletedResponse)]
pub struct DeletedResponse {
    success: bool,
    #[serde(rename = "statusCode")]
    status_code: u16,
    data: Deleted,
}

/// AstraPay's error codes.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = astrapay::ErrorCode)]
#[allow(clippy::upper_case_acronyms, non_camel_case_types)]
pub enum ErrorCode {
    BAD_REQUEST,
    UNAUTHORIZED,
    FORBIDDEN,
    NOT_FOUND,
    CONFLICT,
    UNPROCESSABLE_ENTITY,
    RATE_LIMIT_EXCEEDED,
    INTERNAL_ERROR,
}

/// `{"error": {code, message, status}}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = astrapay::Error)]
pub struct ErrorBody {
    error: ErrorDetail,
}

/// The error itself.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = astrapay::ErrorDetail)]
pub struct ErrorDetail {
    code: ErrorCode,
    message: String,
    /// The HTTP status again.
    status: u16,
}

/// The errors every AstraPay operation can answer. Bodies that are too large or not JSON
/// are `400 BAD_REQUEST`, as AstraPay's error table has no 413 or 415.
#[derive(Debug, IntoResponses)]
#[allow(dead_code)]
pub enum Errors {
    /// Malformed input.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// Missing or invalid `X-Api-Key`, or an inactive account.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The key lacks the scope, or the resource belongs to the other mode or merchant.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such resource.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// `Idempotency-Key` reused with other parameters, or the resource's state forbids it.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// Valid JSON that payd cannot act on (an unsupported token/network pair, an amount out of range).
    #[response(status = 422)]
    Unprocessable(ErrorBody),
    /// More than 100 requests a minute on this key; `Retry-After` says when to retry.
    #[response(status = 429)]
    RateLimited(ErrorBody),
}

//! Paygentic's OpenAPI document (`/openapi/paygentic.json`), from the handlers' annotations.
//! The types below exist only to describe bodies built as JSON values (the list, the errors).

use serde::Serialize;
use utoipa::{IntoResponses, OpenApi, ToSchema};

use super::customers::{self, Consumer, ConsumerIn, CreateIn as CreateCustomerIn, CustomerOut};
use super::payments::{self, CreateIn, LineItemIn};
use super::wire::error::FieldError;
use super::wire::payment::{CurrencyName as Currency, Status};
use super::wire::payment::{LineItemOut, PaygenticPayment};
use crate::http::schema::BearerAuth;

/// The document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "payd — Paygentic dialect",
        description = "Paygentic's payments API as payd serves it. Amounts are decimal strings. See docs/dialects/paygentic.md."
    ),
    paths(
        payments::create_payment,
        payments::list_payments,
        payments::get_payment,
        customers::create_customer,
        customers::get_customer
    ),
    components(schemas(
        CreateIn, LineItemIn, LineItemOut, PaygenticPayment, PaymentList, Pagination, Status, Currency,
        CreateCustomerIn, ConsumerIn, CustomerOut, Consumer, ErrorBody, ErrorCategory, ValidationError,
        ValidationCategory, FieldError, BadRequest
    )),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct PaygenticApi;

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

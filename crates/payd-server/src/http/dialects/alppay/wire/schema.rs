//! Alppay's response and error schemas for its OpenAPI document and handlers' annotations.

use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};

/// AlpPay's `status`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = alppay::Status)]
#[allow(clippy::upper_case_acronyms)]
pub enum Status {
    OPEN,
    COMPLETED,
    EXPIRED,
    CANCELLED,
}

/// AlpPay's `displayStatus`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = alppay::DisplayStatus)]
#[allow(clippy::upper_case_acronyms)]
pub enum DisplayStatus {
    NEW,
    OPEN,
    UNDERPAID,
    COMPLETED,
    OVERPAID,
    EXPIRED,
    CANCELLED,
}

/// A token on a network.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = alppay::Asset)]
pub struct Asset {
    short: String,
    name: String,
    logo_url: Option<String>,
    network: String,
}

/// A transfer credited to the payment.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = alppay::Transaction)]
pub struct Transaction {
    #[schema(format = "uuid")]
    payment_id: String,
    txn_id: String,
    /// Whole tokens, a decimal string.
    received_amount: String,
    asset: Option<Asset>,
    dest_tag: Option<String>,
    address_from: String,
    address_to: String,
    date: String,
    /// `GET /v2/payment/{id}` only.
    #[schema(required = false)]
    fixed_fee: String,
    /// `GET /v2/payment/{id}` only.
    #[schema(required = false)]
    percent_fee: String,
    /// `GET /v2/payment/{id}` only.
    #[schema(required = false)]
    risk_score: Option<String>,
    /// `GET /v2/payment/{id}` only.
    #[schema(required = false)]
    is_danger: bool,
}

/// The customer as the merchant sent it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = alppay::Customer)]
pub struct Customer {
    /// The merchant's number or string for the customer.
    #[schema(schema_with = number_or_string)]
    id: Option<String>,
    name: Option<String>,
    email: Option<String>,
}

pub fn number_or_string() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    utoipa::openapi::RefOr::T(utoipa::openapi::Schema::Object(
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Integer, Type::String, Type::Null]))
            .build(),
    ))
}

/// The merchant the payment is for.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = alppay::Merchant)]
pub struct Merchant {
    #[schema(format = "uuid")]
    id: String,
    name: String,
    site_url: Option<String>,
    logo_url: Option<String>,
    email: Option<String>,
}

/// The full payment object: the create response, a get's `data`, each list item, and the
/// webhook body.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = alppay::Payment)]
pub struct AlpPayment {
    #[schema(format = "uuid")]
    id: String,
    transactions: Vec<Transaction>,
    /// The price, a decimal string.
    amount: String,
    /// Whole tokens received so far.
    total_received_amount: String,
    asset: Option<Asset>,
    address_to: Option<String>,
    confirms_needed: Option<u32>,
    /// Seconds from creation to expiry.
    timeout: i64,
    checkout_url: Option<String>,
    status: Status,
    display_status: DisplayStatus,
    customer: Customer,
    merchant: Merchant,
    invoice: Option<String>,
    payment_redirect_url: String,
    created_at: String,
    updated_at: String,
    /// `GET /v2/payment/{id}` only.
    #[schema(required = false)]
    dest_tag: Option<String>,
    /// `GET /v2/payment/{id}` only.
    #[schema(required = false)]
    fixed_fee: String,
}

/// `GET /v2/payment/{id}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = alppay::PaymentData)]
pub struct PaymentData {
    data: AlpPayment,
}

/// `GET /v2/payment`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = alppay::PaymentList)]
pub struct PaymentList {
    data: Vec<AlpPayment>,
    page: u32,
    limit: u32,
    total: u64,
}

/// AlpPay's error codes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = alppay::ErrorCode)]
pub enum ErrorCode {
    BadRequest,
    UnprocessableEntity,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    RateLimited,
    InternalError,
}

/// `{"error", "message"}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = alppay::Error)]
pub struct ErrorBody {
    error: ErrorCode,
    message: String,
}

/// The errors every AlpPay operation can answer.
#[derive(Debug, IntoResponses)]
#[allow(dead_code)]
pub enum Errors {
    /// A body that is not JSON, too large, or not `application/json`.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// Missing or invalid `API-KEY`, or a missing or wrong `X-HMAC`.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// Missing scope or suspended merchant.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such payment for this key.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// A valid body that breaks a rule (a missing field, an unsupported asset, a bad value).
    #[response(status = 422)]
    Unprocessable(ErrorBody),
    /// Too many requests on this key; `Retry-After` says when to retry.
    #[response(status = 429)]
    RateLimited(ErrorBody),
}

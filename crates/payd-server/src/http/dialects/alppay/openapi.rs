//! AlpPay's OpenAPI document (`/openapi/alppay.json`), from the handlers' annotations. The
//! payment object is built as a JSON value (`payments::payment_json`); the types below
//! describe it, and the API tests and schemathesis hold the two together.

use utoipa::OpenApi;

use super::payments::{self, AssetIn, CreateIn, CustomerIn};
use super::wire::schema::{
    AlpPayment, Asset, Customer, DisplayStatus, ErrorBody, ErrorCode, Merchant, PaymentData, PaymentList,
    Status, Transaction,
};
use crate::http::schema::ApiKeyAuth;

/// The key travels in `API-KEY`.
const AUTH: ApiKeyAuth = ApiKeyAuth("API-KEY");

/// The document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "payd — AlpPay dialect",
        description = "AlpPay's v2 merchant API as payd serves it. Every request with a body carries X-HMAC, the lowercase hex HMAC-SHA256 of the exact body under the key's signing secret. See docs/dialects/alppay.md."
    ),
    paths(payments::create_payment, payments::create_payment_plural, payments::get_payment, payments::list_payments),
    components(schemas(
        CreateIn, AssetIn, CustomerIn, AlpPayment, Asset, Transaction, Customer, Merchant, Status,
        DisplayStatus, PaymentData, PaymentList, ErrorBody, ErrorCode
    )),
    modifiers(&AUTH),
    security(("api_key" = []))
)]
pub struct AlpPayApi;

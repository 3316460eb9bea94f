//! The native API's OpenAPI 3 document, generated from the handlers' and types' annotations
//! and served at `/openapi/native.json`.

use utoipa::OpenApi;

use crate::http::openapi::BearerAuth;

use super::payments;
use super::types::{
    AssetOut, CreatePaymentIn, CustomerIn, CustomerOut, ErrorDetail, ErrorOut, FxOut, LineItemIn,
    LineItemOut, PaymentListOut, PaymentOut,
};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(title = "payd native API", description = "payd's own payments API. Amounts are decimal strings; token amounts are base units."),
    paths(payments::create_payment, payments::get_payment, payments::list_payments, payments::cancel_payment),
    components(schemas(CreatePaymentIn, CustomerIn, LineItemIn, PaymentOut, AssetOut, LineItemOut, PaymentListOut, FxOut, CustomerOut, ErrorOut, ErrorDetail)),
    modifiers(&BearerAuth)
)]
#[derive(Debug)]
pub struct NativeApi;

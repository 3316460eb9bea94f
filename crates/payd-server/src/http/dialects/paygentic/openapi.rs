//! Paygentic's OpenAPI document (`/openapi/paygentic.json`), from the handlers' annotations.
//! The types below exist only to describe bodies built as JSON values (the list, the errors).

use utoipa::OpenApi;

use super::customers::{self, Consumer, ConsumerIn, CreateIn as CreateCustomerIn, CustomerOut};
use super::payments::{self, CreateIn, LineItemIn};
use super::wire::error::FieldError;
use super::wire::payment::{CurrencyName as Currency, Status};
use super::wire::payment::{LineItemOut, PaygenticPayment};
use super::wire::schema::{
    BadRequest, ErrorBody, ErrorCategory, Pagination, PaymentList, ValidationCategory, ValidationError,
};
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

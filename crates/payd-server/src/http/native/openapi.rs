//! The native API's OpenAPI 3 document, generated from the handlers' and types' annotations
//! and served at `/openapi/native.json`.

use utoipa::OpenApi;

use super::test_pay::{self, TestPayIn, TestPayOut};
use super::wire::types::{
    AssetOut, CreatePaymentIn, CustomerIn, CustomerOut, ErrorDetail, ErrorOut, FxOut, LineItemIn,
    LineItemOut, PaymentListOut, PaymentOut,
};
use super::wire::webhook_types::{
    AttemptOut, CreateEndpointIn, DeletedOut, DeliveryListOut, DeliveryOut, EndpointListOut, EndpointOut,
    ReplayOut, RotateSecretIn, UpdateEndpointIn,
};
use super::{payments, webhooks};
use crate::http::schema::BearerAuth;

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(title = "payd native API", description = "payd's own payments API. Amounts are decimal strings; token amounts are base units."),
    paths(
        payments::create_payment, payments::get_payment, payments::list_payments, payments::cancel_payment,
        test_pay::test_pay,
        webhooks::create_endpoint, webhooks::list_endpoints, webhooks::get_endpoint, webhooks::update_endpoint,
        webhooks::delete_endpoint, webhooks::rotate_secret, webhooks::replay_failed, webhooks::list_deliveries,
        webhooks::get_delivery, webhooks::replay_delivery
    ),
    components(schemas(TestPayIn, TestPayOut, CreatePaymentIn, CustomerIn, LineItemIn, PaymentOut, AssetOut, LineItemOut, PaymentListOut, FxOut, CustomerOut, ErrorOut, ErrorDetail,
        CreateEndpointIn, UpdateEndpointIn, RotateSecretIn, EndpointOut, EndpointListOut, DeletedOut, DeliveryOut, DeliveryListOut, AttemptOut, ReplayOut)),
    modifiers(&BearerAuth)
)]
#[derive(Debug)]
pub struct NativeApi;

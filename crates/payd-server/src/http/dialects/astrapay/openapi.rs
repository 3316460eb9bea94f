//! AstraPay's OpenAPI document (`/openapi/astrapay.json`), from the handlers' annotations.
//! The response wrappers below exist only to describe the `{success, statusCode, data}`
//! envelope around each resource.

use utoipa::OpenApi;

use super::payments::{self, CreateIn};
use super::products::{self, ProductIn};
use super::webhooks::{self, WebhookIn};
use super::webhooks::{WebhookOut, WebhookPage};
use super::wire::page::Meta;
use super::wire::payment::{AstraPayment, Status};
use super::wire::product::ProductOut;
use super::wire::schema::{ErrorBody, ErrorCode, ErrorDetail};
use crate::http::schema::ApiKeyAuth;

/// The key travels in `X-Api-Key`.
const AUTH: ApiKeyAuth = ApiKeyAuth("X-Api-Key");

/// The document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "payd — AstraPay dialect",
        description = "AstraPay's merchant API as payd serves it. Amounts are USD JSON numbers. See docs/dialects/astrapay.md."
    ),
    paths(
        payments::create_payment,
        payments::list_payments,
        payments::get_payment,
        payments::cancel_payment,
        products::create_product,
        products::list_products,
        products::get_product,
        products::update_product,
        products::delete_product,
        webhooks::create_webhook,
        webhooks::list_webhooks,
        webhooks::get_webhook,
        webhooks::update_webhook,
        webhooks::delete_webhook
    ),
    components(schemas(CreateIn, AstraPayment, ProductIn, ProductOut, WebhookIn, WebhookOut, WebhookPage, Meta, Status, ErrorBody, ErrorDetail, ErrorCode)),
    modifiers(&AUTH),
    security(("api_key" = []))
)]
pub struct AstraPayApi;

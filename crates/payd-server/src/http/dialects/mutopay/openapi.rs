//! MutoPay's OpenAPI document (`/openapi/mutopay.json`), from the handlers' annotations.

use utoipa::OpenApi;

use super::payments::{self, CreateIn};
use super::wire::payment::Status;
use super::wire::payment::{Created, StatusOut};
use super::wire::schema::{ErrorBody, ErrorCode};
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

//! `POST /v1/payments/{id}/test_pay`: sends a devnet transfer to a test-mode payment's
//! address, as a customer would (the watcher then credits it through the normal path).
//! Live payments get 403: there is no simulated money on a real chain.

use crate::engine::devnet::{self, PayError};
use crate::engine::{self, PaymentRef};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use payd_core::apikey::{Mode, Scope};
use payd_core::token::{format_base_units, parse_token_amount};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::wire::api::Native;
use super::wire::types::ErrorOut;
use crate::http::body;
use crate::http::caller::Caller;
use crate::http::code::Code;
use crate::http::error::ApiError;
use crate::state::AppState;

/// The optional body: how much to send, in whole tokens (`"12.5"`); default what is due.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestPayIn {
    /// Whole tokens, e.g. `"12.5"`; default: what is still due.
    amount: Option<String>,
}

/// The devnet transfer sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestPayOut {
    #[schema(pattern = "^devnet_transfer$")]
    object: &'static str,
    /// The payment paid.
    payment: String,
    tx_hash: String,
    #[schema(pattern = "^devnet$")]
    network: &'static str,
    token: String,
    from: String,
    to: String,
    /// Whole tokens.
    amount: String,
    amount_base_units: String,
}

/// `POST /v1/payments/{id}/test_pay`
#[utoipa::path(post, path = "/v1/payments/{id}/test_pay", tag = "payments", params(("id" = String, Path)), request_body(content = Option<TestPayIn>, description = "Optional"), responses((status = 202, description = "Sent on devnet; the watcher credits it like any transfer", body = TestPayOut), (status = 400, description = "Bad input", body = ErrorOut), (status = 401, description = "Missing or invalid API key", body = ErrorOut), (status = 403, description = "Missing scope, suspended merchant, or a live key", body = ErrorOut), (status = 404, description = "No such payment", body = ErrorOut), (status = 409, description = "Nothing to pay (no address yet, or nothing due)", body = ErrorOut), (status = 413, description = "Body too large", body = ErrorOut), (status = 415, description = "Not JSON", body = ErrorOut), (status = 429, description = "Rate limited", body = ErrorOut)), security(("bearer" = [])))]
pub async fn test_pay(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Native>,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(Scope::PaymentsCreate)?;
    if principal.mode() != Mode::Test {
        return Err(ApiError::new(
            Code::TestModeOnly,
            "test payments exist only in test mode; use a test key",
        ));
    }
    let bytes = body::bytes(raw, &headers)?;
    let input: TestPayIn =
        if bytes.iter().all(u8::is_ascii_whitespace) { TestPayIn::default() } else { body::parse(&bytes)?.0 };
    let payment = engine::find(&state.store, PaymentRef::Id(&id), principal.mode(), &principal.merchants)
        .await?
        .visible()
        .ok_or_else(|| ApiError::not_found("payment"))?;
    let decimals = payment.asset.as_ref().map_or(0, |a| a.decimals);
    let amount = input
        .amount
        .map(|text| {
            parse_token_amount(&text, decimals)
                .map_err(|e| ApiError::new(Code::AmountInvalid, format!("`amount`: {e}")).param("amount"))
        })
        .transpose()?;
    let transfer =
        devnet::pay(&state.store, &payment, amount, payd_store::now()).await.map_err(|e| match e {
            PayError::Store(e) => ApiError::from(e),
            PayError::LiveMode => ApiError::new(Code::TestModeOnly, e.to_string()),
            PayError::ZeroAmount | PayError::AbsurdAmount => {
                ApiError::new(Code::AmountInvalid, e.to_string()).param("amount")
            }
            PayError::NoAddress | PayError::NothingDue => {
                ApiError::new(Code::PaymentNotPayable, e.to_string())
            }
        })?;
    let out = TestPayOut {
        object: "devnet_transfer",
        payment: payment.id.to_string(),
        tx_hash: transfer.tx_hash,
        network: devnet::NETWORK,
        token: transfer.token,
        from: transfer.from,
        to: transfer.to,
        amount: format_base_units(transfer.amount, decimals),
        amount_base_units: transfer.amount.to_string(),
    };
    Ok((StatusCode::ACCEPTED, axum::Json(out)).into_response())
}

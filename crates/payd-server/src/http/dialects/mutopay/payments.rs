//! MutoPay payments: create and status.

use crate::engine::{Lookup, PaymentRef};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use payd_core::apikey::Scope;
use payd_core::money::{Currency, Money, MoneyError};
use payd_core::payment::{Customer, Dialect, NewPayment, Payment, RedirectUrls};
use payd_store::{StoreError, StoredResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::wire::error::{MutoError, MutoPay};
use super::wire::payment::{status_out, Created, StatusOut};
use super::wire::schema::Errors;
use crate::engine;
use crate::engine::terms::{self, TermsError};
use crate::http::caller::{Caller, Principal};
use crate::http::code::Code;
use crate::http::error::ApiError;
use crate::http::schema::json_number_or_null;
use crate::http::wire::json_text;
use crate::http::{body, idempotency, validate};
use crate::state::AppState;

/// MutoPay's documented limits.
const DEFAULT_LIFETIME_MINUTES: i64 = 30;
const MAX_LIFETIME_DAYS: i64 = 7;
const MAX_METADATA_BYTES: usize = 4096;

/// `POST /api/payments`: `amount_usd`, or `amount_original` with `currency`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = mutopay::CreatePayment, example = json!({"amount_usd": 25.00, "description": "Order #1001", "external_id": "order-1001"}))]
pub struct CreateIn {
    /// USD, a JSON number.
    #[schema(schema_with = json_number_or_null, required = false)]
    amount_usd: Option<serde_json::Number>,
    /// In `currency`, converted to USD at the rate of the moment.
    #[schema(schema_with = json_number_or_null, required = false)]
    amount_original: Option<serde_json::Number>,
    /// ISO-4217, with `amount_original`.
    currency: Option<String>,
    description: Option<String>,
    external_id: Option<String>,
    callback_url: Option<String>,
    customer_email: Option<String>,
    /// ISO-8601, in the future, at most 7 days ahead (30 minutes by default).
    expires_at: Option<String>,
    /// At most 4 KB serialised.
    #[schema(value_type = Option<Object>)]
    metadata: Option<serde_json::Value>,
    channel_id: Option<String>,
}

fn amount(field: &str, n: &serde_json::Number, currency: Currency) -> Result<Money, ApiError> {
    Money::parse(&n.to_string(), currency).map_err(|e| match e {
        MoneyError::Malformed => {
            ApiError::new(Code::InvalidValue, format!("{field} must be a plain decimal number"))
        }
        other => ApiError::new(Code::InvalidValue, format!("{field}: {other}")),
    })
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::new(Code::InvalidValue, msg)
}

/// `POST /api/payments`
#[utoipa::path(post, path = "/api/payments", tag = "payments", request_body = CreateIn, params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for 24 hours")), responses((status = 201, description = "Created, or the first response replayed", body = Created, links(("GetPayment" = (operation_id = "get_payment_by_id", parameters(("id" = "$response.body#/id")))), ("GetStatus" = (operation_id = "get_payment", parameters(("id" = "$response.body#/id")))))), Errors))]
pub async fn create_payment(
    State(state): State<AppState>,
    Caller(principal, _): Caller<MutoPay>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, MutoError> {
    principal.require(Scope::PaymentsCreate)?;
    let key = idempotency::header_key(&headers)?;
    let bytes = body::bytes(raw, &headers)?;
    let (input, value): (CreateIn, _) = body::parse(&bytes)?;
    let merchant = principal.merchant_for(input.channel_id.as_deref())?.clone();
    let now = payd_store::now();

    let currency = match input.currency.as_deref() {
        None => Currency::USD,
        Some(c) => validate::currency("currency", c)?,
    };
    let (price, fx) = match (&input.amount_usd, &input.amount_original) {
        (Some(_), Some(_)) => {
            return Err(bad("send amount_usd, or amount_original with currency, not both").into())
        }
        (None, None) => {
            return Err(bad("amount_usd is required unless amount_original and currency are given").into())
        }
        (Some(n), None) => {
            if currency != Currency::USD {
                return Err(bad("amount_usd is in USD; use amount_original for other currencies").into());
            }
            (amount("amount_usd", n, Currency::USD)?, None)
        }
        (None, Some(n)) => {
            let price = amount("amount_original", n, currency)?;
            // MutoPay documents 400 `invalid_request` for what it cannot take (its error body
            // renders FxUnavailable so).
            let fx = engine::quote::usd_value(&state.fx, &price)
                .await
                .map_err(|e| ApiError::new(Code::FxUnavailable, e.to_string()))?;
            (price, fx)
        }
    };
    // The merchant's minimum, and its preferred stablecoin quoted now when set (otherwise
    // the customer picks one at checkout).
    let asset = terms::apply(&state.store, &state.config.networks, &merchant, &price, fx.as_ref())
        .await
        .map_err(|e| match e {
            TermsError::BelowMinimum(min) => {
                let mut shown = min;
                shown.rescale(2);
                MutoError::from(bad(format!("Minimum invoice on this channel is ${shown}.")))
            }
            TermsError::Amount(e) => bad(e.to_string()).into(),
            TermsError::Quote(e) => ApiError::from(e).into(),
            TermsError::Store(e) => e.into(),
        })?;
    let expires_at = expiry(input.expires_at.as_deref(), now)?;
    let new = NewPayment {
        merchant_id: merchant.id.clone(),
        mode: principal.mode(),
        dialect: Dialect::Mutopay,
        price,
        fx,
        asset,
        customer: Customer {
            external_id: None,
            email: validate::email("customer_email", input.customer_email)?,
            name: None,
        },
        reference: None,
        external_id: validate::text("external_id", input.external_id, validate::MAX_TEXT)?,
        invoice: None,
        description: validate::text("description", input.description, validate::MAX_DESCRIPTION)?,
        line_items: Vec::new(),
        metadata: validate::metadata("metadata", input.metadata, MAX_METADATA_BYTES)?,
        urls: RedirectUrls {
            success: validate::url("callback_url", input.callback_url)?,
            ..RedirectUrls::default()
        },
        idempotency_key: key.clone(),
        client_id: None,
        product_id: None,
        expires_at,
    };
    let idem =
        idempotency::request(&merchant.id, principal.mode(), Dialect::Mutopay, key, "/api/payments", &value);
    let public_url = state.config.public_url.clone();
    let render = move |p: &Payment| -> Result<StoredResponse, StoreError> {
        let out = Created::new(p, &public_url);
        let body = serde_json::to_string(&out).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(StoredResponse { status: 201, body })
    };
    let outcome =
        engine::create_payment(&state.store, &state.config.networks, new, idem.as_ref(), now, render)
            .await
            .map_err(crate::http::error::ApiError::from)?;
    Ok(idempotency::respond(outcome, || {
        ApiError::new(
            Code::IdempotencyKeyReused,
            "this Idempotency-Key was already used with a different request",
        )
    })?)
}

/// `expires_at`: default 30 minutes, at most 7 days ahead, and in the future.
fn expiry(text: Option<&str>, now: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
    let Some(text) = text else { return Ok(now + Duration::minutes(DEFAULT_LIFETIME_MINUTES)) };
    let at = DateTime::parse_from_rfc3339(text)
        .map_err(|_| bad("expires_at must be an ISO-8601 time such as 2026-04-21T14:30:00Z"))?
        .with_timezone(&Utc);
    if at <= now + Duration::seconds(59) {
        return Err(bad("expires_at must be at least a minute in the future"));
    }
    if at > now + Duration::days(MAX_LIFETIME_DAYS) {
        return Err(bad("expires_at must be at most 7 days ahead"));
    }
    Ok(DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at))
}

async fn find(state: &AppState, principal: &Principal, id: &str) -> Result<Payment, MutoError> {
    match engine::find(&state.store, PaymentRef::Id(id), principal.mode(), &principal.merchants).await? {
        Lookup::Visible(p) => Ok(*p),
        // The other mode's payments do not exist for this key; another merchant's are a 403.
        Lookup::Missing | Lookup::Hidden { other_mode: true, .. } => {
            Err(ApiError::new(Code::NotFound, "Payment not found").into())
        }
        Lookup::Hidden { .. } => {
            Err(ApiError::new(Code::Forbidden, "This payment belongs to another merchant").into())
        }
    }
}

/// `GET /api/payments/{id}`
#[utoipa::path(get, path = "/api/payments/{id}", tag = "payments", params(("id" = String, Path)), responses((status = 200, body = StatusOut), Errors))]
pub async fn get_payment_by_id(
    state: State<AppState>,
    muto: Caller<MutoPay>,
    id: Path<String>,
) -> Result<Response, MutoError> {
    get_payment(state, muto, id).await
}

/// `GET /api/payments/{id}/status`
#[utoipa::path(get, path = "/api/payments/{id}/status", tag = "payments", params(("id" = String, Path)), responses((status = 200, body = StatusOut), Errors))]
pub async fn get_payment(
    State(state): State<AppState>,
    Caller(principal, _): Caller<MutoPay>,
    Path(id): Path<String>,
) -> Result<Response, MutoError> {
    principal.require(Scope::PaymentsRead)?;
    let p = find(&state, &principal, &id).await?;
    let tx_hash = engine::first_tx_hash(&state.store, &p.id).await?;
    let out = status_out(&p, &state.config.public_url, tx_hash);
    let body = serde_json::to_string(&out).map_err(ApiError::internal)?;
    Ok(json_text(StatusCode::OK, body))
}

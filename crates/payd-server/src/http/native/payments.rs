//! Native payment handlers: create, get, list, cancel.

use crate::engine::{self, PaymentRef};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use payd_core::apikey::Scope;
use payd_core::payment::{Customer, Dialect, LineItem, NewPayment, Payment, PaymentStatus, RedirectUrls};
use payd_store::{PaymentFilter, StoreError, StoredResponse};

use super::wire::api::Native;
use super::wire::types::{CreatePaymentIn, ErrorOut, ListPaymentsIn, PaymentListOut, PaymentOut};
use crate::engine::CancelError;
use crate::http::caller::{Caller, Principal};
use crate::http::code::Code;
use crate::http::error::ApiError;
use crate::http::wire::json_text;
use crate::http::{body, idempotency, validate};
use crate::state::AppState;

fn render(p: &Payment, public_url: &str) -> Result<String, ApiError> {
    serde_json::to_string(&PaymentOut::new(p, public_url)).map_err(ApiError::internal)
}

/// `POST /v1/payments`
#[utoipa::path(post, path = "/v1/payments", tag = "payments", request_body = CreatePaymentIn, params(("Idempotency-Key" = Option<String>, Header, description = "Stripe-style idempotency key")), responses((status = 201, description = "Created (or the first response replayed)", body = PaymentOut), (status = 400, description = "Bad input", body = ErrorOut), (status = 401, description = "Missing or invalid API key", body = ErrorOut), (status = 403, description = "Missing scope or suspended merchant", body = ErrorOut), (status = 429, description = "Rate limited", body = ErrorOut), (status = 409, description = "Idempotency key reused with another request", body = ErrorOut), (status = 413, description = "Body too large", body = ErrorOut), (status = 415, description = "Not JSON", body = ErrorOut), (status = 422, description = "Unsupported asset or no exchange rate", body = ErrorOut)), security(("bearer" = [])))]
pub async fn create_payment(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Native>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(Scope::PaymentsCreate)?;
    let key = idempotency::header_key(&headers)?;
    let bytes = body::bytes(raw, &headers)?;
    let (input, value): (CreatePaymentIn, _) = body::parse(&bytes)?;
    let merchant = principal.merchant_for(input.merchant.as_deref())?.clone();
    let now = payd_store::now();
    let new = new_payment(&state, &principal, &merchant.id, input, key.clone(), now).await?;

    let idempotency =
        idempotency::request(&merchant.id, principal.mode(), Dialect::Native, key, "/v1/payments", &value);
    let public_url = state.config.public_url.clone();
    let renderer = move |p: &Payment| -> Result<StoredResponse, StoreError> {
        let body = serde_json::to_string(&PaymentOut::new(p, &public_url))
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(StoredResponse { status: 201, body })
    };
    let outcome = engine::create_payment(
        &state.store,
        &state.config.networks,
        new,
        idempotency.as_ref(),
        now,
        renderer,
    )
    .await?;
    idempotency::respond(outcome, || {
        ApiError::new(
            Code::IdempotencyKeyReused,
            "this Idempotency-Key was already used with a different request",
        )
    })
}

/// Validates a create request into a [`NewPayment`].
async fn new_payment(
    state: &AppState,
    principal: &Principal,
    merchant_id: &payd_core::ids::MerchantId,
    input: CreatePaymentIn,
    idempotency_key: Option<String>,
    now: DateTime<Utc>,
) -> Result<NewPayment, ApiError> {
    let currency = validate::currency("currency", &input.currency)?;
    let price = validate::amount("amount", &input.amount, currency)?;
    let (asset, fx) = match (input.token, input.network) {
        (None, None) => (None, None),
        (Some(token), Some(network)) => {
            let (asset, fx) =
                engine::quote_with_fx(&state.fx, &state.config.networks, &token, &network, &price).await?;
            (Some(asset), fx)
        }
        (Some(_), None) => {
            return Err(
                ApiError::new(Code::MissingField, "`network` is required with `token`").param("network")
            )
        }
        (None, Some(_)) => {
            return Err(ApiError::new(Code::MissingField, "`token` is required with `network`").param("token"))
        }
    };
    let customer = match input.customer {
        None => Customer::default(),
        Some(c) => Customer {
            external_id: validate::text("customer.external_id", c.external_id, validate::MAX_TEXT)?,
            email: validate::email("customer.email", c.email)?,
            name: validate::text("customer.name", c.name, validate::MAX_TEXT)?,
        },
    };
    let items = input.line_items.unwrap_or_default();
    if items.len() > validate::MAX_LINE_ITEMS {
        return Err(ApiError::new(
            Code::TooManyLineItems,
            format!("at most {} line items are allowed", validate::MAX_LINE_ITEMS),
        )
        .param("line_items"));
    }
    let mut line_items = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let field = format!("line_items[{i}]");
        let description =
            validate::text(&format!("{field}.description"), Some(item.description), validate::MAX_TEXT)?
                .unwrap_or_default();
        let amount = validate::amount(&format!("{field}.amount"), &item.amount, currency)?.amount;
        let quantity = item.quantity.unwrap_or(1);
        if !(1..=1_000_000).contains(&quantity) {
            return Err(ApiError::new(Code::InvalidValue, "quantity must be from 1 to 1000000")
                .param(format!("{field}.quantity")));
        }
        line_items.push(LineItem { description, amount, quantity });
    }
    let expires_at = expiry(state, input.expires_in, input.expires_at.as_deref(), now)?;
    Ok(NewPayment {
        merchant_id: merchant_id.clone(),
        mode: principal.mode(),
        dialect: Dialect::Native,
        price,
        fx,
        asset,
        customer,
        reference: validate::text("reference", input.reference, validate::MAX_TEXT)?,
        external_id: validate::text("external_id", input.external_id, validate::MAX_TEXT)?,
        invoice: validate::text("invoice", input.invoice, validate::MAX_TEXT)?,
        description: validate::text("description", input.description, validate::MAX_DESCRIPTION)?,
        line_items,
        metadata: validate::metadata("metadata", input.metadata, state.config.max_metadata_bytes)?,
        urls: RedirectUrls {
            success: validate::url("success_url", input.success_url)?,
            cancel: validate::url("cancel_url", input.cancel_url)?,
            failure: validate::url("failure_url", input.failure_url)?,
            back: validate::url("back_url", input.back_url)?,
        },
        idempotency_key,
        client_id: None,
        product_id: None,
        expires_at,
    })
}

fn expiry(
    state: &AppState,
    expires_in: Option<u64>,
    expires_at: Option<&str>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, ApiError> {
    let max = state.config.max_expiry.as_secs();
    let out_of_range = |field: &str| {
        ApiError::new(
            Code::InvalidExpiry,
            format!("the payment must expire between 60 seconds and {max} seconds from now"),
        )
        .param(field)
    };
    match (expires_in, expires_at) {
        (Some(_), Some(_)) => {
            Err(ApiError::new(Code::InvalidExpiry, "give `expires_in` or `expires_at`, not both"))
        }
        (Some(secs), None) => {
            if !(60..=max).contains(&secs) {
                return Err(out_of_range("expires_in"));
            }
            Ok(now + Duration::seconds(i64::try_from(secs).map_err(|_| out_of_range("expires_in"))?))
        }
        (None, Some(text)) => {
            let at = DateTime::parse_from_rfc3339(text)
                .map_err(|_| {
                    ApiError::new(Code::InvalidExpiry, "`expires_at` must be an RFC 3339 time")
                        .param("expires_at")
                })?
                .with_timezone(&Utc);
            let secs = (at - now).num_seconds();
            if secs < 60 || u64::try_from(secs).map_or(true, |s| s > max) {
                return Err(out_of_range("expires_at"));
            }
            // Stored at millisecond precision like every other time.
            Ok(DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at))
        }
        (None, None) => {
            let secs = i64::try_from(state.config.default_expiry.as_secs()).unwrap_or(3600);
            Ok(now + Duration::seconds(secs))
        }
    }
}

/// Finds a payment the caller may see; anything else is a 404.
async fn visible_payment(state: &AppState, principal: &Principal, id: &str) -> Result<Payment, ApiError> {
    engine::find(&state.store, PaymentRef::Id(id), principal.mode(), &principal.merchants)
        .await?
        .visible()
        .ok_or_else(|| ApiError::not_found("payment"))
}

/// `GET /v1/payments/{id}`
#[utoipa::path(get, path = "/v1/payments/{id}", tag = "payments", params(("id" = String, Path)), responses((status = 200, description = "The payment", body = PaymentOut), (status = 400, description = "Bad input", body = ErrorOut), (status = 401, description = "Missing or invalid API key", body = ErrorOut), (status = 403, description = "Missing scope or suspended merchant", body = ErrorOut), (status = 429, description = "Rate limited", body = ErrorOut), (status = 404, description = "No such payment", body = ErrorOut)), security(("bearer" = [])))]
pub async fn get_payment(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Native>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(Scope::PaymentsRead)?;
    let payment = visible_payment(&state, &principal, &id).await?;
    Ok(json_text(StatusCode::OK, render(&payment, &state.config.public_url)?))
}

/// `POST /v1/payments/{id}/cancel`
#[utoipa::path(post, path = "/v1/payments/{id}/cancel", tag = "payments", params(("id" = String, Path)), responses((status = 200, description = "Cancelled", body = PaymentOut), (status = 400, description = "Bad input", body = ErrorOut), (status = 401, description = "Missing or invalid API key", body = ErrorOut), (status = 403, description = "Missing scope or suspended merchant", body = ErrorOut), (status = 429, description = "Rate limited", body = ErrorOut), (status = 404, description = "No such payment", body = ErrorOut), (status = 409, description = "Not cancellable", body = ErrorOut)), security(("bearer" = [])))]
pub async fn cancel_payment(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Native>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(Scope::PaymentsCreate)?;
    let payment = visible_payment(&state, &principal, &id).await?;
    match engine::cancel_payment(&state.store, &payment.id).await {
        Ok(p) => Ok(json_text(StatusCode::OK, render(&p, &state.config.public_url)?)),
        Err(CancelError::Transition(e)) => Err(match e {
            payd_core::payment::TransitionError::FundsReceived => {
                ApiError::new(Code::PaymentHasFunds, e.to_string())
            }
            _ => ApiError::new(Code::PaymentNotCancellable, e.to_string()),
        }),
        Err(CancelError::Store(e)) => Err(e.into()),
    }
}

fn parse_time(field: &str, v: &str) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc));
    }
    v.parse::<i64>().ok().and_then(|s| DateTime::from_timestamp(s, 0)).ok_or_else(|| {
        ApiError::new(Code::InvalidQuery, format!("`{field}` must be an RFC 3339 time or Unix seconds"))
            .param(field)
    })
}

/// `GET /v1/payments`
#[utoipa::path(get, path = "/v1/payments", tag = "payments", params(ListPaymentsIn), responses((status = 200, description = "A page, newest first", body = PaymentListOut), (status = 400, description = "Bad input", body = ErrorOut), (status = 401, description = "Missing or invalid API key", body = ErrorOut), (status = 403, description = "Missing scope or suspended merchant", body = ErrorOut), (status = 429, description = "Rate limited", body = ErrorOut)), security(("bearer" = [])))]
pub async fn list_payments(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Native>,
    query: Result<Query<ListPaymentsIn>, QueryRejection>,
) -> Result<Response, ApiError> {
    principal.require(Scope::PaymentsRead)?;
    let Query(q) = query.map_err(|e| ApiError::new(Code::InvalidQuery, e.body_text()))?;
    let limit = validate::page_limit(q.limit.as_deref())?;
    let status = q
        .status
        .as_deref()
        .map(|s| {
            PaymentStatus::parse(s).ok_or_else(|| {
                ApiError::new(
                    Code::InvalidQuery,
                    "`status` must be pending, processing, completed, expired or cancelled",
                )
                .param("status")
            })
        })
        .transpose()?;
    let merchant_ids = match q.merchant.as_deref() {
        None => principal.merchants.iter().map(|m| m.id.clone()).collect(),
        Some(m) => vec![principal.merchant_for(Some(m))?.id.clone()],
    };
    let before = match q.starting_after.as_deref() {
        None => None,
        Some(id) => {
            let p = visible_payment(&state, &principal, id).await.map_err(|_| {
                ApiError::new(Code::InvalidQuery, "`starting_after` is not a payment of yours")
                    .param("starting_after")
            })?;
            Some((p.created_at, p.id))
        }
    };
    let filter = PaymentFilter {
        merchant_ids,
        mode: principal.mode(),
        status,
        reference: q.reference.clone(),
        created_gte: q.created_gte.as_deref().map(|v| parse_time("created_gte", v)).transpose()?,
        created_lte: q.created_lte.as_deref().map(|v| parse_time("created_lte", v)).transpose()?,
        before,
        limit: limit + 1,
        ..PaymentFilter::new(Vec::new(), principal.mode())
    };
    let mut payments = engine::payments::list(&state.store, &filter).await?;
    let has_more = payments.len() > limit as usize;
    payments.truncate(limit as usize);
    let public_url = &state.config.public_url;
    let out = PaymentListOut {
        object: "list",
        next_cursor: if has_more { payments.last().map(|p| p.id.to_string()) } else { None },
        has_more,
        data: payments.iter().map(|p| PaymentOut::new(p, public_url)).collect(),
    };
    Ok(json_text(StatusCode::OK, serde_json::to_string(&out).map_err(ApiError::internal)?))
}

//! Paygentic payments: create (the body's `idempotencyKey` returns the existing payment with
//! 200), get and list.

use crate::engine::customers;
use crate::engine::{self, PaymentRef};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Duration;
use payd_core::apikey::Scope;
use payd_core::money::{Currency, Money};
use payd_core::payment::{Customer, Dialect, LineItem, NewPayment, Payment, RedirectUrls};
use payd_store::{CreateOutcome, PaymentFilter, StoreError, StoredResponse};
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::duration;
use super::wire::error::{FieldCode, FieldError, Paygentic, PgError};
use super::wire::payment::PaygenticPayment;
use super::wire::payment::{CurrencyName, Status};
use super::wire::schema::{Errors, PaymentList};
use crate::http::caller::Caller;
use crate::http::code::Code;
use crate::http::error::ApiError;
use crate::http::wire::json_text;
use crate::http::{body, idempotency, validate};
use crate::state::AppState;

/// Paygentic's documented limits.
const MIN_AMOUNT: Decimal = Decimal::from_parts(100, 0, 0, false, 2);
const MAX_AMOUNT: Decimal = Decimal::from_parts(500_000, 0, 0, false, 2);
const CURRENCIES: [&str; 4] = ["USD", "EUR", "GBP", "AUD"];
const DEFAULT_EXPIRY_SECS: u64 = 30 * 86_400;
const MAX_EXPIRY_SECS: u64 = 31 * 86_400;
const MAX_TEXT: usize = 255;
const MAX_LINE_ITEMS: usize = 100;

/// `POST /v0/payments`. Fields are read loosely so that every problem is reported at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = paygentic::CreatePayment, example = json!({"amount": "49.99", "currency": "USD", "reference": "order-1001"}))]
pub struct CreateIn {
    /// 1.00 to 5000.00.
    #[schema(value_type = String, pattern = r"^\d+(\.\d{1,2})?$", example = "49.99")]
    amount: Option<serde_json::Value>,
    #[schema(value_type = CurrencyName)]
    currency: Option<serde_json::Value>,
    /// Required when the key spans several merchants.
    merchant_id: Option<String>,
    customer_id: Option<String>,
    idempotency_key: Option<String>,
    #[schema(max_length = 255)]
    reference: Option<String>,
    /// String values only.
    #[schema(value_type = Option<std::collections::HashMap<String, String>>)]
    metadata: Option<serde_json::Value>,
    #[schema(max_items = 100)]
    line_items: Option<Vec<LineItemIn>>,
    success_redirect_url: Option<String>,
    failure_redirect_url: Option<String>,
    // Accepted for compatibility: payd saves no payment methods.
    #[allow(dead_code)]
    save_payment_method: Option<bool>,
    /// ISO-8601 duration, `P30D` by default, at most `P31D`.
    #[schema(example = "P7D")]
    expires_in: Option<String>,
}

/// A line of the order.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = paygentic::LineItemInput)]
pub struct LineItemIn {
    description: Option<String>,
    #[schema(value_type = String, pattern = r"^\d+(\.\d{1,2})?$")]
    amount: Option<serde_json::Value>,
    quantity: Option<i64>,
}

fn field(field: &str, message: impl Into<String>, code: FieldCode) -> FieldError {
    FieldError { field: field.to_owned(), message: message.into(), code }
}

/// A decimal-string amount `^\d+(\.\d{1,2})?$`.
fn amount_text(v: &serde_json::Value) -> Option<&str> {
    let s = v.as_str()?;
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let ok = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && (!s.contains('.') || (1..=2).contains(&frac.len()))
        && frac.bytes().all(|b| b.is_ascii_digit());
    ok.then_some(s)
}

/// `POST /v0/payments`
#[utoipa::path(post, path = "/v0/payments", tag = "payments", request_body = CreateIn, responses((status = 201, description = "Created", body = PaygenticPayment), (status = 200, description = "`idempotencyKey` named an existing payment, returned as it is now", body = PaygenticPayment), Errors))]
pub async fn create_payment(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Paygentic>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, PgError> {
    principal.require(Scope::PaymentsCreate)?;
    let bytes = body::bytes(raw, &headers)?;
    let (input, value): (CreateIn, _) = body::parse(&bytes)?;
    let mut errors = Vec::new();

    let currency = match input.currency.as_ref().map(|c| c.as_str()) {
        None => {
            errors.push(field("currency", "currency is required", FieldCode::Required));
            None
        }
        Some(Some(c)) if CURRENCIES.contains(&c) => Currency::from_code(c),
        Some(_) => {
            errors.push(field(
                "currency",
                "currency must be one of USD, EUR, GBP, AUD",
                FieldCode::InvalidEnum,
            ));
            None
        }
    };
    let amount = match input.amount.as_ref() {
        None => {
            errors.push(field("amount", "amount is required", FieldCode::Required));
            None
        }
        Some(v) => match amount_text(v).and_then(|s| s.parse::<Decimal>().ok()) {
            None => {
                errors.push(field(
                    "amount",
                    "amount must be a decimal string such as \"10.50\"",
                    FieldCode::InvalidFormat,
                ));
                None
            }
            Some(d) if d < MIN_AMOUNT || d > MAX_AMOUNT => {
                errors.push(field(
                    "amount",
                    "amount must be between 1.00 and 5000.00",
                    FieldCode::OutOfRange,
                ));
                None
            }
            Some(d) => Some(d),
        },
    };
    let text = |errors: &mut Vec<FieldError>, name: &str, v: Option<String>| -> Option<String> {
        match v {
            Some(s) if s.chars().count() > MAX_TEXT => {
                errors.push(field(
                    name,
                    format!("{name} must be at most {MAX_TEXT} characters"),
                    FieldCode::TooLong,
                ));
                None
            }
            other => other,
        }
    };
    let reference = text(&mut errors, "reference", input.reference);
    let idempotency_key = text(&mut errors, "idempotencyKey", input.idempotency_key);
    let metadata = match input.metadata {
        None => serde_json::json!({}),
        Some(serde_json::Value::Object(map)) if map.values().all(serde_json::Value::is_string) => {
            serde_json::Value::Object(map)
        }
        Some(_) => {
            errors.push(field(
                "metadata",
                "metadata must be an object of string values",
                FieldCode::InvalidType,
            ));
            serde_json::json!({})
        }
    };
    if let Err(e) = validate::metadata("metadata", Some(metadata.clone()), state.config.max_metadata_bytes) {
        errors.push(field("metadata", e.message, FieldCode::TooLarge));
    }
    let items = input.line_items.unwrap_or_default();
    if items.len() > MAX_LINE_ITEMS {
        errors.push(field("lineItems", "at most 100 line items are allowed", FieldCode::TooMany));
    }
    let mut line_items = Vec::new();
    for (i, item) in items.iter().enumerate().take(MAX_LINE_ITEMS) {
        let name = format!("lineItems[{i}]");
        let description = item.description.clone().unwrap_or_default();
        if description.is_empty() || description.chars().count() > MAX_TEXT {
            errors.push(field(
                &format!("{name}.description"),
                "description must be 1 to 255 characters",
                FieldCode::InvalidFormat,
            ));
        }
        let quantity = item.quantity.unwrap_or(1);
        let quantity = match u32::try_from(quantity) {
            Ok(q) if (1..=1_000_000).contains(&q) => q,
            _ => {
                errors.push(field(
                    &format!("{name}.quantity"),
                    "quantity must be at least 1",
                    FieldCode::OutOfRange,
                ));
                1
            }
        };
        match (item.amount.as_ref().and_then(amount_text).and_then(|s| s.parse::<Decimal>().ok()), currency) {
            (Some(a), Some(c)) => match Money::new(a, c) {
                Ok(m) => line_items.push(LineItem { description, amount: m.amount, quantity }),
                Err(e) => {
                    errors.push(field(&format!("{name}.amount"), e.to_string(), FieldCode::InvalidFormat))
                }
            },
            (None, _) => errors.push(field(
                &format!("{name}.amount"),
                "amount must be a decimal string",
                FieldCode::InvalidFormat,
            )),
            (Some(_), None) => {}
        }
    }
    let mut urls = RedirectUrls::default();
    for (name, v, slot) in [
        ("successRedirectUrl", input.success_redirect_url, &mut urls.success),
        ("failureRedirectUrl", input.failure_redirect_url, &mut urls.failure),
    ] {
        match validate::url(name, v) {
            Ok(u) => *slot = u,
            Err(_) => {
                errors.push(field(name, format!("{name} must be an absolute URI"), FieldCode::InvalidFormat))
            }
        }
    }
    let lifetime = match input.expires_in.as_deref() {
        None => Some(DEFAULT_EXPIRY_SECS),
        Some(text) => match duration::parse_seconds(text) {
            Some(s) if (60..=MAX_EXPIRY_SECS).contains(&s) => Some(s),
            Some(_) => {
                errors.push(field("expiresIn", "expiresIn must be from PT1M to P31D", FieldCode::OutOfRange));
                None
            }
            None => {
                errors.push(field(
                    "expiresIn",
                    "expiresIn must be an ISO 8601 duration such as P7D or PT1H",
                    FieldCode::InvalidFormat,
                ));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(PgError::Validation(errors));
    }
    let (Some(currency), Some(amount), Some(lifetime)) = (currency, amount, lifetime) else {
        return Err(PgError::Validation(vec![field("amount", "invalid payment", FieldCode::InvalidFormat)]));
    };

    let merchant = principal.merchant_for(input.merchant_id.as_deref()).map_err(|e| match e.code {
        Code::MerchantRequired => PgError::Validation(vec![field(
            "merchantId",
            "merchantId is required for an API key that is not scoped to a single merchant",
            FieldCode::Required,
        )]),
        Code::MerchantInvalid => {
            PgError::Api(ApiError::new(Code::Forbidden, "merchantId is not accessible with this API key"))
        }
        _ => PgError::Api(e),
    })?;
    let merchant = merchant.clone();
    let customer = match input.customer_id {
        None => Customer::default(),
        Some(id) => match customers::of_payment(&state.store, &id, &merchant.id, principal.mode()).await? {
            Some(customer) => customer,
            None => {
                return Err(PgError::Validation(vec![field(
                    "customerId",
                    "customerId must be a customer of this merchant",
                    FieldCode::InvalidReference,
                )]))
            }
        },
    };
    let price = Money::new(amount, currency)
        .map_err(|e| PgError::Validation(vec![field("amount", e.to_string(), FieldCode::InvalidFormat)]))?;
    // A price outside USD keeps the rate captured now; the token is chosen at checkout.
    let fx = engine::quote::usd_value(&state.fx, &price)
        .await
        .map_err(|e| ApiError::new(Code::FxUnavailable, e.to_string()))?;
    let now = payd_store::now();
    let new = NewPayment {
        merchant_id: merchant.id.clone(),
        mode: principal.mode(),
        dialect: Dialect::Paygentic,
        price,
        fx,
        asset: None,
        customer,
        reference,
        external_id: None,
        invoice: None,
        description: None,
        line_items,
        metadata,
        urls,
        idempotency_key: idempotency_key.clone(),
        client_id: None,
        product_id: None,
        expires_at: now + Duration::seconds(i64::try_from(lifetime).unwrap_or(i64::MAX / 1000)),
    };
    let idem = idempotency::request(
        &merchant.id,
        principal.mode(),
        Dialect::Paygentic,
        idempotency_key,
        "/v0/payments",
        &value,
    );
    let public_url = state.config.public_url.clone();
    let render = move |p: &Payment| -> Result<StoredResponse, StoreError> {
        let body = serde_json::to_string(&PaygenticPayment::new(p, &public_url))
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(StoredResponse { status: 201, body })
    };
    match engine::create_payment(&state.store, &state.config.networks, new, idem.as_ref(), now, render)
        .await
        .map_err(crate::http::error::ApiError::from)?
    {
        CreateOutcome::Created { response, .. } => Ok(json_text(StatusCode::CREATED, response.body)),
        // Paygentic returns the existing payment, as it is now, with 200, whatever the body.
        CreateOutcome::Replayed { payment_id, .. } => {
            let id = payment_id.ok_or_else(|| ApiError::internal("idempotency record without payment"))?;
            let p = engine::find(
                &state.store,
                PaymentRef::Id(&id.to_string()),
                principal.mode(),
                &principal.merchants,
            )
            .await?
            .visible()
            .ok_or_else(|| ApiError::not_found("payment"))?;
            let body = serde_json::to_string(&PaygenticPayment::new(&p, &state.config.public_url))
                .map_err(ApiError::internal)?;
            Ok(json_text(StatusCode::OK, body))
        }
    }
}

/// `GET /v0/payments/{id}`
#[utoipa::path(get, path = "/v0/payments/{id}", tag = "payments", params(("id" = String, Path, description = "`pay_…`")), responses((status = 200, body = PaygenticPayment), Errors))]
pub async fn get_payment(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Paygentic>,
    Path(id): Path<String>,
) -> Result<Response, PgError> {
    principal.require(Scope::PaymentsRead)?;
    let p = engine::find(&state.store, PaymentRef::Id(&id), principal.mode(), &principal.merchants)
        .await?
        .visible()
        .ok_or_else(|| ApiError::new(Code::PaymentNotFound, "Payment not found"))?;
    let body = serde_json::to_string(&PaygenticPayment::new(&p, &state.config.public_url))
        .map_err(ApiError::internal)?;
    Ok(json_text(StatusCode::OK, body))
}

/// `GET /v0/payments` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListIn {
    merchant_id: Option<String>,
    #[param(value_type = Option<Status>)]
    status: Option<String>,
    customer_id: Option<String>,
    /// 1 to 100, 10 by default.
    limit: Option<String>,
    /// From 0.
    offset: Option<String>,
}

/// `GET /v0/payments`
#[utoipa::path(get, path = "/v0/payments", tag = "payments", params(ListIn), responses((status = 200, body = PaymentList), Errors))]
pub async fn list_payments(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Paygentic>,
    query: Result<Query<ListIn>, QueryRejection>,
) -> Result<Response, PgError> {
    principal.require(Scope::PaymentsRead)?;
    let Query(q) = query.map_err(|e| ApiError::new(Code::InvalidQuery, e.body_text()))?;
    let mut errors = Vec::new();
    let limit = match q.limit.as_deref().map(str::parse::<u32>) {
        None => 10,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => {
            errors.push(field("limit", "limit must be from 1 to 100", FieldCode::OutOfRange));
            10
        }
    };
    let offset = match q.offset.as_deref().map(str::parse::<u32>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            errors.push(field(
                "offset",
                "offset must be a whole number of at least 0",
                FieldCode::OutOfRange,
            ));
            0
        }
    };
    let cases = match q.status.as_deref() {
        None => Vec::new(),
        Some(s) => match payd_core::dialect_status::paygentic_cases(s) {
            Some(cases) => cases,
            None => {
                errors.push(field(
                    "status",
                    "status must be pending, processing, completed, expired or cancelled",
                    FieldCode::InvalidEnum,
                ));
                Vec::new()
            }
        },
    };
    if !errors.is_empty() {
        return Err(PgError::Validation(errors));
    }
    let merchants = match q.merchant_id.as_deref() {
        None => principal.merchants.iter().map(|m| m.id.clone()).collect(),
        Some(m) => vec![principal
            .merchant_for(Some(m))
            .map_err(|_| ApiError::new(Code::Forbidden, "merchantId is not accessible with this API key"))?
            .id
            .clone()],
    };
    let mut filter = PaymentFilter::new(merchants, principal.mode());
    filter.cases = cases;
    filter.customer_external_id = q.customer_id;
    let total = engine::payments::count(&state.store, &filter).await?;
    filter.limit = limit;
    filter.offset = offset;
    let payments = engine::payments::list(&state.store, &filter).await?;
    let public_url = &state.config.public_url;
    let out = serde_json::json!({
        "object": "list",
        "data": payments.iter().map(|p| PaygenticPayment::new(p, public_url)).collect::<Vec<_>>(),
        "pagination": { "limit": limit, "offset": offset, "total": total },
    });
    Ok(json_text(StatusCode::OK, out.to_string()))
}

//! AstraPay payments: create, get (by UUID or short id), list, cancel.

use crate::engine::{Lookup, PaymentRef};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Duration;
use payd_core::apikey::Scope;
use payd_core::ids::PaymentId;
use payd_core::money::{Currency, Money, MoneyError};
use payd_core::payment::{Customer, Dialect, NewPayment, Payment, RedirectUrls};
use payd_store::{PaymentFilter, StoreError, StoredResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::wire::envelope::{envelope, respond};
use super::wire::error::{AstraError, AstraPay};
use super::wire::page::{meta, paging, ListIn, Page};
use super::wire::payment::AstraPayment;
use super::wire::schema::{Errors, PaymentPageResponse, PaymentResponse};
use crate::engine::products::{self, ProductError};
use crate::engine::{self, CancelError};
use crate::http::caller::{Caller, Principal};
use crate::http::code::Code;
use crate::http::error::ApiError;
use crate::http::schema::{json_number_or_null, NetworkName, TokenName};
use crate::http::{body, idempotency, validate};
use crate::state::AppState;

/// AstraPay payments live 24 hours (its example's `expires_at − created_at`).
const LIFETIME_HOURS: i64 = 24;

/// `POST /v1/api/payments`: `amount` (USD) or `product_id`, and the token and network.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = astrapay::CreatePayment, example = json!({"amount": 49.99, "token": "USDC", "network": "BASE", "metadata": {"order_id": "1001"}}))]
pub struct CreateIn {
    /// USD, a JSON number with at most two decimals.
    #[schema(schema_with = json_number_or_null, required = false)]
    amount: Option<serde_json::Number>,
    product_id: Option<String>,
    #[schema(value_type = TokenName)]
    token: String,
    #[schema(value_type = NetworkName)]
    network: String,
    customer_email: Option<String>,
    customer_name: Option<String>,
    redirect_url: Option<String>,
    cancel_url: Option<String>,
    #[schema(value_type = Option<Object>)]
    metadata: Option<serde_json::Value>,
}

pub(super) fn amount_error(e: &MoneyError) -> ApiError {
    match e {
        MoneyError::NotPositive => ApiError::new(Code::AmountTooSmall, "amount must be at least 0.01"),
        MoneyError::TooLarge => ApiError::new(Code::AmountTooLargeForToken, e.to_string()),
        _ => ApiError::new(Code::AmountInvalid, format!("amount: {e}")),
    }
}

/// `POST /v1/api/payments`
#[utoipa::path(post, path = "/v1/api/payments", tag = "payments", request_body = CreateIn, params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for 24 hours")), responses((status = 201, description = "Created, or the first response replayed", body = PaymentResponse, links(("GetPayment" = (operation_id = "get_payment", parameters(("id" = "$response.body#/data/id")))), ("CancelPayment" = (operation_id = "cancel_payment", parameters(("id" = "$response.body#/data/short_id")))))), Errors))]
pub async fn create_payment(
    State(state): State<AppState>,
    Caller(principal, _): Caller<AstraPay>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, AstraError> {
    principal.require(Scope::PaymentsCreate)?;
    let key = idempotency::header_key(&headers)?;
    let bytes = body::bytes(raw, &headers)?;
    let (input, value): (CreateIn, _) = body::parse(&bytes)?;
    let merchant = principal.merchant_for(None)?.clone();

    let price = match (&input.amount, &input.product_id) {
        (Some(_), Some(_)) => {
            return Err(ApiError::new(Code::InvalidBody, "send amount or product_id, not both").into())
        }
        (None, None) => {
            return Err(ApiError::new(Code::MissingField, "amount or product_id is required").into())
        }
        (Some(n), None) => Money::parse(&n.to_string(), Currency::USD).map_err(|e| amount_error(&e))?,
        (None, Some(id)) => {
            let id = super::wire::product::parse_id(id).ok_or(ProductError::NotFound)?;
            let (mode, merchants) = (principal.mode(), &principal.merchants);
            products::price(&state.store, &id, mode, merchants, &input.token, &input.network).await?
        }
    };
    let (asset, fx) =
        engine::quote_with_fx(&state.fx, &state.config.networks, &input.token, &input.network, &price)
            .await
            .map_err(|e| {
                ApiError::new(Code::UnsupportedAsset, format!("Unsupported token/network combination: {e}"))
            })?;
    let now = payd_store::now();
    let new = NewPayment {
        merchant_id: merchant.id.clone(),
        mode: principal.mode(),
        dialect: Dialect::Astrapay,
        price,
        fx,
        asset: Some(asset),
        customer: Customer {
            external_id: None,
            email: validate::email("customer_email", input.customer_email)?,
            name: validate::text("customer_name", input.customer_name, validate::MAX_TEXT)?,
        },
        reference: None,
        external_id: None,
        invoice: None,
        description: None,
        line_items: Vec::new(),
        metadata: validate::metadata("metadata", input.metadata, state.config.max_metadata_bytes)?,
        urls: RedirectUrls {
            success: validate::url("redirect_url", input.redirect_url)?,
            cancel: validate::url("cancel_url", input.cancel_url)?,
            failure: None,
            back: None,
        },
        idempotency_key: key.clone(),
        client_id: None,
        product_id: input.product_id.clone(),
        expires_at: now + Duration::hours(LIFETIME_HOURS),
    };
    let idem = idempotency::request(
        &merchant.id,
        principal.mode(),
        Dialect::Astrapay,
        key,
        "/v1/api/payments",
        &value,
    );
    let public_url = state.config.public_url.clone();
    let render = move |p: &Payment| -> Result<StoredResponse, StoreError> {
        let body = serde_json::to_string(&envelope(StatusCode::CREATED, AstraPayment::new(p, &public_url)))
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(StoredResponse { status: 201, body })
    };
    let outcome =
        engine::create_payment(&state.store, &state.config.networks, new, idem.as_ref(), now, render)
            .await
            .map_err(crate::http::error::ApiError::from)?;
    Ok(idempotency::respond(outcome, || {
        ApiError::new(
            Code::IdempotencyKeyReused,
            "Idempotency-Key was already used with different parameters",
        )
    })?)
}

/// Finds a payment by UUID, short id or payd id, for this caller. AstraPay answers another
/// merchant's payment and a test/live mismatch with 403.
async fn find(state: &AppState, principal: &Principal, id: &str) -> Result<Payment, AstraError> {
    match engine::find(&state.store, PaymentRef::Any(id), principal.mode(), &principal.merchants).await? {
        Lookup::Visible(payment) => Ok(*payment),
        Lookup::Missing => Err(ApiError::new(Code::NotFound, "Payment not found").into()),
        Lookup::Hidden { other_merchant: true, .. } => {
            Err(ApiError::new(Code::Forbidden, "Payment belongs to another merchant").into())
        }
        Lookup::Hidden { .. } => Err(ApiError::new(Code::Forbidden, "test/live mode mismatch").into()),
    }
}

/// `GET /v1/api/payments/{id}`
#[utoipa::path(get, path = "/v1/api/payments/{id}", tag = "payments", params(("id" = String, Path, description = "The payment's UUID or short_id")), responses((status = 200, body = PaymentResponse), Errors))]
pub async fn get_payment(
    State(state): State<AppState>,
    Caller(principal, _): Caller<AstraPay>,
    Path(id): Path<String>,
) -> Result<Response, AstraError> {
    principal.require(Scope::PaymentsRead)?;
    let p = find(&state, &principal, &id).await?;
    let tx = engine::first_tx_hash(&state.store, &p.id).await?;
    respond(StatusCode::OK, AstraPayment::new(&p, &state.config.public_url).with_tx(tx))
}

/// `POST /v1/api/payments/{id}/cancel`
#[utoipa::path(post, path = "/v1/api/payments/{id}/cancel", tag = "payments", params(("id" = String, Path, description = "The payment's UUID or short_id")), responses((status = 200, body = PaymentResponse), Errors))]
pub async fn cancel_payment(
    State(state): State<AppState>,
    Caller(principal, _): Caller<AstraPay>,
    Path(id): Path<String>,
) -> Result<Response, AstraError> {
    principal.require(Scope::PaymentsCreate)?;
    let p = find(&state, &principal, &id).await?;
    match engine::cancel_payment(&state.store, &p.id).await {
        Ok(p) => respond(StatusCode::OK, AstraPayment::new(&p, &state.config.public_url)),
        Err(CancelError::Transition(e)) => Err(ApiError::new(
            Code::PaymentNotCancellable,
            format!("Only a pending payment with nothing received can be canceled ({e})"),
        )
        .into()),
        Err(CancelError::Store(e)) => Err(e.into()),
    }
}

/// `GET /v1/api/payments`
#[utoipa::path(get, path = "/v1/api/payments", tag = "payments", params(ListIn), responses((status = 200, body = PaymentPageResponse), Errors))]
pub async fn list_payments(
    State(state): State<AppState>,
    Caller(principal, _): Caller<AstraPay>,
    query: Result<Query<ListIn>, QueryRejection>,
) -> Result<Response, AstraError> {
    principal.require(Scope::PaymentsRead)?;
    let Query(q) = query.map_err(|e| ApiError::new(Code::InvalidQuery, e.body_text()))?;
    let (page, page_size) = paging(q.page.as_deref(), q.page_size.as_deref())?;
    let mut filter =
        PaymentFilter::new(principal.merchants.iter().map(|m| m.id.clone()).collect(), principal.mode());
    if let Some(name) = q.status.as_deref() {
        filter.cases = payd_core::dialect_status::astrapay_cases(name).ok_or_else(|| {
            ApiError::new(
                Code::InvalidQuery,
                "status must be one of PENDING, PARTIALLY_PAID, COMPLETED, EXPIRED, CANCELED",
            )
        })?;
    }
    if let Some(search) = q.search.filter(|s| !s.is_empty()) {
        if search.len() > 255 {
            return Err(ApiError::new(Code::InvalidQuery, "search is longer than 255 characters").into());
        }
        // A UUID searches by payment id (stored in payd's own form).
        filter.search = Some(match uuid::Uuid::try_parse(&search) {
            Ok(u) => PaymentId::from_uuid(u).to_string(),
            Err(_) => search,
        });
    }
    let total = engine::payments::count(&state.store, &filter).await?;
    filter.limit = page_size;
    filter.offset = (page - 1).saturating_mul(page_size);
    let payments = engine::payments::list(&state.store, &filter).await?;
    let public_url = &state.config.public_url;
    let mut txs = engine::payments::first_tx_hashes(&state.store, &payments).await?;
    let data: Vec<_> =
        payments.iter().map(|p| AstraPayment::new(p, public_url).with_tx(txs.remove(&p.id))).collect();
    respond(StatusCode::OK, Page { data, meta: meta(page, page_size, total) })
}

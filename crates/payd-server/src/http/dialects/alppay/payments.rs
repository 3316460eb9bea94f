//! AlpPay payments: create (200 with the full object), get (wrapped in `{"data": …}`), list.

use crate::engine::{self, PaymentRef};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Duration;
use payd_core::apikey::Scope;
use payd_core::merchant::Merchant;
use payd_core::money::{Currency, Money};
use payd_core::payment::{Customer, Dialect, NewPayment, Payment, RedirectUrls};
use payd_store::{PaymentFilter, StoreError, StoredResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use super::wire::error::{AlpError, AlpPay};
use super::wire::hmac::verify_hmac;
use super::wire::payment::payment_json;
use super::wire::schema::{AlpPayment, Errors, PaymentData, PaymentList};
use crate::http::caller::{Caller, Principal};
use crate::http::code::Code;
use crate::http::error::ApiError;
use crate::http::schema::TokenName;
use crate::http::wire::json_text;
use crate::http::{body, validate};
use crate::state::AppState;

/// `POST /v2/payment`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = alppay::CreatePayment, example = json!({"amount": "100.00", "asset": {"short": "USDT", "network": "TRC20"}, "customer": {"id": 42, "name": "Ada", "email": "ada@example.com"}, "clientId": "client-42", "invoice": "INV-1001", "checkoutUrl": "https://shop.example/cart"}))]
pub struct CreateIn {
    /// A decimal string.
    #[schema(value_type = String, pattern = r"^\d+(\.\d{1,2})?$", example = "100.00")]
    amount: Option<Value>,
    #[schema(required = true)]
    asset: Option<AssetIn>,
    #[schema(required = true)]
    customer: Option<CustomerIn>,
    /// The merchant's id for the customer: one persistent deposit address per client, and a
    /// new payment expires the client's earlier open one.
    #[schema(required = true, min_length = 1)]
    client_id: Option<String>,
    #[schema(required = true, min_length = 1)]
    invoice: Option<String>,
    /// Where the customer goes back to (a URL).
    #[schema(required = true, format = "uri", example = "https://shop.example/cart")]
    checkout_url: Option<String>,
}

/// The token and its network (`TRC20`, `ERC20`, `BEP20` and payd's own names accepted).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = alppay::AssetInput)]
pub struct AssetIn {
    #[schema(required = true, value_type = TokenName)]
    short: Option<String>,
    /// `TRC20`, `ERC20`, `BEP20` or a payd network id.
    #[schema(required = true, example = "TRC20")]
    network: Option<String>,
}

/// Who pays.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = alppay::CustomerInput)]
pub struct CustomerIn {
    /// A number or a string.
    #[schema(value_type = Option<String>)]
    id: Option<Value>,
    name: Option<String>,
    email: Option<String>,
}

fn unprocessable(msg: impl Into<String>) -> AlpError {
    AlpError(ApiError::new(Code::InvalidValue, msg))
}

/// `POST /v2/payments`: the plural spelling some AlpPay clients use.
#[utoipa::path(post, path = "/v2/payments", tag = "payments", request_body = CreateIn, params(("X-HMAC" = String, Header, description = "Lowercase hex HMAC-SHA256 of the exact body under the key's signing secret")), responses((status = 200, description = "Created", body = AlpPayment, links(("GetPayment" = (operation_id = "get_payment", parameters(("id" = "$response.body#/id")))))), Errors))]
pub async fn create_payment_plural(
    state: State<AppState>,
    alp: Caller<AlpPay>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, AlpError> {
    create_payment(state, alp, headers, raw).await
}

/// `POST /v2/payment`
#[utoipa::path(post, path = "/v2/payment", tag = "payments", request_body = CreateIn, params(("X-HMAC" = String, Header, description = "Lowercase hex HMAC-SHA256 of the exact body under the key's signing secret")), responses((status = 200, description = "Created", body = AlpPayment, links(("GetPayment" = (operation_id = "get_payment", parameters(("id" = "$response.body#/id")))))), Errors))]
pub async fn create_payment(
    State(state): State<AppState>,
    Caller(principal, _): Caller<AlpPay>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, AlpError> {
    let bytes = body::bytes(raw, &headers)?;
    verify_hmac(&state, &principal, headers.get("x-hmac").and_then(|v| v.to_str().ok()), &bytes)?;
    principal.require(Scope::PaymentsCreate)?;
    let (input, _): (CreateIn, _) = body::parse(&bytes)?;
    let merchant = principal.merchant_for(None)?.clone();

    let amount = match input.amount.as_ref().and_then(Value::as_str) {
        Some(a) => Money::parse(a, Currency::USD).map_err(|e| unprocessable(format!("amount: {e}")))?,
        None => return Err(unprocessable("amount is required as a decimal string")),
    };
    let asset = input.asset.ok_or_else(|| unprocessable("asset is required"))?;
    let (Some(short), Some(network)) = (asset.short, asset.network) else {
        return Err(unprocessable("asset.short and asset.network are required"));
    };
    let customer = input.customer.ok_or_else(|| unprocessable("customer is required"))?;
    let customer_id = match customer.id {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.as_u64().is_some() => Some(n.to_string()),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 255 => Some(s),
        Some(_) => return Err(unprocessable("customer.id must be an integer")),
    };
    let (quoted, fx) = engine::quote_with_fx(&state.fx, &state.config.networks, &short, &network, &amount)
        .await
        .map_err(|e| unprocessable(format!("unsupported asset: {e}")))?;
    let now = payd_store::now();
    let lifetime = i64::try_from(state.config.default_expiry.as_secs()).unwrap_or(3600);
    let new = NewPayment {
        merchant_id: merchant.id.clone(),
        mode: principal.mode(),
        dialect: Dialect::Alppay,
        price: amount,
        fx,
        asset: Some(quoted),
        customer: Customer {
            external_id: customer_id,
            // AlpPay documents no email format check: keep what the merchant sent, bounded.
            email: validate::text("customer.email", customer.email, validate::MAX_TEXT)?,
            name: validate::text("customer.name", customer.name, validate::MAX_TEXT)?,
        },
        reference: None,
        external_id: None,
        invoice: validate::text("invoice", input.invoice, validate::MAX_TEXT)?,
        description: None,
        line_items: Vec::new(),
        metadata: json!({}),
        urls: RedirectUrls {
            back: validate::url("checkoutUrl", input.checkout_url)?,
            ..RedirectUrls::default()
        },
        idempotency_key: None,
        client_id: validate::text("clientId", input.client_id, validate::MAX_TEXT)?,
        product_id: None,
        expires_at: now + Duration::seconds(lifetime),
    };
    let public_url = state.config.public_url.clone();
    let m = merchant.clone();
    // A new payment has no transfers yet.
    let render = move |p: &Payment| -> Result<StoredResponse, StoreError> {
        Ok(StoredResponse { status: 200, body: payment_json(p, &m, &[], &public_url, false).to_string() })
    };
    match engine::create_payment(&state.store, &state.config.networks, new, None, now, render)
        .await
        .map_err(crate::http::error::ApiError::from)?
    {
        payd_store::CreateOutcome::Created { response, .. } => Ok(json_text(StatusCode::OK, response.body)),
        payd_store::CreateOutcome::Replayed { .. } => {
            Err(AlpError(ApiError::internal("replay without a key")))
        }
    }
}

async fn find(state: &AppState, principal: &Principal, id: &str) -> Result<Payment, AlpError> {
    engine::find(&state.store, PaymentRef::IdOrUuid(id), principal.mode(), &principal.merchants)
        .await?
        .visible()
        .ok_or_else(|| ApiError::new(Code::NotFound, "Payment not found").into())
}

fn merchant_of<'a>(principal: &'a Principal, p: &Payment) -> Result<&'a Merchant, AlpError> {
    principal
        .merchants
        .iter()
        .find(|m| m.id == p.merchant_id)
        .ok_or_else(|| AlpError(ApiError::not_found("payment")))
}

/// `GET /v2/payment/{id}` → `{"data": payment}`
#[utoipa::path(get, path = "/v2/payment/{id}", tag = "payments", params(("id" = String, Path)), responses((status = 200, body = PaymentData), Errors))]
pub async fn get_payment(
    State(state): State<AppState>,
    Caller(principal, _): Caller<AlpPay>,
    Path(id): Path<String>,
) -> Result<Response, AlpError> {
    principal.require(Scope::PaymentsRead)?;
    let p = find(&state, &principal, &id).await?;
    let transfers = engine::payments::transfers(&state.store, &p.id).await?;
    let data = payment_json(&p, merchant_of(&principal, &p)?, &transfers, &state.config.public_url, true);
    Ok(json_text(StatusCode::OK, json!({ "data": data }).to_string()))
}

/// `GET /v2/payment` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListIn {
    /// From 1.
    page: Option<String>,
    /// 1 to 100, 20 by default.
    limit: Option<String>,
    /// Comma-separated: OPEN, NEW, COMPLETED, EXPIRED, CANCELLED, or UNDERPAID / OVERPAID alone.
    statuses: Option<String>,
    /// Comma-separated invoice numbers (at most 100).
    invoices: Option<String>,
}

/// `GET /v2/payment?page&limit&statuses&invoices` → `{data, page, limit, total}`
#[utoipa::path(get, path = "/v2/payment", tag = "payments", params(ListIn), responses((status = 200, body = PaymentList), Errors))]
pub async fn list_payments(
    State(state): State<AppState>,
    Caller(principal, _): Caller<AlpPay>,
    query: Result<Query<ListIn>, QueryRejection>,
) -> Result<Response, AlpError> {
    principal.require(Scope::PaymentsRead)?;
    let Query(q) = query.map_err(|e| unprocessable(e.body_text()))?;
    let page = match q.page.as_deref() {
        None => 1,
        Some(p) => p
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .ok_or_else(|| unprocessable("page must be at least 1"))?,
    };
    let limit = match q.limit.as_deref() {
        None => 20,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| unprocessable("limit must be from 1 to 100"))?,
    };
    let mut filter =
        PaymentFilter::new(principal.merchants.iter().map(|m| m.id.clone()).collect(), principal.mode());
    if let Some(list) = q.statuses.as_deref().filter(|s| !s.is_empty()) {
        // Both of AlpPay's vocabularies: the names they share (OPEN, COMPLETED, EXPIRED)
        // and CANCELLED are read as `status`, the others (NEW, UNDERPAID, OVERPAID) as
        // `displayStatus`; a payment matching any name is listed.
        for w in list.split(',').map(str::trim) {
            let display = matches!(w, "NEW" | "UNDERPAID" | "OVERPAID");
            let cases = payd_core::dialect_status::alppay_cases(w, display)
                .ok_or_else(|| unprocessable(format!("unknown status `{w}`")))?;
            filter.cases.extend(cases);
        }
    }
    if let Some(inv) = q.invoices.as_deref().filter(|s| !s.is_empty()) {
        filter.invoices =
            inv.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).take(100).collect();
    }
    let total = engine::payments::count(&state.store, &filter).await?;
    filter.limit = limit;
    filter.offset = (page - 1).saturating_mul(limit);
    let payments = engine::payments::list(&state.store, &filter).await?;
    let mut transfers = engine::payments::transfers_of_page(&state.store, &payments).await?;
    let mut data = Vec::with_capacity(payments.len());
    for p in &payments {
        let of_p = transfers.remove(&p.id).unwrap_or_default();
        data.push(payment_json(p, merchant_of(&principal, p)?, &of_p, &state.config.public_url, false));
    }
    Ok(json_text(
        StatusCode::OK,
        json!({ "data": data, "page": page, "limit": limit, "total": total }).to_string(),
    ))
}

//! Paygentic customers: the records a payment's `customerId` must name. payd keeps what a
//! payment page needs (name, email, the merchant's own id); tax and notification settings of
//! Paygentic's billing platform are out of a payment gateway's scope.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use payd_core::apikey::Scope;
use payd_core::catalog::CustomerRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::wire::error::{FieldCode, FieldError, Paygentic, PgError};
use super::wire::schema::Errors;
use crate::engine::customers::{self, NewCustomer};
use crate::http::caller::Caller;
use crate::http::code::Code;
use crate::http::error::ApiError;
use crate::http::wire::wire_time;
use crate::http::{body, validate};
use crate::state::AppState;

/// `POST /v0/customers`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = paygentic::CreateCustomer)]
pub struct CreateIn {
    merchant_id: Option<String>,
    consumer: Option<ConsumerIn>,
    external_id: Option<String>,
}

/// Who the customer is.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = paygentic::ConsumerInput)]
pub struct ConsumerIn {
    name: Option<String>,
    email: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = paygentic::Customer)]
pub(super) struct CustomerOut<'a> {
    id: String,
    #[schema(value_type = String, pattern = "^customer$")]
    object: &'static str,
    merchant_id: String,
    external_id: Option<&'a str>,
    consumer: Consumer<'a>,
    created_at: String,
    updated_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = paygentic::Consumer)]
pub(super) struct Consumer<'a> {
    name: Option<&'a str>,
    email: Option<&'a str>,
}

impl<'a> CustomerOut<'a> {
    fn new(c: &'a CustomerRecord) -> Self {
        CustomerOut {
            id: c.id.to_string(),
            object: "customer",
            merchant_id: c.merchant_id.to_string(),
            external_id: c.external_id.as_deref(),
            consumer: Consumer { name: c.name.as_deref(), email: c.email.as_deref() },
            created_at: wire_time(c.created_at),
            updated_at: wire_time(c.updated_at),
        }
    }
}

fn respond(status: StatusCode, c: &CustomerRecord) -> Result<Response, PgError> {
    let body = serde_json::to_string(&CustomerOut::new(c)).map_err(ApiError::internal)?;
    Ok((status, [(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `POST /v0/customers`
#[utoipa::path(post, path = "/v0/customers", tag = "customers", request_body = CreateIn, responses((status = 201, body = CustomerOut), Errors))]
pub async fn create_customer(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Paygentic>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, PgError> {
    principal.require(Scope::PaymentsCreate)?;
    let bytes = body::bytes(raw, &headers)?;
    let (input, _): (CreateIn, _) = body::parse(&bytes)?;
    let merchant = principal.merchant_for(input.merchant_id.as_deref()).map_err(|e| match e.code {
        Code::MerchantRequired => PgError::Validation(vec![FieldError {
            field: "merchantId".into(),
            message: "merchantId is required".into(),
            code: FieldCode::Required,
        }]),
        _ => PgError::Api(ApiError::new(Code::Forbidden, "merchantId is not accessible with this API key")),
    })?;
    let consumer = input.consumer.unwrap_or(ConsumerIn { name: None, email: None });
    let new = NewCustomer {
        merchant_id: merchant.id.clone(),
        mode: principal.mode(),
        external_id: validate::text("external_id", input.external_id, validate::MAX_TEXT)?,
        email: validate::email("consumer.email", consumer.email)?,
        name: validate::text("consumer.name", consumer.name, validate::MAX_TEXT)?,
    };
    let record = customers::create(&state.store, new, payd_store::now()).await?;
    respond(StatusCode::CREATED, &record)
}

/// `GET /v0/customers/{id}`
#[utoipa::path(get, path = "/v0/customers/{id}", tag = "customers", params(("id" = String, Path)), responses((status = 200, body = CustomerOut), Errors))]
pub async fn get_customer(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Paygentic>,
    Path(id): Path<String>,
) -> Result<Response, PgError> {
    principal.require(Scope::PaymentsRead)?;
    let not_found = || PgError::Api(ApiError::new(Code::CustomerNotFound, "Customer not found"));
    let c = customers::find(&state.store, &id, principal.mode(), &principal.merchants)
        .await?
        .ok_or_else(not_found)?;
    respond(StatusCode::OK, &c)
}

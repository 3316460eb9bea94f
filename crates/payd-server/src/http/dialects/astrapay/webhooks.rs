//! AstraPay webhooks (scope `webhooks:manage`): create, list, get, update, delete. Endpoints
//! made here use the AstraPay format (`X-AstraPay-Signature`), take HTTPS URLs only, name
//! AstraPay's four events, and show their `whsec_` secret only in the create response.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use payd_core::apikey::Scope;
use payd_core::event::EventKind;
use payd_core::ids::WebhookEndpointId;
use payd_core::webhook::{WebhookEndpoint, WebhookFormat};
use payd_store::webhooks::EndpointFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::wire::envelope::respond;
use super::wire::error::{AstraError, AstraPay};
use super::wire::page::{meta, paging, Meta};
use super::wire::schema::{DeletedResponse, Errors};
use crate::engine::webhooks::endpoints::{self, EndpointChange, EndpointError, NewEndpoint};
use crate::engine::webhooks::targets::{Policy, Target};
use crate::http::caller::{Caller, Principal};
use crate::http::code::Code;
use crate::http::error::ApiError;
use crate::http::native::url_error;
use crate::http::wire::wire_time;
use crate::http::{body, validate};
use crate::state::AppState;

/// AstraPay's event names and payd's kinds.
const EVENTS: [(&str, EventKind); 4] = [
    ("payment.completed", EventKind::Completed),
    ("payment.expired", EventKind::Expired),
    ("payment.canceled", EventKind::Cancelled),
    ("payment.partially_paid", EventKind::PartiallyPaid),
];

/// A webhook to create (`url` and `events` required) or the fields to change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = astrapay::WebhookInput)]
pub struct WebhookIn {
    /// An HTTPS URL.
    url: Option<String>,
    /// At least one of `payment.completed`, `payment.expired`, `payment.canceled`,
    /// `payment.partially_paid`.
    events: Option<Vec<String>>,
    /// Whether it receives deliveries.
    active: Option<bool>,
}

/// A webhook as AstraPay shows it. `secret` only in the create response.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = astrapay::Webhook)]
pub struct WebhookOut {
    #[schema(format = "uuid")]
    id: String,
    url: String,
    events: Vec<&'static str>,
    active: bool,
    /// `whsec_…`, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    secret: Option<String>,
    created_at: String,
    updated_at: String,
}

impl WebhookOut {
    fn new(e: &WebhookEndpoint) -> Self {
        let events = if e.events.is_empty() {
            EVENTS.iter().map(|(n, _)| *n).collect()
        } else {
            EVENTS.iter().filter(|(_, k)| e.events.contains(k)).map(|(n, _)| *n).collect()
        };
        WebhookOut {
            id: e.id.uuid().hyphenated().to_string(),
            url: e.url.clone(),
            events,
            active: e.enabled,
            secret: None,
            created_at: wire_time(e.created_at),
            updated_at: wire_time(e.updated_at),
        }
    }
}

fn events(names: Vec<String>) -> Result<Vec<EventKind>, ApiError> {
    if names.is_empty() {
        return Err(ApiError::new(Code::InvalidValue, "events must name at least one event"));
    }
    let mut out = Vec::new();
    for name in names {
        let kind = EVENTS.iter().find(|(n, _)| *n == name).map(|(_, k)| *k).ok_or_else(|| {
            ApiError::new(Code::InvalidValue, "events must be payment.completed, payment.expired, payment.canceled or payment.partially_paid",
            )
        })?;
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    Ok(out)
}

fn https_url(state: &AppState, text: &str) -> Result<Target, ApiError> {
    validate::text("url", Some(text.to_owned()), validate::MAX_URL)?;
    let policy = Policy { allow_private: state.config.webhooks.allow_private_targets, require_https: true };
    Target::check(text, policy).map_err(|e| url_error("url", &e))
}

/// An AstraPay-format endpoint of the caller's merchant and mode; anything else is a 404.
async fn owned(state: &AppState, principal: &Principal, id: &str) -> Result<WebhookEndpoint, AstraError> {
    let not_found = || AstraError(ApiError::new(Code::NotFound, "Webhook not found"));
    let id = uuid::Uuid::try_parse(id)
        .ok()
        .map(WebhookEndpointId::from_uuid)
        .or_else(|| id.parse().ok())
        .ok_or_else(not_found)?;
    // AstraPay's API manages the endpoints in its own format only.
    endpoints::find(&state.store, &id, principal.mode(), &principal.merchants)
        .await
        .map_err(ApiError::from)?
        .filter(|e| e.format == WebhookFormat::Astrapay)
        .ok_or_else(not_found)
}

/// `POST /v1/api/webhooks`
#[utoipa::path(post, path = "/v1/api/webhooks", tag = "webhooks", request_body = WebhookIn, responses((status = 201, body = WebhookCreatedResponse, links(("GetWebhook" = (operation_id = "get_webhook", parameters(("id" = "$response.body#/data/id")))), ("DeleteWebhook" = (operation_id = "delete_webhook", parameters(("id" = "$response.body#/data/id")))))), Errors))]
pub async fn create_webhook(
    State(state): State<AppState>,
    Caller(principal, _): Caller<AstraPay>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, AstraError> {
    principal.require(Scope::WebhooksManage)?;
    let bytes = body::bytes(raw, &headers)?;
    let (input, _): (WebhookIn, _) = body::parse(&bytes)?;
    let merchant = principal.merchant_for(None)?;
    let url = input.url.ok_or_else(|| ApiError::new(Code::MissingField, "url is required"))?;
    let events =
        events(input.events.ok_or_else(|| ApiError::new(Code::MissingField, "events is required"))?)?;
    let new = NewEndpoint {
        merchant_id: merchant.id.clone(),
        mode: principal.mode(),
        url: https_url(&state, &url)?,
        description: None,
        events,
        format: WebhookFormat::Astrapay,
        enabled: input.active.unwrap_or(true),
    };
    let max = state.config.webhooks.max_endpoints;
    let (endpoint, secret) = endpoints::create(&state.store, &state.master_key, new, max, payd_store::now())
        .await
        .map_err(ApiError::from)?;
    let mut out = WebhookOut::new(&endpoint);
    out.secret = Some(secret.expose().to_owned());
    respond(StatusCode::CREATED, out)
}

/// `GET /v1/api/webhooks` query: pages as AstraPay's other lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WebhookListIn {
    /// From 1.
    page: Option<String>,
    /// From 1 to 100 (10 by default).
    #[serde(rename = "pageSize")]
    page_size: Option<String>,
}

/// A page of webhooks, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = astrapay::WebhookPage)]
pub struct WebhookPage {
    data: Vec<WebhookOut>,
    meta: Meta,
}

/// `GET /v1/api/webhooks`
#[utoipa::path(get, path = "/v1/api/webhooks", tag = "webhooks", params(WebhookListIn), responses((status = 200, body = WebhookListResponse), Errors))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    Caller(principal, _): Caller<AstraPay>,
    query: Result<Query<WebhookListIn>, QueryRejection>,
) -> Result<Response, AstraError> {
    principal.require(Scope::WebhooksManage)?;
    let Query(q) = query.map_err(|e| ApiError::new(Code::InvalidQuery, e.body_text()))?;
    let (page, size) = paging(q.page.as_deref(), q.page_size.as_deref())?;
    let merchant = principal.merchant_for(None)?;
    let filter = EndpointFilter {
        merchant_id: merchant.id.clone(),
        mode: principal.mode(),
        format: Some(WebhookFormat::Astrapay),
        after: None,
        offset: (page - 1).saturating_mul(size),
        limit: size,
    };
    let found = endpoints::page(&state.store, &filter).await.map_err(ApiError::from)?;
    respond(
        StatusCode::OK,
        WebhookPage {
            data: found.endpoints.iter().map(WebhookOut::new).collect(),
            meta: meta(page, size, found.total),
        },
    )
}

/// `GET /v1/api/webhooks/{id}`
#[utoipa::path(get, path = "/v1/api/webhooks/{id}", tag = "webhooks", params(("id" = String, Path, description = "The webhook's UUID")), responses((status = 200, body = WebhookResponse), Errors))]
pub async fn get_webhook(
    State(state): State<AppState>,
    Caller(principal, _): Caller<AstraPay>,
    Path(id): Path<String>,
) -> Result<Response, AstraError> {
    principal.require(Scope::WebhooksManage)?;
    let e = owned(&state, &principal, &id).await?;
    respond(StatusCode::OK, WebhookOut::new(&e))
}

/// `PATCH` (or `PUT`) `/v1/api/webhooks/{id}`: changes the fields sent.
#[utoipa::path(method(patch, put), path = "/v1/api/webhooks/{id}", tag = "webhooks", request_body = WebhookIn, params(("id" = String, Path, description = "The webhook's UUID")), responses((status = 200, body = WebhookResponse), Errors))]
pub async fn update_webhook(
    State(state): State<AppState>,
    Caller(principal, _): Caller<AstraPay>,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, AstraError> {
    principal.require(Scope::WebhooksManage)?;
    let e = owned(&state, &principal, &id).await?;
    let bytes = body::bytes(raw, &headers)?;
    let (input, _): (WebhookIn, _) = body::parse(&bytes)?;
    let change = EndpointChange {
        url: input.url.map(|url| https_url(&state, &url)).transpose()?,
        events: input.events.map(events).transpose()?,
        enabled: input.active,
        ..EndpointChange::default()
    };
    let e = match endpoints::update(&state.store, e, change, payd_store::now()).await {
        Err(EndpointError::NotFound) => {
            return Err(AstraError(ApiError::new(Code::NotFound, "Webhook not found")))
        }
        other => other.map_err(ApiError::from)?,
    };
    respond(StatusCode::OK, WebhookOut::new(&e))
}

/// `DELETE /v1/api/webhooks/{id}`
#[utoipa::path(delete, path = "/v1/api/webhooks/{id}", tag = "webhooks", params(("id" = String, Path, description = "The webhook's UUID")), responses((status = 200, body = DeletedResponse), Errors))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    Caller(principal, _): Caller<AstraPay>,
    Path(id): Path<String>,
) -> Result<Response, AstraError> {
    principal.require(Scope::WebhooksManage)?;
    let e = owned(&state, &principal, &id).await?;
    // Deleted meanwhile is deleted all the same.
    match endpoints::delete(&state.store, &e.id, payd_store::now()).await {
        Ok(()) | Err(EndpointError::NotFound) => {}
        Err(other) => return Err(ApiError::from(other).into()),
    }
    respond(
        StatusCode::OK,
        serde_json::json!({ "id": e.id.uuid().hyphenated().to_string(), "deleted": true }),
    )
}

/// `{success, statusCode, data}` around one webhook (no `secret`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = astrapay::WebhookResponse)]
pub struct WebhookResponse {
    success: bool,
    #[serde(rename = "statusCode")]
    status_code: u16,
    data: WebhookOut,
}

/// The create response: the webhook with its `secret`, shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = astrapay::WebhookCreatedResponse)]
pub struct WebhookCreatedResponse {
    success: bool,
    #[serde(rename = "statusCode")]
    status_code: u16,
    data: WebhookOut,
}

/// `{success, statusCode, data}` around a page of the merchant's webhooks.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = astrapay::WebhookListResponse)]
pub struct WebhookListResponse {
    success: bool,
    #[serde(rename = "statusCode")]
    status_code: u16,
    data: WebhookPage,
}

//! Native webhook handlers: endpoints (create, list, get, update, delete, rotate the secret),
//! the delivery log (per endpoint, event or payment, with attempts) and replays. Every route
//! needs the `webhooks:manage` scope.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use payd_core::apikey::Scope;
use payd_core::event::EventKind;
use payd_core::ids::{DeliveryId, WebhookEndpointId};
use payd_core::webhook::{DeliveryStatus, WebhookEndpoint, WebhookFormat};
use payd_store::webhooks::{DeliveryFilter, EndpointFilter};
use serde::Serialize;
use std::time::Duration;

use super::wire::api::Native;
use super::wire::webhook_types::{
    CreateEndpointIn, DeletedOut, DeliveryListOut, DeliveryOut, EndpointListOut, EndpointOut, Errors,
    ListDeliveriesIn, ListEndpointsIn, ReplayOut, RotateSecretIn, UpdateEndpointIn,
};
use crate::engine::webhooks::endpoints::{self, EndpointChange, EndpointError, NewEndpoint};
use crate::engine::webhooks::log::{self, ReplayError};
use crate::engine::webhooks::targets::{Policy, Target, UrlError};
use crate::http::caller::{Caller, Principal};
use crate::http::code::Code;
use crate::http::error::ApiError;
use crate::http::wire::json_text;
use crate::http::{body, validate};
use crate::state::AppState;

fn respond<T: Serialize>(status: StatusCode, out: &T) -> Result<Response, ApiError> {
    Ok(json_text(status, serde_json::to_string(out).map_err(ApiError::internal)?))
}

impl From<EndpointError> for ApiError {
    fn from(e: EndpointError) -> Self {
        match e {
            EndpointError::Store(e) => e.into(),
            EndpointError::Limit(_) => ApiError::new(Code::WebhookEndpointLimit, e.to_string()),
            EndpointError::NotFound => ApiError::not_found("webhook endpoint"),
            EndpointError::OverlapTooLong => {
                ApiError::new(Code::InvalidValue, "`expire_previous_in` must be from 0 to 604800 seconds")
                    .param("expire_previous_in")
            }
            other => ApiError::internal(other),
        }
    }
}

/// A URL as the API's clients send it, checked against the SSRF policy.
pub fn url_error(field: &str, e: &UrlError) -> ApiError {
    let m = format!("`{field}`: {e}");
    match e {
        UrlError::Private => ApiError::new(Code::UrlNotAllowed, m),
        _ => ApiError::new(Code::InvalidUrl, m),
    }
    .param(field)
}

fn check_url(state: &AppState, text: &str) -> Result<Target, ApiError> {
    let policy = Policy { allow_private: state.config.webhooks.allow_private_targets, require_https: false };
    Target::check(text, policy).map_err(|e| url_error("url", &e))
}

fn events(v: Vec<String>) -> Result<Vec<EventKind>, ApiError> {
    let mut out = Vec::new();
    for (i, name) in v.iter().enumerate() {
        let kind = EventKind::parse(name).ok_or_else(|| {
            ApiError::new(Code::InvalidEvent, format!("`{name}` is not an event kind (payment.created, …)"))
                .param(format!("events[{i}]"))
        })?;
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    Ok(out)
}

fn format(v: &str) -> Result<WebhookFormat, ApiError> {
    WebhookFormat::parse(v).ok_or_else(|| {
        ApiError::new(Code::InvalidFormat, "`format` must be native, astrapay, paygentic, mutopay or alppay")
            .param("format")
    })
}

/// An endpoint the caller may see; anything else is a 404.
async fn visible_endpoint(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<WebhookEndpoint, ApiError> {
    let not_found = || ApiError::not_found("webhook endpoint");
    let id: WebhookEndpointId = id.parse().map_err(|_| not_found())?;
    endpoints::find(&state.store, &id, principal.mode(), &principal.merchants).await?.ok_or_else(not_found)
}

/// `POST /v1/webhook_endpoints`
#[utoipa::path(post, path = "/v1/webhook_endpoints", tag = "webhooks", request_body = CreateEndpointIn, responses((status = 201, description = "Created; `secret` is shown this once", body = EndpointOut), Errors), security(("bearer" = [])))]
pub async fn create_endpoint(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Native>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(Scope::WebhooksManage)?;
    let bytes = body::bytes(raw, &headers)?;
    let (input, _): (CreateEndpointIn, _) = body::parse(&bytes)?;
    let merchant = principal.merchant_for(input.merchant.as_deref())?.clone();
    let new = NewEndpoint {
        merchant_id: merchant.id,
        mode: principal.mode(),
        url: check_url(&state, &input.url)?,
        description: validate::text("description", input.description, validate::MAX_DESCRIPTION)?,
        events: events(input.events.unwrap_or_default())?,
        format: input.format.as_deref().map(format).transpose()?.unwrap_or(WebhookFormat::Native),
        enabled: input.enabled.unwrap_or(true),
    };
    let now = payd_store::now();
    let max = state.config.webhooks.max_endpoints;
    let (endpoint, secret) = endpoints::create(&state.store, &state.master_key, new, max, now).await?;
    let mut out = EndpointOut::new(&endpoint);
    out.secret = Some(secret.expose().to_owned());
    respond(StatusCode::CREATED, &out)
}

/// `GET /v1/webhook_endpoints`
#[utoipa::path(get, path = "/v1/webhook_endpoints", tag = "webhooks", params(ListEndpointsIn), responses((status = 200, description = "A page of the merchant's endpoints in the key's mode, oldest first", body = EndpointListOut), Errors), security(("bearer" = [])))]
pub async fn list_endpoints(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Native>,
    query: Result<Query<ListEndpointsIn>, QueryRejection>,
) -> Result<Response, ApiError> {
    principal.require(Scope::WebhooksManage)?;
    let Query(q) = query.map_err(|e| ApiError::new(Code::InvalidQuery, e.body_text()))?;
    let merchant = principal.merchant_for(q.merchant.as_deref())?;
    let limit = validate::page_limit(q.limit.as_deref())?;
    let after = match q.starting_after.as_deref() {
        None => None,
        Some(id) => {
            let cursor = || {
                ApiError::new(Code::InvalidQuery, "`starting_after` is not a webhook endpoint of yours")
                    .param("starting_after")
            };
            let e = visible_endpoint(&state, &principal, id).await.map_err(|e| {
                if e.status == StatusCode::NOT_FOUND {
                    cursor()
                } else {
                    e
                }
            })?;
            if e.merchant_id != merchant.id {
                return Err(cursor());
            }
            Some(e.id)
        }
    };
    let filter = EndpointFilter {
        merchant_id: merchant.id.clone(),
        mode: principal.mode(),
        format: None,
        after,
        offset: 0,
        limit,
    };
    let page = endpoints::page(&state.store, &filter).await?;
    let has_more = page.has_more;
    respond(
        StatusCode::OK,
        &EndpointListOut {
            object: "list",
            next_cursor: if has_more { page.endpoints.last().map(|e| e.id.to_string()) } else { None },
            has_more,
            data: page.endpoints.iter().map(EndpointOut::new).collect(),
        },
    )
}

/// `GET /v1/webhook_endpoints/{id}`
#[utoipa::path(get, path = "/v1/webhook_endpoints/{id}", tag = "webhooks", params(("id" = String, Path)), responses((status = 200, description = "The endpoint", body = EndpointOut), Errors), security(("bearer" = [])))]
pub async fn get_endpoint(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Native>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(Scope::WebhooksManage)?;
    let e = visible_endpoint(&state, &principal, &id).await?;
    respond(StatusCode::OK, &EndpointOut::new(&e))
}

/// `PATCH /v1/webhook_endpoints/{id}`
#[utoipa::path(patch, path = "/v1/webhook_endpoints/{id}", tag = "webhooks", params(("id" = String, Path)), request_body = UpdateEndpointIn, responses((status = 200, description = "The changed endpoint", body = EndpointOut), Errors), security(("bearer" = [])))]
pub async fn update_endpoint(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Native>,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(Scope::WebhooksManage)?;
    let e = visible_endpoint(&state, &principal, &id).await?;
    let bytes = body::bytes(raw, &headers)?;
    let (input, _): (UpdateEndpointIn, _) = body::parse(&bytes)?;
    let change = EndpointChange {
        url: input.url.map(|url| check_url(&state, &url)).transpose()?,
        events: input.events.map(events).transpose()?,
        format: input.format.as_deref().map(format).transpose()?,
        description: match input.description {
            None => None,
            Some(d) if d.is_empty() => Some(None),
            Some(d) => Some(validate::text("description", Some(d), validate::MAX_DESCRIPTION)?),
        },
        enabled: input.enabled,
    };
    let e = endpoints::update(&state.store, e, change, payd_store::now()).await?;
    respond(StatusCode::OK, &EndpointOut::new(&e))
}

/// `DELETE /v1/webhook_endpoints/{id}`
#[utoipa::path(delete, path = "/v1/webhook_endpoints/{id}", tag = "webhooks", params(("id" = String, Path)), responses((status = 200, description = "Deleted: nothing more is sent to it", body = DeletedOut), Errors), security(("bearer" = [])))]
pub async fn delete_endpoint(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Native>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(Scope::WebhooksManage)?;
    let e = visible_endpoint(&state, &principal, &id).await?;
    endpoints::delete(&state.store, &e.id, payd_store::now()).await?;
    respond(StatusCode::OK, &DeletedOut { id: e.id.to_string(), object: "webhook_endpoint", deleted: true })
}

/// `POST /v1/webhook_endpoints/{id}/rotate_secret`
#[utoipa::path(post, path = "/v1/webhook_endpoints/{id}/rotate_secret", tag = "webhooks", params(("id" = String, Path)), request_body(content = Option<RotateSecretIn>, description = "Optional"), responses((status = 200, description = "The endpoint with its new `secret`, shown this once", body = EndpointOut), Errors), security(("bearer" = [])))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Native>,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(Scope::WebhooksManage)?;
    let e = visible_endpoint(&state, &principal, &id).await?;
    let bytes = body::bytes(raw, &headers)?;
    let input: RotateSecretIn = if bytes.iter().all(u8::is_ascii_whitespace) {
        RotateSecretIn::default()
    } else {
        body::parse(&bytes)?.0
    };
    let overlap = Duration::from_secs(input.expire_previous_in.unwrap_or(86_400));
    let now = payd_store::now();
    let (e, secret) = endpoints::rotate_secret(&state.store, &state.master_key, &e, overlap, now).await?;
    let mut out = EndpointOut::new(&e);
    out.secret = Some(secret.expose().to_owned());
    respond(StatusCode::OK, &out)
}

/// `POST /v1/webhook_endpoints/{id}/replay_failed`
#[utoipa::path(post, path = "/v1/webhook_endpoints/{id}/replay_failed", tag = "webhooks", params(("id" = String, Path)), responses((status = 200, description = "Every failed or dead delivery queued again", body = ReplayOut), Errors), security(("bearer" = [])))]
pub async fn replay_failed(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Native>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(Scope::WebhooksManage)?;
    let e = visible_endpoint(&state, &principal, &id).await?;
    let n = log::replay_failed(&state.store, &e.id, payd_store::now()).await?;
    respond(StatusCode::OK, &ReplayOut { object: "replay", replayed: n })
}

fn query_id<T: std::str::FromStr>(field: &str, v: Option<&str>) -> Result<Option<T>, ApiError> {
    v.map(|s| {
        s.parse::<T>().map_err(|_| {
            ApiError::new(Code::InvalidQuery, format!("`{field}` is not a valid id")).param(field)
        })
    })
    .transpose()
}

/// `GET /v1/webhook_deliveries`
#[utoipa::path(get, path = "/v1/webhook_deliveries", tag = "webhooks", params(ListDeliveriesIn), responses((status = 200, description = "A page of deliveries, newest first", body = DeliveryListOut), Errors), security(("bearer" = [])))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Native>,
    query: Result<Query<ListDeliveriesIn>, QueryRejection>,
) -> Result<Response, ApiError> {
    principal.require(Scope::WebhooksManage)?;
    let Query(q) = query.map_err(|e| ApiError::new(Code::InvalidQuery, e.body_text()))?;
    let merchant = principal.merchant_for(q.merchant.as_deref())?;
    let limit = validate::page_limit(q.limit.as_deref())?;
    let status = q
        .status
        .as_deref()
        .map(|s| {
            DeliveryStatus::parse(s).ok_or_else(|| {
                ApiError::new(
                    Code::InvalidQuery,
                    "`status` must be pending, delivering, delivered, failed or dead",
                )
                .param("status")
            })
        })
        .transpose()?;
    let filter = DeliveryFilter {
        merchant_id: merchant.id.clone(),
        mode: principal.mode(),
        endpoint_id: query_id("endpoint", q.endpoint.as_deref())?,
        event_id: query_id("event", q.event.as_deref())?,
        payment_id: query_id("payment", q.payment.as_deref())?,
        status,
        before: query_id("starting_after", q.starting_after.as_deref())?,
        limit: limit + 1,
    };
    let mut deliveries = log::list(&state.store, &filter).await?;
    let has_more = deliveries.len() > limit as usize;
    deliveries.truncate(limit as usize);
    respond(
        StatusCode::OK,
        &DeliveryListOut {
            object: "list",
            next_cursor: if has_more { deliveries.last().map(|d| d.id.to_string()) } else { None },
            has_more,
            data: deliveries.iter().map(|d| DeliveryOut::new(d, None)).collect(),
        },
    )
}

async fn visible_delivery(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<payd_core::webhook::Delivery, ApiError> {
    let not_found = || ApiError::not_found("webhook delivery");
    let id: DeliveryId = id.parse().map_err(|_| not_found())?;
    log::find(&state.store, &id, principal.mode(), &principal.merchants).await?.ok_or_else(not_found)
}

/// `GET /v1/webhook_deliveries/{id}`
#[utoipa::path(get, path = "/v1/webhook_deliveries/{id}", tag = "webhooks", params(("id" = String, Path)), responses((status = 200, description = "The delivery with every attempt", body = DeliveryOut), Errors), security(("bearer" = [])))]
pub async fn get_delivery(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Native>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(Scope::WebhooksManage)?;
    let d = visible_delivery(&state, &principal, &id).await?;
    let attempts = log::attempts(&state.store, &d.id).await?;
    respond(StatusCode::OK, &DeliveryOut::new(&d, Some(&attempts)))
}

/// `POST /v1/webhook_deliveries/{id}/replay`
#[utoipa::path(post, path = "/v1/webhook_deliveries/{id}/replay", tag = "webhooks", params(("id" = String, Path)), responses((status = 200, description = "Queued again with a fresh retry schedule", body = DeliveryOut), Errors), security(("bearer" = [])))]
pub async fn replay_delivery(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Native>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(Scope::WebhooksManage)?;
    let d = visible_delivery(&state, &principal, &id).await?;
    let d = log::replay(&state.store, &d.id, payd_store::now()).await.map_err(|e| match e {
        ReplayError::InFlight => ApiError::new(Code::DeliveryInFlight, e.to_string()),
        ReplayError::NotFound => ApiError::not_found("webhook delivery"),
        ReplayError::Store(e) => e.into(),
    })?;
    respond(StatusCode::OK, &DeliveryOut::new(&d, None))
}

//! The dashboard's webhook endpoints page: the endpoints of the user's merchants in the mode
//! shown, a form to register one (its secret shown once), and enabling, disabling, rotating
//! the secret (the new one shown once) and deleting. The URL policy, the per-merchant cap
//! and the secrets are the engine's.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use payd_core::apikey::Mode;
use payd_core::event::EventKind;
use payd_core::webhook::WebhookFormat;

use super::auth::{change_session, page_session, Authed};
use super::page::{self, Frame};
use super::{html, internal, not_found, notice};
use crate::engine::dashboard::{self, EndpointAction};
use crate::engine::fields;
use crate::engine::users::merchants_in_reach;
use crate::engine::webhooks::endpoints::{EndpointError, NewEndpoint};
use crate::engine::webhooks::targets::{Policy, Target};
use crate::state::AppState;

fn frame(authed: &Authed, mode: Mode) -> Frame<'_> {
    Frame { user: authed.user(), mode, csrf: &authed.csrf, here: "/dashboard/webhooks".into() }
}

fn refused(e: &EndpointError) -> Response {
    match e {
        EndpointError::Limit(_) | EndpointError::OverlapTooLong => {
            notice(StatusCode::CONFLICT, "Not done", &e.to_string())
        }
        EndpointError::NotFound => not_found(),
        e => internal(e),
    }
}

/// `GET /dashboard/webhooks`.
pub async fn list(State(state): State<AppState>, RawQuery(raw): RawQuery, headers: HeaderMap) -> Response {
    let authed = match page_session(&state, &headers).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let Some(mode) = super::keys::mode_of(raw.as_deref()) else {
        return notice(StatusCode::BAD_REQUEST, "Bad request", "`mode` is test or live");
    };
    let merchants = match merchants_in_reach(&state.store, authed.user()).await {
        Ok(m) => m,
        Err(e) => return internal(&e),
    };
    let endpoints = match dashboard::endpoints(&state.store, &merchants, mode).await {
        Ok(e) => e,
        Err(e) => return refused(&e),
    };
    let fr = frame(&authed, mode);
    let body = page::endpoints(&fr, &endpoints, &merchants, authed.user().role.can_change());
    html(StatusCode::OK, page::layout("Webhook endpoints", &fr, body))
}

/// `POST /dashboard/webhooks` (`merchant`, `mode`, `url`, `format`, `event`…, `description`).
pub async fn create(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (authed, fields_in) = match change_session(&state, &headers, &body).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let get = |name: &str| fields_in.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let bad = |text: &str| notice(StatusCode::BAD_REQUEST, "Not registered", text);
    let mode = match get("mode") {
        Some("test") => Mode::Test,
        Some("live") => Mode::Live,
        _ => return bad("`mode` is test or live"),
    };
    let Some(format) = get("format").and_then(WebhookFormat::parse) else { return bad("unknown format") };
    let mut events = Vec::new();
    for (_, v) in fields_in.iter().filter(|(k, _)| k == "event") {
        match EventKind::parse(v) {
            Some(k) => events.push(k),
            None => return bad("unknown event"),
        }
    }
    let policy = Policy { allow_private: state.config.webhooks.allow_private_targets, require_https: false };
    let url = match Target::check(get("url").unwrap_or_default().trim(), policy) {
        Ok(u) => u,
        Err(e) => return bad(&format!("URL: {e}")),
    };
    let description = match fields::text(
        "description",
        get("description").map(str::trim).filter(|d| !d.is_empty()).map(ToOwned::to_owned),
        fields::MAX_TEXT,
    ) {
        Ok(d) => d,
        Err(e) => return bad(&e.to_string()),
    };
    let merchants = match merchants_in_reach(&state.store, authed.user()).await {
        Ok(m) => m,
        Err(e) => return internal(&e),
    };
    let Some(merchant) = merchants.iter().find(|m| Some(m.id.to_string().as_str()) == get("merchant")) else {
        return not_found();
    };
    let new = NewEndpoint {
        merchant_id: merchant.id.clone(),
        mode,
        url,
        description,
        events,
        format,
        enabled: true,
    };
    let max = state.config.webhooks.max_endpoints;
    let now = payd_store::now();
    let created = dashboard::create_endpoint(
        &state.store,
        &state.master_key,
        authed.user(),
        new,
        merchant.account_id.clone(),
        max,
        now,
    )
    .await;
    match created {
        Ok((endpoint, secret)) => {
            let fr = frame(&authed, mode);
            let body = page::endpoint_secret(&fr, &endpoint, secret.expose(), "New webhook endpoint");
            html(StatusCode::CREATED, page::layout("New webhook endpoint", &fr, body))
        }
        Err(e) => refused(&e),
    }
}

/// `POST /dashboard/webhooks/{id}/{enable|disable|rotate|delete}`.
pub async fn change(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (authed, _) = match change_session(&state, &headers, &body).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let Ok(Path((id, verb))) = path else { return not_found() };
    let action = match verb.as_str() {
        "enable" => EndpointAction::Enable,
        "disable" => EndpointAction::Disable,
        "rotate" => EndpointAction::Rotate,
        "delete" => EndpointAction::Delete,
        _ => return not_found(),
    };
    let merchants = match merchants_in_reach(&state.store, authed.user()).await {
        Ok(m) => m,
        Err(e) => return internal(&e),
    };
    let (endpoint, account) = match dashboard::visible_endpoint(&state.store, &id, &merchants).await {
        Ok(Some(v)) => v,
        Ok(None) => return not_found(),
        Err(e) => return internal(&e),
    };
    let mode = endpoint.mode;
    let shown = endpoint.clone();
    let now = payd_store::now();
    match dashboard::change_endpoint(
        &state.store,
        &state.master_key,
        authed.user(),
        endpoint,
        account,
        action,
        now,
    )
    .await
    {
        Ok(Some(secret)) => {
            let fr = frame(&authed, mode);
            let body = page::endpoint_secret(&fr, &shown, secret.expose(), "New signing secret");
            html(StatusCode::OK, page::layout("New signing secret", &fr, body))
        }
        Ok(None) => Redirect::to(&format!("/dashboard/webhooks?mode={}", mode.as_str())).into_response(),
        Err(e) => refused(&e),
    }
}

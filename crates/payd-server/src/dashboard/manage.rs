//! The webhook endpoint page (`/dashboard/webhooks/{id}`): the endpoint, editing it (URL
//! through the engine's URL policy, events, format, description), enabling and disabling
//! it, rotating its secret with an overlap, sending it a test event, and its delivery log
//! (newest first, paged) with a redeliver button per delivery. The rules and the audit
//! lines (written in each change's transaction) are the engine's (`engine::manage`).

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use payd_core::event::EventKind;
use payd_core::ids::{AccountId, DeliveryId};
use payd_core::merchant::Merchant;
use payd_core::webhook::{WebhookEndpoint, WebhookFormat};

use super::auth::{change_session, page_session, Authed};
use super::manage_page::{self, EndpointView};
use super::page::{self, Frame};
use super::{html, internal, not_found, notice};
use crate::engine::dashboard::visible_endpoint;
use crate::engine::fields;
use crate::engine::manage;
use crate::engine::users::merchants_in_reach;
use crate::engine::webhooks::endpoints::{EndpointChange, EndpointError};
use crate::engine::webhooks::log::ReplayError;
use crate::engine::webhooks::targets::{Policy, Target};
use crate::engine::webhooks::test_event::TestEventError;
use crate::state::AppState;

/// An endpoint the user reaches, with its merchant and account; `Err` is the response to
/// give instead (404 for anything not theirs, exactly like a missing one).
async fn reached(
    state: &AppState,
    authed: &Authed,
    id: &str,
) -> Result<(WebhookEndpoint, Merchant, AccountId), Response> {
    let merchants = merchants_in_reach(&state.store, authed.user()).await.map_err(|e| internal(&e))?;
    let (endpoint, account) = match visible_endpoint(&state.store, id, &merchants).await {
        Ok(Some(v)) => v,
        Ok(None) => return Err(not_found()),
        Err(e) => return Err(internal(&e)),
    };
    let merchant = merchants.into_iter().find(|m| m.id == endpoint.merchant_id).ok_or_else(not_found)?;
    Ok((endpoint, merchant, account))
}

fn page_of(e: &WebhookEndpoint) -> String {
    format!("/dashboard/webhooks/{}", e.id)
}

/// The page after a change: back to the endpoint, saying what was done.
fn done(e: &WebhookEndpoint, what: &str) -> Response {
    let said: String = url::form_urlencoded::byte_serialize(what.as_bytes()).collect();
    Redirect::to(&format!("{}?done={said}", page_of(e))).into_response()
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

/// What `?done=` may say: only the page's own messages are shown, so a link cannot make
/// payd display someone else's words.
const MESSAGES: [&str; 5] = [
    "Endpoint saved.",
    "Endpoint enabled.",
    "Endpoint disabled.",
    "Test event queued: it shows below once sent.",
    "Delivery queued again.",
];

/// `GET /dashboard/webhooks/{id}` (`?before=dlv_…`: an older page of the log).
pub async fn show(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let authed = match page_session(&state, &headers).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let Ok(Path(id)) = path else { return not_found() };
    let (endpoint, merchant, _) = match reached(&state, &authed, &id).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let mut before = None;
    let mut message = None;
    for (k, v) in url::form_urlencoded::parse(raw.as_deref().unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "before" => match v.parse::<DeliveryId>() {
                Ok(d) => before = Some(d),
                Err(_) => return notice(StatusCode::BAD_REQUEST, "Bad request", "`before` is a delivery id"),
            },
            "done" => message = MESSAGES.iter().find(|m| **m == v).copied(),
            // The mode switch adds `mode`; the endpoint's own mode is what counts here.
            _ => {}
        }
    }
    let paged = before.is_some();
    let log = match manage::endpoint_log(&state.store, &endpoint, before).await {
        Ok(l) => l,
        Err(e) => return internal(&e),
    };
    let fr = Frame {
        user: authed.user(),
        mode: endpoint.mode,
        csrf: &authed.csrf,
        here: "/dashboard/webhooks".into(),
    };
    let view = EndpointView {
        merchant: &merchant,
        log: &log,
        paged,
        message,
        can_change: authed.user().role.can_change(),
    };
    let body = manage_page::endpoint(&fr, &endpoint, &view);
    html(StatusCode::OK, page::layout("Webhook endpoint", &fr, body))
}

/// A form posted to one endpoint: who posted it, its fields, the endpoint and its account.
struct EndpointForm {
    authed: Authed,
    fields: Vec<(String, String)>,
    endpoint: WebhookEndpoint,
    account: AccountId,
}

/// Every endpoint form's checks, in one place: a session allowed to change (form token,
/// origin, role), then an endpoint `id` within its reach (`None`, a path that did not parse,
/// answers 404 like an endpoint of someone else). `Err` is the response refusing it.
async fn endpoint_form(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
    id: Option<String>,
) -> Result<EndpointForm, Response> {
    let (authed, fields) = change_session(state, headers, body).await?;
    let Some(id) = id else { return Err(not_found()) };
    let (endpoint, _, account) = reached(state, &authed, &id).await?;
    Ok(EndpointForm { authed, fields, endpoint, account })
}

/// The endpoint id of a path `/dashboard/webhooks/{id}/…`.
fn endpoint_id(path: Result<Path<String>, PathRejection>) -> Option<String> {
    path.ok().map(|Path(id)| id)
}

fn field<'a>(fields_in: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields_in.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// `POST /dashboard/webhooks/{id}/edit` (`url`, `format`, `event`…, `description`): every
/// field is checked before anything is written; the URL by the engine's policy.
pub async fn edit(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let EndpointForm { authed, fields: fields_in, endpoint, account } =
        match endpoint_form(&state, &headers, &body, endpoint_id(path)).await {
            Ok(f) => f,
            Err(res) => return res,
        };
    let bad = |text: &str| notice(StatusCode::BAD_REQUEST, "Not saved", text);
    let Some(format) = field(&fields_in, "format").and_then(WebhookFormat::parse) else {
        return bad("unknown format");
    };
    let mut events = Vec::new();
    for (_, v) in fields_in.iter().filter(|(k, _)| k == "event") {
        match EventKind::parse(v) {
            Some(k) if !events.contains(&k) => events.push(k),
            Some(_) => {}
            None => return bad("unknown event"),
        }
    }
    let policy = Policy { allow_private: state.config.webhooks.allow_private_targets, require_https: false };
    let url = match Target::check(field(&fields_in, "url").unwrap_or_default().trim(), policy) {
        Ok(u) => u,
        Err(e) => return bad(&format!("URL: {e}")),
    };
    let description = match fields::text(
        "description",
        field(&fields_in, "description").map(str::trim).filter(|d| !d.is_empty()).map(ToOwned::to_owned),
        fields::MAX_TEXT,
    ) {
        Ok(d) => d,
        Err(e) => return bad(&e.to_string()),
    };
    // Only what differs is changed (and named in the audit line).
    let change = EndpointChange {
        url: (url.as_str() != endpoint.url).then_some(url),
        events: (events != endpoint.events).then_some(events),
        format: (format != endpoint.format).then_some(format),
        description: (description != endpoint.description).then_some(description),
        enabled: None,
    };
    match manage::edit_endpoint(&state.store, authed.user(), endpoint, account, change, payd_store::now())
        .await
    {
        Ok(e) => done(&e, MESSAGES[0]),
        Err(e) => refused(&e),
    }
}

/// `POST /dashboard/webhooks/{id}/state` (`enabled`: `true` or `false`).
pub async fn set_state(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let EndpointForm { authed, fields: fields_in, endpoint, account } =
        match endpoint_form(&state, &headers, &body, endpoint_id(path)).await {
            Ok(f) => f,
            Err(res) => return res,
        };
    let enabled = match field(&fields_in, "enabled") {
        Some("true") => true,
        Some("false") => false,
        _ => return notice(StatusCode::BAD_REQUEST, "Not done", "`enabled` is true or false"),
    };
    let now = payd_store::now();
    match manage::set_endpoint_enabled(&state.store, authed.user(), endpoint, account, enabled, now).await {
        Ok(e) => done(&e, if enabled { MESSAGES[1] } else { MESSAGES[2] }),
        Err(e) => refused(&e),
    }
}

/// `POST /dashboard/webhooks/{id}/rotate` (`overlap`: seconds the old secret keeps signing,
/// 0 to 604800; absent: 0). Shows the new secret once.
pub async fn rotate(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let EndpointForm { authed, fields: fields_in, endpoint, account } =
        match endpoint_form(&state, &headers, &body, endpoint_id(path)).await {
            Ok(f) => f,
            Err(res) => return res,
        };
    let overlap = match field(&fields_in, "overlap").map(str::trim) {
        None | Some("") => 0,
        Some(v) => match v.parse::<u64>() {
            Ok(s) => s,
            Err(_) => {
                return notice(StatusCode::BAD_REQUEST, "Not rotated", "`overlap` is a number of seconds")
            }
        },
    };
    let now = payd_store::now();
    let overlap = std::time::Duration::from_secs(overlap);
    match manage::rotate_endpoint(
        &state.store,
        &state.master_key,
        authed.user(),
        &endpoint,
        account,
        overlap,
        now,
    )
    .await
    {
        Ok((e, secret)) => {
            let fr = Frame { user: authed.user(), mode: e.mode, csrf: &authed.csrf, here: page_of(&e) };
            let body = page::endpoint_secret(&fr, &e, secret.expose(), "New signing secret");
            html(StatusCode::OK, page::layout("New signing secret", &fr, body))
        }
        Err(e) => refused(&e),
    }
}

/// `POST /dashboard/webhooks/{id}/test`: queues a test event to the endpoint.
pub async fn send_test(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let EndpointForm { authed, endpoint, account, .. } =
        match endpoint_form(&state, &headers, &body, endpoint_id(path)).await {
            Ok(f) => f,
            Err(res) => return res,
        };
    match manage::send_test_event(&state.store, authed.user(), &endpoint, account, payd_store::now()).await {
        Ok(_) => done(&endpoint, MESSAGES[3]),
        Err(e @ TestEventError::NotSendable) => notice(StatusCode::CONFLICT, "Not sent", &e.to_string()),
        Err(e) => internal(&e),
    }
}

/// `POST /dashboard/webhooks/{id}/deliveries/{delivery}/redeliver`.
pub async fn redeliver(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (id, delivery) = match path {
        Ok(Path((id, d))) => (Some(id), Some(d)),
        Err(_) => (None, None),
    };
    let EndpointForm { authed, endpoint, account, .. } =
        match endpoint_form(&state, &headers, &body, id).await {
            Ok(f) => f,
            Err(res) => return res,
        };
    let Some(Ok(delivery)) = delivery.map(|d| d.parse::<DeliveryId>()) else { return not_found() };
    match manage::redeliver(&state.store, authed.user(), &endpoint, &delivery, account, payd_store::now())
        .await
    {
        Ok(_) => done(&endpoint, MESSAGES[4]),
        Err(ReplayError::NotFound) => not_found(),
        Err(ReplayError::InFlight) => {
            notice(StatusCode::CONFLICT, "Not yet", &ReplayError::InFlight.to_string())
        }
        Err(ReplayError::Store(e)) => internal(&e),
    }
}

//! The dashboard's API keys page: the keys of the user's reach in the mode shown, a form to
//! create one (for a merchant, or every merchant of an account; scopes; mode), the new key's
//! secrets shown once on the answer to that form, and revoking (effective at the next
//! request: the API looks every key up on each request).

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use payd_core::apikey::{Mode, Scope};

use super::auth::{change_session, page_session};
use super::page::{self, Frame};
use super::{html, internal, not_found, notice};
use crate::engine::dashboard::{self, KeyRefusal, NewKeyIn};
use crate::engine::users::merchants_in_reach;
use crate::state::AppState;

/// The `mode` of a query (live when absent); `None` when it is neither.
pub(super) fn mode_of(raw: Option<&str>) -> Option<Mode> {
    let asked = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "mode")
        .map(|(_, v)| v.into_owned());
    match asked.as_deref() {
        None | Some("" | "live") => Some(Mode::Live),
        Some("test") => Some(Mode::Test),
        Some(_) => None,
    }
}

/// `GET /dashboard/keys`.
pub async fn list(State(state): State<AppState>, RawQuery(raw): RawQuery, headers: HeaderMap) -> Response {
    let authed = match page_session(&state, &headers).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let Some(mode) = mode_of(raw.as_deref()) else {
        return notice(StatusCode::BAD_REQUEST, "Bad request", "`mode` is test or live");
    };
    let merchants = match merchants_in_reach(&state.store, authed.user()).await {
        Ok(m) => m,
        Err(e) => return internal(&e),
    };
    let keys = match dashboard::keys(&state.store, authed.user(), &merchants, mode).await {
        Ok(k) => k,
        Err(e) => return internal(&e),
    };
    let fr = Frame { user: authed.user(), mode, csrf: &authed.csrf, here: "/dashboard/keys".into() };
    let body = page::keys(&fr, &keys, &merchants, authed.user().role.can_change());
    html(StatusCode::OK, page::layout("API keys", &fr, body))
}

/// `POST /dashboard/keys` (`owner`, `mode`, `scope`…): creates a key and shows its secrets,
/// this once.
pub async fn create(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (authed, fields) = match change_session(&state, &headers, &body).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let mode = match get("mode") {
        Some("test") => Mode::Test,
        Some("live") => Mode::Live,
        _ => return notice(StatusCode::BAD_REQUEST, "Bad request", "`mode` is test or live"),
    };
    let mut scopes = Vec::new();
    for (_, v) in fields.iter().filter(|(k, _)| k == "scope") {
        match Scope::parse(v) {
            Some(s) => scopes.push(s),
            None => return notice(StatusCode::BAD_REQUEST, "Bad request", "unknown scope"),
        }
    }
    let merchants = match merchants_in_reach(&state.store, authed.user()).await {
        Ok(m) => m,
        Err(e) => return internal(&e),
    };
    let input = NewKeyIn { owner: get("owner").unwrap_or_default(), mode, scopes };
    let issued = dashboard::create_key(
        &state.store,
        &state.master_key,
        authed.user(),
        &merchants,
        input,
        payd_store::now(),
    )
    .await;
    match issued {
        Ok(issued) => {
            let fr = Frame { user: authed.user(), mode, csrf: &authed.csrf, here: "/dashboard/keys".into() };
            let body = page::key_created(&fr, &issued);
            // Served with `Cache-Control: no-store` like every page: the secrets are not kept.
            html(StatusCode::CREATED, page::layout("New API key", &fr, body))
        }
        Err(KeyRefusal::NotFound) => not_found(),
        Err(KeyRefusal::NoScope) => {
            notice(StatusCode::BAD_REQUEST, "Not created", "Choose at least one scope.")
        }
        Err(e) => internal(&e),
    }
}

/// `POST /dashboard/keys/{id}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (authed, _) = match change_session(&state, &headers, &body).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let Ok(Path(id)) = id else { return not_found() };
    let merchants = match merchants_in_reach(&state.store, authed.user()).await {
        Ok(m) => m,
        Err(e) => return internal(&e),
    };
    match dashboard::revoke_key(&state.store, authed.user(), &merchants, &id, payd_store::now()).await {
        Ok((mode, _)) => Redirect::to(&format!("/dashboard/keys?mode={}", mode.as_str())).into_response(),
        Err(KeyRefusal::NotFound) => not_found(),
        Err(e) => internal(&e),
    }
}

//! The payment page's live status: `GET /dashboard/payments/{id}/live` answers the payment's
//! status, amounts received and transfers as JSON (a session within reach, else 401 or 404;
//! never cached), which the page's one small script (`live.js`, served by payd under a
//! content-digest name) asks every few seconds. Only that page allows a script, from payd
//! itself; without script the page shows the state it was loaded with.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use maud::{html, Markup};
use payd_core::apikey::Mode;
use serde::Serialize;

use super::auth::authed;
use super::explorer::Links;
use crate::engine::dashboard;
use crate::engine::users::merchants_in_reach;
use crate::state::AppState;
use crate::web::assets;

/// The payment page's policy: the dashboard's, plus payd's own script and its requests.
const CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; \
                   img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// A page that runs the live script.
pub fn html(status: StatusCode, markup: Markup) -> Response {
    let mut res = crate::web::html(status, markup, CSP);
    res.headers_mut().insert("x-frame-options", HeaderValue::from_static("DENY"));
    res
}

/// What the payment page adds for its live status: where to ask, the script, and a polite
/// line saying it follows (empty until the script runs).
pub fn follow(id: &str) -> Markup {
    html! {
        p #live-note data-live={ "/dashboard/payments/" (id) "/live" } role="status" aria-live="polite" {}
        script src=(assets::DASHBOARD_JS.path()) defer {}
    }
}

/// One transfer as the page shows it.
#[derive(Debug, Serialize)]
struct TransferOut {
    tx_hash: String,
    tx_href: Option<String>,
    amount: String,
    block: u64,
    confirmations: u64,
    state: &'static str,
}

/// The payment's live state.
#[derive(Debug, Serialize)]
struct LiveOut {
    id: String,
    status: &'static str,
    flags: Vec<&'static str>,
    received_confirmed: String,
    received_pending: String,
    received_confirmed_units: String,
    received_pending_units: String,
    transfers: Vec<TransferOut>,
}

fn error(status: StatusCode, code: &str) -> Response {
    let mut res = (status, Json(serde_json::json!({ "error": { "code": code } }))).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `GET /dashboard/payments/{id}/live`.
pub async fn show(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Response {
    let internal = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "dashboard live status failed");
        error(StatusCode::INTERNAL_SERVER_ERROR, "internal")
    };
    let authed = match authed(&state, &headers).await {
        Ok(Some(a)) => a,
        Ok(None) => return error(StatusCode::UNAUTHORIZED, "no_session"),
        Err(_) => return error(StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    };
    let Ok(Path(id)) = id else { return error(StatusCode::NOT_FOUND, "not_found") };
    let merchants = match merchants_in_reach(&state.store, authed.user()).await {
        Ok(m) => m,
        Err(e) => return internal(&e),
    };
    let p = match dashboard::visible(&state.store, &id, &merchants).await {
        Ok(Some(p)) => p,
        Ok(None) => return error(StatusCode::NOT_FOUND, "not_found"),
        Err(e) => return internal(&e),
    };
    let transfers = match crate::engine::views::transfers(&state.store, &p).await {
        Ok(t) => t,
        Err(e) => return internal(&e),
    };
    let links = match (&p.asset, p.mode) {
        (Some(a), Mode::Live) => Links::of(&state, &a.network),
        _ => Links::default(),
    };
    let flags = [(p.underpaid, "underpaid"), (p.overpaid, "overpaid"), (p.paid_late, "paid late")]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
    let out = LiveOut {
        id: p.id.to_string(),
        status: p.status.as_str(),
        flags,
        received_confirmed: super::page::token_amount(&p, p.funds.confirmed),
        received_pending: super::page::token_amount(&p, p.funds.pending),
        received_confirmed_units: p.funds.confirmed.to_string(),
        received_pending_units: p.funds.pending.to_string(),
        transfers: transfers
            .iter()
            .map(|t| TransferOut {
                tx_hash: t.transfer.transfer.tx_hash.clone(),
                tx_href: links.tx_href(&t.transfer.transfer.tx_hash),
                amount: super::page::token_amount(&p, t.transfer.transfer.amount),
                block: t.transfer.transfer.block.number,
                confirmations: t.confirmations,
                state: t.transfer.status.as_str(),
            })
            .collect(),
    };
    let mut res = Json(out).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    res
}

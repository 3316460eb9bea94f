//! The dashboard's payment pages: the list (search, filters, pages), its CSV export, one
//! payment, and its two changes (cancel, redeliver a webhook). A payment outside the user's
//! reach answers exactly like one that does not exist (404); a viewer's post is refused (403)
//! before anything is read.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use payd_core::ids::DeliveryId;
use payd_core::payment::{Payment, PaymentStatus};
use payd_core::user::User;

use super::auth::{change_session, page_session, Authed};
use super::page::{self, Frame};
use super::query::ListQuery;
use super::{html, internal, not_found, notice};
use crate::engine::dashboard;
use crate::engine::users::merchants_in_reach;
use crate::engine::webhooks::log::ReplayError;
use crate::engine::CancelError;
use crate::state::AppState;

fn frame<'a>(authed: &'a Authed, mode: payd_core::apikey::Mode, here: String) -> Frame<'a> {
    Frame { user: authed.user(), mode, csrf: &authed.csrf, here }
}

/// The networks the filter offers: payd's registry and the configured ones.
fn networks(state: &AppState) -> Vec<String> {
    let mut out: Vec<String> = payd_core::registry::NETWORKS.iter().map(|n| n.id.to_owned()).collect();
    out.extend(state.config.networks.iter().map(|n| n.name.clone()));
    out.sort();
    out.dedup();
    out
}

/// The list's query, checked, and the store's filter for the user's reach.
async fn filter(
    state: &AppState,
    user: &User,
    raw: Option<&str>,
) -> Result<(ListQuery, payd_store::users::DashboardFilter), Response> {
    let q = ListQuery::parse(raw).map_err(|e| notice(StatusCode::BAD_REQUEST, "Bad filter", &e))?;
    let merchants = merchants_in_reach(&state.store, user).await.map_err(|e| internal(&e))?;
    let search = match &q.q {
        Some(text) => dashboard::search_terms(&state.store, text).await.map_err(|e| internal(&e))?,
        None => Vec::new(),
    };
    let f = q.filter(merchants.into_iter().map(|m| m.id).collect(), search);
    Ok((q, f))
}

/// `GET /dashboard/payments`: the list.
pub async fn list(State(state): State<AppState>, RawQuery(raw): RawQuery, headers: HeaderMap) -> Response {
    let authed = match page_session(&state, &headers).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let (q, f) = match filter(&state, authed.user(), raw.as_deref()).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let (rows, total) = match dashboard::list(&state.store, &f).await {
        Ok(v) => v,
        Err(e) => return internal(&e),
    };
    // The switch keeps the filters and goes back to the first page.
    let fr = frame(&authed, q.mode(), q.to_link("/dashboard/payments", None, None));
    let chart = match super::chart::for_list(&state.store, &q, &f).await {
        Ok(c) => c,
        Err(e) => return internal(&e),
    };
    let body = maud::html! { (page::list(&fr, &q, &rows, total, &networks(&state))) (chart) };
    html(StatusCode::OK, page::layout("Payments", &fr, body))
}

/// One CSV line per payment: what the list shows, every amount exact.
fn csv_body(rows: &[Payment]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "id",
        "created_at",
        "mode",
        "merchant_id",
        "status",
        "underpaid",
        "overpaid",
        "paid_late",
        "price_amount",
        "price_currency",
        "token",
        "network",
        "amount_due",
        "received_confirmed",
        "received_pending",
        "deposit_address",
        "reference",
        "order_id",
        "invoice",
        "customer_email",
        "completed_at",
    ])?;
    for p in rows {
        let units = |u: u128| p.asset.as_ref().map(|a| payd_core::token::format_base_units(u, a.decimals));
        let asset = p.asset.as_ref();
        w.write_record([
            p.id.to_string(),
            p.created_at.to_rfc3339(),
            p.mode.as_str().to_owned(),
            p.merchant_id.to_string(),
            p.status.as_str().to_owned(),
            p.underpaid.to_string(),
            p.overpaid.to_string(),
            p.paid_late.to_string(),
            p.price.amount.to_string(),
            p.price.currency.to_string(),
            asset.map(|a| a.token.clone()).unwrap_or_default(),
            asset.map(|a| a.network.clone()).unwrap_or_default(),
            asset.and_then(|a| units(a.amount_due)).unwrap_or_default(),
            units(p.funds.confirmed).unwrap_or_default(),
            units(p.funds.pending).unwrap_or_default(),
            asset.and_then(|a| a.address.clone()).unwrap_or_default(),
            p.reference.clone().unwrap_or_default(),
            p.external_id.clone().unwrap_or_default(),
            p.invoice.clone().unwrap_or_default(),
            p.customer.email.clone().unwrap_or_default(),
            p.completed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        ])?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// `GET /dashboard/payments.csv`: every payment the list's filter selects (up to
/// [`dashboard::CSV_MAX_ROWS`]), as CSV.
pub async fn export(State(state): State<AppState>, RawQuery(raw): RawQuery, headers: HeaderMap) -> Response {
    let authed = match page_session(&state, &headers).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let (q, f) = match filter(&state, authed.user(), raw.as_deref()).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let rows = match dashboard::export(&state.store, &f).await {
        Ok(r) => r,
        Err(e) => return internal(&e),
    };
    let body = match csv_body(&rows) {
        Ok(b) => b,
        Err(e) => return internal(&e),
    };
    let name =
        format!("payd-payments-{}-{}.csv", q.mode().as_str(), payd_store::now().format("%Y%m%d-%H%M%S"));
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    res
}

/// The payment `id` names within the user's reach, with its merchant; the 404 page otherwise.
async fn visible(
    state: &AppState,
    user: &User,
    id: &str,
) -> Result<(Payment, payd_core::merchant::Merchant), Response> {
    let merchants = merchants_in_reach(&state.store, user).await.map_err(|e| internal(&e))?;
    match dashboard::visible(&state.store, id, &merchants).await {
        Ok(Some(p)) => {
            let m = merchants.into_iter().find(|m| m.id == p.merchant_id).ok_or_else(not_found)?;
            Ok((p, m))
        }
        Ok(None) => Err(not_found()),
        Err(e) => Err(internal(&e)),
    }
}

/// `GET /dashboard/payments/{id}`: one payment.
pub async fn show(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Response {
    let authed = match page_session(&state, &headers).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let Ok(Path(id)) = id else { return not_found() };
    let (payment, merchant) = match visible(&state, authed.user(), &id).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let cancellable = payment.status == PaymentStatus::Pending
        && payment.funds.confirmed == 0
        && payment.funds.pending == 0;
    let mode = payment.mode;
    let detail = match dashboard::detail(&state.store, payment, merchant).await {
        Ok(d) => d,
        Err(e) => return internal(&e),
    };
    let fr = frame(&authed, mode, "/dashboard/payments".to_owned());
    // A test payment is paid on devnet, whatever network it names: no explorer has it.
    let explorer = match (&detail.payment.asset, mode) {
        (Some(a), payd_core::apikey::Mode::Live) => Some(super::explorer::Links::of(&state, &a.network)),
        _ => None,
    };
    let body = page::detail(
        &fr,
        &detail,
        authed.user().role.can_change(),
        cancellable,
        &explorer.unwrap_or_default(),
    );
    let body = maud::html! { (body) (super::live::follow(&detail.payment.id.to_string())) };
    super::live::html(StatusCode::OK, page::layout("Payment", &fr, body))
}

/// The checks of a change: a live session, the form token and origin, a role that may
/// change things, and a payment within reach.
async fn change(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
    id: Result<Path<String>, PathRejection>,
) -> Result<(Authed, Payment, payd_core::merchant::Merchant), Response> {
    let (authed, _) = change_session(state, headers, body).await?;
    let Ok(Path(id)) = id else { return Err(not_found()) };
    let (p, m) = visible(state, authed.user(), &id).await?;
    Ok((authed, p, m))
}

/// `POST /dashboard/payments/{id}/cancel`: cancels while nothing was received.
pub async fn cancel(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (authed, payment, _) = match change(&state, &headers, &body, id).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    match dashboard::cancel(&state.store, authed.user(), &payment, payd_store::now()).await {
        Ok(p) => Redirect::to(&format!("/dashboard/payments/{}", p.id)).into_response(),
        Err(CancelError::Transition(e)) => notice(StatusCode::CONFLICT, "Not cancelled", &e.to_string()),
        Err(CancelError::Store(e)) => internal(&e),
    }
}

/// `POST /dashboard/payments/{id}/deliveries/{delivery}/redeliver`: sends a webhook again.
pub async fn redeliver(
    State(state): State<AppState>,
    ids: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (payment_id, delivery) = match ids {
        Ok(Path((p, d))) => (Ok(Path(p)), d),
        Err(_) => return not_found(),
    };
    let (authed, payment, merchant) = match change(&state, &headers, &body, payment_id).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let Ok(delivery) = delivery.parse::<DeliveryId>() else { return not_found() };
    let now = payd_store::now();
    match dashboard::redeliver(
        &state.store,
        authed.user(),
        &payment,
        &delivery,
        Some(merchant.account_id),
        now,
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/dashboard/payments/{}", payment.id)).into_response(),
        Err(ReplayError::NotFound) => not_found(),
        Err(ReplayError::InFlight) => {
            notice(StatusCode::CONFLICT, "Not yet", &ReplayError::InFlight.to_string())
        }
        Err(ReplayError::Store(e)) => internal(&e),
    }
}

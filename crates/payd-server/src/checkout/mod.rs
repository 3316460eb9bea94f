//! The hosted checkout page, where the customer pays: one page behind every API's link
//! (native, Paygentic and AlpPay `/checkout/{slug}`, AstraPay `/purchases/{short_id}`,
//! MutoPay `/pay/{id}`), its live-status stream (server-sent events), its two forms
//! (simulate a test payment, cancel), its stylesheet and script, and its HTML 404.
//!
//! Transport and layout only: what a payment's page shows is decided in [`view`] from what
//! [`crate::engine::checkout`] returns, and every change goes through the engine. The forms
//! are guarded against cross-site posting (Origin / `Sec-Fetch-Site`, a per-payment token
//! MAC'd under the master key, and the CSP's `form-action`).

mod brand;
pub mod i18n;
pub mod page;
pub mod qr;
pub mod view;

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{MatchedPath, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::Markup;
use subtle::ConstantTimeEq;

use crate::engine::asset::{self, ChooseError};
use crate::engine::checkout::{self as engine, Checkout, LinkRef, Simulated};
use crate::engine::devnet::PayError;
use crate::engine::CancelError;
use crate::http::client::Client;
use crate::ratelimit::{retry_after_secs, ClientUse};
use crate::state::AppState;
use i18n::Lang;
use page::Ctx;
use view::View;

/// The path prefixes of the checkout links the APIs hand out.
const PREFIXES: [&str; 3] = ["/checkout", "/purchases", "/pay"];

/// How often an open page's stream reads its payment again: one indexed read per open page
/// every interval, whichever node serves it, so any number of payd nodes on one database
/// show the same status.
const POLL: Duration = Duration::from_millis(1500);
/// A stream ends after this long; the browser reconnects by itself (bounds a forgotten tab).
const STREAM_LIFETIME: Duration = Duration::from_secs(600);

/// `GET /assets/{file}`: the current version of a page's file (the checkout's or the
/// dashboard's), or the HTML 404 page.
async fn asset(Path(file): Path<String>) -> Response {
    crate::web::assets::serve(&file).unwrap_or_else(|| not_found(Lang::En))
}

/// The checkout's routes.
pub fn routes() -> Router<AppState> {
    let mut router =
        Router::new().route("/assets/{file}", get(asset)).route("/assets/brand/{file}", get(brand::asset));
    for prefix in PREFIXES {
        router = router
            .route(&format!("{prefix}/{{reference}}"), get(show))
            .route(&format!("{prefix}/{{reference}}/events"), get(events))
            .route(&format!("{prefix}/{{reference}}/simulate"), post(simulate))
            .route(&format!("{prefix}/{{reference}}/choose"), post(choose))
            .route(&format!("{prefix}/{{reference}}/cancel"), post(cancel));
    }
    router
}

/// Whether `path` is under a checkout prefix: an unknown path there gets the HTML 404 page,
/// not an API's JSON error.
pub fn owns(path: &str) -> bool {
    path.starts_with("/assets/")
        || PREFIXES
            .iter()
            .any(|p| path.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

/// The link's reference as the engine takes it: MutoPay's links carry payd's id, the others
/// the short id.
fn link<'a>(matched: &MatchedPath, reference: &'a str) -> LinkRef<'a> {
    if matched.as_str().starts_with("/pay/") {
        LinkRef::Id(reference)
    } else {
        LinkRef::Slug(reference)
    }
}

/// The page's own path (its forms and stream hang below it).
fn base(matched: &MatchedPath, reference: &str) -> String {
    let prefix =
        PREFIXES.iter().find(|p| matched.as_str().starts_with(&format!("{p}/"))).unwrap_or(&PREFIXES[0]);
    format!("{prefix}/{reference}")
}

/// The language a checkout request asks for: `?lang=`, then `Accept-Language`, then English
/// (also used by the router's HTML 404 and 405 under the checkout's paths).
pub fn request_lang(query: Option<&str>, headers: &HeaderMap) -> Lang {
    let asked = query.and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "lang").map(|(_, v)| v.into_owned())
    });
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    Lang::choose(asked.as_deref(), accept)
}

/// The token a payment's forms carry: a MAC of its id under the master key, so it needs no
/// storage and a page of one payment cannot drive another.
fn form_token(state: &AppState, checkout: &Checkout) -> String {
    hex::encode(state.master_key.mac("checkout-form", checkout.payment.id.to_string().as_bytes()))
}

/// The Content-Security-Policy of a page: nothing inline, nothing from elsewhere but the
/// merchant's logo, forms to payd (and the merchant's cancel page the cancel form leads to).
fn csp(view: Option<&View>) -> String {
    let logo = view.and_then(View::logo_origin).map(|o| format!(" {o}")).unwrap_or_default();
    let cancel = view.and_then(View::cancel_origin).map(|o| format!(" {o}")).unwrap_or_default();
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'{logo}; \
         connect-src 'self'; form-action 'self'{cancel}; base-uri 'none'"
    )
}

fn html(status: StatusCode, markup: Markup, view: Option<&View>) -> Response {
    crate::web::html(status, markup, &csp(view))
}

/// The plain HTML 404 page.
pub fn not_found(lang: Lang) -> Response {
    let t = lang.texts();
    html(StatusCode::NOT_FOUND, page::notice(lang, t.not_found, t.not_found_body, None), None)
}

/// A method the checkout's route does not take (a GET of a form's address, say): HTML 405.
pub fn method_not_allowed(lang: Lang) -> Response {
    let t = lang.texts();
    html(StatusCode::METHOD_NOT_ALLOWED, page::notice(lang, t.refused_title, t.refused, None), None)
}

fn refused(status: StatusCode, lang: Lang, back: &str) -> Response {
    let t = lang.texts();
    html(status, page::notice(lang, t.refused_title, t.refused, Some((back, t.back_to_payment))), None)
}

fn internal(lang: Lang, e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "checkout page failed");
    let t = lang.texts();
    html(StatusCode::INTERNAL_SERVER_ERROR, page::notice(lang, t.refused_title, t.refused, None), None)
}

/// Counts a client's request against the checkout's limits; past them, the answer: an HTML
/// 429 in the client's language with `Retry-After`.
fn over_limit(state: &AppState, client: Client, what: ClientUse, lang: Lang) -> Option<Response> {
    state.rate_limits.clients.check(what, client.0).err().map(|wait| too_many(lang, retry_after_secs(wait)))
}

fn too_many(lang: Lang, retry_after: u64) -> Response {
    let t = lang.texts();
    let mut res =
        html(StatusCode::TOO_MANY_REQUESTS, page::notice(lang, t.too_many_title, t.too_many, None), None);
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    res
}

/// Reads the payment a link names and decides its page.
async fn decide(state: &AppState, checkout: &Checkout) -> Result<View, payd_store::StoreError> {
    let now = payd_store::now();
    let p = &checkout.payment;
    let progress = engine::progress(&state.store, p).await?;
    let payable = if view::can_choose(p, now) {
        asset::payable_assets(&state.store, &state.config.networks, &p.merchant_id, p.mode).await?
    } else {
        Vec::new()
    };
    Ok(View::build(checkout, progress, &payable, &state.config.networks, now))
}

/// `GET /checkout/{slug}` (and every other link shape): the page.
async fn show(
    State(state): State<AppState>,
    client: Client,
    matched: MatchedPath,
    reference: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let lang = request_lang(query.as_deref(), &headers);
    if let Some(res) = over_limit(&state, client, ClientUse::View, lang) {
        return res;
    }
    let Ok(Path(reference)) = reference else { return not_found(lang) };
    let checkout = match engine::open(&state.store, link(&matched, &reference)).await {
        Ok(Some(c)) => c,
        Ok(None) => return not_found(lang),
        Err(e) => return internal(lang, &e),
    };
    let view = match decide(&state, &checkout).await {
        Ok(v) => v,
        Err(e) => return internal(lang, &e),
    };
    let base = base(&matched, &reference);
    let token = form_token(&state, &checkout);
    let ctx = Ctx { base: &base, lang, token: &token };
    html(StatusCode::OK, page::page(&view, &ctx), Some(&view))
}

/// What the stream last sent, to send only changes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    version: i64,
    stage: view::Stage,
}

/// `GET …/events`: the page's live status as server-sent events. Each `state` event carries
/// the stage and the page's new content, rendered here like the page itself, so the script
/// only swaps it in. The stream ends once the payment can no longer change.
async fn events(
    State(state): State<AppState>,
    client: Client,
    matched: MatchedPath,
    reference: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let lang = request_lang(query.as_deref(), &headers);
    if let Some(res) = over_limit(&state, client, ClientUse::View, lang) {
        return res;
    }
    // Each open stream reads the database every poll: a client holds a bounded number.
    let Some(slot) = state.rate_limits.clients.open_stream(client.0) else {
        return too_many(lang, POLL.as_secs().max(1) * 10);
    };
    let Ok(Path(reference)) = reference else { return not_found(lang) };
    let checkout = match engine::open(&state.store, link(&matched, &reference)).await {
        Ok(Some(c)) => c,
        Ok(None) => return not_found(lang),
        Err(e) => return internal(lang, &e),
    };
    let base = base(&matched, &reference);
    let token = form_token(&state, &checkout);
    // The version the page was rendered at (`v=`): while the payment still has it, there is
    // nothing new to send, and swapping in the same content would only move the customer's
    // focus (or the button under their finger).
    let shown: Option<i64> = query.as_deref().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "v").and_then(|(_, v)| v.parse().ok())
    });
    let started = tokio::time::Instant::now();
    let init = (state, checkout, None::<Seen>, true);
    let stream = futures_util::stream::unfold(init, move |(state, mut checkout, last, first)| {
        let (base, token) = (base.clone(), token.clone());
        // The slot lives as long as the stream (this closure), and is given back with it.
        let _slot = &slot;
        async move {
            let mut last = last;
            let mut first = first;
            loop {
                if last.as_ref().is_some_and(|s| !s.stage.is_live()) || started.elapsed() > STREAM_LIFETIME {
                    return None;
                }
                if !first {
                    tokio::time::sleep(POLL).await;
                }
                first = false;
                match engine::reload(&state.store, &checkout.payment.id).await {
                    Ok(Some(p)) => checkout.payment = p,
                    Ok(None) => return None,
                    Err(e) => {
                        tracing::warn!(error = %e, "checkout stream could not read its payment");
                        return None;
                    }
                }
                let view = match decide(&state, &checkout).await {
                    Ok(v) => v,
                    Err(e) => {
                        tracing::warn!(error = %e, "checkout stream could not read its payment");
                        return None;
                    }
                };
                let now = Seen { version: checkout.payment.version, stage: view.stage.clone() };
                if last.is_none() && shown == Some(now.version) {
                    last = Some(now);
                    continue;
                }
                if last.as_ref() == Some(&now) {
                    continue;
                }
                let ctx = Ctx { base: &base, lang, token: &token };
                let body = serde_json::json!({
                    "stage": view.stage.key(),
                    "live": view.stage.is_live(),
                    "html": page::content(&view, &ctx).into_string(),
                });
                let event = Event::default().event("state").data(body.to_string());
                last = Some(now);
                return Some((Ok::<_, Infallible>(event), (state, checkout, last, first)));
            }
        }
    });
    let mut res =
        Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Whether a form post comes from payd's own page (see [`crate::web::same_origin`]).
fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    crate::web::same_origin(&state.config.public_url, headers)
}

/// The checks every form post passes: the payment exists, the post comes from its page and
/// carries its token. Returns the payment, the form's fields and the page's path.
async fn form(
    state: &AppState,
    client: Client,
    matched: &MatchedPath,
    reference: Result<Path<String>, PathRejection>,
    lang: Lang,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(Checkout, Vec<(String, String)>, String), Response> {
    if let Some(res) = over_limit(state, client, ClientUse::Form, lang) {
        return Err(res);
    }
    let Ok(Path(reference)) = reference else { return Err(not_found(lang)) };
    let checkout = match engine::open(&state.store, link(matched, &reference)).await {
        Ok(Some(c)) => c,
        Ok(None) => return Err(not_found(lang)),
        Err(e) => return Err(internal(lang, &e)),
    };
    let page_path = format!("{}?lang={}", base(matched, &reference), lang.tag());
    let Ok(body) = body else { return Err(refused(StatusCode::BAD_REQUEST, lang, &page_path)) };
    let fields: Vec<(String, String)> =
        url::form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let token = fields.iter().find(|(k, _)| k == "token").map(|(_, v)| v.as_str()).unwrap_or_default();
    let expected = form_token(state, &checkout);
    let token_ok: bool = token.as_bytes().ct_eq(expected.as_bytes()).into();
    if !token_ok || !same_origin(state, headers) {
        return Err(refused(StatusCode::FORBIDDEN, lang, &page_path));
    }
    Ok((checkout, fields, page_path))
}

/// `POST …/simulate` (`how=full|part`): pays a test-mode payment on devnet, then back to the
/// page, which shows the money arrive.
async fn simulate(
    State(state): State<AppState>,
    client: Client,
    matched: MatchedPath,
    reference: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let lang = request_lang(query.as_deref(), &headers);
    let (checkout, fields, page_path) =
        match form(&state, client, &matched, reference, lang, &headers, body).await {
            Ok(f) => f,
            Err(res) => return res,
        };
    let how = match fields.iter().find(|(k, _)| k == "how").map(|(_, v)| v.as_str()) {
        Some("full") => Simulated::Full,
        Some("part") => Simulated::Part,
        _ => return refused(StatusCode::BAD_REQUEST, lang, &page_path),
    };
    match engine::simulate(&state.store, &checkout.payment, how, payd_store::now()).await {
        // Nothing left to pay, or nothing to pay to: the page already says so.
        Ok(_) | Err(PayError::NothingDue | PayError::NoAddress) => Redirect::to(&page_path).into_response(),
        Err(PayError::LiveMode) => refused(StatusCode::FORBIDDEN, lang, &page_path),
        Err(PayError::ZeroAmount | PayError::AbsurdAmount) => {
            refused(StatusCode::BAD_REQUEST, lang, &page_path)
        }
        Err(PayError::Store(e)) => internal(lang, &e),
    }
}

/// `POST …/cancel`: cancels the payment while nothing was received (the engine's rule), then
/// on to the merchant's cancel page, or back to the page when there is none or money arrived.
async fn cancel(
    State(state): State<AppState>,
    client: Client,
    matched: MatchedPath,
    reference: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let lang = request_lang(query.as_deref(), &headers);
    let (checkout, _, page_path) = match form(&state, client, &matched, reference, lang, &headers, body).await
    {
        Ok(f) => f,
        Err(res) => return res,
    };
    match crate::engine::cancel_payment(&state.store, &checkout.payment.id).await {
        Ok(p) => Redirect::to(view::cancel_url(&p).as_deref().unwrap_or(&page_path)).into_response(),
        Err(CancelError::Transition(_)) => Redirect::to(&page_path).into_response(),
        Err(CancelError::Store(e)) => internal(lang, &e),
    }
}

/// `POST …/choose` (`asset=TOKEN:network`): fixes, or switches, the token and network the
/// payment is paid in (the engine quotes it now, FX included, and assigns the address), then
/// back to the page.
async fn choose(
    State(state): State<AppState>,
    client: Client,
    matched: MatchedPath,
    reference: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let lang = request_lang(query.as_deref(), &headers);
    let (checkout, fields, page_path) =
        match form(&state, client, &matched, reference, lang, &headers, body).await {
            Ok(f) => f,
            Err(res) => return res,
        };
    let asked = fields.iter().find(|(k, _)| k == "asset").and_then(|(_, v)| v.split_once(':'));
    let Some((token, network)) = asked else { return refused(StatusCode::BAD_REQUEST, lang, &page_path) };
    let now = payd_store::now();
    let chosen = asset::choose_asset(
        &state.store,
        &state.config.networks,
        &state.fx,
        &checkout.payment.id,
        token,
        network,
        now,
    )
    .await;
    match chosen {
        Ok(_) => Redirect::to(&page_path).into_response(),
        // Money arrived, it expired, or the pair is not offered: the page shows why.
        Err(ChooseError::Transition(_) | ChooseError::NotOffered { .. } | ChooseError::NotFound) => {
            refused(StatusCode::CONFLICT, lang, &page_path)
        }
        Err(ChooseError::Quote(e)) => {
            tracing::warn!(error = %e, "checkout could not quote the chosen asset");
            refused(StatusCode::CONFLICT, lang, &page_path)
        }
        Err(ChooseError::Address(e)) => {
            tracing::warn!(error = %e, "checkout could not assign an address for the chosen asset");
            refused(StatusCode::CONFLICT, lang, &page_path)
        }
        Err(ChooseError::Store(e)) => internal(lang, &e),
    }
}

//! The merchant dashboard under `/dashboard/…`: server-rendered pages (maud, one stylesheet,
//! no script but the payment page's live status, a strict CSP) over the engine's operations, for the users of an account (admins
//! change, viewers read) and the instance's operators (every account).
//!
//! Transport only: who may see and change what is decided by the user's reach
//! ([`crate::engine::users::merchants_in_reach`]) and the role; every read and change goes
//! through the engine. Sessions live in the store; the browser holds a random token in an
//! `HttpOnly`, `SameSite=Strict` cookie (`Secure` when payd's public URL is https). Every
//! state-changing form carries a token MAC'd under the master key over the session (the
//! login form: over a nonce in its own cookie) and must come from payd's own origin.

mod access;
mod access_page;
mod audit;
mod auth;
mod brand;
mod chart;
mod explorer;
mod health;
mod keys;
mod live;
mod manage;
mod manage_page;
mod money;
pub mod page;
mod payments;
pub mod query;
mod settings;
mod settings_page;
mod webhooks;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::Markup;

use crate::state::AppState;

/// The dashboard's pages' Content-Security-Policy (the payment page's adds its script, see
/// `live`): no script at all, styles and images from
/// payd only, forms to payd only, never framed.
const CSP: &str = "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; \
                   form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The dashboard's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(|| async { Redirect::to("/dashboard/payments") }))
        .route("/dashboard/", get(|| async { Redirect::to("/dashboard/payments") }))
        .route("/dashboard/login", get(auth::login_page).post(auth::login))
        .route("/dashboard/logout", post(auth::logout))
        .route("/dashboard/logout-everywhere", post(auth::logout_everywhere))
        .route("/dashboard/payments", get(payments::list))
        .route("/dashboard/payments.csv", get(payments::export))
        .route("/dashboard/payments/{id}", get(payments::show))
        .route("/dashboard/payments/{id}/live", get(live::show))
        .route("/dashboard/payments/{id}/cancel", post(payments::cancel))
        .route("/dashboard/payments/{id}/deliveries/{delivery}/redeliver", post(payments::redeliver))
        .route("/dashboard/keys", get(keys::list).post(keys::create))
        .route("/dashboard/keys/{id}/revoke", post(keys::revoke))
        .route("/dashboard/audit", get(audit::show))
        .route("/dashboard/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/dashboard/webhooks/{id}/{action}", post(webhooks::change))
        .route("/dashboard/webhooks/{id}", get(manage::show))
        .route("/dashboard/webhooks/{id}/edit", post(manage::edit))
        .route("/dashboard/webhooks/{id}/state", post(manage::set_state))
        .route("/dashboard/webhooks/{id}/rotate", post(manage::rotate))
        .route("/dashboard/webhooks/{id}/test", post(manage::send_test))
        .route("/dashboard/webhooks/{id}/deliveries/{delivery}/redeliver", post(manage::redeliver))
        .route("/dashboard/settings", get(settings::show))
        .route("/dashboard/settings/{merchant}", post(settings::save))
        .route("/dashboard/settings/{merchant}/assets", post(settings::save_assets))
        .route("/dashboard/settings/{merchant}/profile", post(settings::save_profile))
        .route("/dashboard/login/code", get(access::code_page).post(access::submit_code))
        .route("/dashboard/account", get(access::account))
        .route("/dashboard/account/totp/setup", post(access::totp_setup))
        .route("/dashboard/account/totp/enable", post(access::totp_enable))
        .route("/dashboard/account/totp/disable", post(access::totp_disable))
        .route("/dashboard/account/password", post(access::change_password))
        .route("/dashboard/users", get(access::users))
        .route("/dashboard/users/{id}/{action}", post(access::change_user))
        .route("/dashboard/invitations", post(access::invite))
        .route("/dashboard/invitations/{id}/revoke", post(access::revoke))
        .route("/dashboard/invite/{token}", get(access::invitation).post(access::accept))
        .route("/dashboard/reset/{token}", get(access::reset_page).post(access::reset))
        .route("/dashboard/money", get(money::show))
        .route("/dashboard/health", get(health::show))
        .route("/dashboard/settings/{merchant}/checkout", get(brand::show))
        .route(
            "/dashboard/settings/{merchant}/brand",
            post(brand::save).layer(axum::extract::DefaultBodyLimit::max(brand::MAX_BRAND_BODY)),
        )
}

/// Whether `path` is the dashboard's: an unknown path there gets an HTML page, not an API's
/// JSON error.
pub fn owns(path: &str) -> bool {
    path.strip_prefix("/dashboard").is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

fn html(status: StatusCode, markup: Markup) -> Response {
    let mut res = crate::web::html(status, markup, CSP);
    // Older browsers ignore `frame-ancestors`.
    res.headers_mut().insert("x-frame-options", axum::http::HeaderValue::from_static("DENY"));
    res
}

/// A page that only says why (status and words).
fn notice(status: StatusCode, title: &str, text: &str) -> Response {
    html(status, page::notice(title, text, Some("/dashboard/payments")))
}

/// The HTML 404 page (also for what exists but is not the user's to see).
pub fn not_found() -> Response {
    notice(StatusCode::NOT_FOUND, "Not found", "There is no such page, or it is not yours to see.")
}

/// A method the dashboard's route does not take: HTML 405.
pub fn method_not_allowed() -> Response {
    notice(StatusCode::METHOD_NOT_ALLOWED, "Not allowed", "This address does not take that kind of request.")
}

fn forbidden(text: &str) -> Response {
    notice(StatusCode::FORBIDDEN, "Refused", text)
}

fn internal(e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "dashboard page failed");
    notice(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "payd could not do this; try again.")
}

/// Where a page that needs a session sends a browser without one.
fn to_login() -> Response {
    Redirect::to("/dashboard/login").into_response()
}

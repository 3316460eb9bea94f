//! Logging in and out, and the checks every dashboard request passes: the session cookie
//! (a random token; the store keeps its SHA-256), the form token every state-changing post
//! carries (a MAC of the session under the master key, compared in constant time) and the
//! same-origin check. The login form has its own token, over a nonce in a short-lived cookie,
//! so another site cannot log a browser in to an account of its choosing either.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use payd_core::secret::Secret;
use payd_core::user::User;
use payd_store::users::Session;
use subtle::ConstantTimeEq;

use super::{forbidden, html, internal, page, to_login};
use crate::engine::users::{self, Login, LoginError};
use crate::ratelimit::retry_after_secs;
use crate::state::AppState;

/// The session cookie.
pub(super) const SESSION_COOKIE: &str = "payd_session";
/// The login form's nonce cookie.
pub(super) const LOGIN_COOKIE: &str = "payd_login";

/// A logged-in request: its session, and the token its forms carry.
#[derive(Debug)]
pub struct Authed {
    /// The session (and its user).
    pub session: Session,
    /// The session's form token.
    pub csrf: String,
}

impl Authed {
    /// The user.
    pub fn user(&self) -> &User {
        &self.session.user
    }
}

pub(super) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`, scoped to the dashboard, `Secure`
/// when payd is reached over https (its public URL says so; a browser then never sends the
/// cookie over plain http).
pub(super) fn set_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    max_age_secs: i64,
) -> Option<HeaderValue> {
    let secure = if state.config.public_url.starts_with("https://") { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    ))
    .ok()
}

pub(super) fn mac_hex(state: &AppState, purpose: &str, message: &str) -> String {
    hex::encode(state.master_key.mac(purpose, message.as_bytes()))
}

/// The form token of a session.
fn session_csrf(state: &AppState, session: &Session) -> String {
    mac_hex(state, "dashboard-form", &session.token_hash)
}

pub(super) fn equal(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// The session a request's cookie opens, if any.
pub async fn authed(state: &AppState, headers: &HeaderMap) -> Result<Option<Authed>, Response> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else { return Ok(None) };
    // Tokens are 64 hex characters; anything else opens nothing (and is not hashed).
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    match users::session(&state.store, token, payd_store::now()).await {
        Ok(Some(session)) => {
            let csrf = session_csrf(state, &session);
            Ok(Some(Authed { session, csrf }))
        }
        Ok(None) => Ok(None),
        Err(e) => Err(internal(&e)),
    }
}

/// For a page: the session, or the response that sends the browser to the login page.
pub async fn page_session(state: &AppState, headers: &HeaderMap) -> Result<Authed, Response> {
    authed(state, headers).await?.ok_or_else(to_login)
}

/// The form's fields, once the post has passed every check: a live session (401 without),
/// payd's own origin and the session's form token (403 without).
pub async fn form_session(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Authed, Vec<(String, String)>), Response> {
    let Some(authed) = authed(state, headers).await? else {
        return Err(super::notice(StatusCode::UNAUTHORIZED, "Logged out", "Log in again to do this."));
    };
    let fields: Vec<(String, String)> =
        url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let sent = fields.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or_default();
    if !equal(sent, &authed.csrf) || !crate::web::same_origin(&state.config.public_url, headers) {
        return Err(forbidden(
            "This form is out of date or came from another site. Reload the page and try again.",
        ));
    }
    Ok((authed, fields))
}

/// [`form_session`] for a form that changes something: also refuses (403) a role that may only
/// look, so the viewer rule is checked in one place for every change.
pub async fn change_session(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Authed, Vec<(String, String)>), Response> {
    let (authed, fields) = form_session(state, headers, body).await?;
    if !authed.user().role.can_change() {
        return Err(forbidden("Your role can look, not change anything."));
    }
    Ok((authed, fields))
}

fn login_form(
    state: &AppState,
    nonce: &str,
    email: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let csrf = mac_hex(state, "dashboard-login", nonce);
    let mut res = html(status, page::login(&csrf, email, error));
    if let Some(c) = set_cookie(state, LOGIN_COOKIE, nonce, 3600) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// `GET /dashboard/login`.
pub async fn login_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match authed(&state, &headers).await {
        Ok(Some(_)) => return Redirect::to("/dashboard/payments").into_response(),
        Ok(None) => {}
        Err(res) => return res,
    }
    let nonce = match payd_core::apikey::random_hex(16) {
        Ok(n) => n,
        Err(e) => return internal(&e),
    };
    login_form(&state, &nonce, "", None, StatusCode::OK)
}

/// `POST /dashboard/login` (`email`, `password`, `csrf`).
pub async fn login(
    State(state): State<AppState>,
    client: crate::http::client::Client,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut email = String::new();
    let mut password = Secret::new(String::new());
    let mut sent = String::new();
    for (k, v) in url::form_urlencoded::parse(&body) {
        match k.as_ref() {
            "email" => email = v.into_owned(),
            "password" => password = Secret::new(v.into_owned()),
            "csrf" => sent = v.into_owned(),
            _ => {}
        }
    }
    let nonce = cookie(&headers, LOGIN_COOKIE).unwrap_or_default().to_owned();
    let expected = mac_hex(&state, "dashboard-login", &nonce);
    if nonce.is_empty()
        || !equal(&sent, &expected)
        || !crate::web::same_origin(&state.config.public_url, &headers)
    {
        return forbidden(
            "This login form is out of date or came from another site. Reload the page and try again.",
        );
    }
    let email_key = users::normalize_email(&email);
    // Behind a proxy, its header names the client (`server.client_ip_header`); IPv6 per /64.
    let ip = crate::ratelimit::client_key(client.0);
    if let Err(wait) = state.rate_limits.check_login(ip, &email_key) {
        let mut res = login_form(
            &state,
            &nonce,
            &email,
            Some("Too many attempts. Wait a minute, then try again."),
            StatusCode::TOO_MANY_REQUESTS,
        );
        if let Ok(v) = HeaderValue::from_str(&retry_after_secs(wait).to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return res;
    }
    match users::login(&state.store, &email, password, payd_store::now()).await {
        Ok(Login::Session(_user, token)) => {
            let mut res = Redirect::to("/dashboard/payments").into_response();
            let h = res.headers_mut();
            if let Some(c) =
                set_cookie(&state, SESSION_COOKIE, token.0.expose(), users::SESSION_TTL.num_seconds())
            {
                h.append(header::SET_COOKIE, c);
            }
            if let Some(c) = set_cookie(&state, LOGIN_COOKIE, "", 0) {
                h.append(header::SET_COOKIE, c);
            }
            res
        }
        Ok(Login::SecondFactor(challenge)) => super::access::ask_code(&state, &challenge),
        Err(LoginError::Refused) => login_form(
            &state,
            &nonce,
            &email,
            Some("Wrong email or password, or too many wrong attempts: try again later."),
            StatusCode::UNAUTHORIZED,
        ),
        Err(LoginError::Store(e)) => internal(&e),
    }
}

fn logged_out(state: &AppState) -> Response {
    let mut res = Redirect::to("/dashboard/login").into_response();
    if let Some(c) = set_cookie(state, SESSION_COOKIE, "", 0) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// `POST /dashboard/logout`: ends this session.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (authed, _) = match form_session(&state, &headers, &body).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    match users::logout(&state.store, &authed.session, payd_store::now()).await {
        Ok(()) => logged_out(&state),
        Err(e) => internal(&e),
    }
}

/// `POST /dashboard/logout-everywhere`: ends every session of the user.
pub async fn logout_everywhere(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (authed, _) = match form_session(&state, &headers, &body).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    match users::logout_everywhere(&state.store, &authed.session, payd_store::now()).await {
        Ok(_) => logged_out(&state),
        Err(e) => internal(&e),
    }
}

//! The dashboard's account and users pages: a user's own second factor (TOTP set-up with its
//! QR code, recovery codes, switching it off) and password; the login's code step (a
//! short-lived challenge in its own cookie, rate limited, wrong codes counting towards the
//! lockout); the users in reach with removing, unlocking, changing their role and making a
//! password reset link (and the page that link opens); invitations (created, listed,
//! revoked, and the page their link opens). Transport only: the rules are in
//! [`crate::engine::access`].
//!
//! Every role may change its own second factor and password (like logging out: it concerns
//! the user's own login); the users and invitations forms are refused to a viewer.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use payd_core::apikey::Mode;
use payd_core::secret::Secret;
use payd_core::user::Role;

use super::access_page as view;
use super::auth::{
    change_session, cookie, equal, form_session, mac_hex, page_session, set_cookie, Authed, LOGIN_COOKIE,
    SESSION_COOKIE,
};
use super::page::{self, Frame};
use super::{forbidden, html, internal, not_found};
use crate::engine::access::{self, AccessError, ChallengeToken, InviteIn, SecondFactorError};
use crate::engine::users::{self, merchants_in_reach, token_hash, SessionToken};
use crate::ratelimit::retry_after_secs;
use crate::state::AppState;

/// The cookie holding a login's challenge between its password and its code.
const CHALLENGE_COOKIE: &str = "payd_2fa";

fn frame<'a>(authed: &'a Authed) -> Frame<'a> {
    // These pages span both modes; the switch leads back to the payments.
    Frame { user: authed.user(), mode: Mode::Live, csrf: &authed.csrf, here: "/dashboard/payments".into() }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_default()
}

/// A refusal page with a way back.
fn refusal(status: StatusCode, title: &str, text: &str, back: &str) -> Response {
    html(status, page::notice(title, text, Some(back)))
}

fn refused(e: AccessError, back: &str) -> Response {
    match e {
        AccessError::Invalid(why) => refusal(StatusCode::BAD_REQUEST, "Not done", &why, back),
        AccessError::WrongCode => {
            refusal(StatusCode::BAD_REQUEST, "Not done", "That code is wrong or was used already.", back)
        }
        AccessError::WrongPassword => {
            refusal(StatusCode::BAD_REQUEST, "Not done", "That password is wrong.", back)
        }
        AccessError::NotFound => not_found(),
        AccessError::Forbidden => forbidden("Your role cannot do this."),
        e @ (AccessError::Internal(_) | AccessError::Store(_)) => internal(&e),
    }
}

fn with_session(state: &AppState, mut res: Response, token: &SessionToken) -> Response {
    if let Some(c) = set_cookie(state, SESSION_COOKIE, token.0.expose(), users::SESSION_TTL.num_seconds()) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

// ---- The account page ----

/// `GET /dashboard/account`.
pub async fn account(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let authed = match page_session(&state, &headers).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    match access::totp_state(&state.store, &authed.user().id).await {
        Ok(t) => {
            let fr = frame(&authed);
            html(StatusCode::OK, page::layout("Your account", &fr, view::account(&fr, t, None)))
        }
        Err(e) => internal(&e),
    }
}

fn setup_page(
    authed: &Authed,
    setup: &access::TotpSetup,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let qr = crate::checkout::qr::svg(setup.uri.expose(), "QR code for your authenticator app");
    let fr = frame(authed);
    html(status, page::layout("Two-factor set-up", &fr, view::totp_setup(&fr, setup, qr.as_deref(), error)))
}

/// `POST /dashboard/account/totp/setup`: a fresh secret, shown with its QR code.
pub async fn totp_setup(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (authed, _) = match form_session(&state, &headers, &body).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    match access::begin_totp(&state.store, &state.master_key, authed.user(), payd_store::now()).await {
        Ok(setup) => setup_page(&authed, &setup, None, StatusCode::OK),
        Err(e) => refused(e, "/dashboard/account"),
    }
}

/// `POST /dashboard/account/totp/enable` (`code`): switches TOTP on after a right code and
/// shows the recovery codes, this once.
pub async fn totp_enable(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (authed, fields) = match form_session(&state, &headers, &body).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let now = payd_store::now();
    match access::enable_totp(&state.store, &state.master_key, authed.user(), field(&fields, "code"), now)
        .await
    {
        Ok(codes) => {
            let fr = frame(&authed);
            html(StatusCode::OK, page::layout("Recovery codes", &fr, view::recovery_codes(&codes)))
        }
        Err(AccessError::WrongCode) => {
            match access::pending_totp(&state.store, &state.master_key, authed.user()).await {
                Ok(Some(setup)) => setup_page(
                    &authed,
                    &setup,
                    Some("That code is wrong. Check the time on your phone, and type the code the app shows now."),
                    StatusCode::BAD_REQUEST,
                ),
                Ok(None) => refused(AccessError::WrongCode, "/dashboard/account"),
                Err(e) => refused(e, "/dashboard/account"),
            }
        }
        Err(e) => refused(e, "/dashboard/account"),
    }
}

/// `POST /dashboard/account/totp/disable` (`password`).
pub async fn totp_disable(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (authed, fields) = match form_session(&state, &headers, &body).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let password = Secret::new(field(&fields, "password"));
    match access::disable_totp(&state.store, authed.user(), password, payd_store::now()).await {
        Ok(()) => Redirect::to("/dashboard/account").into_response(),
        Err(e) => refused(e, "/dashboard/account"),
    }
}

/// `POST /dashboard/account/password` (`current`, `new`): every other session ends.
pub async fn change_password(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (authed, fields) = match form_session(&state, &headers, &body).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let current = Secret::new(field(&fields, "current"));
    let new = Secret::new(field(&fields, "new"));
    match access::change_password(&state.store, &authed.session, current, new, payd_store::now()).await {
        Ok(()) => match access::totp_state(&state.store, &authed.user().id).await {
            Ok(t) => {
                let fr = frame(&authed);
                let note = "Your password is changed; your other sessions are logged out.";
                html(StatusCode::OK, page::layout("Your account", &fr, view::account(&fr, t, Some(note))))
            }
            Err(e) => internal(&e),
        },
        Err(e) => refused(e, "/dashboard/account"),
    }
}

// ---- The login's second step ----

/// After a right password of a user with a second factor: the challenge's cookie, and the
/// code page.
pub(super) fn ask_code(state: &AppState, challenge: &ChallengeToken) -> Response {
    let mut res = Redirect::to("/dashboard/login/code").into_response();
    let h = res.headers_mut();
    let ttl = access::CHALLENGE_TTL.num_seconds();
    if let Some(c) = set_cookie(state, CHALLENGE_COOKIE, challenge.0.expose(), ttl) {
        h.append(header::SET_COOKIE, c);
    }
    if let Some(c) = set_cookie(state, LOGIN_COOKIE, "", 0) {
        h.append(header::SET_COOKIE, c);
    }
    res
}

fn challenge_of(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, CHALLENGE_COOKIE).filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn code_csrf(state: &AppState, challenge: &str) -> String {
    mac_hex(state, "dashboard-login-code", &token_hash(challenge))
}

fn start_again(state: &AppState) -> Response {
    let mut res = Redirect::to("/dashboard/login").into_response();
    if let Some(c) = set_cookie(state, CHALLENGE_COOKIE, "", 0) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// `GET /dashboard/login/code`.
pub async fn code_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(challenge) = challenge_of(&headers) else { return start_again(&state) };
    match access::challenge_user(&state.store, challenge, payd_store::now()).await {
        Ok(Some(_)) => html(StatusCode::OK, view::code_form(&code_csrf(&state, challenge), None)),
        Ok(None) => start_again(&state),
        Err(e) => internal(&e),
    }
}

/// `POST /dashboard/login/code` (`code`, `csrf`).
pub async fn submit_code(
    State(state): State<AppState>,
    client: crate::http::client::Client,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(challenge) = challenge_of(&headers) else { return start_again(&state) };
    let fields: Vec<(String, String)> =
        url::form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let csrf = code_csrf(&state, challenge);
    if !equal(field(&fields, "csrf"), &csrf) || !crate::web::same_origin(&state.config.public_url, &headers) {
        return forbidden("This form is out of date or came from another site. Log in again.");
    }
    let now = payd_store::now();
    let user = match access::challenge_user(&state.store, challenge, now).await {
        Ok(Some(u)) => u,
        Ok(None) => return start_again(&state),
        Err(e) => return internal(&e),
    };
    // Its own allowance, per client address and user, beside the password's.
    let ip = crate::ratelimit::client_key(client.0);
    if let Err(wait) = state.rate_limits.check_login(ip, &format!("second-factor:{}", user.id)) {
        let mut res = html(
            StatusCode::TOO_MANY_REQUESTS,
            view::code_form(&csrf, Some("Too many attempts. Wait a minute, then try again.")),
        );
        if let Ok(v) = HeaderValue::from_str(&retry_after_secs(wait).to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return res;
    }
    match access::complete_login(&state.store, &state.master_key, challenge, field(&fields, "code"), now)
        .await
    {
        Ok((_, token)) => {
            let mut res = with_session(&state, Redirect::to("/dashboard/payments").into_response(), &token);
            if let Some(c) = set_cookie(&state, CHALLENGE_COOKIE, "", 0) {
                res.headers_mut().append(header::SET_COOKIE, c);
            }
            res
        }
        Err(SecondFactorError::Wrong { retry: true }) => html(
            StatusCode::UNAUTHORIZED,
            view::code_form(&csrf, Some("That code is wrong or was used already. Try the next one.")),
        ),
        Err(SecondFactorError::Wrong { retry: false } | SecondFactorError::Expired) => {
            let mut res = html(
                StatusCode::UNAUTHORIZED,
                page::notice(
                    "Log in again",
                    "Too many wrong codes, or the login took too long: start again with your password.",
                    Some("/dashboard/login"),
                ),
            );
            if let Some(c) = set_cookie(&state, CHALLENGE_COOKIE, "", 0) {
                res.headers_mut().append(header::SET_COOKIE, c);
            }
            res
        }
        Err(SecondFactorError::Access(e)) => internal(&e),
    }
}

// ---- Users and invitations ----

/// `GET /dashboard/users`.
pub async fn users(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let authed = match page_session(&state, &headers).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let now = payd_store::now();
    let user = authed.user();
    let entries = match access::users_in_reach(&state.store, user).await {
        Ok(u) => u,
        Err(e) => return internal(&e),
    };
    let invitations = match access::pending_invitations(&state.store, user, now).await {
        Ok(i) => i,
        Err(e) => return internal(&e),
    };
    let mut accounts = Vec::new();
    if user.role == Role::Operator {
        match merchants_in_reach(&state.store, user).await {
            Ok(ms) => accounts = ms.into_iter().map(|m| m.account_id).collect(),
            Err(e) => return internal(&e),
        }
        accounts.sort();
        accounts.dedup();
    }
    let fr = frame(&authed);
    html(StatusCode::OK, page::layout("Users", &fr, view::users(&fr, &entries, &invitations, &accounts, now)))
}

/// `POST /dashboard/invitations` (`email`, `role`, `account` for an operator): the link,
/// shown once.
pub async fn invite(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (authed, fields) = match change_session(&state, &headers, &body).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let Some(role) = Role::parse(field(&fields, "role")) else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "Not done",
            "`role` is admin, viewer or operator.",
            "/dashboard/users",
        );
    };
    let account = match field(&fields, "account") {
        "" => None,
        a => match a.parse() {
            Ok(a) => Some(a),
            Err(_) => {
                return refusal(
                    StatusCode::BAD_REQUEST,
                    "Not done",
                    "There is no such account.",
                    "/dashboard/users",
                )
            }
        },
    };
    let input = InviteIn { email: field(&fields, "email").to_owned(), role, account };
    match access::invite(&state.store, authed.user(), input, payd_store::now()).await {
        Ok((inv, token)) => {
            let link = format!(
                "{}/dashboard/invite/{}",
                state.config.public_url.trim_end_matches('/'),
                token.expose()
            );
            let fr = frame(&authed);
            // Served with `Cache-Control: no-store` like every page: the link is not kept.
            html(StatusCode::CREATED, page::layout("Invitation", &fr, view::invitation_created(&inv, &link)))
        }
        Err(e) => refused(e, "/dashboard/users"),
    }
}

/// `POST /dashboard/invitations/{id}/revoke`.
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
    match access::revoke_invitation(&state.store, authed.user(), &id, payd_store::now()).await {
        Ok(()) => Redirect::to("/dashboard/users").into_response(),
        Err(e) => refused(e, "/dashboard/users"),
    }
}

/// `POST /dashboard/users/{id}/{remove|unlock|role|reset}` (`role`: `admin` or `viewer`;
/// `reset` answers with the password reset link, shown once).
pub async fn change_user(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (authed, fields) = match change_session(&state, &headers, &body).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let Ok(Path((id, action))) = path else { return not_found() };
    let now = payd_store::now();
    let actor = authed.user();
    if action == "reset" {
        return match users::create_password_reset(&state.store, actor, &id, now).await {
            Ok((target, token)) => {
                let link = format!(
                    "{}/dashboard/reset/{}",
                    state.config.public_url.trim_end_matches('/'),
                    token.expose()
                );
                let fr = frame(&authed);
                let body = view::reset_created(&target.email, &link, now + users::RESET_TTL);
                // Served with `Cache-Control: no-store` like every page: the link is not kept.
                html(StatusCode::CREATED, page::layout("Password reset link", &fr, body))
            }
            Err(e) => refused(e, "/dashboard/users"),
        };
    }
    let done = match action.as_str() {
        "remove" => access::remove_user(&state.store, actor, &id, now).await.map(drop),
        "unlock" => access::unlock_user(&state.store, actor, &id, now).await.map(drop),
        "role" => match Role::parse(field(&fields, "role")) {
            Some(role) => users::change_role(&state.store, actor, &id, role, now).await.map(drop),
            None => {
                return refusal(
                    StatusCode::BAD_REQUEST,
                    "Not done",
                    "`role` is admin or viewer.",
                    "/dashboard/users",
                )
            }
        },
        _ => return not_found(),
    };
    match done {
        Ok(_) => Redirect::to("/dashboard/users").into_response(),
        Err(e) => refused(e, "/dashboard/users"),
    }
}

// ---- The invitation's link ----

fn invite_csrf(state: &AppState, token: &str) -> String {
    mac_hex(state, "dashboard-invite", &token_hash(token))
}

fn no_invitation() -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        "Invitation not valid",
        "This invitation link is unknown, expired, revoked or used already. Ask for a new one.",
        "/dashboard/login",
    )
}

/// `GET /dashboard/invite/{token}`.
pub async fn invitation(
    State(state): State<AppState>,
    token: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(token)) = token else { return no_invitation() };
    match access::invitation_for(&state.store, &token, payd_store::now()).await {
        Ok(Some(inv)) => {
            let action = format!("/dashboard/invite/{token}");
            html(StatusCode::OK, view::accept_form(&invite_csrf(&state, &token), &action, &inv, None))
        }
        Ok(None) => no_invitation(),
        Err(e) => internal(&e),
    }
}

/// `POST /dashboard/invite/{token}` (`password`, `csrf`): creates the user and logs them in.
pub async fn accept(
    State(state): State<AppState>,
    token: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(Path(token)) = token else { return no_invitation() };
    let fields: Vec<(String, String)> =
        url::form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    if !equal(field(&fields, "csrf"), &invite_csrf(&state, &token))
        || !crate::web::same_origin(&state.config.public_url, &headers)
    {
        return forbidden("This form is out of date or came from another site. Open the link again.");
    }
    let password = Secret::new(field(&fields, "password"));
    let now = payd_store::now();
    match access::accept_invitation(&state.store, &token, password, now).await {
        Ok((_, session)) => {
            with_session(&state, Redirect::to("/dashboard/payments").into_response(), &session)
        }
        Err(AccessError::NotFound) => no_invitation(),
        Err(AccessError::Invalid(why)) => match access::invitation_for(&state.store, &token, now).await {
            Ok(Some(inv)) => {
                let action = format!("/dashboard/invite/{token}");
                html(
                    StatusCode::BAD_REQUEST,
                    view::accept_form(&invite_csrf(&state, &token), &action, &inv, Some(&why)),
                )
            }
            Ok(None) => refusal(StatusCode::BAD_REQUEST, "Not done", &why, "/dashboard/login"),
            Err(e) => internal(&e),
        },
        Err(e) => refused(e, "/dashboard/login"),
    }
}

// ---- The password reset link ----

fn reset_csrf(state: &AppState, token: &str) -> String {
    mac_hex(state, "dashboard-reset", &token_hash(token))
}

fn no_reset() -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        "Link not valid",
        "This password reset link is unknown, expired, replaced or used already. Ask an admin for a new one.",
        "/dashboard/login",
    )
}

/// `GET /dashboard/reset/{token}`.
pub async fn reset_page(
    State(state): State<AppState>,
    token: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(token)) = token else { return no_reset() };
    match users::password_reset_for(&state.store, &token, payd_store::now()).await {
        Ok(Some(user)) => {
            let action = format!("/dashboard/reset/{token}");
            html(StatusCode::OK, view::reset_form(&reset_csrf(&state, &token), &action, &user, None))
        }
        Ok(None) => no_reset(),
        Err(e) => internal(&e),
    }
}

/// `POST /dashboard/reset/{token}` (`password`, `csrf`): sets the password and ends every
/// session of the user; they log in again (with their second factor, if they have one).
pub async fn reset(
    State(state): State<AppState>,
    token: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(Path(token)) = token else { return no_reset() };
    let fields: Vec<(String, String)> =
        url::form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    if !equal(field(&fields, "csrf"), &reset_csrf(&state, &token))
        || !crate::web::same_origin(&state.config.public_url, &headers)
    {
        return forbidden("This form is out of date or came from another site. Open the link again.");
    }
    let password = Secret::new(field(&fields, "password"));
    let now = payd_store::now();
    match users::reset_password(&state.store, &token, password, now).await {
        Ok(_) => html(
            StatusCode::OK,
            page::notice(
                "Password changed",
                "Your password is changed and every session of yours has ended. Log in with the new one.",
                Some("/dashboard/login"),
            ),
        ),
        Err(AccessError::NotFound) => no_reset(),
        Err(AccessError::Invalid(why)) => match users::password_reset_for(&state.store, &token, now).await {
            Ok(Some(user)) => {
                let action = format!("/dashboard/reset/{token}");
                html(
                    StatusCode::BAD_REQUEST,
                    view::reset_form(&reset_csrf(&state, &token), &action, &user, Some(&why)),
                )
            }
            Ok(None) => no_reset(),
            Err(e) => internal(&e),
        },
        Err(e) => refused(e, "/dashboard/login"),
    }
}

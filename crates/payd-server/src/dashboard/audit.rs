//! The dashboard's audit log page: the newest lines of the user's account (every account's
//! for an operator), read only.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use payd_core::apikey::Mode;
use payd_core::user::Reach;

use super::auth::page_session;
use super::page::{self, Frame};
use super::{html, internal};
use crate::state::AppState;

/// Lines shown.
const SHOWN: u32 = 200;

/// `GET /dashboard/audit`.
pub async fn show(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let authed = match page_session(&state, &headers).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let account = match authed.user().reach() {
        Reach::Everything => None,
        Reach::Account(a) => Some(a),
    };
    let lines = match state.store.audit_log(account.as_ref(), SHOWN).await {
        Ok(l) => l,
        Err(e) => return internal(&e),
    };
    // The log spans both modes; the switch leads back to the payments.
    let fr = Frame {
        user: authed.user(),
        mode: Mode::Live,
        csrf: &authed.csrf,
        here: "/dashboard/payments".into(),
    };
    html(StatusCode::OK, page::layout("Audit log", &fr, page::audit(&lines, account.is_none())))
}

//! The dashboard's settings page: a merchant's settings (minimum amount, settlement asset,
//! underpayment tolerance, the EVM and Tron extended public keys) read and changed through
//! `engine::merchants`, and the addresses a new xpub derives, shown before it is saved: a
//! changed xpub is saved only from the page that showed its first addresses, so the merchant
//! can find them in their own wallet before any customer pays to one.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use payd_core::apikey::Mode;
use payd_core::merchant::Merchant;

use super::auth::{change_session, page_session, Authed};
use super::page::{self, Frame, SettingsForm};
use super::{html, internal, not_found, notice};
use crate::engine::dashboard;
use crate::engine::merchants::{self, MerchantError, MerchantSettings};
use crate::engine::users::merchants_in_reach;
use crate::state::AppState;

/// Addresses shown per xpub.
pub const PREVIEW: u64 = 5;

fn frame(authed: &Authed) -> Frame<'_> {
    Frame { user: authed.user(), mode: Mode::Live, csrf: &authed.csrf, here: "/dashboard/payments".into() }
}

/// The form's values as the settings show them (blank: not set).
fn form_of(s: &MerchantSettings) -> SettingsForm {
    SettingsForm {
        min_amount: s.min_amount_usd.map(|d| d.to_string()).unwrap_or_default(),
        settlement: s.merchant.settlement_asset.as_ref().map(|(t, n)| format!("{t}/{n}")).unwrap_or_default(),
        tolerance: s.underpayment_tolerance_percent().to_string(),
        xpub_evm: s.xpub_evm.clone().unwrap_or_default(),
        xpub_tron: s.xpub_tron.clone().unwrap_or_default(),
    }
}

fn render(
    authed: &Authed,
    status: StatusCode,
    merchants: &[Merchant],
    current: &Merchant,
    form: &SettingsForm,
    preview: Option<&dashboard::Preview>,
    message: Option<&str>,
) -> Response {
    let fr = frame(authed);
    let can_change = authed.user().role.can_change();
    let body = page::settings(&fr, merchants, current, form, preview, message, can_change);
    html(status, page::layout("Settings", &fr, body))
}

/// `GET /dashboard/settings[?merchant=mer_…]`.
pub async fn show(State(state): State<AppState>, RawQuery(raw): RawQuery, headers: HeaderMap) -> Response {
    let authed = match page_session(&state, &headers).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let merchants = match merchants_in_reach(&state.store, authed.user()).await {
        Ok(m) => m,
        Err(e) => return internal(&e),
    };
    let asked = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "merchant")
        .map(|(_, v)| v.into_owned());
    let current = match &asked {
        Some(id) => merchants.iter().find(|m| &m.id.to_string() == id),
        None => merchants.first(),
    };
    let Some(current) = current else {
        return if asked.is_some() {
            not_found()
        } else {
            notice(StatusCode::OK, "No merchant", "Your account has no merchant yet.")
        };
    };
    let settings = match merchants::settings(&state.store, &current.id).await {
        Ok(s) => s,
        Err(e) => return internal(&e),
    };
    render(&authed, StatusCode::OK, &merchants, current, &form_of(&settings), None, None)
}

/// `POST /dashboard/settings/{merchant}` (`min_amount`, `settlement`, `tolerance`,
/// `xpub_evm`, `xpub_tron`, `step=preview|save`, `checked`): previews the addresses of the
/// xpubs given, or saves. A blank field clears its setting.
pub async fn save(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (authed, fields) = match change_session(&state, &headers, &body).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let Ok(Path(id)) = id else { return not_found() };
    let merchants = match merchants_in_reach(&state.store, authed.user()).await {
        Ok(m) => m,
        Err(e) => return internal(&e),
    };
    let Some(current) = merchants.iter().find(|m| m.id.to_string() == id) else { return not_found() };
    let get = |name: &str| {
        fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default()
    };
    let form = SettingsForm {
        min_amount: get("min_amount"),
        settlement: get("settlement"),
        tolerance: get("tolerance"),
        xpub_evm: get("xpub_evm"),
        xpub_tron: get("xpub_tron"),
    };
    let stored = match merchants::settings(&state.store, &current.id).await {
        Ok(s) => form_of(&s),
        Err(e) => return internal(&e),
    };
    let preview = match dashboard::xpub_preview(&form.xpub_evm, &form.xpub_tron, PREVIEW) {
        Ok(p) => p,
        Err(e) => {
            let msg = e.to_string();
            return render(&authed, StatusCode::BAD_REQUEST, &merchants, current, &form, None, Some(&msg));
        }
    };
    let xpub_changed = form.xpub_evm != stored.xpub_evm || form.xpub_tron != stored.xpub_tron;
    let checked = get("checked") == "1";
    if get("step") == "preview" || (xpub_changed && !checked) {
        let msg =
            "Find these addresses in your wallet (the same account, receiving addresses 0 to 4), then save.";
        return render(&authed, StatusCode::OK, &merchants, current, &form, Some(&preview), Some(msg));
    }
    let blank = |v: &str| if v.is_empty() { "none".to_owned() } else { v.to_owned() };
    let input = merchants::SettingsIn {
        min_amount: Some(blank(&form.min_amount)),
        settlement: Some(blank(&form.settlement)),
        xpub_evm: Some(blank(&form.xpub_evm)),
        xpub_tron: Some(blank(&form.xpub_tron)),
        underpayment_tolerance: Some(if form.tolerance.is_empty() {
            "0".to_owned()
        } else {
            form.tolerance.clone()
        }),
    };
    let changed: Vec<&str> = [
        ("min_amount", form.min_amount != stored.min_amount),
        ("settlement", form.settlement != stored.settlement),
        ("underpayment_tolerance", form.tolerance != stored.tolerance),
        ("xpub_evm", form.xpub_evm != stored.xpub_evm),
        ("xpub_tron", form.xpub_tron != stored.xpub_tron),
    ]
    .into_iter()
    .filter_map(|(name, differs)| differs.then_some(name))
    .collect();
    match dashboard::configure(&state.store, authed.user(), current, input, &changed, payd_store::now()).await
    {
        Ok(_) => Redirect::to(&format!("/dashboard/settings?merchant={}", current.id)).into_response(),
        Err(MerchantError::Store(e)) => internal(&e),
        // The engine's refusal names the setting and why.
        Err(e) => {
            let msg = e.to_string();
            render(&authed, StatusCode::BAD_REQUEST, &merchants, current, &form, None, Some(&msg))
        }
    }
}

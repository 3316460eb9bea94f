//! The dashboard's settings page: a merchant's settings (minimum amount, settlement asset,
//! underpayment tolerance, the EVM and Tron extended public keys) read and changed through
//! `engine::merchants`, and the addresses a new xpub derives, shown before it is saved: a
//! changed xpub is saved only from the page that showed its first addresses, so the merchant
//! can find them in their own wallet before any customer pays to one. Two smaller forms on
//! the same page change the assets offered at checkout and the merchant's profile, each
//! through `engine::merchants` with its audit line in the change's transaction.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use payd_core::apikey::Mode;
use payd_core::merchant::Merchant;

use super::auth::{change_session, page_session, Authed};
use super::page::{self, Frame, SettingsForm};
use super::settings_page::{self as extras_page, Extras, NetworkGroup};
use super::{html, internal, not_found, notice};
use crate::engine::asset::{allows, instance_assets};
use crate::engine::dashboard;
use crate::engine::merchants::{self, MerchantError, MerchantSettings};
use crate::engine::users::{merchants_in_reach, Actor};
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

/// The instance's assets grouped by network, ticked when `ticked` says so.
fn groups(state: &AppState, ticked: impl Fn(&str, &str) -> bool) -> Vec<NetworkGroup> {
    let mut out: Vec<NetworkGroup> = Vec::new();
    for (p, test_only) in instance_assets(&state.config.networks) {
        let tick = ticked(&p.token, &p.network);
        match out.iter_mut().find(|g| g.id == p.network) {
            Some(g) => g.tokens.push((p.token, tick)),
            None => out.push(NetworkGroup {
                name: p.network_name,
                id: p.network,
                test_only,
                tokens: vec![(p.token, tick)],
            }),
        }
    }
    out
}

/// The assets and profile forms as stored.
fn extras_of(state: &AppState, s: &MerchantSettings) -> Extras {
    Extras {
        groups: groups(state, |t, n| allows(&s.assets, t, n)),
        assets_message: None,
        email: s.merchant.email.clone().unwrap_or_default(),
        site_url: s.merchant.site_url.clone().unwrap_or_default(),
        profile_message: None,
    }
}

#[allow(clippy::too_many_arguments)]
fn render(
    authed: &Authed,
    status: StatusCode,
    merchants: &[Merchant],
    current: &Merchant,
    form: &SettingsForm,
    preview: Option<&dashboard::Preview>,
    message: Option<&str>,
    extras: &Extras,
) -> Response {
    let fr = frame(authed);
    let can_change = authed.user().role.can_change();
    let extra = extras_page::extras(&current.id.to_string(), fr.csrf, extras, can_change);
    let body = page::settings(&fr, merchants, current, form, preview, message, can_change, extra);
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
    let extras = extras_of(&state, &settings);
    render(&authed, StatusCode::OK, &merchants, current, &form_of(&settings), None, None, &extras)
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
    let (stored, extras) = match merchants::settings(&state.store, &current.id).await {
        Ok(s) => (form_of(&s), extras_of(&state, &s)),
        Err(e) => return internal(&e),
    };
    let preview = match dashboard::xpub_preview(&form.xpub_evm, &form.xpub_tron, PREVIEW) {
        Ok(p) => p,
        Err(e) => {
            let msg = e.to_string();
            return render(
                &authed,
                StatusCode::BAD_REQUEST,
                &merchants,
                current,
                &form,
                None,
                Some(&msg),
                &extras,
            );
        }
    };
    let xpub_changed = form.xpub_evm != stored.xpub_evm || form.xpub_tron != stored.xpub_tron;
    let checked = get("checked") == "1";
    if get("step") == "preview" || (xpub_changed && !checked) {
        let msg =
            "Find these addresses in your wallet (the same account, receiving addresses 0 to 4), then save.";
        return render(
            &authed,
            StatusCode::OK,
            &merchants,
            current,
            &form,
            Some(&preview),
            Some(msg),
            &extras,
        );
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
        // Its own form (save_assets) changes the assets offered.
        assets: None,
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
    let networks = &state.config.networks;
    match dashboard::configure(
        &state.store,
        networks,
        authed.user(),
        current,
        input,
        &changed,
        payd_store::now(),
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/dashboard/settings?merchant={}", current.id)).into_response(),
        Err(MerchantError::Store(e)) => internal(&e),
        // The engine's refusal names the setting and why.
        Err(e) => {
            let msg = e.to_string();
            render(&authed, StatusCode::BAD_REQUEST, &merchants, current, &form, None, Some(&msg), &extras)
        }
    }
}

/// What a change form of the page acts on.
#[derive(Debug)]
struct Target {
    authed: Authed,
    fields: Vec<(String, String)>,
    merchants: Vec<Merchant>,
    settings: MerchantSettings,
}

/// A change form's session and merchant: the session (403 without its form token, or for a
/// viewer), the fields, the merchants in reach and the one named (404 outside reach).
async fn change_target(
    state: &AppState,
    id: Result<Path<String>, PathRejection>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Target, Response> {
    let (authed, fields) = change_session(state, headers, body).await?;
    let Ok(Path(id)) = id else { return Err(not_found()) };
    let merchants = merchants_in_reach(&state.store, authed.user()).await.map_err(|e| internal(&e))?;
    let Some(current) = merchants.iter().find(|m| m.id.to_string() == id) else { return Err(not_found()) };
    let settings = merchants::settings(&state.store, &current.id).await.map_err(|e| internal(&e))?;
    Ok(Target { authed, fields, merchants, settings })
}

/// After a refused change: the page with the stored settings and the change's message.
fn refused_page(
    authed: &Authed,
    merchants: &[Merchant],
    settings: &MerchantSettings,
    extras: &Extras,
) -> Response {
    render(
        authed,
        StatusCode::BAD_REQUEST,
        merchants,
        &settings.merchant,
        &form_of(settings),
        None,
        None,
        extras,
    )
}

/// `POST /dashboard/settings/{merchant}/assets` (`asset=TOKEN/network`, repeated): the assets
/// offered at checkout. Refused, naming why, when none is ticked, a pair is not the
/// instance's, or the settlement asset would not be offered.
pub async fn save_assets(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Target { authed, fields, merchants, settings } =
        match change_target(&state, id, &headers, &body).await {
            Ok(v) => v,
            Err(res) => return res,
        };
    let items: Vec<&str> = fields.iter().filter(|(k, _)| k == "asset").map(|(_, v)| v.as_str()).collect();
    let actor = Actor::User(authed.user());
    let networks = &state.config.networks;
    let m = &settings.merchant;
    match merchants::set_assets(&state.store, networks, &actor, m, &items, payd_store::now()).await {
        Ok(_) => Redirect::to(&format!("/dashboard/settings?merchant={}", m.id)).into_response(),
        Err(MerchantError::Store(e)) => internal(&e),
        Err(e) => {
            // Show the boxes as posted, so the person sees what was refused.
            let posted = |t: &str, n: &str| {
                items.iter().any(|i| i.split_once('/').is_some_and(|(it, inet)| it == t && inet == n))
            };
            let extras = Extras {
                groups: groups(&state, posted),
                assets_message: Some(e.to_string()),
                ..extras_of(&state, &settings)
            };
            refused_page(&authed, &merchants, &settings, &extras)
        }
    }
}

/// `POST /dashboard/settings/{merchant}/profile` (`email`, `site_url`; blank clears).
pub async fn save_profile(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Target { authed, fields, merchants, settings } =
        match change_target(&state, id, &headers, &body).await {
            Ok(v) => v,
            Err(res) => return res,
        };
    let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let (email, site_url) = (get("email"), get("site_url"));
    let actor = Actor::User(authed.user());
    let m = &settings.merchant;
    match merchants::set_profile(&state.store, &actor, m, &email, &site_url, payd_store::now()).await {
        Ok(_) => Redirect::to(&format!("/dashboard/settings?merchant={}", m.id)).into_response(),
        Err(MerchantError::Store(e)) => internal(&e),
        Err(e) => {
            let extras = Extras {
                email,
                site_url,
                profile_message: Some(e.to_string()),
                ..extras_of(&state, &settings)
            };
            refused_page(&authed, &merchants, &settings, &extras)
        }
    }
}

//! A merchant's checkout settings in the dashboard (`/dashboard/settings/{merchant}/checkout`):
//! its branding — display name, accent colour, logo upload (a multipart form: the one form
//! with a file) — checked and saved by `engine::brand` with its audit line.

use axum::body::Bytes;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use payd_core::merchant::Merchant;
use payd_store::manage::LogoChange;

use super::auth::{change_session, page_session, Authed};
use super::manage_page;
use super::page::{self, Frame};
use super::{html, internal, not_found, notice};
use crate::engine::brand::{self, BrandError, BrandIn, MAX_LOGO_BYTES};
use crate::engine::users::merchants_in_reach;
use crate::state::AppState;

/// The most a branding post may carry: the logo and the form's few short fields.
pub const MAX_BRAND_BODY: usize = MAX_LOGO_BYTES + 16 * 1024;

/// The longest text field read from the form (the display name's limit is the engine's).
const MAX_FIELD: usize = 1024;

async fn merchant_of(state: &AppState, authed: &Authed, id: &str) -> Result<Merchant, Response> {
    let merchants = merchants_in_reach(&state.store, authed.user()).await.map_err(|e| internal(&e))?;
    merchants.into_iter().find(|m| m.id.to_string() == id).ok_or_else(not_found)
}

fn render(
    authed: &Authed,
    status: StatusCode,
    merchant: &Merchant,
    brand: &payd_store::manage::Branding,
    message: Option<&str>,
) -> Response {
    let fr = Frame {
        user: authed.user(),
        mode: payd_core::apikey::Mode::Live,
        csrf: &authed.csrf,
        here: "/dashboard/settings".into(),
    };
    let body = manage_page::checkout_settings(&fr, merchant, brand, message, authed.user().role.can_change());
    html(status, page::layout("Checkout branding", &fr, body))
}

/// `GET /dashboard/settings/{merchant}/checkout` (`?saved=1` after a save).
pub async fn show(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let authed = match page_session(&state, &headers).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let Ok(Path(id)) = id else { return not_found() };
    let merchant = match merchant_of(&state, &authed, &id).await {
        Ok(m) => m,
        Err(res) => return res,
    };
    let brand = match brand::of(&state.store, &merchant).await {
        Ok(b) => b,
        Err(e) => return internal(&e),
    };
    let saved = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .any(|(k, v)| k == "saved" && v == "1");
    render(&authed, StatusCode::OK, &merchant, &brand, saved.then_some("Branding saved."))
}

/// The form's fields: text ones, and the logo's bytes (`None`: no file chosen).
#[derive(Default)]
struct Form {
    csrf: String,
    display_name: String,
    accent: String,
    remove_logo: bool,
    logo: Option<Vec<u8>>,
}

/// Why the form could not be read.
enum Unreadable {
    /// A part was larger than allowed.
    TooLarge,
    /// Not a multipart form, or broken.
    Malformed,
}

/// Reads a part whole, refusing it past `max` bytes.
async fn read_part(
    mut field: axum::extract::multipart::Field<'_>,
    max: usize,
) -> Result<Vec<u8>, Unreadable> {
    let mut out = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Unreadable::TooLarge
        } else {
            Unreadable::Malformed
        }
    })? {
        if out.len() + chunk.len() > max {
            return Err(Unreadable::TooLarge);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

async fn read_form(mut multipart: Multipart) -> Result<Form, Unreadable> {
    let mut form = Form::default();
    while let Some(field) = multipart.next_field().await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Unreadable::TooLarge
        } else {
            Unreadable::Malformed
        }
    })? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "logo" {
            let chosen = field.file_name().is_some_and(|f| !f.is_empty());
            let bytes = read_part(field, MAX_LOGO_BYTES).await?;
            // A browser sends an empty part when no file was chosen.
            if chosen || !bytes.is_empty() {
                form.logo = Some(bytes);
            }
            continue;
        }
        let text =
            String::from_utf8(read_part(field, MAX_FIELD).await?).map_err(|_| Unreadable::Malformed)?;
        match name.as_str() {
            "csrf" => form.csrf = text,
            "display_name" => form.display_name = text,
            "accent" => form.accent = text,
            "remove_logo" => form.remove_logo = text == "1",
            _ => {}
        }
    }
    Ok(form)
}

/// `POST /dashboard/settings/{merchant}/brand` (multipart: `csrf`, `display_name`, `accent`,
/// `logo`, `remove_logo`). Every value is checked before anything is written; a refusal
/// says which field and why.
pub async fn save(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let read = match multipart {
        Ok(m) => read_form(m).await,
        Err(_) => Err(Unreadable::Malformed),
    };
    let form = match read {
        Ok(f) => f,
        Err(Unreadable::TooLarge) => {
            return notice(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Not saved",
                "logo: more than the 64 KiB (65536 bytes) allowed",
            )
        }
        Err(Unreadable::Malformed) => {
            return notice(StatusCode::BAD_REQUEST, "Not saved", "The form could not be read.")
        }
    };
    // The same checks as every other change (session, origin, form token, role), over the
    // token this form carried.
    let token: String =
        url::form_urlencoded::Serializer::new(String::new()).append_pair("csrf", &form.csrf).finish();
    let (authed, _) = match change_session(&state, &headers, &Bytes::from(token)).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let Ok(Path(id)) = id else { return not_found() };
    let merchant = match merchant_of(&state, &authed, &id).await {
        Ok(m) => m,
        Err(res) => return res,
    };
    let logo = match (form.logo, form.remove_logo) {
        (Some(bytes), _) => match brand::check_logo(bytes) {
            Ok(l) => l,
            Err(e) => return refused(&state, &authed, &merchant, &e).await,
        },
        (None, true) => LogoChange::Remove,
        (None, false) => LogoChange::Keep,
    };
    let input = BrandIn { display_name: form.display_name, accent: form.accent, logo };
    match brand::configure(&state.store, authed.user(), &merchant, input, payd_store::now()).await {
        Ok(_) => {
            Redirect::to(&format!("/dashboard/settings/{}/checkout?saved=1", merchant.id)).into_response()
        }
        Err(e) => refused(&state, &authed, &merchant, &e).await,
    }
}

/// The page again with why the values were refused (400), or the error page.
async fn refused(state: &AppState, authed: &Authed, merchant: &Merchant, e: &BrandError) -> Response {
    if let BrandError::Store(e) = e {
        return internal(e);
    }
    match brand::of(&state.store, merchant).await {
        Ok(b) => render(authed, StatusCode::BAD_REQUEST, merchant, &b, Some(&e.to_string())),
        Err(e) => internal(&e),
    }
}

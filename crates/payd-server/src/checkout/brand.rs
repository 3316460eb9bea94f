//! The merchant's branding files under `/assets/brand/`: an uploaded logo by its SHA-256
//! (`{digest}.png|jpg|webp`) and the stylesheet of an accent colour (`accent-{rrggbb}.css`).
//! Both names are derived from the content, so both may be cached for a year; the logo goes
//! out with `nosniff` and a CSP that runs nothing should it be opened on its own.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{internal, not_found};
use crate::checkout::i18n::Lang;
use crate::engine::brand;
use crate::state::AppState;

/// A year: the content behind a name never changes.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn file(content_type: &str, body: impl IntoResponse) -> Response {
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    res
}

/// `GET /assets/brand/{file}`.
pub async fn asset(State(state): State<AppState>, name: Result<Path<String>, PathRejection>) -> Response {
    let Ok(Path(name)) = name else { return not_found(Lang::En) };
    if let Some(hex) = name.strip_prefix("accent-").and_then(|n| n.strip_suffix(".css")) {
        // Only a colour that passes the check has a stylesheet, and only under its
        // canonical (lower-case) name.
        return match brand::accent_css(hex) {
            Some(css)
                if hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()) =>
            {
                file("text/css; charset=utf-8", css)
            }
            _ => not_found(Lang::En),
        };
    }
    let Some((digest, ext)) = name.split_once('.') else { return not_found(Lang::En) };
    if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return not_found(Lang::En);
    }
    match state.store.brand_logo(digest).await {
        Ok(Some((content_type, bytes))) if brand::extension(&content_type) == ext => {
            file(&content_type, bytes)
        }
        Ok(_) => not_found(Lang::En),
        Err(e) => internal(Lang::En, &e),
    }
}

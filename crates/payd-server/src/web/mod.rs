//! What payd's HTML pages share (the checkout page and the merchant dashboard): their static
//! files served under content-digest names ([`assets`]), the security headers every page is
//! sent with, and the same-origin check their forms pass.

pub mod assets;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::Markup;

/// An HTML page with its Content-Security-Policy and the headers every payd page carries.
pub fn html(status: StatusCode, markup: Markup, csp: &str) -> Response {
    let mut res = (status, markup.into_string()).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    // Pages change with what they show and are reached with a credential (the checkout's
    // link, the dashboard's session): not cached, and not sent to other sites as a referrer
    // (`same-origin`, not `no-referrer`, under which Chromium sends the page's own form posts
    // `Origin: null`).
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    res
}

/// `scheme://host[:port]` of an http(s) URL.
pub fn origin(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    matches!(u.scheme(), "http" | "https").then(|| u.origin().ascii_serialization())
}

/// Whether a form post comes from one of payd's own pages: a browser names the page's origin
/// in `Origin` (and `Sec-Fetch-Site: same-origin`); a post from another site is refused.
/// `public_url` is payd's configured public URL (a proxy in front may use another host than
/// the request's `Host`).
pub fn same_origin(public_url: &str, headers: &HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site").is_some_and(|s| s != "same-origin" && s != "none") {
        return false;
    }
    let Some(origin_sent) = header("origin") else { return true };
    let host = header("host").unwrap_or_default();
    origin(public_url).as_deref() == Some(origin_sent)
        || origin_sent == format!("http://{host}")
        || origin_sent == format!("https://{host}")
}

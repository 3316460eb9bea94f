//! The native API as payd's transport sees it: bearer keys, its own quota, payd's error body
//! ([`ApiError`] itself).

use payd_core::webhook::WebhookFormat;

use crate::http::caller::{Api, AuthScheme};
use crate::http::error::ApiError;
use crate::ratelimit::Surface;

/// payd's own API: `Authorization: Bearer <key>`, its own quota (`rate_limits.native`),
/// `{"error": {code, message, param}}` errors.
#[derive(Debug)]
pub struct Native;

impl Api for Native {
    const AUTH: AuthScheme = AuthScheme::Bearer;
    const SURFACE: Surface = Surface::Native;
    const WEBHOOK: WebhookFormat = WebhookFormat::Native;
    type Error = ApiError;
}

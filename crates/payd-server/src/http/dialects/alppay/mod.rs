//! AlpPay (`/v2/...`): `API-KEY`, and on every request with a body `X-HMAC`, the lowercase
//! hex HMAC-SHA256 of the exact body bytes under the key's signing secret. Amounts are
//! decimal strings; business failures are 422. See docs/dialects/alppay.md.

pub mod openapi;
pub mod payments;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::http::caller::{Api, AuthScheme, Principal};
use crate::http::code::Code;
use crate::http::error::{set_retry_after, ApiError};
use crate::ratelimit::Surface;
use crate::state::AppState;
use payd_core::webhook::WebhookFormat;

/// The AlpPay routes.
pub fn routes() -> Router<AppState> {
    let api = Router::new()
        .route("/payment", get(payments::list_payments).post(payments::create_payment))
        .route("/payment/{id}", get(payments::get_payment))
        .route("/payments", axum::routing::post(payments::create_payment_plural))
        .fallback(|| async { AlpError(ApiError::not_found("route")) });
    Router::new().nest("/v2", api)
}

/// An error in AlpPay's shape: `{"error": "<code>", "message": "<human>"}`. Business-rule
/// failures are 422, as AlpPay documents; malformed JSON is 400.
#[derive(Debug)]
pub struct AlpError(pub ApiError);

impl From<ApiError> for AlpError {
    fn from(e: ApiError) -> Self {
        AlpError(e)
    }
}

impl From<payd_store::StoreError> for AlpError {
    fn from(e: payd_store::StoreError) -> Self {
        AlpError(e.into())
    }
}

impl IntoResponse for AlpError {
    fn into_response(self) -> Response {
        let e = self.0;
        let (status, code) = match e.status.as_u16() {
            // Only a body that is not JSON is a 400; a valid body that breaks a rule is a 422.
            400 if matches!(e.code, Code::MalformedJson | Code::MissingBody | Code::InvalidBody) => {
                (StatusCode::BAD_REQUEST, "bad_request")
            }
            400 | 422 => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable_entity"),
            401 => (StatusCode::UNAUTHORIZED, "unauthorized"),
            403 => (StatusCode::FORBIDDEN, "forbidden"),
            404 => (StatusCode::NOT_FOUND, "not_found"),
            409 => (StatusCode::CONFLICT, "conflict"),
            413 | 415 => (StatusCode::BAD_REQUEST, "bad_request"),
            429 => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            s if s >= 500 => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
            _ => (StatusCode::BAD_REQUEST, "bad_request"),
        };
        let mut res = (status, axum::Json(json!({ "error": code, "message": e.message }))).into_response();
        set_retry_after(&mut res, e.retry_after);
        res
    }
}

/// The AlpPay API: the key in `api-key`, its own quota, its error body.
#[derive(Debug)]
pub struct AlpPay;

impl Api for AlpPay {
    const AUTH: AuthScheme = AuthScheme::Header("api-key");
    const SURFACE: Surface = Surface::Alppay;
    const WEBHOOK: WebhookFormat = WebhookFormat::Alppay;
    type Error = AlpError;

    fn unauthenticated(e: ApiError) -> ApiError {
        if e.status != StatusCode::UNAUTHORIZED {
            return e;
        }
        ApiError::new(Code::Unauthorized, "Missing or invalid API-KEY")
    }
}

/// Checks `X-HMAC` over the exact bytes received, in constant time.
pub fn verify_hmac(
    state: &AppState,
    principal: &Principal,
    header: Option<&str>,
    body: &[u8],
) -> Result<(), AlpError> {
    let bad = |m: &str| AlpError(ApiError::new(Code::InvalidSignature, m));
    let given = header.ok_or_else(|| bad("Missing X-HMAC signature"))?;
    let given = hex::decode(given.trim()).map_err(|_| bad("Invalid X-HMAC signature"))?;
    let secret = state
        .master_key
        .open(&principal.key.signing_secret_sealed)
        .map_err(|e| AlpError(ApiError::internal(format!("signing secret of {}: {e}", principal.key.id))))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .map_err(|_| AlpError(ApiError::internal("hmac key")))?;
    mac.update(body);
    // verify_slice compares in constant time.
    mac.verify_slice(&given).map_err(|_| bad("Invalid X-HMAC signature"))
}

/// The signature a client sends: lowercase hex HMAC-SHA256 of `body` (used by tests and
/// webhooks).
pub fn sign(secret: &str, body: &[u8]) -> Option<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(body);
    Some(hex::encode(mac.finalize().into_bytes()))
}

//! AlpPay's `X-HMAC`: lowercase hex HMAC-SHA256 of the exact body bytes.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::error::AlpError;
use crate::http::caller::Principal;
use crate::http::code::Code;
use crate::http::error::ApiError;
use crate::state::AppState;

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

//! The `Idempotency-Key` header, shared by the APIs that take it (native, AstraPay).

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use payd_core::apikey::Mode;
use payd_core::ids::MerchantId;
use payd_core::payment::Dialect;
use payd_store::{CreateOutcome, IdempotencyRequest};

use super::error::ApiError;
use super::wire::json_text;
use crate::engine;
use crate::http::code::Code;

/// Reads and checks the header: 1–255 printable ASCII characters.
pub fn header_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else { return Ok(None) };
    let bad = || {
        ApiError::new(
            Code::IdempotencyKeyInvalid,
            "Idempotency-Key must be 1 to 255 printable ASCII characters",
        )
    };
    let s = v.to_str().map_err(|_| bad())?;
    if s.is_empty() || s.len() > 255 || !s.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        return Err(bad());
    }
    Ok(Some(s.to_owned()))
}

/// The idempotency record a create request claims: scoped to the merchant, the mode and the
/// API (one key sent to two providers' APIs names two requests), bound to the request's path
/// and canonical body.
pub fn request(
    merchant: &MerchantId,
    mode: Mode,
    api: Dialect,
    key: Option<String>,
    path: &str,
    body: &serde_json::Value,
) -> Option<IdempotencyRequest> {
    key.map(|key| IdempotencyRequest {
        merchant_id: merchant.clone(),
        mode,
        api,
        key,
        fingerprint: engine::fingerprint("POST", path, body),
    })
}

/// Stripe's semantics for a create's outcome: the new response, or the first response again
/// (marked `Idempotent-Replayed`), or `conflict` when the key came with another request.
pub fn respond(outcome: CreateOutcome, conflict: impl FnOnce() -> ApiError) -> Result<Response, ApiError> {
    match outcome {
        CreateOutcome::Created { response, .. } => {
            Ok(json_text(StatusCode::from_u16(response.status).unwrap_or(StatusCode::CREATED), response.body))
        }
        CreateOutcome::Replayed { same_request: true, response, .. } => {
            let mut res =
                json_text(StatusCode::from_u16(response.status).unwrap_or(StatusCode::OK), response.body);
            res.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
            Ok(res)
        }
        CreateOutcome::Replayed { same_request: false, .. } => Err(conflict()),
    }
}

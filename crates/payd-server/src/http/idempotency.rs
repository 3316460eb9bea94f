//! The `Idempotency-Key` header, shared by the APIs that take it (native, AstraPay).

use axum::http::HeaderMap;

use super::error::ApiError;

/// Reads and checks the header: 1–255 printable ASCII characters.
pub fn header_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else { return Ok(None) };
    let bad = || {
        ApiError::bad_request(
            "idempotency_key_invalid",
            "Idempotency-Key must be 1 to 255 printable ASCII characters",
        )
    };
    let s = v.to_str().map_err(|_| bad())?;
    if s.is_empty() || s.len() > 255 || !s.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        return Err(bad());
    }
    Ok(Some(s.to_owned()))
}

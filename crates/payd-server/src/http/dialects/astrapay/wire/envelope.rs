//! AstraPay's success envelope: `{success, statusCode, data}`.

use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::error::AstraError;
use crate::http::error::ApiError;

/// The success envelope.
#[derive(Debug, Serialize)]
pub struct Envelope<T> {
    success: bool,
    #[serde(rename = "statusCode")]
    status_code: u16,
    data: T,
}

/// Wraps `data` for a response with `status`.
pub fn envelope<T: Serialize>(status: StatusCode, data: T) -> Envelope<T> {
    Envelope { success: true, status_code: status.as_u16(), data }
}

/// Serialises an envelope into a JSON response.
pub fn respond<T: Serialize>(status: StatusCode, data: T) -> Result<Response, AstraError> {
    let body = serde_json::to_string(&envelope(status, data)).map_err(ApiError::internal)?;
    Ok(crate::http::wire::json_text(status, body))
}

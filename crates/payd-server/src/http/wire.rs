//! What every API writes the same way on the wire: timestamps, and JSON bodies that are
//! already text (saved responses replay their exact bytes).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};

/// Timestamps on the wire: RFC 3339, UTC, milliseconds (`2026-03-31T12:00:00.000Z`).
pub fn wire_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A JSON response from already serialised text.
pub fn json_text(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

//! The HTTP layer: the native API, health checks, and the middleware every route shares
//! (body limit, tracing, JSON 404/405).

pub mod body;
pub mod caller;
pub mod code;
pub mod dialects;
pub mod error;
mod health;
pub mod idempotency;
pub mod native;
pub mod openapi;
pub mod server;
pub mod validate;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use tower_http::trace::TraceLayer;

use crate::http::code::Code;
use crate::state::AppState;
use error::ApiError;

/// Timestamps on the wire: RFC 3339, UTC, milliseconds (`2026-03-31T12:00:00.000Z`).
pub fn wire_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A JSON response from already serialised text (saved responses replay their exact bytes).
pub fn json_text(status: axum::http::StatusCode, body: String) -> axum::response::Response {
    use axum::response::IntoResponse;
    (status, [(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// An error in the format of the API that `path` belongs to (for checks that run before a
/// route's own handler).
pub fn error_for_path(path: &str, e: ApiError) -> axum::response::Response {
    use axum::response::IntoResponse;
    use dialects::{alppay, astrapay, mutopay, paygentic};
    if path.starts_with("/v1/api/") {
        astrapay::AstraError(e).into_response()
    } else if path.starts_with("/v0/") {
        paygentic::PgError::from(e).into_response()
    } else if path.starts_with("/api/") {
        mutopay::MutoError(e).into_response()
    } else if path.starts_with("/v2/") {
        alppay::AlpError(e).into_response()
    } else {
        e.into_response()
    }
}

/// Refuses a query string holding an encoded NUL: no list filter means one, and PostgreSQL
/// cannot compare text with it.
async fn reject_nul_query(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if req.uri().query().is_some_and(|q| q.contains("%00")) {
        let e = ApiError::new(Code::InvalidQuery, "the query string must not contain NUL (%00)");
        return error_for_path(req.uri().path(), e);
    }
    next.run(req).await
}

/// A request past `server.request_timeout_secs` (a trickled body, say): 408 in the format of
/// the API it was sent to.
async fn request_timed_out(uri: axum::http::Uri, e: axum::BoxError) -> axum::response::Response {
    let e = if e.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(
            Code::RequestTimeout,
            "the request took too long to arrive and be answered; send it again",
        )
    } else {
        ApiError::internal(e)
    };
    error_for_path(uri.path(), e)
}

/// Every route, with shared middleware.
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    let request_timeout = state.config.request_timeout;
    Router::new()
        .merge(health::routes())
        .merge(native::routes())
        .merge(dialects::routes())
        .merge(openapi::routes())
        .fallback(|| async { ApiError::new(Code::NotFound, "no such route") })
        // In the format of the API the path belongs to (a dialect answers 400 in its own).
        .method_not_allowed_fallback(|uri: axum::http::Uri| async move {
            let e = ApiError::new(Code::MethodNotAllowed, "method not allowed on this route");
            error_for_path(uri.path(), e)
        })
        .layer(axum::middleware::from_fn(reject_nul_query))
        .layer(DefaultBodyLimit::max(limit))
        // The whole request, its body included, within one deadline.
        .layer(
            tower::ServiceBuilder::new()
                .layer(axum::error_handling::HandleErrorLayer::new(request_timed_out))
                .timeout(request_timeout),
        )
        // Spans carry method and path only: never headers, which hold API keys.
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

//! Checks that run before a route's own handler (an unknown method, NUL in a query, the
//! request deadline), each answered in the format of the API the path belongs to.

use axum::extract::Request;
use axum::http::{HeaderMap, Uri};
use axum::middleware::Next;
use axum::response::Response;

use super::code::Code;
use super::error::ApiError;
use super::registry;

/// 405 on a route that has no such method.
pub async fn method_not_allowed(uri: Uri, headers: HeaderMap) -> Response {
    // A customer's browser on the checkout page reads HTML (in their language), not an API's JSON.
    if crate::checkout::owns(uri.path()) {
        return crate::checkout::method_not_allowed(crate::checkout::request_lang(uri.query(), &headers));
    }
    if crate::dashboard::owns(uri.path()) {
        return crate::dashboard::method_not_allowed();
    }
    let e = ApiError::new(Code::MethodNotAllowed, "method not allowed on this route");
    registry::error_for_path(uri.path(), e)
}

/// Refuses a query string holding an encoded NUL: no list filter means one, and PostgreSQL
/// cannot compare text with it.
pub async fn reject_nul_query(req: Request, next: Next) -> Response {
    if req.uri().query().is_some_and(|q| q.contains("%00")) {
        let e = ApiError::new(Code::InvalidQuery, "the query string must not contain NUL (%00)");
        return registry::error_for_path(req.uri().path(), e);
    }
    next.run(req).await
}

/// A request past `server.request_timeout_secs` (a trickled body, say): 408.
pub async fn request_timed_out(uri: Uri, e: axum::BoxError) -> Response {
    let e = if e.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(
            Code::RequestTimeout,
            "the request took too long to arrive and be answered; send it again",
        )
    } else {
        ApiError::internal(e)
    };
    registry::error_for_path(uri.path(), e)
}

//! The HTTP layer, transport only: the APIs in [`registry`] (the native one and each dialect,
//! which translate and call the engine), the checkout page's routes ([`crate::checkout`]) and
//! the merchant dashboard's ([`crate::dashboard`]),
//! health checks, OpenAPI documents, and the
//! middleware every route shares (body limit, deadline, tracing, JSON 404/405).

pub mod body;
pub mod caller;
pub mod client;
pub mod code;
pub mod dialects;
pub mod error;
mod guards;
mod health;
pub mod idempotency;
pub mod metrics;
pub mod native;
pub mod openapi;
pub mod registry;
pub mod schema;
pub mod server;
pub mod validate;
pub mod wire;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use tower_http::trace::TraceLayer;

use crate::state::AppState;
use error::ApiError;

/// An unknown path: the checkout's HTML 404 under its prefixes (a customer's browser reads
/// it), the JSON error anywhere else.
async fn fallback(uri: axum::http::Uri, headers: axum::http::HeaderMap) -> axum::response::Response {
    use axum::response::IntoResponse;
    if crate::checkout::owns(uri.path()) {
        crate::checkout::not_found(crate::checkout::request_lang(uri.query(), &headers))
    } else if crate::dashboard::owns(uri.path()) {
        crate::dashboard::not_found()
    } else {
        ApiError::not_found("route").into_response()
    }
}

/// A request's span: its method and the route it matched (`/dashboard/reset/{token}`), never
/// the path as sent or the query, which may carry a one-time token, nor headers, which hold
/// API keys.
fn request_span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    let route = req.extensions().get::<axum::extract::MatchedPath>().map_or("(no route)", |p| p.as_str());
    tracing::debug_span!("request", method = %req.method(), route)
}

/// Every route, with shared middleware.
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    let request_timeout = state.config.request_timeout;
    Router::new()
        .merge(health::routes())
        .merge(registry::routes())
        .merge(openapi::routes())
        .merge(metrics::routes(&state))
        .merge(crate::checkout::routes())
        .merge(crate::dashboard::routes())
        .fallback(fallback)
        // In the format of the API the path belongs to (a dialect answers 400 in its own).
        .method_not_allowed_fallback(guards::method_not_allowed)
        .layer(axum::middleware::from_fn(guards::reject_nul_query))
        .layer(DefaultBodyLimit::max(limit))
        // The whole request, its body included, within one deadline.
        .layer(
            tower::ServiceBuilder::new()
                .layer(axum::error_handling::HandleErrorLayer::new(guards::request_timed_out))
                .timeout(request_timeout),
        )
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        // Outermost, so timeouts and refusals by the layers above are counted too.
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .with_state(state)
}

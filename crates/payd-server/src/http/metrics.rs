//! `/metrics` for Prometheus, behind the operator's bearer token (`security.metrics_token`;
//! without one the route does not exist), and the middleware that counts and times every
//! request by API, route template and status.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use subtle::ConstantTimeEq;

use crate::metrics::{Readings, RequestLabels, CONTENT_TYPE};
use crate::state::AppState;

/// The route, when the operator set a token.
pub fn routes(state: &AppState) -> Router<AppState> {
    if state.config.metrics_token.is_none() {
        return Router::new();
    }
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = &state.config.metrics_token else { return StatusCode::NOT_FOUND.into_response() };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !bool::from(given.as_bytes().ct_eq(token.expose().as_bytes())) {
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "unauthorized\n")
            .into_response();
    }
    let webhook_queue = match state.store.webhook_queue_depth().await {
        Ok(n) => i64::try_from(n).unwrap_or(i64::MAX),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: could not read the webhook queue");
            -1
        }
    };
    let (size, idle) = state.store.pool_use();
    let readings = Readings {
        webhook_queue,
        pool_size: i64::from(size),
        pool_idle: i64::try_from(idle).unwrap_or(i64::MAX),
    };
    match state.metrics.render(readings) {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Counts and times the request under its API and route template.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned());
    let api = api_label(req.uri().path(), route.is_some());
    let response = next.run(req).await;
    let labels = RequestLabels {
        api: api.to_owned(),
        route: route.unwrap_or_else(|| "unmatched".to_owned()),
        method,
        status: response.status().as_u16(),
    };
    state.metrics.request(labels, started.elapsed());
    response
}

/// The API a path is counted under.
fn api_label(path: &str, matched: bool) -> &'static str {
    match path {
        "/healthz" | "/readyz" => "health",
        "/metrics" => "metrics",
        p if p.starts_with("/openapi") => "openapi",
        _ if !matched => "unmatched",
        p => super::registry::api_of(p).name,
    }
}

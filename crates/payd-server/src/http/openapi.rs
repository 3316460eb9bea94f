//! Pieces shared by the OpenAPI documents (`/openapi/<name>.json`): the native API's and one
//! per dialect, each generated from its handlers' and types' annotations.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::OpenApi;

use crate::http::registry;
use crate::state::AppState;

/// `GET /openapi/<name>.json` for every API in the registry.
pub fn routes() -> Router<AppState> {
    registry::APIS.iter().fold(Router::new(), |router, api| {
        let openapi = api.openapi;
        router.route(&format!("/openapi/{}.json", api.name), get(move || async move { document(openapi()) }))
    })
}

/// Serves a document. utoipa 5 writes a link's `operationId`/`operationRef` in snake case,
/// which OpenAPI tools do not read; the names are corrected here.
fn document(doc: OpenApi) -> Json<serde_json::Value> {
    let mut value = serde_json::to_value(doc).unwrap_or_default();
    if let Some(paths) = value.get_mut("paths").and_then(|p| p.as_object_mut()) {
        let links = paths
            .values_mut()
            .filter_map(|item| item.as_object_mut())
            .flat_map(|ops| ops.values_mut())
            .filter_map(|op| op.get_mut("responses").and_then(|r| r.as_object_mut()))
            .flat_map(|responses| responses.values_mut())
            .filter_map(|r| r.get_mut("links").and_then(|l| l.as_object_mut()))
            .flat_map(|links| links.values_mut())
            .filter_map(|link| link.as_object_mut());
        for link in links {
            for (from, to) in [("operation_id", "operationId"), ("operation_ref", "operationRef")] {
                if let Some(v) = link.remove(from) {
                    link.insert(to.into(), v);
                }
            }
        }
    }
    Json(value)
}

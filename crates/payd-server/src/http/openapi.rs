//! Pieces shared by the OpenAPI documents (`/openapi/<name>.json`): the native API's and one
//! per dialect, each generated from its handlers' and types' annotations.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi, RefOr, Schema};
use utoipa::Modify;

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

/// A JSON number that payd reads and writes exactly (its text is kept; never a float).
pub fn json_number() -> RefOr<Schema> {
    RefOr::T(Schema::Object(ObjectBuilder::new().schema_type(SchemaType::new(Type::Number)).build()))
}

/// [`json_number`] or `null`.
pub fn json_number_or_null() -> RefOr<Schema> {
    RefOr::T(Schema::Object(
        ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::Number, Type::Null])).build(),
    ))
}

/// Security scheme `bearer`: `Authorization: Bearer <key>`.
#[derive(Debug)]
pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Security scheme `api_key`: the key in the named header.
#[derive(Debug)]
pub struct ApiKeyAuth(pub &'static str);

impl Modify for ApiKeyAuth {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components
            .add_security_scheme("api_key", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new(self.0))));
    }
}

/// The stablecoins payd ships (operators may add more in the registry).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[allow(clippy::upper_case_acronyms)]
pub enum TokenName {
    USDC,
    USDT,
}

/// The networks payd ships, in upper case as AstraPay writes them (any case is accepted, and
/// the aliases in docs/dialects/*.md).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[allow(clippy::upper_case_acronyms)]
pub enum NetworkName {
    ETHEREUM,
    BASE,
    POLYGON,
    ARBITRUM,
    OPTIMISM,
    BSC,
    AVALANCHE,
    TRON,
    SOLANA,
    DEVNET,
}

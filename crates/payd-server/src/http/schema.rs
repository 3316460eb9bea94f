//! Schema pieces every OpenAPI document shares: exact JSON numbers, the security schemes,
//! and the names of the tokens and networks payd ships. Wire types use them; the documents
//! themselves are served by [`super::openapi`].

use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi, RefOr, Schema};
use utoipa::Modify;

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

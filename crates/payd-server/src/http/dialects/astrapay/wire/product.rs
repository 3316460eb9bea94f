//! A product as AstraPay shows it, and its ids.

use payd_core::catalog::Product;
use payd_core::ids::ProductId;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::schema::json_number;
use crate::http::wire::wire_time;

/// Accepts a product id as AstraPay shows it (a UUID) or as payd does (`prod_…`).
pub fn parse_id(id: &str) -> Option<ProductId> {
    uuid::Uuid::try_parse(id).ok().map(ProductId::from_uuid).or_else(|| id.parse().ok())
}

/// A product as AstraPay shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = astrapay::Product)]
pub struct ProductOut<'a> {
    #[schema(format = "uuid")]
    id: String,
    name: &'a str,
    description: Option<&'a str>,
    #[schema(schema_with = json_number)]
    price: serde_json::Value,
    currency_type: &'static str,
    token: Option<&'a str>,
    network: Option<String>,
    active: bool,
    created_at: String,
    updated_at: String,
}

impl<'a> ProductOut<'a> {
    /// The view of `p`.
    pub fn new(p: &'a Product) -> Self {
        ProductOut {
            id: p.id.uuid().hyphenated().to_string(),
            name: &p.name,
            description: p.description.as_deref(),
            price: serde_json::from_str::<serde_json::Number>(&p.price.normalize().to_string())
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            currency_type: p.kind.as_str(),
            token: p.token.as_deref(),
            network: p.network.as_ref().map(|n| n.to_ascii_uppercase()),
            active: p.active,
            created_at: wire_time(p.created_at),
            updated_at: wire_time(p.updated_at),
        }
    }
}

//! AstraPay products (scope `products:manage`): create, list, get, update, delete. A payment
//! can then be created from a product's `id`.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use payd_core::apikey::Scope;
use payd_core::catalog::{PriceKind, Product};
use payd_core::ids::ProductId;
use payd_core::money::{Currency, Money};
use payd_core::token::parse_token_amount;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::wire::envelope::respond;
use super::wire::error::{AstraError, AstraPay};
use super::wire::page::{meta, paging, ListIn};
use super::wire::product::{parse_id, ProductOut};
use super::wire::schema::{DeletedResponse, Errors, ProductPageResponse, ProductResponse};
use crate::http::caller::{Caller, Principal};
use crate::http::code::Code;
use crate::http::error::ApiError;
use crate::http::schema::json_number_or_null;
use crate::http::{body, validate};
use crate::state::AppState;

/// A product to create (`name` and `price` required) or the fields to change.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = astrapay::ProductInput)]
pub struct ProductIn {
    name: Option<String>,
    description: Option<Option<String>>,
    /// A JSON number.
    #[schema(schema_with = json_number_or_null, required = false)]
    price: Option<serde_json::Number>,
    currency_type: Option<String>,
    token: Option<Option<String>>,
    network: Option<Option<String>>,
    active: Option<bool>,
}

/// Checks a product's price, kind and asset, normalising token and network.
fn check(p: &mut Product) -> Result<(), ApiError> {
    if p.name.trim().is_empty() || p.name.chars().count() > validate::MAX_TEXT {
        return Err(ApiError::new(Code::InvalidValue, "name must be 1 to 255 characters"));
    }
    if p.description.as_ref().is_some_and(|d| d.chars().count() > validate::MAX_DESCRIPTION) {
        return Err(ApiError::new(Code::ValueTooLong, "description is longer than 1000 characters"));
    }
    if p.price < Decimal::new(1, 2) {
        return Err(ApiError::new(Code::PriceTooSmall, "price must be at least 0.01"));
    }
    match p.kind {
        PriceKind::Fiat => {
            Money::new(p.price, Currency::USD)
                .map_err(|e| ApiError::new(Code::AmountInvalid, format!("price: {e}")))?;
            p.token = None;
            p.network = None;
        }
        PriceKind::Crypto => {
            let (Some(token), Some(network)) = (p.token.as_deref(), p.network.as_deref()) else {
                return Err(ApiError::new(
                    Code::MissingField,
                    "token and network are required for CRYPTO products",
                ));
            };
            let net = payd_core::registry::resolve_network(network).ok_or_else(|| {
                ApiError::new(Code::UnsupportedAsset, "Unsupported token/network combination")
            })?;
            let tok = payd_core::registry::token(&token.to_ascii_uppercase(), net.id).ok_or_else(|| {
                ApiError::new(Code::UnsupportedAsset, "Unsupported token/network combination")
            })?;
            parse_token_amount(&p.price.normalize().to_string(), tok.decimals).map_err(|_| {
                ApiError::new(
                    Code::AmountInvalid,
                    format!("price: {} has {} decimals", tok.symbol, tok.decimals),
                )
            })?;
            p.token = Some(tok.symbol.to_owned());
            p.network = Some(net.id.to_owned());
        }
    }
    Ok(())
}

fn kind(s: &str) -> Result<PriceKind, ApiError> {
    PriceKind::parse(s)
        .ok_or_else(|| ApiError::new(Code::InvalidValue, "currency_type must be FIAT or CRYPTO"))
}

fn price(n: &serde_json::Number) -> Result<Decimal, ApiError> {
    payd_core::money::parse_decimal(&n.to_string())
        .map_err(|_| ApiError::new(Code::AmountInvalid, "price must be a plain decimal number"))
}

/// `POST /v1/api/products`
#[utoipa::path(post, path = "/v1/api/products", tag = "products", request_body = ProductIn, responses((status = 201, body = ProductResponse, links(("GetProduct" = (operation_id = "get_product", parameters(("id" = "$response.body#/data/id")))), ("DeleteProduct" = (operation_id = "delete_product", parameters(("id" = "$response.body#/data/id")))))), Errors))]
pub async fn create_product(
    State(state): State<AppState>,
    Caller(principal, _): Caller<AstraPay>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, AstraError> {
    principal.require(Scope::ProductsManage)?;
    let bytes = body::bytes(raw, &headers)?;
    let (input, _): (ProductIn, _) = body::parse(&bytes)?;
    let merchant = principal.merchant_for(None)?;
    let now = payd_store::now();
    let mut product = Product {
        id: ProductId::new(),
        merchant_id: merchant.id.clone(),
        mode: principal.mode(),
        name: input.name.ok_or_else(|| ApiError::new(Code::MissingField, "name is required"))?,
        description: input.description.flatten(),
        price: price(&input.price.ok_or_else(|| ApiError::new(Code::MissingField, "price is required"))?)?,
        kind: kind(
            &input
                .currency_type
                .ok_or_else(|| ApiError::new(Code::MissingField, "currency_type is required"))?,
        )?,
        token: input.token.flatten(),
        network: input.network.flatten(),
        active: input.active.unwrap_or(true),
        created_at: now,
        updated_at: now,
    };
    check(&mut product)?;
    state.store.insert_product(&product).await?;
    respond(StatusCode::CREATED, ProductOut::new(&product))
}

async fn owned(state: &AppState, principal: &Principal, id: &str) -> Result<Product, AstraError> {
    let not_found = || AstraError(ApiError::new(Code::NotFound, "Product not found"));
    let product =
        state.store.get_product(&parse_id(id).ok_or_else(not_found)?).await?.ok_or_else(not_found)?;
    if !principal.merchants.iter().any(|m| m.id == product.merchant_id) {
        return Err(ApiError::new(Code::Forbidden, "Product belongs to another merchant").into());
    }
    if product.mode != principal.mode() {
        return Err(ApiError::new(Code::Forbidden, "test/live mode mismatch").into());
    }
    Ok(product)
}

/// `GET /v1/api/products/{id}`
#[utoipa::path(get, path = "/v1/api/products/{id}", tag = "products", params(("id" = String, Path, description = "The product's UUID")), responses((status = 200, body = ProductResponse), Errors))]
pub async fn get_product(
    State(state): State<AppState>,
    Caller(principal, _): Caller<AstraPay>,
    Path(id): Path<String>,
) -> Result<Response, AstraError> {
    principal.require(Scope::ProductsManage)?;
    let p = owned(&state, &principal, &id).await?;
    respond(StatusCode::OK, ProductOut::new(&p))
}

/// `PATCH` (or `PUT`) `/v1/api/products/{id}`: changes the fields sent.
#[utoipa::path(method(patch, put), path = "/v1/api/products/{id}", tag = "products", request_body = ProductIn, params(("id" = String, Path, description = "The product's UUID")), responses((status = 200, body = ProductResponse), Errors))]
pub async fn update_product(
    State(state): State<AppState>,
    Caller(principal, _): Caller<AstraPay>,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, AstraError> {
    principal.require(Scope::ProductsManage)?;
    let mut p = owned(&state, &principal, &id).await?;
    let bytes = body::bytes(raw, &headers)?;
    let (input, _): (ProductIn, _) = body::parse(&bytes)?;
    if let Some(name) = input.name {
        p.name = name;
    }
    if let Some(d) = input.description {
        p.description = d;
    }
    if let Some(n) = &input.price {
        p.price = price(n)?;
    }
    if let Some(k) = &input.currency_type {
        p.kind = kind(k)?;
    }
    if let Some(t) = input.token {
        p.token = t;
    }
    if let Some(n) = input.network {
        p.network = n;
    }
    if let Some(a) = input.active {
        p.active = a;
    }
    check(&mut p)?;
    p.updated_at = payd_store::now();
    if !state.store.update_product(&p).await? {
        return Err(ApiError::new(Code::NotFound, "Product not found").into());
    }
    respond(StatusCode::OK, ProductOut::new(&p))
}

/// `DELETE /v1/api/products/{id}`
#[utoipa::path(delete, path = "/v1/api/products/{id}", tag = "products", params(("id" = String, Path, description = "The product's UUID")), responses((status = 200, body = DeletedResponse), Errors))]
pub async fn delete_product(
    State(state): State<AppState>,
    Caller(principal, _): Caller<AstraPay>,
    Path(id): Path<String>,
) -> Result<Response, AstraError> {
    principal.require(Scope::ProductsManage)?;
    let p = owned(&state, &principal, &id).await?;
    state.store.delete_product(&p.id, payd_store::now()).await?;
    respond(
        StatusCode::OK,
        serde_json::json!({ "id": p.id.uuid().hyphenated().to_string(), "deleted": true }),
    )
}

/// `GET /v1/api/products`
#[utoipa::path(get, path = "/v1/api/products", tag = "products", params(ListIn), responses((status = 200, body = ProductPageResponse), Errors))]
pub async fn list_products(
    State(state): State<AppState>,
    Caller(principal, _): Caller<AstraPay>,
    query: Result<Query<ListIn>, QueryRejection>,
) -> Result<Response, AstraError> {
    principal.require(Scope::ProductsManage)?;
    let Query(q) = query.map_err(|e| ApiError::new(Code::InvalidQuery, e.body_text()))?;
    let (page, size) = paging(q.page(), q.page_size())?;
    let merchant = principal.merchant_for(None)?;
    let (products, total) = state
        .store
        .list_products(&merchant.id, principal.mode(), (page - 1).saturating_mul(size), size)
        .await?;
    #[derive(Serialize)]
    struct Page<'a> {
        data: Vec<ProductOut<'a>>,
        meta: super::wire::page::Meta,
    }
    respond(
        StatusCode::OK,
        Page { data: products.iter().map(ProductOut::new).collect(), meta: meta(page, size, total) },
    )
}

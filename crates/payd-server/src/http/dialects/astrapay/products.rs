//! AstraPay products (scope `products:manage`): create, list, get, update, delete. A payment
//! can then be created from a product's `id`.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use payd_core::apikey::Scope;
use payd_core::catalog::{PriceKind, Product};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::wire::envelope::respond;
use super::wire::error::{AstraError, AstraPay};
use super::wire::page::{meta, paging, ListIn};
use super::wire::product::{parse_id, ProductOut};
use super::wire::schema::{DeletedResponse, Errors, ProductPageResponse, ProductResponse};
use crate::engine::products::{self, NewProduct, ProductChange, ProductError};
use crate::http::body;
use crate::http::caller::{Caller, Principal};
use crate::http::code::Code;
use crate::http::error::ApiError;
use crate::http::schema::json_number_or_null;
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

impl From<ProductError> for AstraError {
    fn from(e: ProductError) -> Self {
        let message = e.to_string();
        let code = match e {
            ProductError::Name => Code::InvalidValue,
            ProductError::DescriptionTooLong => Code::ValueTooLong,
            ProductError::PriceTooSmall => Code::PriceTooSmall,
            ProductError::Price(_) => Code::AmountInvalid,
            ProductError::AssetRequired => Code::MissingField,
            ProductError::UnsupportedAsset => Code::UnsupportedAsset,
            ProductError::NotFound => Code::NotFound,
            ProductError::OtherMerchant | ProductError::OtherMode => Code::Forbidden,
            ProductError::Inactive => Code::ProductInactive,
            ProductError::AssetMismatch => Code::ProductAssetMismatch,
            ProductError::Amount(e) => return AstraError(super::payments::amount_error(&e)),
            ProductError::Store(e) => return e.into(),
        };
        AstraError(ApiError::new(code, message))
    }
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
    let new = NewProduct {
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
    };
    let product = products::create(&state.store, new, payd_store::now()).await?;
    respond(StatusCode::CREATED, ProductOut::new(&product))
}

async fn owned(state: &AppState, principal: &Principal, id: &str) -> Result<Product, AstraError> {
    let id = parse_id(id).ok_or(ProductError::NotFound)?;
    Ok(products::find(&state.store, &id, principal.mode(), &principal.merchants).await?)
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
    let p = owned(&state, &principal, &id).await?;
    let bytes = body::bytes(raw, &headers)?;
    let (input, _): (ProductIn, _) = body::parse(&bytes)?;
    let change = ProductChange {
        name: input.name,
        description: input.description,
        price: input.price.as_ref().map(price).transpose()?,
        kind: input.currency_type.as_deref().map(kind).transpose()?,
        token: input.token,
        network: input.network,
        active: input.active,
    };
    let p = products::update(&state.store, p, change, payd_store::now()).await?;
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
    products::delete(&state.store, &p.id, payd_store::now()).await?;
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
    let (products, total) =
        products::page(&state.store, &merchant.id, principal.mode(), (page - 1).saturating_mul(size), size)
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

// Queries for products and customers, compiled for each backend like ops.rs (included into a
// `catalog` submodule of sqlite.rs and postgres.rs, which supply `Db` and `BEGIN`).

use chrono::{DateTime, Utc};
use payd_core::apikey::Mode;
use payd_core::catalog::{CustomerRecord, PriceKind, Product};
use payd_core::ids::{CustomerId, MerchantId, ProductId};
use sqlx::Pool;

use crate::rows::{corrupt, from_ms, ms};
use crate::StoreError;

const PRODUCT_COLUMNS: &str =
    "id, merchant_id, mode, name, description, price, currency_type, token, network, active, created_at, updated_at";

#[derive(Debug, sqlx::FromRow)]
struct ProductRow {
    id: String,
    merchant_id: String,
    mode: String,
    name: String,
    description: Option<String>,
    price: String,
    currency_type: String,
    token: Option<String>,
    network: Option<String>,
    active: bool,
    created_at: i64,
    updated_at: i64,
}

fn product(r: ProductRow) -> Result<Product, StoreError> {
    Ok(Product {
        id: r.id.parse().map_err(|_| corrupt("product id", &r.id))?,
        merchant_id: r.merchant_id.parse().map_err(|_| corrupt("merchant id", &r.merchant_id))?,
        mode: Mode::parse(&r.mode).ok_or_else(|| corrupt("mode", &r.mode))?,
        name: r.name,
        description: r.description,
        price: r.price.parse().map_err(|_| corrupt("price", &r.price))?,
        kind: PriceKind::parse(&r.currency_type).ok_or_else(|| corrupt("currency type", &r.currency_type))?,
        token: r.token,
        network: r.network,
        active: r.active,
        created_at: from_ms(r.created_at)?,
        updated_at: from_ms(r.updated_at)?,
    })
}

pub(crate) async fn insert_product(pool: &Pool<Db>, p: &Product) -> Result<(), StoreError> {
    let sql = format!("INSERT INTO products ({PRODUCT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)");
    sqlx::query(&sql)
        .bind(p.id.to_string())
        .bind(p.merchant_id.to_string())
        .bind(p.mode.as_str())
        .bind(&p.name)
        .bind(&p.description)
        .bind(p.price.to_string())
        .bind(p.kind.as_str())
        .bind(&p.token)
        .bind(&p.network)
        .bind(p.active)
        .bind(ms(p.created_at))
        .bind(ms(p.updated_at))
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn get_product(pool: &Pool<Db>, id: &ProductId) -> Result<Option<Product>, StoreError> {
    let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE id = $1 AND NOT deleted");
    let row: Option<ProductRow> = sqlx::query_as(&sql).bind(id.to_string()).fetch_optional(pool).await?;
    row.map(product).transpose()
}

pub(crate) async fn list_products(
    pool: &Pool<Db>,
    merchant: &MerchantId,
    mode: Mode,
    offset: u32,
    limit: u32,
) -> Result<(Vec<Product>, i64), StoreError> {
    let sql = format!(
        "SELECT {PRODUCT_COLUMNS} FROM products WHERE merchant_id = $1 AND mode = $2 AND NOT deleted \
         ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    );
    let rows: Vec<ProductRow> = sqlx::query_as(&sql)
        .bind(merchant.to_string())
        .bind(mode.as_str())
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(pool)
        .await?;
    let (total,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM products WHERE merchant_id = $1 AND mode = $2 AND NOT deleted")
            .bind(merchant.to_string())
            .bind(mode.as_str())
            .fetch_one(pool)
            .await?;
    Ok((rows.into_iter().map(product).collect::<Result<_, _>>()?, total))
}

pub(crate) async fn update_product(pool: &Pool<Db>, p: &Product) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "UPDATE products SET name = $2, description = $3, price = $4, currency_type = $5, token = $6, \
         network = $7, active = $8, updated_at = $9 WHERE id = $1 AND NOT deleted",
    )
    .bind(p.id.to_string())
    .bind(&p.name)
    .bind(&p.description)
    .bind(p.price.to_string())
    .bind(p.kind.as_str())
    .bind(&p.token)
    .bind(&p.network)
    .bind(p.active)
    .bind(ms(p.updated_at))
    .execute(pool)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Soft delete: payments created from the product keep pointing at a real row.
pub(crate) async fn delete_product(pool: &Pool<Db>, id: &ProductId, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let n = sqlx::query("UPDATE products SET deleted = TRUE, active = FALSE, updated_at = $2 WHERE id = $1 AND NOT deleted")
        .bind(id.to_string())
        .bind(ms(now))
        .execute(pool)
        .await?
        .rows_affected();
    Ok(n == 1)
}

#[derive(Debug, sqlx::FromRow)]
struct CustomerRow {
    id: String,
    merchant_id: String,
    mode: String,
    external_id: Option<String>,
    email: Option<String>,
    name: Option<String>,
    created_at: i64,
    updated_at: i64,
}

fn customer(r: CustomerRow) -> Result<CustomerRecord, StoreError> {
    Ok(CustomerRecord {
        id: r.id.parse().map_err(|_| corrupt("customer id", &r.id))?,
        merchant_id: r.merchant_id.parse().map_err(|_| corrupt("merchant id", &r.merchant_id))?,
        mode: Mode::parse(&r.mode).ok_or_else(|| corrupt("mode", &r.mode))?,
        external_id: r.external_id,
        email: r.email,
        name: r.name,
        created_at: from_ms(r.created_at)?,
        updated_at: from_ms(r.updated_at)?,
    })
}

pub(crate) async fn insert_customer(pool: &Pool<Db>, c: &CustomerRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO customers (id, merchant_id, mode, external_id, email, name, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(c.id.to_string())
    .bind(c.merchant_id.to_string())
    .bind(c.mode.as_str())
    .bind(&c.external_id)
    .bind(&c.email)
    .bind(&c.name)
    .bind(ms(c.created_at))
    .bind(ms(c.updated_at))
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn get_customer(pool: &Pool<Db>, id: &CustomerId) -> Result<Option<CustomerRecord>, StoreError> {
    let row: Option<CustomerRow> = sqlx::query_as(
        "SELECT id, merchant_id, mode, external_id, email, name, created_at, updated_at FROM customers WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(pool)
    .await?;
    row.map(customer).transpose()
}

pub(crate) async fn set_merchant_min_amount(
    pool: &Pool<Db>,
    merchant: &MerchantId,
    min_usd: Option<String>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = sqlx::query("UPDATE merchants SET min_amount_usd = $2, updated_at = $3 WHERE id = $1")
        .bind(merchant.to_string())
        .bind(min_usd)
        .bind(ms(now))
        .execute(pool)
        .await?
        .rows_affected();
    Ok(n == 1)
}

pub(crate) async fn merchant_min_amount(pool: &Pool<Db>, merchant: &MerchantId) -> Result<Option<String>, StoreError> {
    let row: Option<(Option<String>,)> = sqlx::query_as("SELECT min_amount_usd FROM merchants WHERE id = $1")
        .bind(merchant.to_string())
        .fetch_optional(pool)
        .await?;
    Ok(row.and_then(|(v,)| v))
}

pub(crate) async fn set_merchant_underpayment_tolerance(
    pool: &Pool<Db>,
    merchant: &MerchantId,
    basis_points: i64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = sqlx::query("UPDATE merchants SET underpayment_tolerance_bp = $2, updated_at = $3 WHERE id = $1")
        .bind(merchant.to_string())
        .bind(basis_points)
        .bind(ms(now))
        .execute(pool)
        .await?
        .rows_affected();
    Ok(n == 1)
}

pub(crate) async fn merchant_underpayment_tolerance(
    pool: &Pool<Db>,
    merchant: &MerchantId,
) -> Result<Option<i64>, StoreError> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT underpayment_tolerance_bp FROM merchants WHERE id = $1")
        .bind(merchant.to_string())
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|(v,)| v))
}

pub(crate) async fn set_merchant_settlement(
    pool: &Pool<Db>,
    merchant: &MerchantId,
    asset: Option<(String, String)>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let (token, network) = asset.unzip();
    let n = sqlx::query("UPDATE merchants SET settlement_token = $2, settlement_network = $3, updated_at = $4 WHERE id = $1")
        .bind(merchant.to_string())
        .bind(token)
        .bind(network)
        .bind(ms(now))
        .execute(pool)
        .await?
        .rows_affected();
    Ok(n == 1)
}

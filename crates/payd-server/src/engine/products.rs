//! Products (AstraPay's catalogue today): the rules of a product's name, price and asset,
//! create, find as one caller sees it, change, delete and page; and the price of a payment
//! created from a product (active, the caller's, in the token and network asked for).

use chrono::{DateTime, Utc};
use payd_core::apikey::Mode;
use payd_core::catalog::{PriceKind, Product};
use payd_core::ids::{MerchantId, ProductId};
use payd_core::merchant::Merchant;
use payd_core::money::{Currency, Money, MoneyError};
use payd_core::registry;
use payd_core::token::parse_token_amount;
use payd_store::{Store, StoreError};
use rust_decimal::Decimal;

use super::fields::{MAX_DESCRIPTION, MAX_TEXT};

/// Why a product operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum ProductError {
    /// The name is empty or longer than [`MAX_TEXT`].
    #[error("name must be 1 to 255 characters")]
    Name,
    /// The description is longer than [`MAX_DESCRIPTION`].
    #[error("description is longer than 1000 characters")]
    DescriptionTooLong,
    /// The price is below one cent.
    #[error("price must be at least 0.01")]
    PriceTooSmall,
    /// The price is not an amount of the product's currency or token (why).
    #[error("price: {0}")]
    Price(String),
    /// A token price without its token and network.
    #[error("token and network are required for CRYPTO products")]
    AssetRequired,
    /// The token and network name no asset payd knows.
    #[error("Unsupported token/network combination")]
    UnsupportedAsset,
    /// No such product, or one the caller may not see where that is not told apart.
    #[error("Product not found")]
    NotFound,
    /// The product belongs to a merchant the caller does not act for.
    #[error("Product belongs to another merchant")]
    OtherMerchant,
    /// The product is in the other mode (test or live).
    #[error("test/live mode mismatch")]
    OtherMode,
    /// A payment was asked for from an inactive product.
    #[error("Product is not active")]
    Inactive,
    /// A payment was asked for in another token or network than the product's price.
    #[error("This product is priced in another token or network")]
    AssetMismatch,
    /// The product's price is not a payable amount.
    #[error(transparent)]
    Amount(MoneyError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A product to create.
#[derive(Debug, Clone)]
pub struct NewProduct {
    /// Owner.
    pub merchant_id: MerchantId,
    /// Mode.
    pub mode: Mode,
    /// Name.
    pub name: String,
    /// Shown at checkout.
    pub description: Option<String>,
    /// Price: USD for `Fiat`, whole tokens for `Crypto`.
    pub price: Decimal,
    /// How `price` is meant.
    pub kind: PriceKind,
    /// Token (for `Crypto`).
    pub token: Option<String>,
    /// Network (for `Crypto`).
    pub network: Option<String>,
    /// Whether payments can be created from it.
    pub active: bool,
}

/// Changes to a product; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProductChange {
    /// A new name.
    pub name: Option<String>,
    /// A new description, or `Some(None)` to clear it.
    pub description: Option<Option<String>>,
    /// A new price.
    pub price: Option<Decimal>,
    /// A new kind of price.
    pub kind: Option<PriceKind>,
    /// A new token, or `Some(None)` to clear it.
    pub token: Option<Option<String>>,
    /// A new network, or `Some(None)` to clear it.
    pub network: Option<Option<String>>,
    /// Activate or deactivate.
    pub active: Option<bool>,
}

/// Checks a product's name, price, kind and asset, normalising token and network (a fiat
/// price has neither; a token price names the registry's symbol and network id).
fn check(p: &mut Product) -> Result<(), ProductError> {
    if p.name.trim().is_empty() || p.name.chars().count() > MAX_TEXT {
        return Err(ProductError::Name);
    }
    if p.description.as_ref().is_some_and(|d| d.chars().count() > MAX_DESCRIPTION) {
        return Err(ProductError::DescriptionTooLong);
    }
    if p.price < Decimal::new(1, 2) {
        return Err(ProductError::PriceTooSmall);
    }
    match p.kind {
        PriceKind::Fiat => {
            Money::new(p.price, Currency::USD).map_err(|e| ProductError::Price(e.to_string()))?;
            p.token = None;
            p.network = None;
        }
        PriceKind::Crypto => {
            let (Some(token), Some(network)) = (p.token.as_deref(), p.network.as_deref()) else {
                return Err(ProductError::AssetRequired);
            };
            let net = registry::resolve_network(network).ok_or(ProductError::UnsupportedAsset)?;
            let tok =
                registry::token(&token.to_ascii_uppercase(), net.id).ok_or(ProductError::UnsupportedAsset)?;
            parse_token_amount(&p.price.normalize().to_string(), tok.decimals)
                .map_err(|_| ProductError::Price(format!("{} has {} decimals", tok.symbol, tok.decimals)))?;
            p.token = Some(tok.symbol.to_owned());
            p.network = Some(net.id.to_owned());
        }
    }
    Ok(())
}

/// Creates a product after checking it.
pub async fn create(store: &Store, new: NewProduct, now: DateTime<Utc>) -> Result<Product, ProductError> {
    let mut product = Product {
        id: ProductId::new(),
        merchant_id: new.merchant_id,
        mode: new.mode,
        name: new.name,
        description: new.description,
        price: new.price,
        kind: new.kind,
        token: new.token,
        network: new.network,
        active: new.active,
        created_at: now,
        updated_at: now,
    };
    check(&mut product)?;
    store.insert_product(&product).await?;
    Ok(product)
}

/// The product `id` names, as a caller in `mode` acting for `merchants` sees it: another
/// merchant's product is [`ProductError::OtherMerchant`], the other mode's
/// [`ProductError::OtherMode`] (an API chooses how to answer these).
pub async fn find(
    store: &Store,
    id: &ProductId,
    mode: Mode,
    merchants: &[Merchant],
) -> Result<Product, ProductError> {
    let product = store.get_product(id).await?.ok_or(ProductError::NotFound)?;
    if !merchants.iter().any(|m| m.id == product.merchant_id) {
        return Err(ProductError::OtherMerchant);
    }
    if product.mode != mode {
        return Err(ProductError::OtherMode);
    }
    Ok(product)
}

/// Applies `change` to `product`, checks the result and stores it.
pub async fn update(
    store: &Store,
    mut product: Product,
    change: ProductChange,
    now: DateTime<Utc>,
) -> Result<Product, ProductError> {
    let ProductChange { name, description, price, kind, token, network, active } = change;
    if let Some(name) = name {
        product.name = name;
    }
    if let Some(d) = description {
        product.description = d;
    }
    if let Some(price) = price {
        product.price = price;
    }
    if let Some(kind) = kind {
        product.kind = kind;
    }
    if let Some(t) = token {
        product.token = t;
    }
    if let Some(n) = network {
        product.network = n;
    }
    if let Some(a) = active {
        product.active = a;
    }
    check(&mut product)?;
    product.updated_at = now;
    if !store.update_product(&product).await? {
        return Err(ProductError::NotFound);
    }
    Ok(product)
}

/// Deletes a product: payments already created from it keep their price.
pub async fn delete(store: &Store, id: &ProductId, now: DateTime<Utc>) -> Result<(), ProductError> {
    store.delete_product(id, now).await?;
    Ok(())
}

/// One page of a merchant's products in `mode`, and how many there are in all.
pub async fn page(
    store: &Store,
    merchant_id: &MerchantId,
    mode: Mode,
    offset: u32,
    limit: u32,
) -> Result<(Vec<Product>, i64), ProductError> {
    Ok(store.list_products(merchant_id, mode, offset, limit).await?)
}

/// The price of a payment created from a product: the caller's (another merchant's or
/// mode's product is [`ProductError::NotFound`]), active, and, for a token price, asked for
/// in that token and network. A token price is a price in the token's peg currency (every
/// shipped token is a USD stablecoin).
pub async fn price(
    store: &Store,
    id: &ProductId,
    mode: Mode,
    merchants: &[Merchant],
    token: &str,
    network: &str,
) -> Result<Money, ProductError> {
    let product = find(store, id, mode, merchants).await.map_err(|e| match e {
        ProductError::OtherMerchant | ProductError::OtherMode => ProductError::NotFound,
        other => other,
    })?;
    if !product.active {
        return Err(ProductError::Inactive);
    }
    if product.kind == PriceKind::Crypto {
        let same_token = product.token.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(token));
        let same_network = product.network.as_deref().and_then(registry::resolve_network).map(|n| n.id)
            == registry::resolve_network(network).map(|n| n.id);
        if !same_token || !same_network {
            return Err(ProductError::AssetMismatch);
        }
    }
    Money::new(product.price, Currency::USD).map_err(ProductError::Amount)
}

//! What merchants keep beside payments: products to sell and customers to bill.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::apikey::Mode;
use crate::ids::{CustomerId, MerchantId, ProductId};

/// How a product is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PriceKind {
    /// In USD.
    #[serde(rename = "FIAT")]
    Fiat,
    /// In units of a token (the product names the token and network).
    #[serde(rename = "CRYPTO")]
    Crypto,
}

impl PriceKind {
    /// The stored and AstraPay spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PriceKind::Fiat => "FIAT",
            PriceKind::Crypto => "CRYPTO",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "FIAT" => Some(Self::Fiat),
            "CRYPTO" => Some(Self::Crypto),
            _ => None,
        }
    }
}

/// A product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Product {
    /// Id.
    pub id: ProductId,
    /// Owner.
    pub merchant_id: MerchantId,
    /// Mode it was created in.
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
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A customer record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerRecord {
    /// Id.
    pub id: CustomerId,
    /// Owner.
    pub merchant_id: MerchantId,
    /// Mode.
    pub mode: Mode,
    /// The merchant's own id for the customer.
    pub external_id: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

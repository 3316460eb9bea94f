//! Accounts and merchants.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AccountId, MerchantId};

/// Whether a merchant may transact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MerchantStatus {
    /// Normal operation.
    Active,
    /// Every API call with its keys is refused with 403; payments already made keep settling.
    Suspended,
}

impl MerchantStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MerchantStatus::Active => "active",
            MerchantStatus::Suspended => "suspended",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "suspended" => Some(Self::Suspended),
            _ => None,
        }
    }
}

/// An account owns merchants, and keys that span them (Paygentic's `merchantId`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// Id.
    pub id: AccountId,
    /// Display name.
    pub name: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A merchant: a shop that receives payments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Merchant {
    /// Id.
    pub id: MerchantId,
    /// The owning account.
    pub account_id: AccountId,
    /// Display name (shown on the checkout page, AlpPay's `merchant.name`).
    pub name: String,
    /// Contact email.
    pub email: Option<String>,
    /// The shop's site.
    pub site_url: Option<String>,
    /// Logo shown on the checkout page.
    pub logo_url: Option<String>,
    /// Active or suspended.
    pub status: MerchantStatus,
    /// Default settlement asset as `(token, network)`, e.g. `("USDC", "base")`, used when a
    /// payment names no asset and a dialect needs one (MutoPay's "preferred stablecoin").
    pub settlement_asset: Option<(String, String)>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// What `merchant create` needs.
#[derive(Debug, Clone, Default)]
pub struct NewMerchant {
    /// Display name; required and non-empty.
    pub name: String,
    /// Contact email.
    pub email: Option<String>,
    /// Site URL.
    pub site_url: Option<String>,
    /// Logo URL.
    pub logo_url: Option<String>,
    /// An existing account to attach to; `None` creates a new account named after the merchant.
    pub account_id: Option<AccountId>,
}

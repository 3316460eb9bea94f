//! The store's API for a merchant's checkout settings: the (token, network) pairs it offers
//! at checkout (none stored: every asset the instance offers) and its profile (contact email,
//! site URL), and the settings payments follow (`MerchantConfig`), each change written with
//! its audit line in one transaction.

use chrono::{DateTime, Utc};
use payd_core::ids::MerchantId;

use crate::keycache::MerchantRead;
use crate::users::AuditEntry;
use crate::{postgres, sqlite, Store, StoreError};

/// Settings to write together; `None` leaves one as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MerchantConfig {
    /// The smallest payment in USD, as decimal text (`Some(None)` clears it).
    pub min_amount_usd: Option<Option<String>>,
    /// The settlement asset `(token, network)` (`Some(None)` clears it).
    pub settlement: Option<Option<(String, String)>>,
    /// The underpayment tolerance in basis points (0 to 10,000, a CHECK constraint).
    pub underpayment_tolerance_bp: Option<u32>,
    /// Extended public keys per chain family (`evm`, `tron`); `None` removes one.
    pub xpubs: Vec<(String, Option<String>)>,
    /// The assets offered at checkout (empty: all).
    pub assets: Option<Vec<(String, String)>>,
}

impl Store {
    /// Writes the settings `change` names and `audit`, in one transaction: the line exists
    /// exactly when the change does. `false` when there is no such merchant (nothing written).
    pub async fn configure_merchant(
        &self,
        merchant: &MerchantId,
        change: &MerchantConfig,
        audit: &AuditEntry,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = dispatch!(self, settings::configure(merchant, change, audit, now));
        // It touches the merchants row: this node's cached merchants go at once.
        self.forget_api_keys();
        done
    }

    /// The `(token, network)` pairs `merchant` offers at checkout, ordered by network then
    /// token; empty when it never chose (every asset the instance offers).
    ///
    /// On PostgreSQL the answer may come from the node's key cache, which every change of a
    /// merchant or of these pairs, on any node, empties (`keycache.rs`).
    pub async fn merchant_assets(&self, merchant: &MerchantId) -> Result<Vec<(String, String)>, StoreError> {
        match self {
            Store::Sqlite(p, _) => sqlite::settings::assets(p, merchant).await,
            Store::Postgres(p, c) => {
                let cache = c.keys();
                cache.start(p);
                let key = MerchantRead::assets_key(&merchant.to_string());
                if let Some(MerchantRead::Assets(assets)) = cache.read(&key) {
                    return Ok(assets);
                }
                let epoch = cache.epoch();
                let assets = postgres::settings::assets(p, merchant).await?;
                cache.put_read(key, MerchantRead::Assets(assets.clone()), epoch);
                Ok(assets)
            }
        }
    }

    /// Replaces the pairs `merchant` offers (empty: every asset again) and writes `audit`,
    /// in one transaction. `false` when there is no such merchant (nothing written).
    pub async fn set_merchant_assets(
        &self,
        merchant: &MerchantId,
        assets: &[(String, String)],
        audit: &AuditEntry,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = dispatch!(self, settings::set_assets(merchant, assets, audit, now));
        // It touches the merchants row: this node's cached merchants go at once.
        self.forget_api_keys();
        done
    }

    /// Sets (or clears) `merchant`'s contact email and site URL and writes `audit`, in one
    /// transaction. `false` when there is no such merchant (nothing written).
    pub async fn set_merchant_profile(
        &self,
        merchant: &MerchantId,
        email: Option<&str>,
        site_url: Option<&str>,
        audit: &AuditEntry,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = dispatch!(self, settings::set_profile(merchant, email, site_url, audit, now));
        // It touches the merchants row: this node's cached merchants go at once.
        self.forget_api_keys();
        done
    }
}

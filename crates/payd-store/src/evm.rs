//! The store's API for live chains: each merchant's extended public key per chain family
//! (`merchant_xpubs`), the per-network watcher lease (one payd node scans a network at a time; the others stand by and take over
//! when the lease expires), and a client's persistent deposit address.

use chrono::{DateTime, Utc};
use payd_core::ids::MerchantId;
use payd_core::registry::Family;

use crate::keycache::MerchantRead;
use crate::{postgres, sqlite, Store, StoreError};

impl Store {
    /// Sets (or clears) a merchant's account-level xpub for a chain family; `false` when
    /// there is no such merchant.
    pub async fn set_merchant_xpub(
        &self,
        merchant: &MerchantId,
        family: Family,
        xpub: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = dispatch!(self, evm::set_merchant_xpub(merchant, family.as_str(), xpub, now));
        self.forget_api_keys();
        done
    }

    /// A merchant's account-level xpub for a chain family.
    pub async fn merchant_xpub(
        &self,
        merchant: &MerchantId,
        family: Family,
    ) -> Result<Option<String>, StoreError> {
        match self {
            Store::Sqlite(p, _) => sqlite::evm::merchant_xpub(p, merchant, family.as_str()).await,
            // Read by every live create: cached beside the keys (`keycache.rs`), emptied by
            // every change of a merchant's keys on any node.
            Store::Postgres(p, c) => {
                let cache = c.keys();
                cache.start(p);
                let key = MerchantRead::xpub_key(&merchant.to_string(), family.as_str());
                if let Some(MerchantRead::Xpub(xpub)) = cache.read(&key) {
                    return Ok(xpub);
                }
                let epoch = cache.epoch();
                let xpub = postgres::evm::merchant_xpub(p, merchant, family.as_str()).await?;
                cache.put_read(key, MerchantRead::Xpub(xpub.clone()), epoch);
                Ok(xpub)
            }
        }
    }

    /// Takes or renews the watcher lease of `network` for `holder` until `until`. `false`:
    /// another holder's lease is still live.
    pub async fn acquire_lease(
        &self,
        network: &str,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        dispatch!(self, evm::acquire_lease(network, holder, until, now))
    }

    /// Gives a lease up (on shutdown), so another node takes over at once.
    pub async fn release_lease(&self, network: &str, holder: &str) -> Result<(), StoreError> {
        dispatch!(self, evm::release_lease(network, holder))
    }

    /// Who holds a network's lease, and until when.
    pub async fn lease_holder(&self, network: &str) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        let row: Option<(String, i64)> = dispatch!(self, evm::lease_holder(network))?;
        row.map(|(h, t)| Ok((h, crate::rows::from_ms(t)?))).transpose()
    }

    /// Every active merchant with its xpub for `family` (if any), for `payd config check`.
    pub async fn merchant_xpubs(
        &self,
        family: Family,
    ) -> Result<Vec<(MerchantId, Option<String>)>, StoreError> {
        let rows: Vec<(String, Option<String>)> = dispatch!(self, evm::merchant_xpubs(family.as_str()))?;
        rows.into_iter()
            .map(|(id, x)| Ok((id.parse().map_err(|_| crate::rows::corrupt("merchant id", &id))?, x)))
            .collect()
    }

    /// Those of `candidates` (written as payd stores them) that payd derived for `family`:
    /// one indexed lookup per step for the recipients no open payment claims.
    pub async fn derived_among(
        &self,
        family: &str,
        candidates: &[String],
    ) -> Result<Vec<String>, StoreError> {
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        dispatch!(self, evm::derived_among(family, candidates))
    }
}

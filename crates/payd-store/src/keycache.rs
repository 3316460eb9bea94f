//! A node-local cache of API keys by the hash of their secret, with the merchants each key
//! acts for, for PostgreSQL: every API request looks its key and its merchants up, and on a
//! shared database those round trips (each with the pool's own ping on release) are a large
//! part of a create's cost. Correctness rests on invalidation, not on a time to live:
//!
//! - triggers run `pg_notify('payd_api_keys')` whenever a key's authenticating columns change
//!   or a key is deleted (migration `0014`), and on every change of the merchants table
//!   its checkout assets and its extended public keys (`0017`: a suspension, a new merchant
//!   of an account, a setting, a new xpub),
//!   and each node's listener
//!   empties its cache on the notification, so a key revoked or a merchant suspended on any
//!   node (or in SQL) is seen by every node within the notification's latency; the node that
//!   made the change empties its own cache at once (`Store::forget_api_keys`);
//! - the cache answers only while its listener is connected and listening: before the first
//!   `LISTEN`, and from a lost connection until the listener is back, every lookup goes to the
//!   database (and the cache is emptied, as notifications may have been missed);
//! - a lookup that raced an invalidation (it read the row before the notification, and would
//!   insert after it) is not cached: each invalidation bumps an epoch, and an entry is only
//!   kept if the epoch did not move while its row was read.
//!
//! SQLite has one node by construction and its lookup is an in-process call: no cache.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use payd_core::apikey::ApiKey;
use payd_core::ids::ApiKeyId;
use payd_core::merchant::Merchant;
use sqlx::postgres::PgListener;
use sqlx::PgPool;

/// The channel the trigger notifies.
const CHANNEL: &str = "payd_api_keys";

/// Keys held at most; past it the cache starts over (it only ever holds keys that
/// authenticated a request, so this bounds memory, not correctness).
const MAX_ENTRIES: usize = 10_000;

/// A merchant setting the create path reads on every create, cached beside the keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MerchantRead {
    /// The `(token, network)` pairs offered at checkout (empty: all).
    Assets(Vec<(String, String)>),
    /// The extended public key of a chain family, if set.
    Xpub(Option<String>),
}

impl MerchantRead {
    /// Where a merchant's assets are kept.
    pub(crate) fn assets_key(merchant: &str) -> String {
        format!("assets {merchant}")
    }

    /// Where a merchant's xpub of `family` is kept.
    pub(crate) fn xpub_key(merchant: &str, family: &str) -> String {
        format!("xpub {merchant} {family}")
    }
}

/// A cached key, and the merchants it acts for once a request asked.
struct Entry {
    key: ApiKey,
    merchants: Option<Vec<Merchant>>,
}

/// See the module's documentation.
#[derive(Default)]
pub(crate) struct KeyCache {
    entries: Mutex<HashMap<String, Entry>>,
    /// A merchant's settings that every create reads, by [`MerchantRead::key`]. Locked only
    /// while `entries` is held, so an invalidation (which holds `entries`) empties both at
    /// once.
    reads: Mutex<HashMap<String, MerchantRead>>,
    epoch: AtomicU64,
    listening: AtomicBool,
    started: OnceLock<()>,
}

impl KeyCache {
    /// Starts the listener (once, on the first lookup: the runtime that makes it is the
    /// server's).
    pub(crate) fn start(self: &Arc<Self>, pool: &PgPool) {
        self.started.get_or_init(|| {
            tokio::spawn(listen(Arc::downgrade(self), pool.clone()));
        });
    }

    /// The cached key, if the cache may answer.
    pub(crate) fn get(&self, hash: &str) -> Option<ApiKey> {
        if !self.listening.load(Ordering::Acquire) {
            return None;
        }
        self.lock().get(hash).map(|e| e.key.clone())
    }

    /// The merchants of the cached key, if the cache may answer and holds them.
    pub(crate) fn merchants(&self, hash: &str) -> Option<Vec<Merchant>> {
        if !self.listening.load(Ordering::Acquire) {
            return None;
        }
        self.lock().get(hash).and_then(|e| e.merchants.clone())
    }

    /// The epoch to pass to [`KeyCache::put`] for a lookup starting now.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Keeps `key`, read from the database after [`KeyCache::epoch`] returned `epoch`,
    /// unless the cache was invalidated meanwhile or is not listening.
    pub(crate) fn put(&self, hash: &str, key: ApiKey, epoch: u64) {
        if !self.listening.load(Ordering::Acquire) {
            return;
        }
        let mut entries = self.lock();
        // Checked under the lock, which `invalidate` also takes: no entry read before an
        // invalidation is inserted after it.
        if self.epoch.load(Ordering::Acquire) != epoch {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(hash.to_owned(), Entry { key, merchants: None });
    }

    /// Keeps the merchants of the key cached under `hash`, read after [`KeyCache::epoch`]
    /// returned `epoch`, on the same terms as [`KeyCache::put`]. A key not cached (yet, or
    /// any more) keeps nothing: its merchants are only held beside it.
    pub(crate) fn put_merchants(&self, hash: &str, merchants: Vec<Merchant>, epoch: u64) {
        if !self.listening.load(Ordering::Acquire) {
            return;
        }
        let mut entries = self.lock();
        if self.epoch.load(Ordering::Acquire) != epoch {
            return;
        }
        if let Some(entry) = entries.get_mut(hash) {
            entry.merchants = Some(merchants);
        }
    }

    /// A cached merchant setting (`key` from [`MerchantRead::key`]), if the cache may answer
    /// and holds it.
    pub(crate) fn read(&self, key: &str) -> Option<MerchantRead> {
        if !self.listening.load(Ordering::Acquire) {
            return None;
        }
        let _entries = self.lock();
        self.reads.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(key).cloned()
    }

    /// Keeps a merchant setting read after [`KeyCache::epoch`] returned `epoch`, on the same
    /// terms as [`KeyCache::put`].
    pub(crate) fn put_read(&self, key: String, value: MerchantRead, epoch: u64) {
        if !self.listening.load(Ordering::Acquire) {
            return;
        }
        let _entries = self.lock();
        if self.epoch.load(Ordering::Acquire) != epoch {
            return;
        }
        let mut held = self.reads.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if held.len() >= MAX_ENTRIES {
            held.clear();
        }
        held.insert(key, value);
    }

    /// Updates the cached key's "last used" time, so that a cached key does not look
    /// unused to [`ApiKey::use_is_news`] and get written on every request.
    pub(crate) fn note_use(&self, id: &ApiKeyId, at: chrono::DateTime<chrono::Utc>) {
        for Entry { key, .. } in self.lock().values_mut() {
            if &key.id == id && key.last_used_at.is_none_or(|t| t < at) {
                key.last_used_at = Some(at);
            }
        }
    }

    /// Forgets every key (a key changed somewhere, or notifications may have been missed).
    pub(crate) fn invalidate(&self) {
        let mut entries = self.lock();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        entries.clear();
        self.reads.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    }

    fn set_listening(&self, on: bool) {
        // Emptied before it answers again: whatever it held may have changed unseen.
        self.invalidate();
        self.listening.store(on, Ordering::Release);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock cannot leave a half-written map (inserts and
        // clears are single calls): the poison is ignored.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The listener: (re)connects, listens, and invalidates the cache on each notification,
/// until the pool is closed or the store is dropped.
async fn listen(cache: std::sync::Weak<KeyCache>, pool: PgPool) {
    let mut failures = 0u32;
    loop {
        let session = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            if let Some(c) = cache.upgrade() {
                c.set_listening(true);
            }
            failures = 0;
            loop {
                let Some(c) = cache.upgrade() else { return Ok::<(), sqlx::Error>(()) };
                // Never hold the cache across the wait: a dropped store ends the task at its
                // next notification or reconnect.
                drop(c);
                // `None`: the connection was lost and re-established (`LISTEN` renewed);
                // notifications of the gap are lost. Either way, forget everything.
                let _notification = listener.try_recv().await?;
                let Some(c) = cache.upgrade() else { return Ok(()) };
                c.invalidate();
            }
        };
        match session.await {
            Ok(()) => return,
            Err(sqlx::Error::PoolClosed) => return,
            Err(e) => {
                let Some(c) = cache.upgrade() else { return };
                c.set_listening(false);
                drop(c);
                failures = failures.saturating_add(1);
                tracing::warn!(error = %e, failures, "API key cache: listener lost; keys are read from the database until it is back");
                tokio::time::sleep(Duration::from_millis(250).saturating_mul(1 << failures.min(8))).await;
                if pool.is_closed() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use payd_core::apikey::Mode;
    use payd_core::ids::AccountId;

    fn key() -> ApiKey {
        ApiKey {
            id: ApiKeyId::new(),
            account_id: AccountId::new(),
            merchant_id: None,
            mode: Mode::Test,
            scopes: Vec::new(),
            prefix: "pk_test_abcd".into(),
            signing_secret_sealed: "sealed".into(),
            created_at: crate::now(),
            revoked_at: None,
            last_used_at: None,
        }
    }

    #[test]
    fn it_answers_only_while_listening() {
        let cache = KeyCache::default();
        let epoch = cache.epoch();
        cache.put("h", key(), epoch);
        assert!(cache.get("h").is_none(), "not listening yet: nothing kept, nothing answered");
        cache.set_listening(true);
        let epoch = cache.epoch();
        cache.put("h", key(), epoch);
        assert!(cache.get("h").is_some());
        cache.set_listening(false);
        assert!(cache.get("h").is_none(), "a lost listener stops the answers");
        cache.set_listening(true);
        assert!(cache.get("h").is_none(), "and what it held is gone when it is back");
    }

    #[test]
    fn a_lookup_that_raced_an_invalidation_is_not_kept() {
        let cache = KeyCache::default();
        cache.set_listening(true);
        let before = cache.epoch();
        // The row is read, then a notification empties the cache before the read is kept.
        cache.invalidate();
        cache.put("h", key(), before);
        assert!(cache.get("h").is_none());
    }

    fn merchant() -> Merchant {
        let now = crate::now();
        Merchant {
            id: payd_core::ids::MerchantId::new(),
            account_id: AccountId::new(),
            name: "Shop".into(),
            email: None,
            site_url: None,
            logo_url: None,
            status: payd_core::merchant::MerchantStatus::Active,
            settlement_asset: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn merchants_are_kept_beside_their_key_and_go_with_every_invalidation() {
        let cache = KeyCache::default();
        cache.set_listening(true);
        let epoch = cache.epoch();
        cache.put_merchants("h", vec![merchant()], epoch);
        assert!(cache.merchants("h").is_none(), "no key cached: nothing kept beside it");
        cache.put("h", key(), epoch);
        assert!(cache.merchants("h").is_none(), "the key alone says nothing of its merchants");
        cache.put_merchants("h", vec![merchant()], epoch);
        assert_eq!(cache.merchants("h").map(|m| m.len()), Some(1));
        // A merchant changed (a notification, or this node's own write): both go.
        cache.invalidate();
        assert!(cache.merchants("h").is_none() && cache.get("h").is_none());
        // Merchants read before that invalidation are not kept after it.
        let stale = cache.epoch();
        cache.put("h", key(), stale);
        cache.invalidate();
        cache.put("h", key(), cache.epoch());
        cache.put_merchants("h", vec![merchant()], stale);
        assert!(cache.merchants("h").is_none());
        cache.set_listening(false);
        cache.set_listening(true);
        cache.put("h", key(), cache.epoch());
        cache.put_merchants("h", vec![merchant()], cache.epoch());
        cache.set_listening(false);
        assert!(cache.merchants("h").is_none(), "a lost listener stops the answers");
    }

    #[test]
    fn merchant_reads_are_kept_until_the_next_invalidation() {
        let cache = KeyCache::default();
        let assets = || MerchantRead::Assets(vec![("USDC".to_owned(), "base".to_owned())]);
        let key = || MerchantRead::assets_key("m");
        cache.put_read(key(), assets(), cache.epoch());
        assert!(cache.read(&key()).is_none(), "not listening: nothing kept");
        cache.set_listening(true);
        cache.put_read(key(), assets(), cache.epoch());
        cache.put_read(MerchantRead::xpub_key("m", "evm"), MerchantRead::Xpub(None), cache.epoch());
        assert_eq!(cache.read(&key()), Some(assets()));
        assert_eq!(cache.read(&MerchantRead::xpub_key("m", "evm")), Some(MerchantRead::Xpub(None)));
        assert!(cache.read(&MerchantRead::xpub_key("m", "tron")).is_none());
        let stale = cache.epoch();
        cache.invalidate();
        assert!(cache.read(&key()).is_none() && cache.read(&MerchantRead::xpub_key("m", "evm")).is_none());
        cache.put_read(key(), assets(), stale);
        assert!(cache.read(&key()).is_none(), "read before the invalidation: not kept");
    }

    #[test]
    fn a_noted_use_updates_the_cached_key() {
        let cache = KeyCache::default();
        cache.set_listening(true);
        let k = key();
        cache.put("h", k.clone(), cache.epoch());
        let at = crate::now();
        cache.note_use(&k.id, at);
        assert_eq!(cache.get("h").and_then(|k| k.last_used_at), Some(at));
        cache.note_use(&k.id, at - chrono::Duration::minutes(1));
        assert_eq!(cache.get("h").and_then(|k| k.last_used_at), Some(at), "never moves back");
    }
}

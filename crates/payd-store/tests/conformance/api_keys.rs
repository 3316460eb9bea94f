//! API keys: stored under the hash of their secret.

use chrono::Duration;
use payd_core::apikey::{generate_key_secret, hash_key_secret, key_prefix, ApiKey, Mode, Scope};
use payd_core::ids::{AccountId, ApiKeyId, MerchantId};
use payd_store::{now, Store, StoreError};

use crate::fixtures::merchant;

conformance!(
    an_api_key_is_found_by_hash_and_by_id,
    a_key_is_revoked_once,
    a_second_key_with_the_same_hash_conflicts,
    a_keys_last_use_only_moves_forward,
    a_keys_merchants_follow_every_change_at_once,
    a_change_made_in_sql_reaches_what_a_create_reads,
);

/// A key and the hash of its freshly generated secret.
pub(crate) fn key(
    account: &AccountId,
    merchant: Option<&MerchantId>,
    mode: Mode,
    scopes: &[Scope],
) -> (ApiKey, String) {
    let secret = generate_key_secret(mode).expect("secret");
    let key = ApiKey {
        id: ApiKeyId::new(),
        account_id: account.clone(),
        merchant_id: merchant.cloned(),
        mode,
        scopes: scopes.to_vec(),
        prefix: key_prefix(secret.expose()),
        signing_secret_sealed: "v1.bm9uY2U.c2VhbGVkLXNpZ25pbmctc2VjcmV0".into(),
        created_at: now(),
        revoked_at: None,
        last_used_at: None,
    };
    (key, hash_key_secret(secret.expose()))
}

async fn an_api_key_is_found_by_hash_and_by_id(store: Store) {
    let m = merchant(&store, "Shop").await;
    let (merchant_key, merchant_hash) =
        key(&m.account_id, Some(&m.id), Mode::Test, &[Scope::PaymentsCreate, Scope::PaymentsRead]);
    let (account_key, account_hash) = key(&m.account_id, None, Mode::Live, &Scope::ALL);
    let (no_scopes, no_scopes_hash) = key(&m.account_id, Some(&m.id), Mode::Live, &[]);
    for (k, h) in
        [(&merchant_key, &merchant_hash), (&account_key, &account_hash), (&no_scopes, &no_scopes_hash)]
    {
        store.insert_api_key(k, h).await.expect("insert key");
    }

    for (k, h) in
        [(&merchant_key, &merchant_hash), (&account_key, &account_hash), (&no_scopes, &no_scopes_hash)]
    {
        assert_eq!(store.find_api_key_by_hash(h).await.expect("find"), Some(k.clone()));
        assert_eq!(store.get_api_key(&k.id).await.expect("get"), Some(k.clone()));
    }
    assert_eq!(
        store.find_api_key_by_hash(&hash_key_secret("pk_test_nope")).await.expect("find unknown"),
        None
    );
    assert_eq!(store.get_api_key(&ApiKeyId::new()).await.expect("get unknown"), None);
}

async fn a_key_is_revoked_once(store: Store) {
    let m = merchant(&store, "Shop").await;
    let (k, hash) = key(&m.account_id, Some(&m.id), Mode::Test, &Scope::ALL);
    store.insert_api_key(&k, &hash).await.expect("insert key");

    let first = k.created_at + Duration::minutes(1);
    assert!(store.revoke_api_key(&k.id, first).await.expect("revoke"));
    let revoked = ApiKey { revoked_at: Some(first), ..k.clone() };
    assert_eq!(store.get_api_key(&k.id).await.expect("get"), Some(revoked.clone()));
    // Revoked keys are still found by hash: the caller refuses them.
    assert_eq!(store.find_api_key_by_hash(&hash).await.expect("find"), Some(revoked.clone()));

    // A second revocation changes nothing, not even the time.
    assert!(!store.revoke_api_key(&k.id, first + Duration::minutes(1)).await.expect("revoke again"));
    assert_eq!(store.get_api_key(&k.id).await.expect("get"), Some(revoked));

    assert!(!store.revoke_api_key(&ApiKeyId::new(), now()).await.expect("revoke unknown"));
}

async fn a_second_key_with_the_same_hash_conflicts(store: Store) {
    let m = merchant(&store, "Shop").await;
    let (first, hash) = key(&m.account_id, Some(&m.id), Mode::Test, &Scope::ALL);
    store.insert_api_key(&first, &hash).await.expect("insert key");

    let (second, _) = key(&m.account_id, None, Mode::Live, &[Scope::PaymentsRead]);
    let err = store.insert_api_key(&second, &hash).await;
    assert!(matches!(err, Err(StoreError::Conflict("api_keys_key_hash_key"))), "{err:?}");
    assert_eq!(store.get_api_key(&second.id).await.expect("get"), None);
    assert_eq!(store.find_api_key_by_hash(&hash).await.expect("find"), Some(first));
}

async fn a_keys_last_use_only_moves_forward(store: Store) {
    let m = merchant(&store, "Shop").await;
    let (k, hash) = key(&m.account_id, Some(&m.id), Mode::Test, &Scope::ALL);
    store.insert_api_key(&k, &hash).await.expect("insert key");
    assert_eq!(store.get_api_key(&k.id).await.expect("get").and_then(|k| k.last_used_at), None);

    let later = k.created_at + Duration::minutes(5);
    store.note_api_key_use(&k.id, later).await.expect("note use");
    let found = store.find_api_key_by_hash(&hash).await.expect("find").expect("key");
    assert_eq!(found.last_used_at, Some(later));
    assert!(!found.use_is_news(later + Duration::seconds(59)), "a use within the minute is not written");
    assert!(found.use_is_news(later + Duration::seconds(60)));

    // Another node noting an older use does not move the time back.
    store.note_api_key_use(&k.id, k.created_at + Duration::minutes(1)).await.expect("note older use");
    assert_eq!(store.get_api_key(&k.id).await.expect("get").and_then(|k| k.last_used_at), Some(later));
    // An unknown key is no error: it was deleted meanwhile, nothing to record.
    store.note_api_key_use(&ApiKeyId::new(), later).await.expect("note unknown");
}

async fn a_keys_merchants_follow_every_change_at_once(store: Store) {
    use payd_core::merchant::MerchantStatus;
    let m = merchant(&store, "Shop").await;
    let (one, one_hash) = key(&m.account_id, Some(&m.id), Mode::Test, &Scope::ALL);
    let (all, all_hash) = key(&m.account_id, None, Mode::Test, &Scope::ALL);
    store.insert_api_key(&one, &one_hash).await.expect("insert key");
    store.insert_api_key(&all, &all_hash).await.expect("insert key");
    // On PostgreSQL the node's cache answers once its listener is up: read a few times, so
    // that what follows is answered from a filled cache if one is kept.
    for _ in 0..5 {
        store.find_api_key_by_hash(&one_hash).await.expect("find");
        store.find_api_key_by_hash(&all_hash).await.expect("find");
        assert_eq!(store.merchants_of_key(&one_hash, &one).await.expect("merchants"), vec![m.clone()]);
        assert_eq!(store.merchants_of_key(&all_hash, &all).await.expect("merchants").len(), 1);
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    // This store's own changes are seen by its next lookup, without waiting for anything.
    let suspended =
        store.set_merchant_status(&m.id, MerchantStatus::Suspended, now()).await.expect("suspend");
    let found = store.merchants_of_key(&one_hash, &one).await.expect("merchants");
    assert_eq!(found, vec![suspended]);
    let second = store
        .create_merchant(
            &payd_core::merchant::NewMerchant {
                name: "Second".into(),
                account_id: Some(m.account_id.clone()),
                ..Default::default()
            },
            now(),
        )
        .await
        .expect("second merchant");
    let found = store.merchants_of_key(&all_hash, &all).await.expect("merchants");
    assert_eq!(found.len(), 2);
    assert!(found.iter().any(|f| f.id == second.id));
    store.set_merchant_settlement(&m.id, Some(("USDC".into(), "base".into())), now()).await.expect("settle");
    let found = store.merchants_of_key(&one_hash, &one).await.expect("merchants");
    assert_eq!(found.first().and_then(|f| f.settlement_asset.clone()), Some(("USDC".into(), "base".into())));
}

/// Runs `sql` on the store's database directly: what another node, or an operator in `psql`,
/// does without this store knowing.
async fn behind_its_back(store: &Store, sql: &str) {
    match store {
        Store::Sqlite(pool, _) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
        Store::Postgres(pool, _) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
    }
    .expect("raw SQL");
}

/// Polls `read` until it gives `want`; the bound turns a stale cache into a failure.
async fn until<T, F, Fut>(what: &str, want: T, read: F)
where
    T: PartialEq + std::fmt::Debug,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let got = read().await;
        if got == want {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: still {got:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn a_change_made_in_sql_reaches_what_a_create_reads(store: Store) {
    use payd_core::merchant::MerchantStatus;
    use payd_core::registry::Family;
    let m = merchant(&store, "Shop").await;
    let (k, hash) = key(&m.account_id, Some(&m.id), Mode::Test, &Scope::ALL);
    store.insert_api_key(&k, &hash).await.expect("insert key");
    store.set_merchant_xpub(&m.id, Family::Evm, Some("xpub-before"), now()).await.expect("xpub");
    // Fill whatever cache the store keeps (on PostgreSQL, once its listener is up).
    for _ in 0..5 {
        store.find_api_key_by_hash(&hash).await.expect("find");
        store.merchants_of_key(&hash, &k).await.expect("merchants");
        store.merchant_assets(&m.id).await.expect("assets");
        store.merchant_xpub(&m.id, Family::Evm).await.expect("xpub");
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    let id = m.id.to_string();
    behind_its_back(
        &store,
        &format!("UPDATE merchant_xpubs SET xpub = 'xpub-after' WHERE merchant_id = '{id}'"),
    )
    .await;
    until("the xpub", Some("xpub-after".to_owned()), || async {
        store.merchant_xpub(&m.id, Family::Evm).await.expect("xpub")
    })
    .await;
    behind_its_back(
        &store,
        &format!("INSERT INTO merchant_assets (merchant_id, token, network, created_at) VALUES ('{id}', 'USDC', 'base', 0)"),
    )
    .await;
    until("the assets", vec![("USDC".to_owned(), "base".to_owned())], || async {
        store.merchant_assets(&m.id).await.expect("assets")
    })
    .await;
    behind_its_back(&store, &format!("UPDATE merchants SET status = 'suspended' WHERE id = '{id}'")).await;
    until("the merchant's status", Some(MerchantStatus::Suspended), || async {
        store.merchants_of_key(&hash, &k).await.expect("merchants").first().map(|m| m.status)
    })
    .await;
}

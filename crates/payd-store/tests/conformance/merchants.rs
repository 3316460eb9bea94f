//! Accounts and merchants.

use chrono::Duration;
use payd_core::ids::{AccountId, MerchantId};
use payd_core::merchant::{MerchantStatus, NewMerchant};
use payd_store::{now, Store, StoreError};

use crate::fixtures::merchant;

conformance!(
    a_new_merchant_gets_its_own_account_and_reads_back,
    a_merchant_can_be_suspended_and_reactivated,
    a_second_merchant_can_join_an_existing_account,
    attaching_a_merchant_to_an_unknown_account_is_not_found,
);

async fn a_new_merchant_gets_its_own_account_and_reads_back(store: Store) {
    let at = now();
    let new = NewMerchant {
        name: "Café Ünïcode \"quoted\" shop".into(),
        email: Some("owner@example.com".into()),
        site_url: Some("https://shop.example".into()),
        logo_url: Some("https://shop.example/logo.png".into()),
        account_id: None,
    };
    let m = store.create_merchant(&new, at).await.expect("create merchant");
    assert_eq!(m.name, new.name);
    assert_eq!(m.email, new.email);
    assert_eq!(m.site_url, new.site_url);
    assert_eq!(m.logo_url, new.logo_url);
    assert_eq!(m.status, MerchantStatus::Active);
    assert_eq!(m.settlement_asset, None);
    assert_eq!((m.created_at, m.updated_at), (at, at));

    assert_eq!(store.get_merchant(&m.id).await.expect("get"), Some(m.clone()));
    assert_eq!(store.get_merchant(&MerchantId::new()).await.expect("get unknown"), None);
    assert_eq!(store.merchants_of_account(&m.account_id).await.expect("list"), vec![m.clone()]);
    assert_eq!(store.count_merchants().await.expect("count"), 1);

    // Each merchant created without an account gets a new one.
    let other = merchant(&store, "Other").await;
    assert_ne!(other.account_id, m.account_id);
    assert_eq!(store.merchants_of_account(&m.account_id).await.expect("list"), vec![m]);
    assert_eq!(store.count_merchants().await.expect("count"), 2);
}

async fn a_merchant_can_be_suspended_and_reactivated(store: Store) {
    let m = merchant(&store, "Shop").await;
    let later = m.created_at + Duration::seconds(5);

    let suspended =
        store.set_merchant_status(&m.id, MerchantStatus::Suspended, later).await.expect("suspend");
    assert_eq!(suspended.status, MerchantStatus::Suspended);
    assert_eq!(suspended.updated_at, later);
    assert_eq!(suspended.created_at, m.created_at);
    assert_eq!(suspended.name, m.name);
    assert_eq!(store.get_merchant(&m.id).await.expect("get"), Some(suspended));

    let even_later = later + Duration::seconds(5);
    let active =
        store.set_merchant_status(&m.id, MerchantStatus::Active, even_later).await.expect("activate");
    assert_eq!(active.status, MerchantStatus::Active);
    assert_eq!(active.updated_at, even_later);
    assert_eq!(store.get_merchant(&m.id).await.expect("get"), Some(active));

    let unknown = store.set_merchant_status(&MerchantId::new(), MerchantStatus::Suspended, now()).await;
    assert!(matches!(unknown, Err(StoreError::NotFound(_))), "{unknown:?}");
}

async fn a_second_merchant_can_join_an_existing_account(store: Store) {
    let first = merchant(&store, "First").await;
    let unrelated = merchant(&store, "Unrelated").await;
    let new = NewMerchant {
        name: "Second".into(),
        account_id: Some(first.account_id.clone()),
        ..NewMerchant::default()
    };
    let second = store.create_merchant(&new, now()).await.expect("create second");
    assert_eq!(second.account_id, first.account_id);
    assert_ne!(second.id, first.id);
    assert_eq!(second.name, "Second");

    let mut listed = store.merchants_of_account(&first.account_id).await.expect("list");
    listed.sort_by(|a, b| a.id.cmp(&b.id));
    let mut expected = vec![first, second];
    expected.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(listed, expected);

    assert_eq!(store.merchants_of_account(&unrelated.account_id).await.expect("list"), vec![unrelated]);
    assert_eq!(store.merchants_of_account(&AccountId::new()).await.expect("list unknown"), vec![]);
    assert_eq!(store.count_merchants().await.expect("count"), 3);
}

async fn attaching_a_merchant_to_an_unknown_account_is_not_found(store: Store) {
    let new =
        NewMerchant { name: "Orphan".into(), account_id: Some(AccountId::new()), ..NewMerchant::default() };
    let err = store.create_merchant(&new, now()).await;
    assert!(matches!(err, Err(StoreError::NotFound("account"))), "{err:?}");
    // Nothing was written.
    assert_eq!(store.count_merchants().await.expect("count"), 0);
}

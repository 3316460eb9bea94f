//! A merchant's checkout settings: the assets it offers (none stored: all) and its profile,
//! each change committed together with its audit line or not at all.

use payd_core::ids::{MerchantId, UserId};
use payd_store::settings::MerchantConfig;
use payd_store::users::AuditEntry;
use payd_store::{now, Store};

use crate::fixtures::merchant;

conformance!(
    settings_assets_are_replaced_cleared_and_audited_together,
    settings_profile_is_set_cleared_and_audited_together,
    settings_a_configure_and_its_audit_line_commit_together,
);

fn line(m: &MerchantId, action: &str) -> AuditEntry {
    AuditEntry {
        user_id: None,
        actor: "cli".into(),
        account_id: None,
        action: action.into(),
        target: m.to_string(),
        detail: String::new(),
        at: now(),
    }
}

/// A line the database refuses (its user does not exist).
fn refused_line(m: &MerchantId) -> AuditEntry {
    AuditEntry { user_id: Some(UserId::new()), ..line(m, "refused") }
}

async fn lines(store: &Store, action: &str) -> usize {
    store.audit_log(None, 500).await.unwrap().iter().filter(|l| l.action == action).count()
}

fn pair(t: &str, n: &str) -> (String, String) {
    (t.to_owned(), n.to_owned())
}

async fn settings_assets_are_replaced_cleared_and_audited_together(store: Store) {
    let m = merchant(&store, "Shop").await;
    let other = merchant(&store, "Other").await;
    assert!(store.merchant_assets(&m.id).await.unwrap().is_empty(), "nothing stored: all assets");

    let chosen = vec![pair("USDT", "tron"), pair("USDC", "base"), pair("USDT", "base")];
    assert!(store.set_merchant_assets(&m.id, &chosen, &line(&m.id, "merchant.assets"), now()).await.unwrap());
    // Ordered by network then token; the other merchant is untouched.
    assert_eq!(
        store.merchant_assets(&m.id).await.unwrap(),
        vec![pair("USDC", "base"), pair("USDT", "base"), pair("USDT", "tron")]
    );
    assert!(store.merchant_assets(&other.id).await.unwrap().is_empty());
    assert_eq!(lines(&store, "merchant.assets").await, 1);

    // Replacing keeps only the new list.
    let fewer = vec![pair("USDC", "base")];
    assert!(store.set_merchant_assets(&m.id, &fewer, &line(&m.id, "merchant.assets"), now()).await.unwrap());
    assert_eq!(store.merchant_assets(&m.id).await.unwrap(), fewer);

    // A line that cannot be written takes the change with it.
    let lost = vec![pair("USDT", "tron")];
    assert!(store.set_merchant_assets(&m.id, &lost, &refused_line(&m.id), now()).await.is_err());
    assert_eq!(store.merchant_assets(&m.id).await.unwrap(), fewer);
    assert_eq!(lines(&store, "merchant.assets").await, 2);

    // An unknown merchant writes neither the list nor the line.
    let ghost = MerchantId::new();
    assert!(!store
        .set_merchant_assets(&ghost, &lost, &line(&ghost, "merchant.assets"), now())
        .await
        .unwrap());
    assert!(store.merchant_assets(&ghost).await.unwrap().is_empty());
    assert_eq!(lines(&store, "merchant.assets").await, 2);

    // Clearing offers everything again.
    assert!(store.set_merchant_assets(&m.id, &[], &line(&m.id, "merchant.assets"), now()).await.unwrap());
    assert!(store.merchant_assets(&m.id).await.unwrap().is_empty());
}

async fn settings_profile_is_set_cleared_and_audited_together(store: Store) {
    let m = merchant(&store, "Shop").await;
    assert!(store
        .set_merchant_profile(
            &m.id,
            Some("shop@example.com"),
            Some("https://shop.example"),
            &line(&m.id, "merchant.profile"),
            now()
        )
        .await
        .unwrap());
    let got = store.get_merchant(&m.id).await.unwrap().unwrap();
    assert_eq!(got.email.as_deref(), Some("shop@example.com"));
    assert_eq!(got.site_url.as_deref(), Some("https://shop.example"));
    assert_eq!(lines(&store, "merchant.profile").await, 1);

    assert!(store
        .set_merchant_profile(&m.id, None, Some("https://lost.example"), &refused_line(&m.id), now())
        .await
        .is_err());
    let kept = store.get_merchant(&m.id).await.unwrap().unwrap();
    assert_eq!(kept.email.as_deref(), Some("shop@example.com"));
    assert_eq!(kept.site_url.as_deref(), Some("https://shop.example"));

    assert!(store
        .set_merchant_profile(&m.id, None, None, &line(&m.id, "merchant.profile"), now())
        .await
        .unwrap());
    let cleared = store.get_merchant(&m.id).await.unwrap().unwrap();
    assert_eq!((cleared.email, cleared.site_url), (None, None));
    assert_eq!(lines(&store, "merchant.profile").await, 2);
    let ghost = MerchantId::new();
    assert!(!store
        .set_merchant_profile(&ghost, None, None, &line(&ghost, "merchant.profile"), now())
        .await
        .unwrap());
}

async fn settings_a_configure_and_its_audit_line_commit_together(store: Store) {
    let m = merchant(&store, "Shop").await;
    let xpub = "xpub-as-stored".to_owned();
    let change = MerchantConfig {
        min_amount_usd: Some(Some("2.50".into())),
        settlement: Some(Some(pair("USDC", "base"))),
        underpayment_tolerance_bp: Some(50),
        xpubs: vec![("evm".into(), Some(xpub.clone()))],
        assets: Some(vec![pair("USDC", "base")]),
    };
    // A line that cannot be written takes every setting with it.
    assert!(store.configure_merchant(&m.id, &change, &refused_line(&m.id), now()).await.is_err());
    assert_eq!(store.merchant_min_amount(&m.id).await.unwrap(), None);
    assert_eq!(store.get_merchant(&m.id).await.unwrap().unwrap().settlement_asset, None);
    assert_eq!(store.merchant_underpayment_tolerance(&m.id).await.unwrap(), Some(0));
    assert_eq!(store.merchant_xpub(&m.id, payd_core::registry::Family::Evm).await.unwrap(), None);
    assert!(store.merchant_assets(&m.id).await.unwrap().is_empty());

    assert!(store
        .configure_merchant(&m.id, &change, &line(&m.id, "merchant.configure"), now())
        .await
        .unwrap());
    assert_eq!(
        store.merchant_min_amount(&m.id).await.unwrap().map(|d| d.to_string()).as_deref(),
        Some("2.50")
    );
    assert_eq!(
        store.get_merchant(&m.id).await.unwrap().unwrap().settlement_asset,
        Some(pair("USDC", "base"))
    );
    assert_eq!(store.merchant_underpayment_tolerance(&m.id).await.unwrap(), Some(50));
    assert_eq!(store.merchant_xpub(&m.id, payd_core::registry::Family::Evm).await.unwrap(), Some(xpub));
    assert_eq!(store.merchant_assets(&m.id).await.unwrap(), vec![pair("USDC", "base")]);
    assert_eq!(lines(&store, "merchant.configure").await, 1);

    // `None` leaves a setting alone; `Some(None)` clears it.
    let clear = MerchantConfig {
        settlement: Some(None),
        xpubs: vec![("evm".into(), None)],
        ..MerchantConfig::default()
    };
    assert!(store
        .configure_merchant(&m.id, &clear, &line(&m.id, "merchant.configure"), now())
        .await
        .unwrap());
    assert_eq!(store.get_merchant(&m.id).await.unwrap().unwrap().settlement_asset, None);
    assert_eq!(store.merchant_xpub(&m.id, payd_core::registry::Family::Evm).await.unwrap(), None);
    assert_eq!(
        store.merchant_min_amount(&m.id).await.unwrap().map(|d| d.to_string()).as_deref(),
        Some("2.50")
    );
    assert_eq!(store.merchant_assets(&m.id).await.unwrap(), vec![pair("USDC", "base")]);
    let ghost = MerchantId::new();
    assert!(!store
        .configure_merchant(&ghost, &clear, &line(&ghost, "merchant.configure"), now())
        .await
        .unwrap());
    assert_eq!(lines(&store, "merchant.configure").await, 2);
}

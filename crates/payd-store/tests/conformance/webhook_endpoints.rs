//! Webhook endpoints: the per-merchant cap (also under concurrent creates), paged lists, and
//! the upgrade that binds each AlpPay endpoint to its own signing secret.

use chrono::Duration;
use payd_core::apikey::{ApiKey, Mode, Scope};
use payd_core::ids::{ApiKeyId, MerchantId, WebhookEndpointId};
use payd_core::webhook::{WebhookEndpoint, WebhookFormat};
use payd_store::webhooks::EndpointFilter;
use payd_store::{now, Store};

use crate::fixtures::merchant;

conformance!(
    endpoints_stop_at_the_cap_per_merchant_and_mode,
    concurrent_creates_never_pass_the_cap,
    endpoint_pages_follow_a_cursor_or_a_page_number,
    the_upgrade_gives_alppay_endpoints_the_secret_that_signed_them,
);

fn endpoint(merchant: &MerchantId, mode: Mode, format: WebhookFormat, secret: &str) -> WebhookEndpoint {
    let t = now();
    WebhookEndpoint {
        id: WebhookEndpointId::new(),
        merchant_id: merchant.clone(),
        mode,
        url: "https://example.test/hook".into(),
        description: None,
        events: Vec::new(),
        format,
        enabled: true,
        disabled_reason: None,
        secret_sealed: secret.into(),
        previous_secret_sealed: Some("v1.previous".into()),
        previous_secret_expires_at: Some(t + Duration::hours(1)),
        failing_since: None,
        created_at: t,
        updated_at: t,
    }
}

async fn endpoints_stop_at_the_cap_per_merchant_and_mode(store: Store) {
    let m = merchant(&store, "Shop").await;
    let other = merchant(&store, "Other").await;
    let mut made = Vec::new();
    for _ in 0..3 {
        let e = endpoint(&m.id, Mode::Test, WebhookFormat::Native, "s");
        assert!(store.insert_webhook_endpoint_within(&e, 3).await.unwrap());
        made.push(e);
    }
    let fourth = endpoint(&m.id, Mode::Test, WebhookFormat::Native, "s");
    assert!(!store.insert_webhook_endpoint_within(&fourth, 3).await.unwrap(), "the cap holds");
    assert_eq!(store.get_webhook_endpoint(&fourth.id).await.unwrap(), None, "nothing was written");
    // Another mode and another merchant have their own room.
    assert!(store
        .insert_webhook_endpoint_within(&endpoint(&m.id, Mode::Live, WebhookFormat::Native, "s"), 3)
        .await
        .unwrap());
    assert!(store
        .insert_webhook_endpoint_within(&endpoint(&other.id, Mode::Test, WebhookFormat::Native, "s"), 3)
        .await
        .unwrap());
    // A deleted endpoint frees its place.
    assert!(store.delete_webhook_endpoint(&made[0].id, now()).await.unwrap());
    assert!(store.insert_webhook_endpoint_within(&fourth, 3).await.unwrap());
}

async fn concurrent_creates_never_pass_the_cap(store: Store) {
    let m = merchant(&store, "Shop").await;
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let store = store.clone();
            let e = endpoint(&m.id, Mode::Test, WebhookFormat::Native, "s");
            tokio::spawn(async move { store.insert_webhook_endpoint_within(&e, 5).await.unwrap() })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        created += usize::from(t.await.unwrap());
    }
    assert_eq!(created, 5);
    assert_eq!(store.list_webhook_endpoints(&m.id, Mode::Test).await.unwrap().len(), 5);
}

async fn endpoint_pages_follow_a_cursor_or_a_page_number(store: Store) {
    let m = merchant(&store, "Shop").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let format = if i % 2 == 0 { WebhookFormat::Astrapay } else { WebhookFormat::Native };
        let mut e = endpoint(&m.id, Mode::Test, format, "s");
        // Distinct creation times, oldest first.
        e.created_at = now() + Duration::milliseconds(i);
        store.insert_webhook_endpoint(&e).await.unwrap();
        ids.push(e.id);
    }
    let filter = |after: Option<WebhookEndpointId>, offset, limit, format| EndpointFilter {
        merchant_id: m.id.clone(),
        mode: Mode::Test,
        format,
        after,
        offset,
        limit,
    };
    let (page, total) = store.page_webhook_endpoints(&filter(None, 0, 2, None)).await.unwrap();
    assert_eq!((page.iter().map(|e| e.id.clone()).collect::<Vec<_>>(), total), (ids[..2].to_vec(), 5));
    let (page, _) = store.page_webhook_endpoints(&filter(Some(ids[1].clone()), 0, 10, None)).await.unwrap();
    assert_eq!(page.iter().map(|e| e.id.clone()).collect::<Vec<_>>(), ids[2..].to_vec());
    let astra = Some(WebhookFormat::Astrapay);
    let (page, total) = store.page_webhook_endpoints(&filter(None, 1, 1, astra)).await.unwrap();
    assert_eq!((page.iter().map(|e| e.id.clone()).collect::<Vec<_>>(), total), (vec![ids[2].clone()], 3));
}

fn key(m: &payd_core::merchant::Merchant, mode: Mode, sealed: &str, age_secs: i64) -> ApiKey {
    ApiKey {
        id: ApiKeyId::new(),
        account_id: m.account_id.clone(),
        merchant_id: Some(m.id.clone()),
        mode,
        scopes: vec![Scope::PaymentsRead],
        prefix: "pk_test_0000".into(),
        signing_secret_sealed: sealed.into(),
        created_at: now() - Duration::seconds(age_secs),
        revoked_at: None,
        last_used_at: None,
    }
}

/// The migration's own SQL, found by name (whatever number it carries), run again on rows in
/// the state an older payd left them: it is a plain UPDATE, so this is the upgrade itself.
async fn the_upgrade_gives_alppay_endpoints_the_secret_that_signed_them(store: Store) {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(match store.backend() {
            payd_store::Backend::Sqlite => "sqlite",
            payd_store::Backend::Postgres => "postgres",
        });
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("_alppay_endpoint_secret.sql"))
        .expect("the AlpPay endpoint secret migration");
    let sql = std::fs::read_to_string(file).unwrap();

    let m = merchant(&store, "Alp shop").await;
    let bare = merchant(&store, "No keys").await;
    let revoked = key(&m, Mode::Test, "sealed-revoked", 0);
    for (k, hash) in [
        (key(&m, Mode::Test, "sealed-old", 60), "h1"),
        (key(&m, Mode::Test, "sealed-newest", 30), "h2"),
        (revoked.clone(), "h3"),
        (key(&m, Mode::Live, "sealed-live", 10), "h4"),
    ] {
        store.insert_api_key(&k, hash).await.unwrap();
    }
    assert!(store.revoke_api_key(&revoked.id, now()).await.unwrap());
    let alp_test = endpoint(&m.id, Mode::Test, WebhookFormat::Alppay, "whsec_own");
    let alp_live = endpoint(&m.id, Mode::Live, WebhookFormat::Alppay, "whsec_own");
    let native = endpoint(&m.id, Mode::Test, WebhookFormat::Native, "whsec_own");
    let keyless = endpoint(&bare.id, Mode::Test, WebhookFormat::Alppay, "whsec_own");
    for e in [&alp_test, &alp_live, &native, &keyless] {
        store.insert_webhook_endpoint(e).await.unwrap();
    }
    match &store {
        Store::Sqlite(p, _) => sqlx::raw_sql(&sql).execute(p).await.map(|_| ()),
        Store::Postgres(p, _) => sqlx::raw_sql(&sql).execute(p).await.map(|_| ()),
    }
    .unwrap();
    let get = |id: WebhookEndpointId| {
        let store = store.clone();
        async move { store.get_webhook_endpoint(&id).await.unwrap().unwrap() }
    };
    // Each AlpPay endpoint now holds the secret that signed its deliveries until now: that of
    // the newest unrevoked key of its merchant and mode.
    let e = get(alp_test.id.clone()).await;
    assert_eq!((e.secret_sealed.as_str(), e.previous_secret_sealed), ("sealed-newest", None));
    assert_eq!(get(alp_live.id.clone()).await.secret_sealed, "sealed-live");
    // Other formats, and an AlpPay endpoint whose merchant has no key, keep their own.
    assert_eq!(get(native.id.clone()).await, native);
    assert_eq!(get(keyless.id.clone()).await, keyless);
}

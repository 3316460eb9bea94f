//! `Idempotency-Key` with Stripe's semantics.

use payd_core::apikey::Mode;
use payd_server::keys::KeyOwner;

use crate::backend_tests;
use crate::helpers::{code, json, TestApp};

backend_tests!(
    a_replayed_key_returns_the_first_response_byte_for_byte,
    a_key_reused_with_another_body_is_a_conflict,
    fifty_concurrent_requests_with_one_key_create_one_payment,
    keys_are_scoped_per_merchant_and_mode,
    a_malformed_key_is_refused,
    a_failed_validation_does_not_burn_the_key,
    a_used_key_replays_after_its_asset_is_disabled,
);

const BODY: &str =
    r#"{"amount":"49.99","currency":"USD","token":"USDC","network":"base","metadata":{"order":"1"}}"#;

async fn count(app: &TestApp, key: &str) -> usize {
    let (_, page) = app.get("/v1/payments?limit=100", key).await;
    page["data"].as_array().unwrap().len()
}

async fn a_replayed_key_returns_the_first_response_byte_for_byte(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let first = app.post_raw("/v1/payments", &key, BODY, Some("order_1")).await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first_body = first.bytes().await.unwrap();
    // Same object, other formatting and key order: still the same request.
    let reformatted = r#"{ "currency": "USD", "amount": "49.99", "network": "base", "token": "USDC", "metadata": {"order": "1"} }"#;
    for body in [BODY, reformatted] {
        let again = app.post_raw("/v1/payments", &key, body, Some("order_1")).await;
        assert_eq!(again.status(), 201);
        assert_eq!(again.headers().get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
        assert_eq!(again.bytes().await.unwrap(), first_body);
    }
    assert_eq!(count(&app, &key).await, 1);
}

async fn a_key_reused_with_another_body_is_a_conflict(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    assert_eq!(app.post_raw("/v1/payments", &key, BODY, Some("k")).await.status(), 201);
    let other = BODY.replace("49.99", "50.00");
    let (s, e) = json(app.post_raw("/v1/payments", &key, &other, Some("k")).await).await;
    assert_eq!((s, code(&e)), (409, "idempotency_key_reused"));
    assert_eq!(count(&app, &key).await, 1);
}

async fn fifty_concurrent_requests_with_one_key_create_one_payment(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let app = app.clone();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            let res = app.post_raw("/v1/payments", &key, BODY, Some("concurrent")).await;
            (res.status().as_u16(), res.text().await.unwrap())
        }));
    }
    let mut bodies = Vec::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 201, "{body}");
        bodies.push(body);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "every response is the first one");
    assert_eq!(count(&app, &key).await, 1);
}

async fn keys_are_scoped_per_merchant_and_mode(app: TestApp) {
    let (m, test_key) = app.merchant_with_key().await;
    let live_key = app.key(KeyOwner::Merchant(m.id.clone()), Mode::Live, &[]).await;
    let (_, other_key) = app.merchant_with_key().await;
    let a = json(app.post_raw("/v1/payments", &test_key, BODY, Some("same")).await).await.1;
    // Live payments need a watched network; this one picks its asset later.
    let live_body = r#"{"amount":"49.99","currency":"USD","metadata":{"order":"1"}}"#;
    let b = json(app.post_raw("/v1/payments", &live_key, live_body, Some("same")).await).await.1;
    let c = json(app.post_raw("/v1/payments", &other_key, BODY, Some("same")).await).await.1;
    assert_ne!(a["id"], b["id"]);
    assert_ne!(a["id"], c["id"]);
    assert_eq!(b["livemode"], true);
}

async fn a_malformed_key_is_refused(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let long = "k".repeat(256);
    let (s, e) = json(app.post_raw("/v1/payments", &key, BODY, Some(&long)).await).await;
    assert_eq!((s, code(&e)), (400, "idempotency_key_invalid"));
}

async fn a_failed_validation_does_not_burn_the_key(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let bad = BODY.replace("49.99", "49.999");
    let (s, e) = json(app.post_raw("/v1/payments", &key, &bad, Some("fixme")).await).await;
    assert_eq!((s, code(&e)), (400, "amount_too_precise"));
    assert_eq!(app.post_raw("/v1/payments", &key, BODY, Some("fixme")).await.status(), 201);
}

async fn astrapay_raw(app: &TestApp, key: &str, body: &str, idem: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/api/payments"))
        .header("X-Api-Key", key)
        .header("Idempotency-Key", idem)
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

/// A retry keeps its first answer even after the merchant stops offering the asset; only
/// new keys (and a different body under a used key) meet today's settings.
async fn a_used_key_replays_after_its_asset_is_disabled(app: TestApp) {
    let (m, key) = app.merchant_with_key().await;
    let first = app.post_raw("/v1/payments", &key, BODY, Some("before")).await;
    assert_eq!(first.status(), 201);
    let first = first.bytes().await.unwrap();
    let astra_body = r#"{"amount": 5, "token": "USDC", "network": "BASE"}"#;
    let astra_first = astrapay_raw(&app, &key, astra_body, "astra-before").await;
    assert_eq!(astra_first.status(), 201);
    let astra_first = astra_first.bytes().await.unwrap();
    let created = count(&app, &key).await;

    // USDC on Base is no longer offered.
    let audit = payd_store::users::AuditEntry {
        user_id: None,
        actor: "cli".into(),
        account_id: None,
        action: "merchant.assets".into(),
        target: m.id.to_string(),
        detail: String::new(),
        at: payd_store::now(),
    };
    let only_tron = [("USDT".to_owned(), "tron".to_owned())];
    assert!(app.store.set_merchant_assets(&m.id, &only_tron, &audit, payd_store::now()).await.unwrap());

    let again = app.post_raw("/v1/payments", &key, BODY, Some("before")).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers().get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert_eq!(again.bytes().await.unwrap(), first);
    let (s, e) = json(app.post_raw("/v1/payments", &key, BODY, Some("after")).await).await;
    assert_eq!((s, code(&e)), (422, "unsupported_asset"), "{e}");
    let other = BODY.replace("49.99", "50.00");
    let (s, e) = json(app.post_raw("/v1/payments", &key, &other, Some("before")).await).await;
    assert_eq!((s, code(&e)), (409, "idempotency_key_reused"), "{e}");

    // AstraPay, in its own key scope and envelope.
    let again = astrapay_raw(&app, &key, astra_body, "astra-before").await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.bytes().await.unwrap(), astra_first);
    let (s, e) = json(astrapay_raw(&app, &key, astra_body, "astra-after").await).await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("UNPROCESSABLE_ENTITY")), "{e}");
    let (s, e) = json(astrapay_raw(&app, &key, &astra_body.replace('5', "6"), "astra-before").await).await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("CONFLICT")), "{e}");
    // The native key "before" is not AstraPay's: there it is new, and refused.
    assert_eq!(astrapay_raw(&app, &key, astra_body, "before").await.status(), 422);

    assert_eq!(count(&app, &key).await, created);
}

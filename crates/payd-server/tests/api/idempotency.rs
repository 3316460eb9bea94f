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

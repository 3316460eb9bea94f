//! Keys, scopes, suspension, and who can see what.

use payd_core::apikey::{Mode, Scope};
use payd_core::merchant::{MerchantStatus, NewMerchant};
use payd_server::keys::KeyOwner;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{code, json, TestApp};

backend_tests!(
    a_missing_or_wrong_key_is_401,
    a_revoked_key_is_401,
    a_key_without_the_scope_is_403,
    a_suspended_merchant_is_403_until_reactivated,
    another_merchants_payment_is_404,
    a_payment_of_the_other_mode_is_404,
    a_key_spanning_merchants_names_one_to_create,
);

const BODY: &str = r#"{"amount":"1.00","currency":"USD"}"#;

async fn a_missing_or_wrong_key_is_401(app: TestApp) {
    let res = app
        .client
        .post(app.url("/v1/payments"))
        .header("Content-Type", "application/json")
        .body(BODY)
        .send()
        .await
        .unwrap();
    let (s, e) = json(res).await;
    assert_eq!((s, code(&e)), (401, "missing_api_key"));
    let (s, e) = json(app.post_raw("/v1/payments", "pk_test_nope", BODY, None).await).await;
    assert_eq!((s, code(&e)), (401, "invalid_api_key"));
    let res =
        app.client.get(app.url("/v1/payments")).header("Authorization", "Basic abc").send().await.unwrap();
    assert_eq!(json(res).await.0, 401);
}

async fn a_revoked_key_is_401(app: TestApp) {
    let (m, key) = app.merchant_with_key().await;
    let _ = m;
    let hash = payd_core::apikey::hash_key_secret(&key);
    let stored = app.store.find_api_key_by_hash(&hash).await.unwrap().unwrap();
    assert!(app.store.revoke_api_key(&stored.id, payd_store::now()).await.unwrap());
    let (s, e) = json(app.post_raw("/v1/payments", &key, BODY, None).await).await;
    assert_eq!((s, code(&e)), (401, "invalid_api_key"));
}

async fn a_key_without_the_scope_is_403(app: TestApp) {
    let m = app.merchant("Shop").await;
    let read_only = app.key(KeyOwner::Merchant(m.id.clone()), Mode::Test, &[Scope::PaymentsRead]).await;
    let create_only = app.key(KeyOwner::Merchant(m.id.clone()), Mode::Test, &[Scope::PaymentsCreate]).await;
    let (s, e) = json(app.post_raw("/v1/payments", &read_only, BODY, None).await).await;
    assert_eq!((s, code(&e)), (403, "insufficient_scope"));
    let (s, p) = json(app.post_raw("/v1/payments", &create_only, BODY, None).await).await;
    assert_eq!(s, 201);
    let (s, e) = app.get(&format!("/v1/payments/{}", p["id"].as_str().unwrap()), &create_only).await;
    assert_eq!((s, code(&e)), (403, "insufficient_scope"));
    let (s, e) = app.get("/v1/payments", &create_only).await;
    assert_eq!((s, code(&e)), (403, "insufficient_scope"));
    let (s, _) = app.get(&format!("/v1/payments/{}", p["id"].as_str().unwrap()), &read_only).await;
    assert_eq!(s, 200);
}

async fn a_suspended_merchant_is_403_until_reactivated(app: TestApp) {
    let (m, key) = app.merchant_with_key().await;
    app.store.set_merchant_status(&m.id, MerchantStatus::Suspended, payd_store::now()).await.unwrap();
    let (s, e) = json(app.post_raw("/v1/payments", &key, BODY, None).await).await;
    assert_eq!((s, code(&e)), (403, "merchant_suspended"));
    let (s, e) = app.get("/v1/payments", &key).await;
    assert_eq!((s, code(&e)), (403, "merchant_suspended"));
    app.store.set_merchant_status(&m.id, MerchantStatus::Active, payd_store::now()).await.unwrap();
    assert_eq!(app.post_raw("/v1/payments", &key, BODY, None).await.status(), 201);
}

async fn another_merchants_payment_is_404(app: TestApp) {
    let (_, key_a) = app.merchant_with_key().await;
    let (_, key_b) = app.merchant_with_key().await;
    let (_, p) = json(app.post_raw("/v1/payments", &key_a, BODY, None).await).await;
    let id = p["id"].as_str().unwrap();
    let (s, e) = app.get(&format!("/v1/payments/{id}"), &key_b).await;
    assert_eq!((s, code(&e)), (404, "not_found"));
    let (s, e) = json(app.post_raw(&format!("/v1/payments/{id}/cancel"), &key_b, "", None).await).await;
    assert_eq!((s, code(&e)), (404, "not_found"));
    let (_, page) = app.get("/v1/payments", &key_b).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 0);
}

async fn a_payment_of_the_other_mode_is_404(app: TestApp) {
    let (m, test_key) = app.merchant_with_key().await;
    let live_key = app.key(KeyOwner::Merchant(m.id.clone()), Mode::Live, &[]).await;
    let (_, live) = json(app.post_raw("/v1/payments", &live_key, BODY, None).await).await;
    assert_eq!(live["livemode"], true);
    let (s, e) = app.get(&format!("/v1/payments/{}", live["id"].as_str().unwrap()), &test_key).await;
    assert_eq!((s, code(&e)), (404, "not_found"));
    let (_, page) = app.get("/v1/payments", &test_key).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 0);
}

async fn a_key_spanning_merchants_names_one_to_create(app: TestApp) {
    let a = app.merchant("A").await;
    let b = app
        .store
        .create_merchant(
            &NewMerchant { name: "B".into(), account_id: Some(a.account_id.clone()), ..Default::default() },
            payd_store::now(),
        )
        .await
        .unwrap();
    let (_, stranger_key) = app.merchant_with_key().await;
    let span = app.key(KeyOwner::Account(a.account_id.clone()), Mode::Test, &[]).await;
    let (s, e) = app.create_payment(&span, &json!({"amount": "1", "currency": "USD"})).await;
    assert_eq!((s, code(&e)), (400, "merchant_required"));
    let (s, pa) = app
        .create_payment(&span, &json!({"amount": "1", "currency": "USD", "merchant": a.id.to_string()}))
        .await;
    assert_eq!((s, pa["merchant"].as_str()), (201, Some(a.id.to_string().as_str())));
    let (s, pb) = app
        .create_payment(&span, &json!({"amount": "1", "currency": "USD", "merchant": b.id.to_string()}))
        .await;
    assert_eq!(s, 201);
    let (_, page) = app.get("/v1/payments", &span).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    let (_, page) = app.get(&format!("/v1/payments?merchant={}", b.id), &span).await;
    assert_eq!(page["data"][0]["id"], pb["id"]);
    let stranger = app
        .store
        .find_api_key_by_hash(&payd_core::apikey::hash_key_secret(&stranger_key))
        .await
        .unwrap()
        .unwrap();
    let (s, e) = app
        .create_payment(
            &span,
            &json!({"amount": "1", "currency": "USD", "merchant": stranger.merchant_id.unwrap().to_string()}),
        )
        .await;
    assert_eq!((s, code(&e)), (400, "merchant_invalid"));
    // One suspended merchant of the account: naming it is a 403, the others still work.
    app.store.set_merchant_status(&b.id, MerchantStatus::Suspended, payd_store::now()).await.unwrap();
    let (s, e) = app
        .create_payment(&span, &json!({"amount": "1", "currency": "USD", "merchant": b.id.to_string()}))
        .await;
    assert_eq!((s, code(&e)), (403, "merchant_suspended"));
    let (s, _) = app
        .create_payment(&span, &json!({"amount": "1", "currency": "USD", "merchant": a.id.to_string()}))
        .await;
    assert_eq!(s, 201);
}

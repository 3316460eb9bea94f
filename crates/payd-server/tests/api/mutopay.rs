//! The MutoPay dialect.

use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{json as read, spawn_app_with, TestApp};

backend_tests!(
    the_seed_example_creates_a_payment_in_mutopays_shape,
    the_channel_minimum_is_enforced_with_its_exact_message,
    mutopay_limits_and_errors,
    the_status_endpoint_reports_the_payment,
);

const SEED_BODY: &str = r#"{
    "amount_usd": 25.00,
    "description": "Order #1042",
    "external_id": "order_1042",
    "callback_url": "https://yourstore.com/thanks",
    "metadata": {"user_id": "u_88124", "tier": "pro"}
  }"#;

async fn post(app: &TestApp, key: &str, body: &str) -> (u16, Value) {
    read(
        app.client
            .post(app.url("/api/payments"))
            .header("X-API-Key", key)
            .header("Content-Type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn get(app: &TestApp, key: &str, path: &str) -> (u16, Value) {
    read(app.client.get(app.url(path)).header("X-API-Key", key).send().await.unwrap()).await
}

async fn the_seed_example_creates_a_payment_in_mutopays_shape(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let (s, p) = post(&app, &key, SEED_BODY).await;
    assert_eq!(s, 201, "{p}");
    let mut fields: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "amount_usd",
            "created_at",
            "currency",
            "description",
            "expires_at",
            "external_id",
            "id",
            "status",
            "url"
        ]
    );
    let id = p["id"].as_str().unwrap();
    assert!(id.starts_with("pay_"));
    assert!(p["url"].as_str().unwrap().ends_with(&format!("/pay/{id}")));
    assert_eq!((p["status"].as_str(), p["currency"].as_str()), (Some("pending"), Some("USD")));
    let raw = serde_json::to_string(&p["amount_usd"]).unwrap();
    assert_eq!(raw, "25.00", "the amount keeps its cents");
    let created = chrono::DateTime::parse_from_rfc3339(p["created_at"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(p["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires - created).num_minutes(), 30);
}

async fn the_channel_minimum_is_enforced_with_its_exact_message(app: TestApp) {
    let (m, key) = app.merchant_with_key().await;
    app.store.set_merchant_min_amount(&m.id, Some("5".parse().unwrap()), payd_store::now()).await.unwrap();
    let (s, e) = post(&app, &key, r#"{"amount_usd": 4.99}"#).await;
    assert_eq!(s, 400);
    assert_eq!(
        e,
        json!({"error": "invalid_request", "message": "Minimum invoice on this channel is $5.00."})
    );
    assert_eq!(post(&app, &key, r#"{"amount_usd": 5.00}"#).await.0, 201, "the minimum itself is accepted");
}

async fn mutopay_limits_and_errors(app: TestApp) {
    let (m, key) = app.merchant_with_key().await;
    let (s, e) = read(app.client.post(app.url("/api/payments")).body("{}").send().await.unwrap()).await;
    assert_eq!((s, e["error"].as_str()), (401, Some("unauthorized")));
    let big = format!(r#"{{"amount_usd": 10, "metadata": {{"blob": "{}"}}}}"#, "x".repeat(4100));
    let near = format!(r#"{{"amount_usd": 10, "metadata": {{"blob": "{}"}}}}"#, "x".repeat(4000));
    let in_7_days =
        (chrono::Utc::now() + chrono::Duration::days(7) - chrono::Duration::minutes(1)).to_rfc3339();
    let in_8_days = (chrono::Utc::now() + chrono::Duration::days(8)).to_rfc3339();
    let cases: Vec<(String, u16)> = vec![
        (big, 400),
        (near, 201),
        (format!(r#"{{"amount_usd": 10, "expires_at": "{in_7_days}"}}"#), 201),
        (format!(r#"{{"amount_usd": 10, "expires_at": "{in_8_days}"}}"#), 400),
        (r#"{"amount_usd": 10, "expires_at": "2000-01-01T00:00:00Z"}"#.into(), 400),
        (r#"{"amount_usd": "10"}"#.into(), 400),
        (r#"{"amount_usd": 10.001}"#.into(), 400),
        (r#"{"amount_usd": 0}"#.into(), 400),
        (r#"{}"#.into(), 400),
        (r#"{"amount_usd": 10, "amount_original": 9, "currency": "EUR"}"#.into(), 400),
        (r#"{"amount_original": 9, "currency": "XYZ"}"#.into(), 400),
        // No rate for EUR: MutoPay's documented 400 `invalid_request` (it has no 422 for it).
        (r#"{"amount_original": 9, "currency": "EUR"}"#.into(), 400),
        (r#"{"amount_usd": 10, "callback_url": "nope"}"#.into(), 400),
    ];
    for (body, status) in cases {
        let (s, v) = post(&app, &key, &body).await;
        assert_eq!(s, status, "{} → {v}", &body[..body.len().min(100)]);
        if status >= 400 {
            assert!(v["error"].is_string() && v["message"].is_string(), "{v}");
        }
    }
    app.store
        .set_merchant_status(&m.id, payd_core::merchant::MerchantStatus::Suspended, payd_store::now())
        .await
        .unwrap();
    let (s, e) = post(&app, &key, SEED_BODY).await;
    assert_eq!((s, e["error"].as_str()), (403, Some("merchant suspended")));
}

async fn the_status_endpoint_reports_the_payment(app: TestApp) {
    let (m, key) = app.merchant_with_key().await;
    app.store
        .set_merchant_settlement(&m.id, Some(("USDC".into(), "polygon".into())), payd_store::now())
        .await
        .unwrap();
    let (_, p) = post(&app, &key, SEED_BODY).await;
    let id = p["id"].as_str().unwrap();
    let (s, st) = get(&app, &key, &format!("/api/payments/{id}/status")).await;
    assert_eq!(s, 200, "{st}");
    assert_eq!(st["status"], "awaiting_payment");
    assert_eq!((st["dest_token"].as_str(), st["dest_chain_id"].as_str()), (Some("USDC"), Some("137")));
    assert_eq!((st["dest_amount"].as_str(), st["dest_decimals"].as_u64()), (Some("25000000"), Some(6)));
    assert_eq!(st["metadata"], json!({"user_id": "u_88124", "tier": "pro"}));
    assert_eq!(st["external_id"], "order_1042");
    let (s, e) = get(&app, &key, "/api/payments/pay_00000000000000000000000000000000/status").await;
    assert_eq!((s, e["error"].as_str()), (404, Some("not_found")));
    let (_, other) = app.merchant_with_key().await;
    let (s, e) = get(&app, &other, &format!("/api/payments/{id}/status")).await;
    assert_eq!((s, e["error"].as_str()), (403, Some("forbidden")));
}

#[tokio::test]
async fn a_non_usd_price_captures_its_rate() {
    let Some(app) = spawn_app_with(payd_store::Backend::Sqlite, &[("PAYD_FX_RATES", "EUR=1.0846")]).await
    else {
        return;
    };
    let (_, key) = app.merchant_with_key().await;
    let (s, p) =
        post(&app, &key, r#"{"amount_original": 50, "currency": "EUR", "description": "Abonnement Pro"}"#)
            .await;
    assert_eq!(s, 201, "{p}");
    // MutoPay's own example: 50 EUR × 1.0846 = 54.23 USD.
    let text = |v: &Value| serde_json::to_string(v).unwrap();
    assert_eq!(
        (text(&p["amount_usd"]), text(&p["fx_rate"]), p["currency"].as_str()),
        ("54.23".into(), "1.0846".into(), Some("EUR"))
    );
    let (_, st) = get(&app, &key, &format!("/api/payments/{}/status", p["id"].as_str().unwrap())).await;
    assert_eq!(text(&st["fx_rate"]), "1.0846");
}

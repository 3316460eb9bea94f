//! The Paygentic dialect.

use payd_core::apikey::Mode;
use payd_core::merchant::NewMerchant;
use payd_server::keys::KeyOwner;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{json as read, spawn_app_with, TestApp};

backend_tests!(
    the_seed_example_creates_a_payment_in_paygentics_shape,
    the_body_idempotency_key_returns_the_existing_payment_with_200,
    every_documented_limit_just_inside_and_outside,
    customers_must_belong_to_the_merchant,
    a_key_spanning_merchants_needs_merchant_id,
    payments_are_read_and_listed_with_offsets,
    paygentic_auth_errors,
);

const SEED_BODY: &str = r#"{
  "amount": "10.50",
  "currency": "USD",
  "idempotencyKey": "order_12345",
  "reference": "Order #12345",
  "successRedirectUrl": "https://example.com/success",
  "savePaymentMethod": false,
  "expiresIn": "P7D",
  "metadata": {
    "orderId": "order_12345"
  }
}"#;

async fn post(app: &TestApp, key: &str, path: &str, body: &str) -> (u16, Value) {
    read(
        app.client
            .post(app.url(path))
            .bearer_auth(key)
            .header("Content-Type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn body_with(changes: Value) -> String {
    let mut b: Value = serde_json::from_str(SEED_BODY).unwrap();
    b.as_object_mut().unwrap().remove("idempotencyKey");
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            b.as_object_mut().unwrap().remove(k);
        } else {
            b[k] = v.clone();
        }
    }
    b.to_string()
}

async fn the_seed_example_creates_a_payment_in_paygentics_shape(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let (s, p) = post(&app, &key, "/v0/payments", SEED_BODY).await;
    assert_eq!(s, 201, "{p}");
    assert!(p["id"].as_str().unwrap().starts_with("pay_"));
    assert_eq!(p["object"], "payment");
    assert_eq!(
        (p["amount"].as_str(), p["currency"].as_str(), p["status"].as_str()),
        (Some("10.50"), Some("USD"), Some("pending"))
    );
    assert_eq!(
        (p["idempotencyKey"].as_str(), p["reference"].as_str()),
        (Some("order_12345"), Some("Order #12345"))
    );
    assert_eq!(p["metadata"], json!({"orderId": "order_12345"}));
    assert!(p["paymentUrl"].as_str().unwrap().starts_with(&app.address));
    let created = chrono::DateTime::parse_from_rfc3339(p["createdAt"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(p["expiresAt"].as_str().unwrap()).unwrap();
    assert_eq!((expires - created).num_days(), 7);
    let (s, d) = post(&app, &key, "/v0/payments", &body_with(json!({"expiresIn": null}))).await;
    assert_eq!(s, 201);
    let c = chrono::DateTime::parse_from_rfc3339(d["createdAt"].as_str().unwrap()).unwrap();
    let e = chrono::DateTime::parse_from_rfc3339(d["expiresAt"].as_str().unwrap()).unwrap();
    assert_eq!((e - c).num_days(), 30, "default P30D");
}

async fn the_body_idempotency_key_returns_the_existing_payment_with_200(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let (s, first) = post(&app, &key, "/v0/payments", SEED_BODY).await;
    assert_eq!(s, 201);
    let (s, again) = post(&app, &key, "/v0/payments", SEED_BODY).await;
    assert_eq!((s, &again), (200, &first));
    // Paygentic returns the existing payment even when the body differs.
    let (s, other) = post(&app, &key, "/v0/payments", &SEED_BODY.replace("10.50", "99.00")).await;
    assert_eq!((s, other["id"].clone(), other["amount"].clone()), (200, first["id"].clone(), json!("10.50")));
}

async fn every_documented_limit_just_inside_and_outside(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let items = |n: usize| {
        Value::Array(
            (0..n).map(|_| json!({"description": "Seat", "amount": "1.00", "quantity": 1})).collect(),
        )
    };
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"amount": "1.00"}), 201, ""),
        (json!({"amount": "0.99"}), 400, "amount"),
        (json!({"amount": "5000.00"}), 201, ""),
        (json!({"amount": "5000.01"}), 400, "amount"),
        (json!({"amount": "10.5"}), 201, ""),
        (json!({"amount": "10.505"}), 400, "amount"),
        (json!({"amount": 10.5}), 400, "amount"),
        (json!({"amount": "1e3"}), 400, "amount"),
        (json!({"currency": "usd"}), 400, "currency"),
        (json!({"currency": "JPY"}), 400, "currency"),
        (json!({"reference": "r".repeat(255)}), 201, ""),
        (json!({"reference": "r".repeat(256)}), 400, "reference"),
        (json!({"idempotencyKey": "k".repeat(256)}), 400, "idempotencyKey"),
        (json!({"lineItems": items(100)}), 201, ""),
        (json!({"lineItems": items(101)}), 400, "lineItems"),
        (
            json!({"lineItems": [{"description": "x", "amount": "1.00", "quantity": 0}]}),
            400,
            "lineItems[0].quantity",
        ),
        (json!({"metadata": {"n": 1}}), 400, "metadata"),
        (json!({"expiresIn": "P31D"}), 201, ""),
        (json!({"expiresIn": "P32D"}), 400, "expiresIn"),
        (json!({"expiresIn": "PT1H"}), 201, ""),
        (json!({"expiresIn": "soon"}), 400, "expiresIn"),
        (json!({"successRedirectUrl": "not a uri"}), 400, "successRedirectUrl"),
        (json!({"failureRedirectUrl": "https://example.com/fail"}), 201, ""),
        (json!({"amount": null}), 400, "amount"),
    ];
    for (change, status, bad_field) in cases {
        let body = body_with(change.clone());
        let (s, v) = post(&app, &key, "/v0/payments", &body).await;
        assert_eq!(s, status, "{change} → {v}");
        if status == 400 {
            assert_eq!(v["error"], "validation_error", "{v}");
            assert_eq!(v["message"], "Validation failed");
            let fields: Vec<&str> =
                v["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
            assert!(fields.contains(&bad_field), "{change}: {fields:?}");
            assert!(v["errors"][0]["code"].is_string() && v["errors"][0]["message"].is_string());
        }
    }
    // Several problems are reported together.
    let (_, v) = post(&app, &key, "/v0/payments", r#"{"amount": "0", "currency": "XYZ"}"#).await;
    assert_eq!(v["errors"].as_array().unwrap().len(), 2, "{v}");
    // EUR needs an exchange rate, which this server has none of.
    let (s, v) = post(&app, &key, "/v0/payments", &body_with(json!({"currency": "EUR"}))).await;
    assert_eq!(
        (s, v["error"].as_str(), v["code"].as_str()),
        (400, Some("bad_request"), Some("FX_UNAVAILABLE"))
    );
}

async fn customers_must_belong_to_the_merchant(app: TestApp) {
    let (m, key) = app.merchant_with_key().await;
    let (_, other) = app.merchant_with_key().await;
    let (s, c) = post(
        &app,
        &key,
        "/v0/customers",
        r#"{"consumer": {"name": "Ada", "email": "ada@example.com"}, "externalId": "c-1"}"#,
    )
    .await;
    assert_eq!(s, 201, "{c}");
    let cid = c["id"].as_str().unwrap();
    assert_eq!(c["object"], "customer");
    let (s, p) = post(&app, &key, "/v0/payments", &body_with(json!({"customerId": cid}))).await;
    assert_eq!((s, p["customerId"].as_str()), (201, Some(cid)));
    let (s, v) = post(&app, &other, "/v0/payments", &body_with(json!({"customerId": cid}))).await;
    assert_eq!((s, v["errors"][0]["field"].as_str()), (400, Some("customerId")));
    // Only its merchant, in its mode, reads it.
    let fetch = |k: String| {
        let req = app.client.get(app.url(&format!("/v0/customers/{cid}"))).bearer_auth(k);
        async move { read(req.send().await.unwrap()).await }
    };
    let (s, got) = fetch(key.clone()).await;
    assert_eq!((s, got["id"].as_str()), (200, Some(cid)));
    let live = app.key(KeyOwner::Merchant(m.id.clone()), Mode::Live, &[]).await;
    for k in [other.clone(), live] {
        let (s, e) = fetch(k).await;
        assert_eq!((s, e["code"].as_str()), (404, Some("CUSTOMER_NOT_FOUND")), "{e}");
    }
    let (_, list) = read(
        app.client
            .get(app.url(&format!("/v0/payments?customerId={cid}")))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["pagination"]["total"], 1);
}

async fn a_key_spanning_merchants_needs_merchant_id(app: TestApp) {
    let a = app.merchant("A").await;
    let b = app
        .store
        .create_merchant(
            &NewMerchant { name: "B".into(), account_id: Some(a.account_id.clone()), ..Default::default() },
            payd_store::now(),
        )
        .await
        .unwrap();
    let span = app.key(KeyOwner::Account(a.account_id.clone()), Mode::Test, &[]).await;
    let (s, v) = post(&app, &span, "/v0/payments", &body_with(json!({}))).await;
    assert_eq!((s, v["errors"][0]["field"].as_str()), (400, Some("merchantId")));
    let (s, _) = post(&app, &span, "/v0/payments", &body_with(json!({"merchantId": b.id.to_string()}))).await;
    assert_eq!(s, 201);
    let (_, stranger) = app.merchant_with_key().await;
    let stranger_id = app
        .store
        .find_api_key_by_hash(&payd_core::apikey::hash_key_secret(&stranger))
        .await
        .unwrap()
        .unwrap()
        .merchant_id
        .unwrap();
    let (s, v) =
        post(&app, &span, "/v0/payments", &body_with(json!({"merchantId": stranger_id.to_string()}))).await;
    assert_eq!((s, v["error"].as_str()), (403, Some("forbidden")));
}

async fn payments_are_read_and_listed_with_offsets(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let (_, p) =
            post(&app, &key, "/v0/payments", &body_with(json!({"amount": format!("{}.00", i + 1)}))).await;
        ids.push(p["id"].as_str().unwrap().to_owned());
    }
    let get = |path: String| {
        let app = &app;
        let key = key.clone();
        async move { read(app.client.get(app.url(&path)).bearer_auth(&key).send().await.unwrap()).await }
    };
    let (s, p) = get(format!("/v0/payments/{}", ids[0])).await;
    assert_eq!((s, p["amount"].as_str()), (200, Some("1.00")));
    let (s, l) = get("/v0/payments?limit=2&offset=1".into()).await;
    assert_eq!(s, 200);
    assert_eq!(l["object"], "list");
    assert_eq!(l["pagination"], json!({"limit": 2, "offset": 1, "total": 3}));
    assert_eq!(l["data"][0]["id"].as_str(), Some(ids[1].as_str()));
    let (s, _) = get("/v0/payments?limit=101".into()).await;
    assert_eq!(s, 400);
    let (_, l) = get("/v0/payments?status=completed".into()).await;
    assert_eq!(l["pagination"]["total"], 0);
    let (s, e) = get("/v0/payments/pay_00000000000000000000000000000000".into()).await;
    assert_eq!((s, e["error"].as_str()), (404, Some("not_found")));
}

async fn paygentic_auth_errors(app: TestApp) {
    let (s, e) = read(app.client.get(app.url("/v0/payments")).send().await.unwrap()).await;
    assert_eq!((s, e["error"].as_str()), (401, Some("unauthorized")));
    assert!(e["message"].is_string());
    let (s, _) =
        read(app.client.get(app.url("/v0/payments")).bearer_auth("sk_live_nope").send().await.unwrap()).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn a_eur_payment_captures_its_rate() {
    let Some(app) = spawn_app_with(payd_store::Backend::Sqlite, &[("PAYD_FX_RATES", "EUR=1.08")]).await
    else {
        return;
    };
    let (_, key) = app.merchant_with_key().await;
    let (s, p) = post(&app, &key, "/v0/payments", &body_with(json!({"currency": "EUR"}))).await;
    assert_eq!((s, p["currency"].as_str(), p["amount"].as_str()), (201, Some("EUR"), Some("10.50")), "{p}");
    let id = p["id"].as_str().unwrap().parse().unwrap();
    let stored = app.store.get_payment(&id).await.unwrap().unwrap();
    let fx = stored.fx.unwrap();
    assert_eq!(
        (fx.rate.to_string(), fx.quote_amount.to_string(), fx.source.as_str()),
        ("1.08".into(), "11.34".into(), "static")
    );
}

//! The AstraPay dialect, wire-compatible with its documented API.

use payd_core::apikey::{Mode, Scope};
use payd_server::keys::KeyOwner;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{json as read, TestApp};

backend_tests!(
    the_seed_example_creates_a_payment_in_astrapays_shape,
    an_idempotency_key_replays_or_conflicts,
    payments_are_found_by_uuid_or_short_id_and_listed,
    astrapay_errors_use_its_codes_and_statuses,
    a_pending_payment_can_be_canceled,
    products_can_be_managed_and_paid_for,
    the_rate_limit_is_100_requests_a_minute_per_key,
    a_paid_payment_shows_its_transaction_hash_and_completes,
);

const SEED_BODY: &str = r#"{
    "amount": 49.99,
    "token": "USDC",
    "network": "BASE",
    "customer_email": "john@example.com",
    "redirect_url": "https://yourapp.com/success",
    "metadata": {
      "order_id": "ORD-12345",
      "plan": "pro"
    }
  }"#;

async fn post(app: &TestApp, key: &str, path: &str, body: &str, idem: Option<&str>) -> (u16, Value) {
    let mut req = app
        .client
        .post(app.url(path))
        .header("Content-Type", "application/json")
        .header("X-Api-Key", key)
        .body(body.to_owned());
    if let Some(k) = idem {
        req = req.header("Idempotency-Key", k);
    }
    read(req.send().await.unwrap()).await
}

async fn get(app: &TestApp, key: &str, path: &str) -> (u16, Value) {
    read(app.client.get(app.url(path)).header("X-Api-Key", key).send().await.unwrap()).await
}

fn error_code(v: &Value) -> (&str, u64) {
    (v["error"]["code"].as_str().unwrap(), v["error"]["status"].as_u64().unwrap())
}

async fn the_seed_example_creates_a_payment_in_astrapays_shape(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let (s, v) = post(&app, &key, "/v1/api/payments", SEED_BODY, Some("order_12345")).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!((v["success"].as_bool(), v["statusCode"].as_u64()), (Some(true), Some(201)));
    let d = &v["data"];
    let mut fields: Vec<&str> = d.as_object().unwrap().keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "amount",
            "cancel_url",
            "checkout_url",
            "created_at",
            "customer_email",
            "customer_name",
            "expires_at",
            "id",
            "metadata",
            "network",
            "paid_late",
            "redirect_url",
            "short_id",
            "status",
            "test_mode",
            "token",
            "transaction_hash"
        ]
    );
    assert!(uuid::Uuid::try_parse(d["id"].as_str().unwrap()).is_ok());
    assert_eq!(d["amount"], json!(49.99));
    assert_eq!(
        (d["token"].as_str(), d["network"].as_str(), d["status"].as_str()),
        (Some("USDC"), Some("BASE"), Some("PENDING"))
    );
    let short = d["short_id"].as_str().unwrap();
    assert!(d["checkout_url"].as_str().unwrap().ends_with(&format!("/purchases/{short}")));
    assert_eq!(d["test_mode"], true);
    assert!(d["transaction_hash"].is_null() && d["customer_name"].is_null() && d["cancel_url"].is_null());
    assert_eq!(d["metadata"], json!({"order_id": "ORD-12345", "plan": "pro"}));
    let created = chrono::DateTime::parse_from_rfc3339(d["created_at"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(d["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires - created).num_hours(), 24);
    assert!(d["created_at"].as_str().unwrap().ends_with('Z'));
}

async fn an_idempotency_key_replays_or_conflicts(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let first = app
        .client
        .post(app.url("/v1/api/payments"))
        .header("X-Api-Key", &key)
        .header("Idempotency-Key", "order_1")
        .header("Content-Type", "application/json")
        .body(SEED_BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    let first = first.bytes().await.unwrap();
    let again = app
        .client
        .post(app.url("/v1/api/payments"))
        .header("X-Api-Key", &key)
        .header("Idempotency-Key", "order_1")
        .header("Content-Type", "application/json")
        .body(SEED_BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.bytes().await.unwrap(), first);
    let (s, e) =
        post(&app, &key, "/v1/api/payments", &SEED_BODY.replace("49.99", "50"), Some("order_1")).await;
    assert_eq!((s, error_code(&e)), (409, ("CONFLICT", 409)));
}

async fn payments_are_found_by_uuid_or_short_id_and_listed(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let body = json!({"amount": 10 + i, "token": "USDT", "network": "ETHEREUM", "customer_email": format!("c{i}@shop.example"), "customer_name": format!("Customer {i}")});
        let (s, v) = post(&app, &key, "/v1/api/payments", &body.to_string(), None).await;
        assert_eq!(s, 201, "{v}");
        ids.push((
            v["data"]["id"].as_str().unwrap().to_owned(),
            v["data"]["short_id"].as_str().unwrap().to_owned(),
        ));
    }
    let (uuid, short) = &ids[1];
    let (s, by_uuid) = get(&app, &key, &format!("/v1/api/payments/{uuid}")).await;
    assert_eq!(s, 200);
    let (_, by_short) = get(&app, &key, &format!("/v1/api/payments/{short}")).await;
    assert_eq!(by_uuid, by_short);
    assert_eq!(by_uuid["data"]["customer_name"], "Customer 1");

    let (s, page) = get(&app, &key, "/v1/api/payments?page=1&pageSize=2").await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["data"]["data"].as_array().unwrap().len(), 2);
    assert_eq!(page["data"]["meta"], json!({"page": 1, "pageSize": 2, "total": 3, "pages": 2}));
    let (_, page2) = get(&app, &key, "/v1/api/payments?page=2&pageSize=2").await;
    assert_eq!(page2["data"]["data"].as_array().unwrap().len(), 1);
    let (_, found) = get(&app, &key, "/v1/api/payments?search=c2@shop.example").await;
    assert_eq!(found["data"]["meta"]["total"], 1);
    let (_, found) = get(&app, &key, &format!("/v1/api/payments?search={uuid}")).await;
    assert_eq!(found["data"]["data"][0]["id"].as_str(), Some(uuid.as_str()));
    let (_, found) = get(&app, &key, "/v1/api/payments?search=Customer").await;
    assert_eq!(found["data"]["meta"]["total"], 3);
    let (_, pending) = get(&app, &key, "/v1/api/payments?status=PENDING").await;
    assert_eq!(pending["data"]["meta"]["total"], 3);
    let (_, done) = get(&app, &key, "/v1/api/payments?status=COMPLETED").await;
    assert_eq!(done["data"]["meta"]["total"], 0);
    let (s, e) = get(&app, &key, "/v1/api/payments?status=PAID").await;
    assert_eq!((s, error_code(&e)), (400, ("BAD_REQUEST", 400)));
    let (s, _) = get(&app, &key, "/v1/api/payments?pageSize=101").await;
    assert_eq!(s, 400);
}

async fn astrapay_errors_use_its_codes_and_statuses(app: TestApp) {
    let (m, key) = app.merchant_with_key().await;
    let (s, e) = read(app.client.get(app.url("/v1/api/payments")).send().await.unwrap()).await;
    assert_eq!((s, error_code(&e)), (401, ("UNAUTHORIZED", 401)));
    assert!(e["error"]["message"].as_str().is_some());
    let (s, e) = get(&app, "ap_live_nope", "/v1/api/payments").await;
    assert_eq!((s, error_code(&e)), (401, ("UNAUTHORIZED", 401)));

    let cases = [
        (r#"{"amount": 1, "token": "USDC", "network": "MARS"}"#, 422, "UNPROCESSABLE_ENTITY"),
        (r#"{"amount": 1, "token": "DOGE", "network": "BASE"}"#, 422, "UNPROCESSABLE_ENTITY"),
        (r#"{"amount": 0.009, "token": "USDC", "network": "BASE"}"#, 400, "BAD_REQUEST"),
        (r#"{"amount": 0, "token": "USDC", "network": "BASE"}"#, 422, "UNPROCESSABLE_ENTITY"),
        (r#"{"amount": 0.01, "token": "USDC", "network": "BASE"}"#, 201, ""),
        (r#"{"amount": "49.99", "token": "USDC", "network": "BASE"}"#, 400, "BAD_REQUEST"),
        (r#"{"amount": 1, "network": "BASE"}"#, 400, "BAD_REQUEST"),
        (r#"{"token": "USDC", "network": "BASE"}"#, 400, "BAD_REQUEST"),
        (r#"{"amount": 1, "token": "USDC", "network": "BASE", "metadata": "x"}"#, 400, "BAD_REQUEST"),
        (r#"{"amount": 1, "token": "USDC", "network": "BASE", "redirect_url": "nope"}"#, 400, "BAD_REQUEST"),
        ("{", 400, "BAD_REQUEST"),
    ];
    for (body, status, code) in cases {
        let (s, v) = post(&app, &key, "/v1/api/payments", body, None).await;
        assert_eq!(s, status, "{body} → {v}");
        if status != 201 {
            assert_eq!(error_code(&v), (code, u64::from(status)), "{body}");
        }
    }

    let read_only = app.key(KeyOwner::Merchant(m.id.clone()), Mode::Test, &[Scope::PaymentsRead]).await;
    let (s, e) = post(&app, &read_only, "/v1/api/payments", SEED_BODY, None).await;
    assert_eq!((s, error_code(&e)), (403, ("FORBIDDEN", 403)));

    let (_, v) = post(&app, &key, "/v1/api/payments", SEED_BODY, None).await;
    let id = v["data"]["id"].as_str().unwrap();
    let live = app.key(KeyOwner::Merchant(m.id.clone()), Mode::Live, &[]).await;
    let (s, e) = get(&app, &live, &format!("/v1/api/payments/{id}")).await;
    assert_eq!((s, error_code(&e)), (403, ("FORBIDDEN", 403)), "test/live mismatch");
    let (_, other) = app.merchant_with_key().await;
    let (s, e) = get(&app, &other, &format!("/v1/api/payments/{id}")).await;
    assert_eq!((s, error_code(&e)), (403, ("FORBIDDEN", 403)), "another merchant's payment");
    let (s, e) = get(&app, &key, "/v1/api/payments/00000000-0000-0000-0000-000000000000").await;
    assert_eq!((s, error_code(&e)), (404, ("NOT_FOUND", 404)));

    app.store
        .set_merchant_status(&m.id, payd_core::merchant::MerchantStatus::Suspended, payd_store::now())
        .await
        .unwrap();
    let (s, e) = get(&app, &key, "/v1/api/payments").await;
    assert_eq!((s, error_code(&e)), (401, ("UNAUTHORIZED", 401)), "inactive accounts get 401 on AstraPay");
}

async fn a_pending_payment_can_be_canceled(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let (_, v) = post(&app, &key, "/v1/api/payments", SEED_BODY, None).await;
    let short = v["data"]["short_id"].as_str().unwrap();
    let (s, c) = post(&app, &key, &format!("/v1/api/payments/{short}/cancel"), "", None).await;
    assert_eq!((s, c["data"]["status"].as_str()), (200, Some("CANCELED")));
    let (s, e) = post(&app, &key, &format!("/v1/api/payments/{short}/cancel"), "", None).await;
    assert_eq!((s, error_code(&e)), (409, ("CONFLICT", 409)));
    let (_, listed) = get(&app, &key, "/v1/api/payments?status=CANCELED").await;
    assert_eq!(listed["data"]["meta"]["total"], 1);
}

async fn products_can_be_managed_and_paid_for(app: TestApp) {
    let (m, key) = app.merchant_with_key().await;
    let body = r#"{"name": "Pro plan", "description": "Monthly", "price": 19.99, "currency_type": "FIAT"}"#;
    let (s, p) = post(&app, &key, "/v1/api/products", body, None).await;
    assert_eq!(s, 201, "{p}");
    let pid = p["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (p["data"]["price"].clone(), p["data"]["active"].clone(), p["data"]["token"].clone()),
        (json!(19.99), json!(true), Value::Null)
    );

    let pay = json!({"product_id": pid, "token": "USDC", "network": "BASE"}).to_string();
    let (s, v) = post(&app, &key, "/v1/api/payments", &pay, None).await;
    assert_eq!((s, v["data"]["amount"].clone()), (201, json!(19.99)), "{v}");

    let crypto =
        r#"{"name": "Tip", "price": 5, "currency_type": "CRYPTO", "token": "USDT", "network": "TRON"}"#;
    let (s, c) = post(&app, &key, "/v1/api/products", crypto, None).await;
    assert_eq!((s, c["data"]["network"].as_str()), (201, Some("TRON")), "{c}");
    let cid = c["data"]["id"].as_str().unwrap();
    let wrong = json!({"product_id": cid, "token": "USDC", "network": "BASE"}).to_string();
    let (s, e) = post(&app, &key, "/v1/api/payments", &wrong, None).await;
    assert_eq!((s, error_code(&e).0), (422, "UNPROCESSABLE_ENTITY"));
    let right = json!({"product_id": cid, "token": "USDT", "network": "TRON"}).to_string();
    assert_eq!(post(&app, &key, "/v1/api/payments", &right, None).await.0, 201);

    let patch = app
        .client
        .patch(app.url(&format!("/v1/api/products/{pid}")))
        .header("X-Api-Key", &key)
        .header("Content-Type", "application/json")
        .body(r#"{"active": false}"#)
        .send()
        .await
        .unwrap();
    let (s, p) = read(patch).await;
    assert_eq!((s, p["data"]["active"].clone()), (200, json!(false)));
    let (s, e) = post(&app, &key, "/v1/api/payments", &pay, None).await;
    assert_eq!((s, error_code(&e).0), (422, "UNPROCESSABLE_ENTITY"), "inactive product");

    // Another merchant's product, or one of the other mode: forbidden to read, and nothing
    // to price a payment from.
    let (_, other) = app.merchant_with_key().await;
    let live = app.key(KeyOwner::Merchant(m.id.clone()), Mode::Live, &[]).await;
    let (s, e) = get(&app, &other, &format!("/v1/api/products/{cid}")).await;
    assert_eq!((s, e["error"]["message"].as_str()), (403, Some("Product belongs to another merchant")));
    let (s, e) = get(&app, &live, &format!("/v1/api/products/{cid}")).await;
    assert_eq!((s, e["error"]["message"].as_str()), (403, Some("test/live mode mismatch")));
    for k in [&other, &live] {
        let (s, e) = post(&app, k, "/v1/api/payments", &right, None).await;
        assert_eq!((s, error_code(&e).0), (404, "NOT_FOUND"), "{e}");
    }
    let (_, list) = get(&app, &other, "/v1/api/products").await;
    assert_eq!(list["data"]["meta"]["total"], 0);

    let (_, list) = get(&app, &key, "/v1/api/products").await;
    assert_eq!(list["data"]["meta"]["total"], 2);
    let del = app
        .client
        .delete(app.url(&format!("/v1/api/products/{pid}")))
        .header("X-Api-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 200);
    let (s, e) = get(&app, &key, &format!("/v1/api/products/{pid}")).await;
    assert_eq!((s, error_code(&e).0), (404, "NOT_FOUND"));
    for bad in [
        r#"{"name": "x", "price": 0, "currency_type": "FIAT"}"#,
        r#"{"name": "x", "price": 1, "currency_type": "CRYPTO"}"#,
        r#"{"name": "x", "price": 1, "currency_type": "GOLD"}"#,
        r#"{"price": 1, "currency_type": "FIAT"}"#,
    ] {
        let (s, _) = post(&app, &key, "/v1/api/products", bad, None).await;
        assert!(s == 400 || s == 422, "{bad} → {s}");
    }
    let no_scope = app.key(KeyOwner::Merchant(m.id.clone()), Mode::Test, &[Scope::PaymentsCreate]).await;
    let (s, e) = get(&app, &no_scope, "/v1/api/products").await;
    assert_eq!((s, error_code(&e).0), (403, "FORBIDDEN"));
}

async fn the_rate_limit_is_100_requests_a_minute_per_key(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let (_, other) = app.merchant_with_key().await;
    let start = std::time::Instant::now();
    for i in 0..100 {
        let (s, v) = get(&app, &key, "/v1/api/payments").await;
        assert_eq!(s, 200, "request {i}: {v}");
    }
    // The quota refills one request per 600 ms (GCRA), so a slow machine earns a few more
    // before the 429; no more than the time taken allows.
    let mut extra = 0;
    let res = loop {
        let res = app.client.get(app.url("/v1/api/payments")).header("X-Api-Key", &key).send().await.unwrap();
        if res.status() != 200 {
            break res;
        }
        extra += 1;
        let earned = start.elapsed().as_millis() / 600 + 1;
        assert!(extra <= earned, "{extra} requests past the quota after {:?}", start.elapsed());
    };
    let retry_after: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    let (s, e) = read(res).await;
    assert_eq!((s, error_code(&e)), (429, ("RATE_LIMIT_EXCEEDED", 429)));
    assert_eq!(get(&app, &other, "/v1/api/payments").await.0, 200, "other keys are not limited");
}

async fn a_paid_payment_shows_its_transaction_hash_and_completes(app: TestApp) {
    use payd_server::engine::devnet::{self, Devnet};
    let (_, key) = app.merchant_with_key().await;
    let (_, v) = post(
        &app,
        &key,
        "/v1/api/payments",
        r#"{"amount": 10, "token": "USDC", "network": "AVALANCHE"}"#,
        None,
    )
    .await;
    let uuid = v["data"]["id"].as_str().unwrap().to_owned();
    let id = payd_core::ids::PaymentId::from_uuid(uuid::Uuid::try_parse(&uuid).unwrap());
    let paid = app.post_raw(&format!("/v1/payments/{id}/test_pay"), &key, r#"{"amount": "4"}"#, None).await;
    assert_eq!(paid.status(), 202);
    let cfg = devnet::network_config(chrono::Duration::hours(24));
    let step = || async {
        devnet::produce_block(&app.store, payd_store::now()).await.unwrap().unwrap();
        payd_server::engine::credit::scan_once(
            &app.store,
            &Devnet::new(app.store.clone()),
            &cfg,
            payd_store::now(),
        )
        .await
        .unwrap();
    };
    step().await;
    let (_, got) = get(&app, &key, &format!("/v1/api/payments/{uuid}")).await;
    assert_eq!(got["data"]["status"], "PARTIALLY_PAID", "{got}");
    let hash = got["data"]["transaction_hash"].as_str().unwrap().to_owned();
    let (_, listed) = get(&app, &key, "/v1/api/payments?status=PARTIALLY_PAID").await;
    assert_eq!(listed["data"]["data"][0]["transaction_hash"].as_str(), Some(hash.as_str()));
    app.post_raw(&format!("/v1/payments/{id}/test_pay"), &key, r#"{"amount": "6"}"#, None).await;
    step().await;
    step().await;
    let (_, got) = get(&app, &key, &format!("/v1/api/payments/{uuid}")).await;
    assert_eq!(
        (got["data"]["status"].as_str(), got["data"]["transaction_hash"].as_str()),
        (Some("COMPLETED"), Some(hash.as_str()))
    );
}

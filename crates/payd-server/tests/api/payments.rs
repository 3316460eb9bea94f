//! Creating, reading, listing and cancelling payments.

use payd_core::payment::{Funds, Payment};
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{code, TestApp};

backend_tests!(
    creating_a_payment_returns_201_with_the_resource,
    a_stablecoin_price_is_quoted_exactly_in_base_units,
    metadata_numbers_come_back_exactly_as_sent,
    a_created_payment_can_be_read_back,
    listing_pages_through_every_payment_once,
    listing_filters_by_status_reference_and_time,
    a_pending_payment_can_be_cancelled_once,
    a_payment_that_received_money_cannot_be_cancelled,
);

async fn creating_a_payment_returns_201_with_the_resource(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let body = json!({
        "amount": "49.99", "currency": "USD", "token": "USDC", "network": "base",
        "customer": {"external_id": "c-1", "email": "john@example.com", "name": "John"},
        "reference": "Order #1", "external_id": "ord_1", "invoice": "INV-1", "description": "Pro plan",
        "line_items": [{"description": "Pro", "amount": "49.99", "quantity": 1}],
        "metadata": {"order_id": "ORD-1", "nested": {"a": [1, 2]}},
        "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/cancel",
        "failure_url": "https://shop.example/fail", "back_url": "https://shop.example/",
        "expires_in": 900
    });
    let (status, p) = app.create_payment(&key, &body).await;
    assert_eq!(status, 201, "{p}");
    assert!(p["id"].as_str().unwrap().starts_with("pay_"));
    assert_eq!(p["object"], "payment");
    assert_eq!(p["status"], "pending");
    assert_eq!(p["amount"], "49.99");
    assert_eq!(p["currency"], "USD");
    assert_eq!(p["livemode"], false);
    assert_eq!(p["customer"]["email"], "john@example.com");
    assert_eq!(p["line_items"][0]["amount"], "49.99");
    assert_eq!(p["metadata"], body["metadata"]);
    assert_eq!(p["back_url"], "https://shop.example/");
    let checkout = p["checkout_url"].as_str().unwrap();
    assert!(checkout.starts_with(&app.address) && checkout.contains("/checkout/"), "{checkout}");
    let created = chrono::DateTime::parse_from_rfc3339(p["created_at"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(p["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires - created).num_seconds(), 900);

    let id: payd_core::ids::PaymentId = p["id"].as_str().unwrap().parse().unwrap();
    let events = app.store.list_events(&id).await.unwrap();
    assert_eq!(events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), ["payment.created"]);
    assert_eq!(events[0].payload["metadata"], body["metadata"]);
}

async fn a_stablecoin_price_is_quoted_exactly_in_base_units(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let (s, p) = app
        .create_payment(
            &key,
            &json!({"amount": "49.99", "currency": "USD", "token": "usdc", "network": "BASE"}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["asset"]["token"], "USDC");
    assert_eq!(p["asset"]["network"], "base");
    assert_eq!(p["asset"]["amount_due"], "49990000");
    assert_eq!(p["asset"]["decimals"], 6);
    let (s, p) = app
        .create_payment(
            &key,
            &json!({"amount": "49.99", "currency": "USD", "token": "USDT", "network": "bsc"}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["asset"]["amount_due"], "49990000000000000000");
    assert_eq!(p["asset"]["decimals"], 18);
    // No asset yet: the customer picks one later.
    let (s, p) = app.create_payment(&key, &json!({"amount": "10", "currency": "EUR"})).await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["amount"], "10.00");
    assert!(p["asset"].is_null());
}

async fn metadata_numbers_come_back_exactly_as_sent(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let raw = r#"{"amount":"1.00","currency":"USD","metadata":{"big":123456789012345678901234567890.123456789,"small":0.1}}"#;
    let res = app.post_raw("/v1/payments", &key, raw, None).await;
    assert_eq!(res.status(), 201);
    let text = res.text().await.unwrap();
    assert!(text.contains(r#""big":123456789012345678901234567890.123456789"#), "{text}");
    assert!(text.contains(r#""small":0.1"#), "{text}");
}

async fn a_created_payment_can_be_read_back(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let (_, created) = app.create_payment(&key, &json!({"amount": "5.00", "currency": "USD"})).await;
    let (s, got) = app.get(&format!("/v1/payments/{}", created["id"].as_str().unwrap()), &key).await;
    assert_eq!(s, 200);
    assert_eq!(got, created);
    let (s, e) = app.get("/v1/payments/pay_00000000000000000000000000000000", &key).await;
    assert_eq!((s, code(&e)), (404, "not_found"));
    let (s, e) = app.get("/v1/payments/garbage", &key).await;
    assert_eq!((s, code(&e)), (404, "not_found"));
}

async fn listing_pages_through_every_payment_once(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let mut ids = Vec::new();
    for i in 0..25 {
        let (_, p) =
            app.create_payment(&key, &json!({"amount": format!("{}.00", i + 1), "currency": "USD"})).await;
        ids.push(p["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => "/v1/payments?limit=10".to_owned(),
            Some(c) => format!("/v1/payments?limit=10&starting_after={c}"),
        };
        let (s, page) = app.get(&path, &key).await;
        assert_eq!(s, 200, "{page}");
        assert_eq!(page["object"], "list");
        for p in page["data"].as_array().unwrap() {
            seen.push(p["id"].as_str().unwrap().to_owned());
        }
        if page["has_more"] == true {
            cursor = Some(page["next_cursor"].as_str().unwrap().to_owned());
        } else {
            assert!(page["next_cursor"].is_null());
            break;
        }
    }
    ids.reverse();
    assert_eq!(seen, ids, "newest first, every payment once");
}

async fn listing_filters_by_status_reference_and_time(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let (_, a) = app.create_payment(&key, &json!({"amount": "1", "currency": "USD", "reference": "A"})).await;
    let (_, b) = app.create_payment(&key, &json!({"amount": "2", "currency": "USD", "reference": "B"})).await;
    app.post_raw(&format!("/v1/payments/{}/cancel", a["id"].as_str().unwrap()), &key, "", None).await;

    let (_, page) = app.get("/v1/payments?status=cancelled", &key).await;
    let ids: Vec<_> = page["data"].as_array().unwrap().iter().map(|p| p["id"].clone()).collect();
    assert_eq!(ids, vec![a["id"].clone()]);
    let (_, page) = app.get("/v1/payments?reference=B", &key).await;
    let ids: Vec<_> = page["data"].as_array().unwrap().iter().map(|p| p["id"].clone()).collect();
    assert_eq!(ids, vec![b["id"].clone()]);
    let (_, page) =
        app.get("/v1/payments?created_gte=2000-01-01T00:00:00Z&created_lte=2000-01-02T00:00:00Z", &key).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 0);
    let created = b["created_at"].as_str().unwrap();
    let (_, page) = app.get(&format!("/v1/payments?created_gte={created}"), &key).await;
    assert!(page["data"].as_array().unwrap().iter().any(|p| p["id"] == b["id"]));
}

async fn a_pending_payment_can_be_cancelled_once(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let (_, p) = app.create_payment(&key, &json!({"amount": "1", "currency": "USD"})).await;
    let path = format!("/v1/payments/{}/cancel", p["id"].as_str().unwrap());
    let (s, c) = crate::helpers::json(app.post_raw(&path, &key, "", None).await).await;
    assert_eq!((s, c["status"].as_str()), (200, Some("cancelled")));
    let (s, e) = crate::helpers::json(app.post_raw(&path, &key, "", None).await).await;
    assert_eq!((s, code(&e)), (409, "payment_not_cancellable"));
    let id = p["id"].as_str().unwrap().parse().unwrap();
    let kinds: Vec<_> =
        app.store.list_events(&id).await.unwrap().iter().map(|e| (e.kind.as_str(), e.sequence)).collect();
    assert_eq!(kinds, [("payment.created", 1), ("payment.cancelled", 2)]);
}

async fn a_payment_that_received_money_cannot_be_cancelled(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let (_, p) = app
        .create_payment(&key, &json!({"amount": "1", "currency": "USD", "token": "USDC", "network": "base"}))
        .await;
    let id = p["id"].as_str().unwrap().parse().unwrap();
    let now = payd_store::now();
    app.store
        .mutate_payment(&id, &mut |p: &mut Payment| {
            p.apply_funds(Funds { confirmed: 0, pending: 10, late: 0 }, 0, now)
        })
        .await
        .unwrap()
        .unwrap();
    let (s, e) =
        crate::helpers::json(app.post_raw(&format!("/v1/payments/{id}/cancel"), &key, "", None).await).await;
    assert_eq!((s, code(&e)), (409, "payment_not_cancellable"), "processing payments are not cancellable");
}

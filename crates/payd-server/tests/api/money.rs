//! The money rules, through HTTP on a real server: on-time money is the chain's time, a
//! payment paid in time completes rather than expires, late money that covers the amount
//! reads as paid (and late) in every API, statuses never go back while money arrives, sums
//! that overflow are set aside without stopping anyone's credits, and replays take nothing.

use chrono::{Duration, Utc};
use payd_core::apikey::Mode;
use payd_core::chain::DevnetTransfer;
use payd_core::ids::PaymentId;
use payd_core::payment::Payment;
use payd_server::engine::devnet;
use payd_server::keys::KeyOwner;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::devnet::{advance, advance_to, create, mine, scan, test_pay, usdc};
use crate::helpers::{code, json as read, TestApp};
use crate::receiver::Receiver;
use crate::webhooks::{add_endpoint, settled};

crate::webhook_tests!(
    crate::webhooks::HOOK_ENV;
    late_money_that_covers_the_amount_reads_as_paid_and_late_in_every_api,
    statuses_never_go_back_while_money_arrives,
);

backend_tests!(
    money_seen_in_full_before_expiry_completes_at_depth_instead_of_expiring,
    money_sent_at_the_last_second_is_on_time_even_when_seen_after_the_expiry,
    a_reorg_after_expiry_that_takes_the_covering_money_away_expires_the_payment,
    a_transfer_that_would_overflow_is_set_aside_and_everyone_else_is_credited,
    test_pay_refuses_absurd_amounts,
    a_stored_tolerance_above_the_cap_is_capped,
    replays_of_one_key_take_one_address,
    an_idempotency_key_belongs_to_one_api,
    alppay_transactions_carry_their_own_time,
    live_payments_on_networks_nobody_watches_are_refused_in_each_apis_format,
);

async fn payment(app: &TestApp, id: &PaymentId) -> Payment {
    app.store.get_payment(id).await.unwrap().unwrap()
}

async fn native(app: &TestApp, key: &str, id: &PaymentId) -> Value {
    let (s, p) = app.get(&format!("/v1/payments/{id}"), key).await;
    assert_eq!(s, 200, "{p}");
    p
}

/// A 10 USDC test payment on polygon (50 confirmations), expiring in 60 s.
async fn ten_usdc(app: &TestApp, key: &str) -> PaymentId {
    let mut body = usdc("10", "polygon");
    body["expires_in"] = json!(60);
    create(app, key, body).await.0
}

async fn money_seen_in_full_before_expiry_completes_at_depth_instead_of_expiring(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let id = ten_usdc(&app, &key).await;
    assert_eq!(test_pay(&app, &key, &id, "").await.0, 202);
    advance(&app, 1).await;
    assert_eq!(native(&app, &key, &id).await["status"], "processing");

    // The chain passes the expiry while the payment is still confirming.
    let later = Utc::now() + Duration::minutes(2);
    advance_to(&app, later).await;
    assert_eq!(payd_server::engine::expire_due(&app.store, later).await.unwrap(), 0);
    let p = native(&app, &key, &id).await;
    assert_eq!((p["status"].as_str(), p["underpaid"].as_bool()), (Some("processing"), Some(false)));

    mine(&app, 48).await;
    scan(&app).await;
    let p = native(&app, &key, &id).await;
    assert_eq!(
        (p["status"].as_str(), p["underpaid"].as_bool(), p["paid_late"].as_bool(), p["overpaid"].as_bool()),
        (Some("completed"), Some(false), Some(false), Some(false)),
        "{p}"
    );
    let kinds: Vec<_> = app.store.list_events(&id).await.unwrap().iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["payment.created", "payment.processing", "payment.completed"]);
}

async fn money_sent_at_the_last_second_is_on_time_even_when_seen_after_the_expiry(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let id = ten_usdc(&app, &key).await;
    assert_eq!(test_pay(&app, &key, &id, "").await.0, 202);
    // Mined before the expiry, but nobody has scanned it yet when the sweeper runs.
    mine(&app, 1).await;
    let later = Utc::now() + Duration::minutes(2);
    assert_eq!(
        payd_server::engine::expire_due(&app.store, later).await.unwrap(),
        0,
        "devnet not read past it"
    );
    advance_to(&app, later).await;
    assert_eq!(payd_server::engine::expire_due(&app.store, later).await.unwrap(), 0);
    let p = payment(&app, &id).await;
    assert_eq!((p.status.as_str(), p.paid_in_time, p.funds.late), ("processing", true, 0));
    mine(&app, 49).await;
    scan(&app).await;
    assert_eq!(native(&app, &key, &id).await["status"], "completed");
}

async fn a_reorg_after_expiry_that_takes_the_covering_money_away_expires_the_payment(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    mine(&app, 1).await; // devnet's genesis is never reorged
    let id = ten_usdc(&app, &key).await;
    assert_eq!(test_pay(&app, &key, &id, "").await.0, 202);
    advance(&app, 1).await;
    let later = Utc::now() + Duration::minutes(2);
    advance_to(&app, later).await;
    assert_eq!(payd_server::engine::expire_due(&app.store, later).await.unwrap(), 0);
    // Both blocks replaced, the transfer dropped: the money is gone after the expiry.
    devnet::reorg(&app.store, 2, true, later).await.unwrap();
    scan(&app).await;
    advance_to(&app, later).await;
    assert_eq!(payd_server::engine::expire_due(&app.store, later).await.unwrap(), 1);
    let p = native(&app, &key, &id).await;
    assert_eq!((p["status"].as_str(), p["underpaid"].as_bool()), (Some("expired"), Some(false)), "{p}");
}

/// Each API's reading of a payment: native status and flags, AstraPay, MutoPay, AlpPay and
/// Paygentic statuses, and each dialect's `paid_late`.
async fn views(app: &TestApp, key: &str, id: &PaymentId) -> Value {
    let get = |path: String, header: &'static str| {
        let req = app.client.get(app.url(&path));
        let req = if header == "bearer" { req.bearer_auth(key) } else { req.header(header, key) };
        async move { read(req.send().await.unwrap()).await }
    };
    let n = native(app, key, id).await;
    let p = payment(app, id).await;
    let uuid = p.id.uuid().hyphenated().to_string();
    let (_, astra) = get(format!("/v1/api/payments/{uuid}"), "X-Api-Key").await;
    let (_, muto) = get(format!("/api/payments/{id}/status"), "X-API-Key").await;
    let (_, alp) = get(format!("/v2/payment/{uuid}"), "API-KEY").await;
    let (_, pg) = get(format!("/v0/payments/{id}"), "bearer").await;
    json!({
        "native": [n["status"], n["underpaid"], n["paid_late"]],
        "astrapay": [astra["data"]["status"], astra["data"]["paid_late"]],
        "mutopay": [muto["status"], muto["paid_late"]],
        "alppay": [alp["data"]["status"], alp["data"]["displayStatus"], alp["data"]["paidLate"]],
        "paygentic": [pg["status"], pg["paidLate"]],
    })
}

async fn late_money_that_covers_the_amount_reads_as_paid_and_late_in_every_api(app: TestApp) {
    let rx = Receiver::start().await;
    let (m, key) = app.merchant_with_key().await;
    for format in ["native", "astrapay", "mutopay", "alppay", "paygentic"] {
        add_endpoint(&app, &key, json!({"url": rx.url_at(&format!("/{format}")), "format": format})).await;
    }
    let id = ten_usdc(&app, &key).await;
    test_pay(&app, &key, &id, r#"{"amount": "4"}"#).await;
    advance(&app, 1).await;
    let later = Utc::now() + Duration::minutes(2);
    advance_to(&app, later).await;
    assert_eq!(payd_server::engine::expire_due(&app.store, later).await.unwrap(), 1);
    assert_eq!(
        views(&app, &key, &id).await,
        json!({
            "native": ["expired", true, false],
            "astrapay": ["EXPIRED", false],
            "mutopay": ["underpaid", false],
            "alppay": ["EXPIRED", "UNDERPAID", false],
            "paygentic": ["expired", false],
        })
    );

    // The remaining 6 arrive after the expiry, in a block made after it.
    test_pay(&app, &key, &id, r#"{"amount": "6"}"#).await;
    advance(&app, 1).await;
    let p = payment(&app, &id).await;
    assert_eq!((p.funds.total(), p.funds.late), (10_000_000, 6_000_000));
    assert_eq!(
        views(&app, &key, &id).await,
        json!({
            "native": ["expired", false, true],
            "astrapay": ["COMPLETED", true],
            "mutopay": ["completed", true],
            "alppay": ["COMPLETED", "COMPLETED", true],
            "paygentic": ["completed", true],
        })
    );

    // Every format announced the late money that paid it (deliveries may arrive in any
    // order, so each is looked for by its contents).
    settled(&app, &m.id).await;
    let bodies = |format: &str| -> Vec<Value> {
        rx.received().into_iter().filter(|r| r.path == format!("/{format}")).map(|r| r.json()).collect()
    };
    let has = |format: &str, want: &dyn Fn(&Value) -> bool| {
        assert!(bodies(format).iter().any(want), "{format}: {:?}", bodies(format));
    };
    has("native", &|b| b["type"] == "payment.paid_late" && b["data"]["paid_late"] == true);
    has("astrapay", &|b| {
        b["event"] == "payment.completed"
            && b["data"]["status"] == "completed"
            && b["data"]["paid_late"] == true
    });
    has("mutopay", &|b| {
        b["event"] == "payment.completed" && b["status"] == "completed" && b["paid_late"] == true
    });
    has("alppay", &|b| {
        b["status"] == "COMPLETED" && b["displayStatus"] == "COMPLETED" && b["paidLate"] == true
    });
    has("paygentic", &|b| b["eventType"] == "payment.paid_late.v0" && b["data"]["status"] == "completed");
    // Before it, each said the payment expired short, in its own words.
    has("mutopay", &|b| b["event"] == "payment.underpaid");
    has("astrapay", &|b| b["event"] == "payment.expired");
}

async fn statuses_never_go_back_while_money_arrives(app: TestApp) {
    let rx = Receiver::start().await;
    let (m, key) = app.merchant_with_key().await;
    for format in ["astrapay", "mutopay"] {
        add_endpoint(&app, &key, json!({"url": rx.url_at(&format!("/{format}")), "format": format})).await;
    }
    let (id, _) = create(&app, &key, usdc("25", "polygon")).await;
    let mut seen = Vec::new();
    let mut look = async |app: &TestApp| {
        let v = views(app, &key, &id).await;
        seen.push((v["astrapay"][0].clone(), v["mutopay"][0].clone(), v["alppay"][1].clone()));
    };
    look(&app).await;
    test_pay(&app, &key, &id, r#"{"amount": "10"}"#).await;
    advance(&app, 1).await;
    look(&app).await;
    test_pay(&app, &key, &id, r#"{"amount": "15"}"#).await;
    advance(&app, 1).await;
    look(&app).await;
    mine(&app, 49).await;
    scan(&app).await;
    look(&app).await;
    assert_eq!(
        seen,
        [
            (json!("PENDING"), json!("awaiting_payment"), json!("OPEN")),
            (json!("PARTIALLY_PAID"), json!("awaiting_payment"), json!("UNDERPAID")),
            (json!("PARTIALLY_PAID"), json!("confirming"), json!("UNDERPAID")),
            (json!("COMPLETED"), json!("completed"), json!("COMPLETED")),
        ]
    );
    settled(&app, &m.id).await;
    let names = |format: &str| -> Vec<String> {
        rx.received()
            .into_iter()
            .filter(|r| r.path == format!("/{format}"))
            .map(|r| r.json()["event"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut astra = names("astrapay");
    astra.sort();
    assert_eq!(astra, ["payment.completed", "payment.partially_paid"]);
    assert_eq!(names("mutopay"), ["payment.completed"]);
}

async fn a_transfer_that_would_overflow_is_set_aside_and_everyone_else_is_credited(mut app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let (victim, v) = create(&app, &key, usdc("10", "avalanche")).await;
    let (_, other_key) = app.merchant_with_key().await;
    let (bystander, _) = create(&app, &other_key, usdc("10", "avalanche")).await;
    // Two transfers whose sum does not fit 128 bits, straight into devnet's mempool (the API
    // refuses such amounts), and an ordinary payment for another merchant in the same block.
    let to = v["asset"]["address"].as_str().unwrap();
    for (i, amount) in [u128::MAX - 1, u128::MAX / 2].into_iter().enumerate() {
        let t = DevnetTransfer {
            tx_hash: format!("0x{:064x}", 0xf00 + i),
            token: "USDC".into(),
            from: devnet::FAUCET.into(),
            to: to.into(),
            amount,
            block: None,
            log_index: None,
        };
        app.store.devnet_submit(&t, payd_store::now()).await.unwrap();
    }
    assert_eq!(test_pay(&app, &other_key, &bystander, "").await.0, 202);
    advance(&app, 2).await;
    assert_eq!(payment(&app, &bystander).await.status.as_str(), "completed", "the scan went on");
    let p = payment(&app, &victim).await;
    assert_eq!((p.status.as_str(), p.overpaid, p.funds.total()), ("completed", true, u128::MAX - 1));
    let set_aside: Vec<_> = app
        .store
        .list_transfers("devnet")
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.transfer.to == to && t.transfer.payment_id.is_none())
        .collect();
    assert_eq!(set_aside.len(), 1);
    let note = set_aside[0].transfer.note.clone().unwrap_or_default();
    assert!(note.contains(&victim.to_string()) && note.contains("2^128"), "{note}");

    // After a restart the watcher carries on from where it was.
    app.stop_server().await;
    app.start_server(&[]).await;
    let (late_comer, _) = create(&app, &other_key, usdc("1", "avalanche")).await;
    assert_eq!(test_pay(&app, &other_key, &late_comer, "").await.0, 202);
    advance(&app, 2).await;
    assert_eq!(payment(&app, &late_comer).await.status.as_str(), "completed");
}

async fn test_pay_refuses_absurd_amounts(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let (id, _) = create(&app, &key, usdc("10", "avalanche")).await;
    for amount in ["1000000000001", "340282366920938463463374607431768211455"] {
        let (s, e) = test_pay(&app, &key, &id, &json!({ "amount": amount }).to_string()).await;
        assert_eq!((s, code(&e)), (400, "amount_invalid"), "{amount}: {e}");
    }
    assert_eq!(
        test_pay(&app, &key, &id, r#"{"amount": "1000000000000"}"#).await.0,
        202,
        "a trillion is the cap"
    );
}

async fn a_stored_tolerance_above_the_cap_is_capped(app: TestApp) {
    let (m, key) = app.merchant_with_key().await;
    // A value written before the cap existed (or by hand): 100 %.
    app.store.set_merchant_underpayment_tolerance(&m.id, 10_000, payd_store::now()).await.unwrap();
    let (id, _) = create(&app, &key, usdc("10", "avalanche")).await;
    test_pay(&app, &key, &id, r#"{"amount": "0.000001"}"#).await;
    advance(&app, 2).await;
    let p = native(&app, &key, &id).await;
    assert_eq!((p["status"].as_str(), p["underpaid"].as_bool()), (Some("processing"), Some(true)));
    test_pay(&app, &key, &id, r#"{"amount": "8.999999"}"#).await;
    advance(&app, 2).await;
    assert_eq!(native(&app, &key, &id).await["status"], "completed", "9 of 10 is within the 10 % cap");
}

async fn replays_of_one_key_take_one_address(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let app = std::sync::Arc::new(app);
    let body = usdc("10", "base").to_string();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (app, key, body) = (app.clone(), key.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let res = app.post_raw("/v1/payments", &key, &body, Some("one-order")).await;
            (res.status().as_u16(), res.text().await.unwrap())
        }));
    }
    let mut bodies = Vec::new();
    for t in tasks {
        let (s, b) = t.await.unwrap();
        assert_eq!(s, 201, "{b}");
        bodies.push(b);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    // devnet's counter moved once: the next index it hands out is 1.
    assert_eq!(app.store.allocate_address_index(devnet::KEY_ID).await.unwrap(), 1);
}

async fn an_idempotency_key_belongs_to_one_api(app: TestApp) {
    let (m, key) = app.merchant_with_key().await;
    let astra = app
        .client
        .post(app.url("/v1/api/payments"))
        .header("X-Api-Key", &key)
        .header("Idempotency-Key", "order_12345")
        .header("Content-Type", "application/json")
        .body(r#"{"amount": 49.99, "token": "USDC", "network": "BASE"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(astra.status(), 201);
    // Paygentic's own seed request, with the same key.
    let seed = json!({"merchantId": m.id.to_string(), "amount": "10.50", "currency": "USD",
        "idempotencyKey": "order_12345", "reference": "INV-2024-001"});
    let (s, p) = read(
        app.client
            .post(app.url("/v0/payments"))
            .bearer_auth(&key)
            .header("Content-Type", "application/json")
            .body(seed.to_string())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, p["amount"].as_str()), (201, Some("10.50")), "{p}");
    // The native API's key space is its own too.
    let (s, n) =
        read(app.post_raw("/v1/payments", &key, &usdc("1", "base").to_string(), Some("order_12345")).await)
            .await;
    assert_eq!((s, n["amount"].as_str()), (201, Some("1.00")), "{n}");
    let (_, again) =
        read(app.post_raw("/v1/payments", &key, &usdc("1", "base").to_string(), Some("order_12345")).await)
            .await;
    assert_eq!(again["id"], n["id"], "within one API the key still replays");
}

async fn alppay_transactions_carry_their_own_time(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let (id, _) = create(&app, &key, usdc("10", "avalanche")).await;
    let t1 = payd_store::now() + Duration::seconds(5);
    let t2 = t1 + Duration::seconds(7);
    test_pay(&app, &key, &id, r#"{"amount": "4"}"#).await;
    advance_to(&app, t1).await;
    test_pay(&app, &key, &id, r#"{"amount": "6"}"#).await;
    advance_to(&app, t2).await;
    let uuid = payment(&app, &id).await.id.uuid().hyphenated().to_string();
    let (s, p) = read(
        app.client.get(app.url(&format!("/v2/payment/{uuid}"))).header("API-KEY", &key).send().await.unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{p}");
    let dates: Vec<&str> =
        p["data"]["transactions"].as_array().unwrap().iter().map(|t| t["date"].as_str().unwrap()).collect();
    let expected = [payd_server::http::wire::wire_time(t1), payd_server::http::wire::wire_time(t2)];
    assert_eq!(dates, expected.iter().map(String::as_str).collect::<Vec<_>>());
    assert_ne!(p["data"]["updatedAt"].as_str(), Some(dates[0]));
}

async fn live_payments_on_networks_nobody_watches_are_refused_in_each_apis_format(app: TestApp) {
    let (m, test_key) = app.merchant_with_key().await;
    let live = app.key(KeyOwner::Merchant(m.id.clone()), Mode::Live, &[]).await;
    let post = |path: &'static str, header: &'static str, body: Value| {
        let req = app.client.post(app.url(path)).header("Content-Type", "application/json");
        let req = if header == "bearer" { req.bearer_auth(&live) } else { req.header(header, &live) };
        async move { read(req.body(body.to_string()).send().await.unwrap()).await }
    };
    // No [[networks]] at all: nothing would ever see the customer's money.
    let (s, e) = post("/v1/payments", "bearer", usdc("10", "base")).await;
    assert_eq!((s, code(&e)), (400, "network_not_configured"), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("[[networks]]"), "{e}");
    let (s, e) =
        post("/v1/api/payments", "X-Api-Key", json!({"amount": 10, "token": "USDC", "network": "BASE"}))
            .await;
    assert_eq!(
        (s, e["error"]["code"].as_str(), e["error"]["status"].as_u64()),
        (400, Some("BAD_REQUEST"), Some(400)),
        "{e}"
    );
    assert!(e["error"]["message"].as_str().unwrap().contains("[[networks]]"), "{e}");
    let (s, e) =
        post("/v1/api/payments", "X-Api-Key", json!({"amount": 10, "token": "USDC", "network": "SOLANA"}))
            .await;
    assert_eq!(s, 400, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("Solana"), "{e}");
    app.store
        .set_merchant_settlement(&m.id, Some(("USDC".into(), "polygon".into())), payd_store::now())
        .await
        .unwrap();
    let (s, e) = post("/api/payments", "X-API-Key", json!({"amount_usd": 25})).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_request")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("[[networks]]"), "{e}");
    let alp = r#"{"amount":"10.00","asset":{"short":"USDT","network":"tron"},"customer":{"id":1}}"#;
    let (lk, secret) = app.key_with_signing_secret(KeyOwner::Merchant(m.id.clone()), Mode::Live).await;
    let (s, e) = read(
        app.client
            .post(app.url("/v2/payment"))
            .header("Content-Type", "application/json")
            .header("API-KEY", &lk)
            .header(
                "X-HMAC",
                payd_server::http::dialects::alppay::wire::hmac::sign(&secret, alp.as_bytes()).unwrap(),
            )
            .body(alp)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, e["error"].as_str()), (422, Some("unprocessable_entity")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("[[networks]]"), "{e}");
    // Nothing was written for any of them.
    let (_, list) = app.get("/v1/payments", &live).await;
    assert_eq!(list["data"].as_array().map(Vec::len), Some(0));

    // Test mode: Solana has no devnet form yet, so it is refused too, clearly.
    let (s, e) = app.create_payment(&test_key, &usdc("10", "solana")).await;
    assert_eq!((s, code(&e)), (400, "network_not_supported"), "{e}");
}

//! The AlpPay dialect: signed requests, its payment object, clientId rules.

use payd_core::apikey::Mode;
use payd_core::merchant::NewMerchant;
use payd_server::engine::credit::scan_once;
use payd_server::engine::devnet::{self, Devnet};
use payd_server::http::dialects::alppay::wire::hmac::sign;
use payd_server::keys::KeyOwner;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{json as read, TestApp};

backend_tests!(
    the_seed_example_returns_the_full_payment_object,
    requests_with_a_body_must_carry_a_valid_hmac_of_the_exact_bytes,
    networks_are_normalised,
    business_failures_are_422_and_bad_json_is_400,
    payments_are_read_wrapped_in_data_and_listed,
    a_new_payment_for_a_client_expires_its_earlier_open_one,
    received_transfers_are_listed_on_the_payment,
);

/// The seed's cURL body, byte for byte.
const SEED_BODY: &str = r#"{"amount":"1000.00","asset":{"short":"USDT","network":"tron"},"customer":{"id":12312312,"name":"John","email":"john@example.com"},"clientId":"your_client_id","invoice":"INV-001","checkoutUrl":"https://your-shop.com/orders/40113049"}"#;

struct Alp {
    key: String,
    secret: String,
}

async fn setup(app: &TestApp) -> Alp {
    let m = app
        .store
        .create_merchant(
            &NewMerchant {
                name: "Your Company".into(),
                email: Some("shop@your-shop.com".into()),
                site_url: Some("https://your-shop.com".into()),
                logo_url: Some("https://your-shop.com/logo.svg".into()),
                account_id: None,
            },
            payd_store::now(),
        )
        .await
        .unwrap();
    let (key, secret) = app.key_with_signing_secret(KeyOwner::Merchant(m.id), Mode::Test).await;
    Alp { key, secret }
}

async fn post_signed(app: &TestApp, alp: &Alp, body: &str) -> (u16, Value) {
    let sig = sign(&alp.secret, body.as_bytes()).unwrap();
    post_with(app, alp, body, Some(&sig)).await
}

async fn post_with(app: &TestApp, alp: &Alp, body: &str, sig: Option<&str>) -> (u16, Value) {
    let mut req = app
        .client
        .post(app.url("/v2/payment"))
        .header("Content-Type", "application/json")
        .header("API-KEY", &alp.key)
        .body(body.to_owned());
    if let Some(s) = sig {
        req = req.header("X-HMAC", s);
    }
    read(req.send().await.unwrap()).await
}

async fn get(app: &TestApp, alp: &Alp, path: &str) -> (u16, Value) {
    read(app.client.get(app.url(path)).header("API-KEY", &alp.key).send().await.unwrap()).await
}

async fn the_seed_example_returns_the_full_payment_object(app: TestApp) {
    let alp = setup(&app).await;
    let (s, p) = post_signed(&app, &alp, SEED_BODY).await;
    assert_eq!(s, 200, "{p}");
    let mut fields: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "addressTo",
            "amount",
            "asset",
            "checkoutUrl",
            "confirmsNeeded",
            "createdAt",
            "customer",
            "displayStatus",
            "id",
            "invoice",
            "merchant",
            "paidLate",
            "paymentRedirectUrl",
            "status",
            "timeout",
            "totalReceivedAmount",
            "transactions",
            "updatedAt"
        ]
    );
    assert!(uuid::Uuid::try_parse(p["id"].as_str().unwrap()).is_ok());
    assert_eq!((p["status"].as_str(), p["displayStatus"].as_str()), (Some("OPEN"), Some("OPEN")));
    assert_eq!((p["amount"].as_str(), p["totalReceivedAmount"].as_str()), (Some("1000.00"), Some("0.00")));
    assert_eq!(p["asset"]["short"], "USDT");
    assert_eq!(p["asset"]["network"], "tron");
    assert!(p["addressTo"].is_string());
    assert_eq!(p["confirmsNeeded"], 19);
    assert_eq!(p["timeout"], 3600);
    assert_eq!(p["transactions"], json!([]));
    assert_eq!(p["customer"], json!({"id": 12312312, "name": "John", "email": "john@example.com"}));
    assert_eq!(p["merchant"]["name"], "Your Company");
    assert_eq!(p["merchant"]["siteUrl"], "https://your-shop.com");
    assert_eq!(
        (p["invoice"].as_str(), p["checkoutUrl"].as_str()),
        (Some("INV-001"), Some("https://your-shop.com/orders/40113049"))
    );
    assert!(p["paymentRedirectUrl"].as_str().unwrap().starts_with(&app.address));
}

async fn requests_with_a_body_must_carry_a_valid_hmac_of_the_exact_bytes(app: TestApp) {
    let alp = setup(&app).await;
    let (s, e) = post_with(&app, &alp, SEED_BODY, None).await;
    assert_eq!((s, e["error"].as_str()), (401, Some("unauthorized")));
    let (s, _) = post_with(&app, &alp, SEED_BODY, Some("00ff")).await;
    assert_eq!(s, 401);
    let (s, _) = post_with(&app, &alp, SEED_BODY, Some("not hex")).await;
    assert_eq!(s, 401);
    // Signed over other bytes of the same JSON: refused, the signature covers the exact body.
    let pretty = serde_json::to_string_pretty(&serde_json::from_str::<Value>(SEED_BODY).unwrap()).unwrap();
    let (s, _) =
        post_with(&app, &alp, &pretty, Some(&sign(&alp.secret, SEED_BODY.as_bytes()).unwrap())).await;
    assert_eq!(s, 401);
    let upper = sign(&alp.secret, SEED_BODY.as_bytes()).unwrap().to_uppercase();
    assert_eq!(post_with(&app, &alp, SEED_BODY, Some(&upper)).await.0, 200, "hex case does not matter");
    let (s, _) = read(
        app.client.post(app.url("/v2/payment")).header("X-HMAC", "00").body(SEED_BODY).send().await.unwrap(),
    )
    .await;
    assert_eq!(s, 401, "no API-KEY");
    assert_eq!(get(&app, &alp, "/v2/payment").await.0, 200, "GETs carry no body and need no X-HMAC");
}

async fn networks_are_normalised(app: TestApp) {
    let alp = setup(&app).await;
    for (given, canonical, token) in [
        ("TRC20", "tron", "USDT"),
        ("ERC20", "ethereum", "USDC"),
        ("BEP20", "bsc", "USDT"),
        ("Tron", "tron", "USDC"),
    ] {
        let body = SEED_BODY.replace(
            r#""short":"USDT","network":"tron""#,
            &format!(r#""short":"{token}","network":"{given}""#),
        );
        let (s, p) = post_signed(&app, &alp, &body).await;
        assert_eq!((s, p["asset"]["network"].as_str()), (200, Some(canonical)), "{given}: {p}");
    }
}

async fn business_failures_are_422_and_bad_json_is_400(app: TestApp) {
    let alp = setup(&app).await;
    let cases = [
        (r#"{"asset":{"short":"USDT","network":"tron"},"customer":{"id":1}}"#, 422),
        (r#"{"amount":1000,"asset":{"short":"USDT","network":"tron"},"customer":{"id":1}}"#, 422),
        (r#"{"amount":"10.001","asset":{"short":"USDT","network":"tron"},"customer":{"id":1}}"#, 422),
        (r#"{"amount":"0","asset":{"short":"USDT","network":"tron"},"customer":{"id":1}}"#, 422),
        (r#"{"amount":"10","asset":{"short":"DOGE","network":"tron"},"customer":{"id":1}}"#, 422),
        (r#"{"amount":"10","asset":{"short":"USDT","network":"ton"},"customer":{"id":1}}"#, 422),
        (r#"{"amount":"10","asset":{"short":"USDT"},"customer":{"id":1}}"#, 422),
        (r#"{"amount":"10","asset":{"short":"USDT","network":"tron"}}"#, 422),
        (
            r#"{"amount":"10","asset":{"short":"USDT","network":"tron"},"customer":{"id":1},"checkoutUrl":"nope"}"#,
            422,
        ),
        (r#"{"amount":"10","asset":{"short":"USDT","network":"tron"},"customer":{"id":1}}"#, 200),
        (r#"{"amount":"10","#, 400),
    ];
    for (body, status) in cases {
        let (s, v) = post_signed(&app, &alp, body).await;
        assert_eq!(s, status, "{body} → {v}");
        if status != 200 {
            assert!(v["error"].is_string() && v["message"].is_string(), "{v}");
        }
    }
}

async fn payments_are_read_wrapped_in_data_and_listed(app: TestApp) {
    let alp = setup(&app).await;
    let (_, p) = post_signed(&app, &alp, SEED_BODY).await;
    let id = p["id"].as_str().unwrap();
    let (s, got) = get(&app, &alp, &format!("/v2/payment/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(got["data"]["id"].as_str(), Some(id));
    assert_eq!(got["data"]["fixedFee"], "0");
    let (s, e) = get(&app, &alp, "/v2/payment/00000000-0000-0000-0000-000000000000").await;
    assert_eq!((s, e["error"].as_str()), (404, Some("not_found")));
    for i in 0..2 {
        post_signed(
            &app,
            &alp,
            &SEED_BODY.replace("INV-001", &format!("INV-{i}")).replace("your_client_id", &format!("c{i}")),
        )
        .await;
    }
    let (s, l) = get(&app, &alp, "/v2/payment?page=1&limit=2").await;
    assert_eq!(s, 200);
    assert_eq!((l["page"].clone(), l["limit"].clone(), l["total"].clone()), (json!(1), json!(2), json!(3)));
    assert_eq!(l["data"].as_array().unwrap().len(), 2);
    let (_, l) = get(&app, &alp, "/v2/payment?statuses=OPEN").await;
    assert_eq!(l["total"], 3);
    let (_, l) = get(&app, &alp, "/v2/payment?statuses=COMPLETED,EXPIRED").await;
    assert_eq!(l["total"], 0);
    let (_, l) = get(&app, &alp, "/v2/payment?invoices=INV-0,INV-1").await;
    assert_eq!(l["total"], 2);
    assert_eq!(get(&app, &alp, "/v2/payment?limit=101").await.0, 422);
    assert_eq!(get(&app, &alp, "/v2/payment?statuses=PAID").await.0, 422);
}

async fn a_new_payment_for_a_client_expires_its_earlier_open_one(app: TestApp) {
    let alp = setup(&app).await;
    let (_, first) = post_signed(&app, &alp, SEED_BODY).await;
    let (_, other_client) =
        post_signed(&app, &alp, &SEED_BODY.replace("your_client_id", "someone_else")).await;
    let (s, second) = post_signed(&app, &alp, &SEED_BODY.replace("INV-001", "INV-002")).await;
    assert_eq!(s, 200);
    let (_, f) = get(&app, &alp, &format!("/v2/payment/{}", first["id"].as_str().unwrap())).await;
    assert_eq!(
        (f["data"]["status"].as_str(), f["data"]["displayStatus"].as_str()),
        (Some("EXPIRED"), Some("EXPIRED"))
    );
    let (_, o) = get(&app, &alp, &format!("/v2/payment/{}", other_client["id"].as_str().unwrap())).await;
    assert_eq!(o["data"]["status"], "OPEN");
    let (_, n) = get(&app, &alp, &format!("/v2/payment/{}", second["id"].as_str().unwrap())).await;
    assert_eq!(n["data"]["status"], "OPEN");
    // The client's persistent address: the same for its payments, another for another client.
    assert_eq!(second["addressTo"], first["addressTo"]);
    assert_ne!(other_client["addressTo"], first["addressTo"]);
    let first_id =
        payd_core::ids::PaymentId::from_uuid(uuid::Uuid::try_parse(first["id"].as_str().unwrap()).unwrap());
    let kinds: Vec<_> =
        app.store.list_events(&first_id).await.unwrap().iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["payment.created", "payment.expired"]);
}

async fn received_transfers_are_listed_on_the_payment(app: TestApp) {
    let alp = setup(&app).await;
    let (_, p) = post_signed(&app, &alp, &SEED_BODY.replace("1000.00", "20.00")).await;
    let uuid = uuid::Uuid::try_parse(p["id"].as_str().unwrap()).unwrap();
    let id = payd_core::ids::PaymentId::from_uuid(uuid);
    let res = app
        .client
        .post(app.url(&format!("/v1/payments/{id}/test_pay")))
        .bearer_auth(&alp.key)
        .header("Content-Type", "application/json")
        .body(r#"{"amount":"5"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let cfg = devnet::network_config(chrono::Duration::hours(24));
    for _ in 0..3 {
        devnet::produce_block(&app.store, payd_store::now()).await.unwrap().unwrap();
        scan_once(&app.store, &Devnet::new(app.store.clone()), &cfg, payd_store::now()).await.unwrap();
    }
    let (_, got) = get(&app, &alp, &format!("/v2/payment/{uuid}")).await;
    let d = &got["data"];
    assert_eq!((d["status"].as_str(), d["displayStatus"].as_str()), (Some("OPEN"), Some("UNDERPAID")), "{d}");
    assert_eq!(d["totalReceivedAmount"], "5.00");
    let txs = d["transactions"].as_array().unwrap();
    assert_eq!(txs.len(), 1);
    assert_eq!(
        (txs[0]["receivedAmount"].as_str(), txs[0]["addressTo"].clone()),
        (Some("5.00"), d["addressTo"].clone())
    );
    assert!(txs[0]["txnId"].as_str().is_some_and(|t| !t.is_empty()));
}

//! The dashboard's guards in a real browser (tests/dashboard/guards.mjs): the lockout after
//! repeated wrong passwords, the search by each API's kind of id, redelivering a failed
//! webhook and seeing the new attempt, a viewer shown no change form and refused every change
//! post made with its own form token, another account's pages not found, and a form posted
//! without its token refused. The HTTP tests of the same rules are in dashboard.rs,
//! dashboard_manage.rs and dashboard_roles.rs; here the browser itself does each thing.

use payd_core::apikey::Mode;
use payd_core::ids::PaymentId;
use payd_core::user::Role;
use payd_server::http::dialects::alppay::wire::hmac::sign;
use payd_server::keys::KeyOwner;
use serde_json::{json, Value};

use crate::dashboard::{shop, user, PASSWORD};
use crate::helpers::{browser_ready, json as read, run_browser_script, spawn_app_with, TestApp};
use crate::receiver::{Receiver, Reply};
use crate::webhooks::add_endpoint;

/// payd's id of the payment an API's own id names.
async fn payd_id(app: &TestApp, uuid: &str) -> String {
    let id = PaymentId::from_uuid(uuid.parse().unwrap());
    assert!(app.store.get_payment(&id).await.unwrap().is_some(), "{uuid}");
    id.to_string()
}

/// Lockout, search by every API's id, redelivery of a failed webhook, a viewer refused,
/// another account's pages not found and a form without its token refused, in headless
/// Chromium (tests/dashboard/guards.mjs), with axe-core on every page and screenshots at 360
/// and 1280 px under target/tmp/dashboard-guards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboards_guards_hold_in_the_browser() {
    if !browser_ready(&["playwright-core", "@axe-core"], &[]) {
        return;
    }
    // Deliveries to a receiver answering 500: two attempts (one retry), then dead.
    let app = spawn_app_with(
        payd_store::Backend::Sqlite,
        &[
            ("PAYD_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true"),
            ("PAYD_WEBHOOKS_POLL_MS", "20"),
            ("PAYD_WEBHOOKS_RETRY_SCHEDULE", "50ms"),
        ],
    )
    .await
    .unwrap();
    let rx = Receiver::start().await;
    rx.respond_with(|_| Reply::Status(500));
    let (a, key) = shop(&app, "Shop A").await;
    let (b, b_key) = shop(&app, "Shop B").await;
    user(&app, "ann@example.com", Role::Admin, Some(&a.account_id)).await;
    user(&app, "val@example.com", Role::Viewer, Some(&a.account_id)).await;
    user(&app, "lou@example.com", Role::Admin, Some(&a.account_id)).await;
    user(&app, "bob@example.com", Role::Admin, Some(&b.account_id)).await;
    let (hook, _) =
        add_endpoint(&app, &key, json!({"url": rx.url_at("/hook"), "events": ["payment.created"]})).await;
    // B has a payment of its own, so its search has something to not confuse with A's.
    let (s, theirs) = app
        .create_payment(
            &b_key,
            &json!({"amount": "3.00", "currency": "USD", "token": "USDC", "network": "base"}),
        )
        .await;
    assert_eq!(s, 201, "{theirs}");

    // One payment through the native API (its id is MutoPay's and Paygentic's too) …
    let (s, native) = app
        .create_payment(
            &key,
            &json!({"amount": "25.00", "currency": "USD", "token": "USDC", "network": "base", "reference": "GUARD-1"}),
        )
        .await;
    assert_eq!(s, 201, "{native}");
    let native_id = native["id"].as_str().unwrap().to_owned();
    let stored = app.store.get_payment(&native_id.parse().unwrap()).await.unwrap().unwrap();
    // … one through AstraPay's (a UUID and a short id) …
    let body =
        json!({"amount": 12, "token": "USDT", "network": "ETHEREUM", "customer_email": "c@shop.example"});
    let res = app
        .client
        .post(app.url("/v1/api/payments"))
        .header("Content-Type", "application/json")
        .header("X-Api-Key", &key)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let (s, astra) = read(res).await;
    assert_eq!(s, 201, "{astra}");
    let astra_uuid = astra["data"]["id"].as_str().unwrap().to_owned();
    let astra_short = astra["data"]["short_id"].as_str().unwrap().to_owned();
    let astra_id = payd_id(&app, &astra_uuid).await;
    // … and one through AlpPay's (a bare UUID, signed).
    let (alp_key, alp_secret) =
        app.key_with_signing_secret(KeyOwner::Merchant(a.id.clone()), Mode::Test).await;
    let body = r#"{"amount":"40.00","asset":{"short":"USDT","network":"tron"},"invoice":"INV-G1","customer":{"id":7,"name":"Gail","email":"gail@example.com"}}"#;
    let res = app
        .client
        .post(app.url("/v2/payment"))
        .header("Content-Type", "application/json")
        .header("API-KEY", &alp_key)
        .header("X-HMAC", sign(&alp_secret, body.as_bytes()).unwrap())
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let (s, alp) = read(res).await;
    assert_eq!(s, 200, "{alp}");
    let alp_uuid = alp["id"].as_str().unwrap().to_owned();
    let alp_id = payd_id(&app, &alp_uuid).await;

    let searches: Vec<Value> = [
        ("native, MutoPay, Paygentic id", native_id.clone(), native_id.clone()),
        ("its UUID, hyphenated", stored.id.uuid().hyphenated().to_string(), native_id.clone()),
        ("its UUID, bare", stored.id.uuid().simple().to_string(), native_id.clone()),
        ("its AstraPay short id", stored.slug.clone(), native_id.clone()),
        ("AstraPay id", astra_uuid.clone(), astra_id.clone()),
        ("AstraPay short id", astra_short.clone(), astra_id.clone()),
        ("AlpPay id", alp_uuid.clone(), alp_id.clone()),
        ("AlpPay id without hyphens", alp_uuid.replace('-', ""), alp_id.clone()),
    ]
    .into_iter()
    .map(|(what, term, id)| json!({"what": what, "term": term, "id": id}))
    .collect();

    let ann = app.store.user_by_email("ann@example.com").await.unwrap().unwrap().0;
    let keys_before = app
        .store
        .dashboard_api_keys(Some(std::slice::from_ref(&a.account_id)), Mode::Test)
        .await
        .unwrap()
        .len();
    let audit_before = app.store.audit_log(Some(&a.account_id), 500).await.unwrap().len();
    let shots = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard-guards");
    let params = json!({
        "url": app.address, "password": PASSWORD, "shots": shots.to_string_lossy(),
        "admin": "ann@example.com", "viewer": "val@example.com", "locked": "lou@example.com",
        "other": "bob@example.com", "adminId": ann.id.to_string(),
        "merchantId": a.id.to_string(), "endpointId": hook, "paymentId": native_id,
        "otherPaymentId": theirs["id"], "searches": searches,
    });
    let out = run_browser_script("crates/payd-server/tests/dashboard/guards.mjs", &[params.to_string()]);

    // The lockout is the engine's: the user is locked, the others were not.
    let lou = app.store.user_by_email("lou@example.com").await.unwrap().unwrap().0;
    assert!(lou.locked_at(payd_store::now()), "{lou:?}");
    // The redelivery is stored: one more attempt than the browser saw before it.
    let delivery: payd_core::ids::DeliveryId = out["delivery"].as_str().unwrap().parse().unwrap();
    let attempts = app.store.list_webhook_attempts(&delivery).await.unwrap();
    assert!(attempts.len() as u64 > out["attemptsBefore"].as_u64().unwrap(), "{attempts:?}");
    assert!(attempts.iter().all(|a| a.status_code == Some(500)), "{attempts:?}");
    // Nothing the viewer or the token-less form posted changed anything.
    assert_eq!(
        app.store
            .dashboard_api_keys(Some(std::slice::from_ref(&a.account_id)), Mode::Test)
            .await
            .unwrap()
            .len(),
        keys_before
    );
    assert_eq!(
        app.store.get_payment(&native_id.parse().unwrap()).await.unwrap().unwrap().status.as_str(),
        "pending"
    );
    assert_eq!(app.store.user_by_email("ann@example.com").await.unwrap().unwrap().0.role, Role::Admin);
    let settings = payd_server::engine::merchants::settings(&app.store, &a.id).await.unwrap();
    assert_eq!(settings.min_amount_usd, None);
    let m = app.store.get_merchant(&a.id).await.unwrap().unwrap();
    assert_eq!(m.email, None);
    let log = app.store.audit_log(Some(&a.account_id), 500).await.unwrap();
    let changes: Vec<_> = log[..log.len() - audit_before]
        .iter()
        .filter(|l| !l.action.starts_with("session.") && !l.action.starts_with("login."))
        .map(|l| l.action.as_str())
        .collect();
    assert_eq!(changes, ["webhook.redeliver"], "only the admin's redelivery changed anything");
    let endpoints = app.store.list_webhook_endpoints(&a.id, Mode::Test).await.unwrap();
    assert_eq!(endpoints.len(), 1, "{endpoints:?}");
    for name in [
        "locked",
        "search",
        "payment-failed",
        "redelivered",
        "viewer-payment",
        "viewer-keys",
        "viewer-webhooks",
        "viewer-settings",
        "viewer-users",
        "not-yours",
        "csrf-refused",
    ] {
        for width in [360, 1280] {
            assert!(shots.join(format!("{name}-{width}.png")).exists(), "{name}-{width}.png");
        }
    }
}

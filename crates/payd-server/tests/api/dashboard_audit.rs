//! The dashboard's changes that write their audit line in the change's own transaction, over
//! HTTP on both backends: a payment's cancel, an endpoint's registration, an API key's
//! creation and revocation each leave exactly one line when done, and none when refused (a
//! payment that received money, a merchant at its endpoint cap, a key revoked already).

use payd_core::apikey::Mode;
use payd_core::user::Role;
use payd_server::engine::credit::scan_once;
use payd_server::engine::devnet::{self, Devnet};
use serde_json::json;

use crate::dashboard::{get, login, post, shop, user};
use crate::helpers::TestApp;

// One endpoint per merchant and mode, so the second registration meets the cap.
crate::webhook_tests!(&[("PAYD_WEBHOOKS_MAX_ENDPOINTS", "1")];
    each_dashboard_change_has_its_line_and_a_refused_one_none,
);

async fn lines(app: &TestApp, action: &str, target: &str) -> usize {
    let log = app.store.audit_log(None, 500).await.unwrap();
    log.iter().filter(|l| l.action == action && l.target == target).count()
}

async fn each_dashboard_change_has_its_line_and_a_refused_one_none(app: TestApp) {
    let (m, key) = shop(&app, "Shop").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    let b = login(&app, "ann@example.com").await;
    let body = json!({"amount": "25.00", "currency": "USD", "token": "USDC", "network": "base"});

    // A cancel: done once with its line; the second one is refused and adds none.
    let (s, open) = app.create_payment(&key, &body).await;
    assert_eq!(s, 201, "{open}");
    let open = open["id"].as_str().unwrap().to_owned();
    let cancel = format!("/dashboard/payments/{open}/cancel");
    assert_eq!(post(&app, &b, &cancel, Some(&b.csrf)).await, 303);
    assert_eq!(post(&app, &b, &cancel, Some(&b.csrf)).await, 409);
    assert_eq!(lines(&app, "payment.cancel", &open).await, 1);
    let line = app.store.audit_log(Some(&m.account_id), 50).await.unwrap();
    let line = line.iter().find(|l| l.action == "payment.cancel").unwrap();
    assert_eq!((line.actor.as_str(), line.user_id.is_some()), ("ann@example.com", true));

    // A payment that received money is not cancelled, and no line says it was.
    let (_, paid) = app.create_payment(&key, &body).await;
    let paid_id = paid["id"].as_str().unwrap().to_owned();
    let payment = app.store.get_payment(&paid_id.parse().unwrap()).await.unwrap().unwrap();
    devnet::pay(&app.store, &payment, Some(1_000_000), payd_store::now()).await.unwrap();
    devnet::produce_block(&app.store, payd_store::now()).await.unwrap().unwrap();
    let cfg = devnet::network_config(chrono::Duration::hours(24));
    scan_once(&app.store, &Devnet::new(app.store.clone()), &cfg, payd_store::now()).await.unwrap();
    let funded = app.store.get_payment(&payment.id).await.unwrap().unwrap();
    assert!(funded.funds.total() > 0, "the payment received money");
    let status = post(&app, &b, &format!("/dashboard/payments/{paid_id}/cancel"), Some(&b.csrf)).await;
    assert_eq!(status, 409);
    let after = app.store.get_payment(&payment.id).await.unwrap().unwrap();
    assert_eq!(after.status, funded.status, "not cancelled");
    assert_eq!(lines(&app, "payment.cancel", &paid_id).await, 0);

    // An endpoint's registration has its line; one past the cap is refused with none.
    let register = |url: &'static str| {
        app.client
            .post(app.url("/dashboard/webhooks"))
            .header("cookie", &b.cookie)
            .form(&[
                ("csrf", b.csrf.as_str()),
                ("merchant", &m.id.to_string()),
                ("mode", "test"),
                ("url", url),
                ("format", "native"),
            ])
            .send()
    };
    assert_eq!(register("https://hooks.example/one").await.unwrap().status(), 201);
    let hooks = app.store.list_webhook_endpoints(&m.id, Mode::Test).await.unwrap();
    assert_eq!(hooks.len(), 1);
    let hook = hooks[0].id.to_string();
    assert_eq!(lines(&app, "webhook_endpoint.create", &hook).await, 1);
    assert_eq!(register("https://hooks.example/two").await.unwrap().status(), 409);
    assert_eq!(app.store.list_webhook_endpoints(&m.id, Mode::Test).await.unwrap().len(), 1);
    let log = app.store.audit_log(None, 500).await.unwrap();
    assert_eq!(log.iter().filter(|l| l.action == "webhook_endpoint.create").count(), 1, "{log:?}");

    // A key's creation and revocation, each with one line; revoking it again adds none, and
    // the key is refused by the API at once.
    let res = app
        .client
        .post(app.url("/dashboard/keys"))
        .header("cookie", &b.cookie)
        .form(&[
            ("csrf", b.csrf.as_str()),
            ("owner", &m.id.to_string()),
            ("mode", "test"),
            ("scope", "payments:read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let html = res.text().await.unwrap();
    let secret = html.split("id=\"key-secret\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert_eq!(app.get("/v1/payments", &secret).await.0, 200);
    let keys =
        app.store.dashboard_api_keys(Some(std::slice::from_ref(&m.account_id)), Mode::Test).await.unwrap();
    let key_id = keys[0].id.to_string();
    assert!(secret.starts_with(&keys[0].prefix));
    let created = app.store.audit_log(None, 500).await.unwrap();
    let created = created.iter().find(|l| l.action == "api_key.create" && l.target == key_id).unwrap();
    assert_eq!(created.detail, "test key, scopes payments:read");
    assert!(!created.detail.contains(&secret), "no secret in the log");
    let revoke = format!("/dashboard/keys/{key_id}/revoke");
    assert_eq!(post(&app, &b, &revoke, Some(&b.csrf)).await, 303);
    assert_eq!(app.get("/v1/payments", &secret).await.0, 401);
    assert_eq!(post(&app, &b, &revoke, Some(&b.csrf)).await, 303);
    assert_eq!(lines(&app, "api_key.create", &key_id).await, 1);
    assert_eq!(lines(&app, "api_key.revoke", &key_id).await, 1);
    let (_, page) = get(&app, &b, "/dashboard/audit").await;
    assert!(page.contains("api_key.revoke") && page.contains("payment.cancel"), "{page}");
}

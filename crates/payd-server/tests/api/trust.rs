//! What keys, endpoints and clients can and cannot do: AlpPay webhooks signed with each
//! endpoint's own secret (never an API key's), the native API's rate limit, the cap on
//! webhook endpoints and their paged lists, private targets refused with the setting named,
//! and an unknown method on a dialect's path answered in that dialect's format.

use std::process::Command;

use payd_core::apikey::{Mode, Scope};
use payd_core::crypto::MasterKey;
use payd_server::http::dialects::alppay::wire::hmac::sign;
use payd_server::keys::{issue_key, KeyOwner};
use serde_json::{json, Value};

use crate::helpers::{code, json, TestApp, MASTER_KEY};
use crate::receiver::Receiver;
use crate::webhooks::add_endpoint;
use crate::{backend_tests, webhook_tests};

webhook_tests!(crate::webhooks::HOOK_ENV; alppay_webhooks_are_signed_with_the_endpoints_own_rotatable_secret);
webhook_tests!(&[("PAYD_RATE_LIMITS", "native=5")]; the_native_api_is_rate_limited_per_key);
webhook_tests!(&[("PAYD_WEBHOOKS_MAX_ENDPOINTS", "3")];
    webhook_endpoints_are_capped_per_merchant_and_mode_in_every_api,
);
backend_tests!(
    endpoint_lists_are_paged_in_the_native_and_astrapay_apis,
    a_private_target_is_refused_naming_the_setting_that_allows_it,
    an_unknown_method_answers_in_the_format_of_the_api_its_path_belongs_to,
);

/// A key with `scopes` (all when empty) and its signing secret.
async fn issue(app: &TestApp, owner: KeyOwner, scopes: &[Scope]) -> (String, String) {
    let master = MasterKey::parse(MASTER_KEY).unwrap();
    let issued = issue_key(&app.store, &master, owner, Mode::Test, scopes.to_vec()).await.unwrap();
    (issued.secret.expose().to_owned(), issued.signing_secret.expose().to_owned())
}

async fn pay(app: &TestApp, key: &str) {
    let body = json!({"amount": "5.00", "currency": "USD", "token": "USDC", "network": "base"});
    let (s, p) = app.create_payment(key, &body).await;
    assert_eq!(s, 201, "{p}");
}

async fn alppay_webhooks_are_signed_with_the_endpoints_own_rotatable_secret(app: TestApp) {
    let rx = Receiver::start().await;
    let m = app.merchant("Alp shop").await;
    let owner = KeyOwner::Merchant(m.id.clone());
    let (admin, admin_signing) = issue(&app, owner.clone(), &[]).await;
    let (id, secret) = add_endpoint(&app, &admin, json!({"url": rx.url(), "format": "alppay"})).await;
    // Issued after the endpoint: the newest key, and one that may only read.
    let (_, read_only_signing) = issue(&app, owner.clone(), &[Scope::PaymentsRead]).await;
    pay(&app, &admin).await;
    let got = rx.wait_for(1).await;
    let hmac = |s: &str, body: &str| sign(s, body.as_bytes()).unwrap();
    let first = &got[0];
    assert_eq!(first.header("x-hmac"), hmac(&secret, &first.body), "signed with the endpoint's secret");
    for key_secret in [&admin_signing, &read_only_signing] {
        assert_ne!(first.header("x-hmac"), hmac(key_secret, &first.body), "no key holder can forge it");
    }

    // A new key changes nothing for the receiver.
    let (_, newest_signing) = issue(&app, owner.clone(), &[]).await;
    pay(&app, &admin).await;
    let second = rx.wait_for(2).await[1].clone();
    assert_eq!(second.header("x-hmac"), hmac(&secret, &second.body));
    assert_ne!(second.header("x-hmac"), hmac(&newest_signing, &second.body));

    // Rotated like any endpoint's secret: AlpPay carries one signature, the new one.
    let (s, rotated) = json(
        app.post_raw(
            &format!("/v1/webhook_endpoints/{id}/rotate_secret"),
            &admin,
            r#"{"expire_previous_in": 0}"#,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{rotated}");
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    pay(&app, &admin).await;
    let third = rx.wait_for(3).await[2].clone();
    assert_eq!(third.header("x-hmac"), hmac(&new_secret, &third.body));
    assert_ne!(third.header("x-hmac"), hmac(&secret, &third.body));
}

async fn the_native_api_is_rate_limited_per_key(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let (_, other) = app.merchant_with_key().await;
    // 5 a minute: one more every 12 s, far slower than this test.
    for i in 0..5 {
        let (s, v) = app.get("/v1/payments", &key).await;
        assert_eq!(s, 200, "request {i}: {v}");
    }
    let res = app.client.get(app.url("/v1/payments")).bearer_auth(&key).send().await.unwrap();
    let retry_after: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=12).contains(&retry_after), "{retry_after}");
    let (s, e) = json(res).await;
    assert_eq!((s, code(&e)), (429, "rate_limited"));
    // Writes count against the same quota.
    let (s, e) =
        json(app.post_raw("/v1/payments", &key, r#"{"amount":"1.00","currency":"USD"}"#, None).await).await;
    assert_eq!((s, code(&e)), (429, "rate_limited"));
    assert_eq!(app.get("/v1/payments", &other).await.0, 200, "other keys are not limited");
    // Each API has its own quota: AstraPay's is untouched.
    let res = app.client.get(app.url("/v1/api/payments")).header("X-Api-Key", &key).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

fn payd(app: &TestApp, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_payd"))
        .args(["--database-url", &app.db.url])
        .args(args)
        .current_dir(std::env::temp_dir())
        .env("PAYD_MASTER_KEY", MASTER_KEY)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

async fn webhook_endpoints_are_capped_per_merchant_and_mode_in_every_api(app: TestApp) {
    let (m, key) = app.merchant_with_key().await;
    let live = app.key(KeyOwner::Merchant(m.id.clone()), Mode::Live, &[]).await;
    let body = |n: usize| json!({"url": format!("https://shop.example/hooks/{n}")}).to_string();
    let mut ids = Vec::new();
    for n in 0..3 {
        let (s, e) = json(app.post_raw("/v1/webhook_endpoints", &key, &body(n), None).await).await;
        assert_eq!(s, 201, "{e}");
        ids.push(e["id"].as_str().unwrap().to_owned());
    }
    let (s, e) = json(app.post_raw("/v1/webhook_endpoints", &key, &body(3), None).await).await;
    assert_eq!((s, code(&e)), (409, "webhook_endpoint_limit"), "{e}");
    let message = e["error"]["message"].as_str().unwrap();
    assert!(message.contains('3') && message.contains("webhooks.max_endpoints"), "{message}");
    // AstraPay's API counts the same endpoints and answers in its own format.
    let astra = |k: &str| {
        app.client
            .post(app.url("/v1/api/webhooks"))
            .header("X-Api-Key", k.to_owned())
            .header("Content-Type", "application/json")
            .body(json!({"url": "https://shop.example/astra", "events": ["payment.completed"]}).to_string())
            .send()
    };
    let (s, e) = json(astra(&key).await.unwrap()).await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("CONFLICT")), "{e}");
    // So does the CLI.
    let merchant = m.id.to_string();
    let (ok, err) = payd(
        &app,
        &["webhook", "add", "--merchant", &merchant, "--url", "https://shop.example/cli"],
        &[("PAYD_WEBHOOKS_MAX_ENDPOINTS", "3")],
    );
    assert!(!ok && err.contains("webhooks.max_endpoints"), "{err}");
    // The cap is per mode: live has its own room.
    let (s, e) = json(astra(&live).await.unwrap()).await;
    assert_eq!(s, 201, "{e}");
    // Deleting one makes room again.
    let res = app
        .client
        .delete(app.url(&format!("/v1/webhook_endpoints/{}", ids[0])))
        .bearer_auth(&key)
        .send()
        .await;
    assert_eq!(res.unwrap().status(), 200);
    let (s, e) = json(app.post_raw("/v1/webhook_endpoints", &key, &body(4), None).await).await;
    assert_eq!(s, 201, "{e}");
    assert_eq!(app.store.list_webhook_endpoints(&m.id, Mode::Test).await.unwrap().len(), 3);
}

async fn endpoint_lists_are_paged_in_the_native_and_astrapay_apis(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let mut ids = Vec::new();
    for n in 0..5 {
        // Endpoints 0, 2 and 4 in AstraPay's format.
        let format = if n % 2 == 0 { "astrapay" } else { "native" };
        let body = json!({"url": format!("https://shop.example/hooks/{n}"), "format": format});
        let (id, _) = add_endpoint(&app, &key, body).await;
        ids.push(id);
    }
    // Native: a cursor, oldest first.
    let mut seen = Vec::new();
    let mut path = "/v1/webhook_endpoints?limit=2".to_owned();
    loop {
        let (s, page) = app.get(&path, &key).await;
        assert_eq!(s, 200, "{page}");
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= 2);
        seen.extend(data.iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        if page["has_more"] == false {
            assert_eq!(page["next_cursor"], Value::Null);
            break;
        }
        path =
            format!("/v1/webhook_endpoints?limit=2&starting_after={}", page["next_cursor"].as_str().unwrap());
    }
    assert_eq!(seen, ids);
    let (s, page) = app.get("/v1/webhook_endpoints", &key).await;
    assert_eq!((s, page["data"].as_array().map(Vec::len), &page["has_more"]), (200, Some(5), &json!(false)));
    for bad in ["limit=0", "limit=101", "starting_after=hook_nope", "starting_after=pay_x"] {
        let (s, e) = app.get(&format!("/v1/webhook_endpoints?{bad}"), &key).await;
        assert_eq!((s, code(&e)), (400, "invalid_query"), "{bad}");
    }
    // Another merchant's endpoint is not a cursor.
    let (_, other) = app.merchant_with_key().await;
    let (s, e) = app.get(&format!("/v1/webhook_endpoints?starting_after={}", ids[0]), &other).await;
    assert_eq!((s, code(&e)), (400, "invalid_query"));

    // AstraPay: pages and meta as in its other lists; only its own format's endpoints.
    let astra = |q: &str| {
        app.client.get(app.url(&format!("/v1/api/webhooks{q}"))).header("X-Api-Key", key.clone()).send()
    };
    let (s, v) = json(astra("?page=1&pageSize=2").await.unwrap()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["meta"], json!({"page": 1, "pageSize": 2, "total": 3, "pages": 2}));
    let uuid = |hook: &str| {
        hook.parse::<payd_core::ids::WebhookEndpointId>().unwrap().uuid().hyphenated().to_string()
    };
    let first: Vec<&str> =
        v["data"]["data"].as_array().unwrap().iter().map(|w| w["id"].as_str().unwrap()).collect();
    assert_eq!(first, [uuid(&ids[0]), uuid(&ids[2])]);
    let (_, v) = json(astra("?page=2&pageSize=2").await.unwrap()).await;
    assert_eq!(v["data"]["data"][0]["id"].as_str(), Some(uuid(&ids[4]).as_str()));
    assert!(v["data"]["data"][0].get("secret").is_none(), "never the secret in a list");
    let (s, v) = json(astra("?pageSize=500").await.unwrap()).await;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("BAD_REQUEST")));
}

async fn a_private_target_is_refused_naming_the_setting_that_allows_it(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let body = json!({"url": "http://127.0.0.1:9000/hooks"}).to_string();
    let (s, e) = json(app.post_raw("/v1/webhook_endpoints", &key, &body, None).await).await;
    assert_eq!((s, code(&e)), (400, "url_not_allowed"));
    let message = e["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("webhooks.allow_private_targets")
            && message.contains("PAYD_WEBHOOKS_ALLOW_PRIVATE_TARGETS"),
        "{message}"
    );
    let res = app
        .client
        .post(app.url("/v1/api/webhooks"))
        .header("X-Api-Key", &key)
        .header("Content-Type", "application/json")
        .body(json!({"url": "https://10.0.0.1/hooks", "events": ["payment.completed"]}).to_string())
        .send()
        .await
        .unwrap();
    let (s, e) = json(res).await;
    assert_eq!(s, 400);
    assert!(e["error"]["message"].as_str().unwrap().contains("webhooks.allow_private_targets"), "{e}");
}

async fn an_unknown_method_answers_in_the_format_of_the_api_its_path_belongs_to(app: TestApp) {
    let send = |path: &'static str| app.client.delete(app.url(path)).send();
    // Each dialect answers 400 in its own error body, as its page in docs/dialects says.
    let (s, e) = json(send("/v1/api/payments").await.unwrap()).await;
    assert_eq!(
        (s, &e["error"]["code"], &e["error"]["status"]),
        (400, &json!("BAD_REQUEST"), &json!(400)),
        "{e}"
    );
    let (s, e) = json(send("/v0/payments").await.unwrap()).await;
    assert_eq!(
        (s, &e["error"], &e["code"]),
        (400, &json!("bad_request"), &json!("METHOD_NOT_ALLOWED")),
        "{e}"
    );
    let (s, e) = json(send("/api/payments").await.unwrap()).await;
    assert_eq!((s, &e["error"]), (400, &json!("invalid_request")), "{e}");
    let (s, e) = json(send("/v2/payment").await.unwrap()).await;
    assert_eq!((s, &e["error"]), (400, &json!("bad_request")), "{e}");
    // The native API keeps its 405.
    let (s, e) = json(send("/v1/payments").await.unwrap()).await;
    assert_eq!((s, code(&e)), (405, "method_not_allowed"));
}

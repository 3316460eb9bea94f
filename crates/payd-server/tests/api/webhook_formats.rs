//! Each webhook format's payload and signature, checked by implementations that are not
//! payd's: the `standardwebhooks` and `svix` packages (native, Paygentic) and plain HMAC in
//! Python and in Node (all five), run as subprocesses on the exact requests received. The
//! verifiers are docs/webhooks/verify.py and verify.mjs, the snippets docs/webhooks.md shows.
//! Also AstraPay's own webhook management API.

use std::path::PathBuf;
use std::process::Command;

use payd_core::apikey::Mode;
use payd_server::keys::KeyOwner;
use serde_json::{json, Value};

use crate::devnet::{advance, create, mine, test_pay, usdc};
use crate::helpers::{json, TestApp};
use crate::receiver::{Received, Receiver};
use crate::webhook_tests;
use crate::webhooks::{add_endpoint, settled};

webhook_tests!(crate::webhooks::HOOK_ENV;
    native_webhooks_verify_with_standardwebhooks_and_node,
    paygentic_webhooks_verify_with_svix_and_node,
    astrapay_webhooks_verify_with_plain_hmac,
    mutopay_webhooks_verify_with_plain_hmac,
    alppay_webhooks_verify_under_the_endpoint_secret,
    astrapay_manages_its_webhooks_through_its_own_api,
);

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn docs(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/webhooks").join(file)
}

fn python() -> String {
    std::env::var("PAYD_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Whether `cmd args` runs; under CI a missing tool fails the test.
fn have(cmd: &str, args: &[&str], what: &str) -> bool {
    let ok = Command::new(cmd).args(args).output().is_ok_and(|o| o.status.success());
    if !ok {
        assert!(!in_ci(), "{what} is required under CI=true (scripts/test installs it)");
        eprintln!("skipping {what}: not available");
    }
    ok
}

/// Runs one verifier on `request`; true when it accepts it.
fn accepts(cmd: &str, script: &str, format: &str, secret: &str, request: &Received, body: &str) -> bool {
    let file = std::env::temp_dir().join(format!("payd-hook-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&file, json!({"headers": request.headers, "body": body}).to_string()).unwrap();
    let out = Command::new(cmd).arg(docs(script)).args([format, secret]).arg(&file).output().unwrap();
    let _ = std::fs::remove_file(&file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() || stdout.starts_with("invalid"),
        "{cmd} {script} crashed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.status.success()
}

/// Every request verifies with each available implementation, and a tampered body with none.
pub(crate) fn verify_all(format: &str, secret: &str, got: &[Received], python_package: Option<&str>) {
    let py = python();
    let python_ok = match python_package {
        Some(pkg) => have(&py, &["-c", &format!("import {pkg}")], pkg),
        None => true,
    };
    let node_ok = have("node", &["--version"], "node");
    assert!(!got.is_empty());
    for r in got {
        let tampered = r.body.replacen('{', "{ ", 1);
        if python_ok {
            assert!(accepts(&py, "verify.py", format, secret, r, &r.body), "python refused {format}: {r:?}");
            assert!(
                !accepts(&py, "verify.py", format, secret, r, &tampered),
                "python accepted a tampered body"
            );
            assert!(!accepts(
                &py,
                "verify.py",
                format,
                "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                r,
                &r.body
            ));
        }
        if node_ok {
            assert!(
                accepts("node", "verify.mjs", format, secret, r, &r.body),
                "node refused {format}: {r:?}"
            );
            assert!(
                !accepts("node", "verify.mjs", format, secret, r, &tampered),
                "node accepted a tampered body"
            );
        }
    }
}

/// One payment paid in full through devnet and one cancelled: `(completed id, cancelled id)`.
async fn two_payments(app: &TestApp, key: &str) -> (String, String) {
    mine(app, 1).await;
    let mut body = usdc("10", "avalanche");
    body["metadata"] = json!({"order": "1042"});
    let (paid, _) = create(app, key, body.clone()).await;
    test_pay(app, key, &paid, "").await;
    advance(app, 1).await;
    let (cancelled, _) = create(app, key, body).await;
    assert_eq!(app.post_raw(&format!("/v1/payments/{cancelled}/cancel"), key, "", None).await.status(), 200);
    (paid.to_string(), cancelled.to_string())
}

fn by_header<'a>(got: &'a [Received], header: &str, value: &str) -> &'a Received {
    got.iter()
        .find(|r| r.header(header) == value)
        .unwrap_or_else(|| panic!("no {header}: {value} in {got:?}"))
}

async fn native_webhooks_verify_with_standardwebhooks_and_node(app: TestApp) {
    let rx = Receiver::start().await;
    let (m, key) = app.merchant_with_key().await;
    let (id, secret) = add_endpoint(&app, &key, json!({"url": rx.url(), "format": "native"})).await;
    two_payments(&app, &key).await;
    settled(&app, &m.id).await;
    let got = rx.received();
    assert_eq!(got.len(), 4, "created and completed, created and cancelled: {got:?}");
    verify_all("native", &secret, &got, Some("standardwebhooks"));

    // After a rotation both secrets verify, while the old one is still in its overlap.
    let (_, rotated) =
        json(app.post_raw(&format!("/v1/webhook_endpoints/{id}/rotate_secret"), &key, "", None).await).await;
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    create(&app, &key, json!({"amount": "1", "currency": "USD"})).await;
    let got = rx.wait_for(5).await;
    let last = &got[4..];
    assert_eq!(last[0].header("webhook-signature").split(' ').count(), 2);
    verify_all("native", &new_secret, last, Some("standardwebhooks"));
    verify_all("native", &secret, last, Some("standardwebhooks"));
}

async fn paygentic_webhooks_verify_with_svix_and_node(app: TestApp) {
    let rx = Receiver::start().await;
    let (m, key) = app.merchant_with_key().await;
    let (_, secret) = add_endpoint(&app, &key, json!({"url": rx.url(), "format": "paygentic"})).await;
    let (_, cancelled) = two_payments(&app, &key).await;
    settled(&app, &m.id).await;
    let got = rx.received();
    verify_all("paygentic", &secret, &got, Some("svix"));
    let b = got.iter().map(Received::json).find(|b| b["eventType"] == "payment.cancelled.v0").unwrap();
    let r = by_header(&got, "svix-id", b["eventId"].as_str().unwrap());
    assert!(r.header("svix-signature").starts_with("v1,"));
    assert_eq!(
        (b["data"]["id"].as_str(), b["data"]["status"].as_str()),
        (Some(cancelled.as_str()), Some("cancelled"))
    );
    assert_eq!(b["data"]["object"], "payment");
    assert_eq!(b["data"]["metadata"]["order"], "1042");
    assert!(b["timestamp"].as_str().unwrap().ends_with('Z'));
}

async fn astrapay_webhooks_verify_with_plain_hmac(app: TestApp) {
    let rx = Receiver::start().await;
    let (m, key) = app.merchant_with_key().await;
    let (_, secret) = add_endpoint(&app, &key, json!({"url": rx.url(), "format": "astrapay"})).await;
    let (paid, cancelled) = two_payments(&app, &key).await;
    settled(&app, &m.id).await;
    let got = rx.received();
    // AstraPay sends four kinds: here completed and canceled.
    let mut names: Vec<&str> = got.iter().map(|r| r.header("x-astrapay-event")).collect();
    names.sort_unstable();
    assert_eq!(names, ["payment.canceled", "payment.completed"]);
    verify_all("astrapay", &secret, &got, None);
    let completed = by_header(&got, "x-astrapay-event", "payment.completed").json();
    assert_eq!(completed["event"], "payment.completed");
    let uuid = |id: &str| id.parse::<payd_core::ids::PaymentId>().unwrap().uuid().hyphenated().to_string();
    let d = &completed["data"];
    assert_eq!(d["payment_id"].as_str(), Some(uuid(&paid).as_str()));
    assert_eq!(
        (d["status"].as_str(), d["token"].as_str(), d["network"].as_str()),
        (Some("completed"), Some("USDC"), Some("AVALANCHE"))
    );
    assert_eq!(d["amount"], json!(10));
    assert!(d["transaction_hash"].as_str().is_some_and(|h| h.starts_with("0x")), "{d}");
    assert_eq!((d["test_mode"].as_bool(), d["metadata"]["order"].as_str()), (Some(true), Some("1042")));
    let canceled = by_header(&got, "x-astrapay-event", "payment.canceled").json();
    assert_eq!(canceled["data"]["payment_id"].as_str(), Some(uuid(&cancelled).as_str()));
    assert_eq!(canceled["data"]["status"], "canceled");
    assert!(canceled["data"]["transaction_hash"].is_null());
}

async fn mutopay_webhooks_verify_with_plain_hmac(app: TestApp) {
    let rx = Receiver::start().await;
    let (m, key) = app.merchant_with_key().await;
    let (_, secret) = add_endpoint(&app, &key, json!({"url": rx.url(), "format": "mutopay"})).await;
    let (paid, cancelled) = two_payments(&app, &key).await;
    settled(&app, &m.id).await;
    let got = rx.received();
    verify_all("mutopay", &secret, &got, None);
    let bodies: Vec<Value> = got.iter().map(Received::json).collect();
    let mut events: Vec<&str> = bodies.iter().map(|b| b["event"].as_str().unwrap()).collect();
    events.sort_unstable();
    assert_eq!(events, ["payment.completed", "payment.failed"]);
    let c = bodies.iter().find(|b| b["event"] == "payment.completed").unwrap();
    assert_eq!((c["payment_id"].as_str(), c["status"].as_str()), (Some(paid.as_str()), Some("completed")));
    assert_eq!((c["dest_amount"].as_str(), c["dest_decimals"].as_u64()), (Some("10000000"), Some(6)));
    assert_eq!(
        (c["amount_original"].to_string(), c["fx_rate"].to_string()),
        ("10.00".to_owned(), "1".to_owned())
    );
    assert!(c["tx_hash"].as_str().is_some_and(|h| h.starts_with("0x")), "{c}");
    assert_eq!(c["metadata"]["order"], "1042");
    assert!(c["timestamp"].is_string() && c["completed_at"].is_string());
    let f = bodies.iter().find(|b| b["event"] == "payment.failed").unwrap();
    assert_eq!(
        (f["payment_id"].as_str(), f["failure_reason"].as_str()),
        (Some(cancelled.as_str()), Some("cancelled"))
    );
}

async fn alppay_webhooks_verify_under_the_endpoint_secret(app: TestApp) {
    let rx = Receiver::start().await;
    let m = app.merchant("Alp shop").await;
    let (key, _) = app.key_with_signing_secret(KeyOwner::Merchant(m.id.clone()), Mode::Test).await;
    let (_, secret) = add_endpoint(&app, &key, json!({"url": rx.url(), "format": "alppay"})).await;
    let (paid, _) = two_payments(&app, &key).await;
    settled(&app, &m.id).await;
    let got = rx.received();
    // On creation and every change: created, completed; created, cancelled.
    assert_eq!(got.len(), 4, "{got:?}");
    verify_all("alppay", &secret, &got, None);
    let uuid = paid.parse::<payd_core::ids::PaymentId>().unwrap().uuid().hyphenated().to_string();
    let done = got
        .iter()
        .map(Received::json)
        .find(|b| b["id"] == uuid.as_str() && b["status"] == "COMPLETED")
        .unwrap();
    assert_eq!((done["displayStatus"].as_str(), done["amount"].as_str()), (Some("COMPLETED"), Some("10.00")));
    assert_eq!(done["transactions"].as_array().map(Vec::len), Some(1));
    assert!(done.get("event").is_none(), "AlpPay's body is the bare payment object");
}

async fn astrapay_manages_its_webhooks_through_its_own_api(app: TestApp) {
    let (m, key) = app.merchant_with_key().await;
    let astra = |method: reqwest::Method, path: &str, body: Option<Value>| {
        let mut req = app.client.request(method, app.url(path)).header("X-Api-Key", &key);
        if let Some(b) = body {
            req = req.header("Content-Type", "application/json").body(b.to_string());
        }
        req.send()
    };
    let (s, c) = json(
        astra(reqwest::Method::POST, "/v1/api/webhooks", Some(json!({"url": "https://shop.example/astra", "events": ["payment.completed", "payment.canceled"]})))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, c["success"].as_bool(), c["statusCode"].as_u64()), (201, Some(true), Some(201)), "{c}");
    let w = &c["data"];
    let id = w["id"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::try_parse(&id).is_ok(), "{id}");
    assert!(w["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(
        (w["active"].as_bool(), w["events"].clone()),
        (Some(true), json!(["payment.completed", "payment.canceled"]))
    );

    let (s, g) =
        json(astra(reqwest::Method::GET, &format!("/v1/api/webhooks/{id}"), None).await.unwrap()).await;
    assert_eq!(s, 200);
    assert!(g["data"].get("secret").is_none(), "the secret is shown only at creation");
    let (_, l) = json(astra(reqwest::Method::GET, "/v1/api/webhooks", None).await.unwrap()).await;
    assert_eq!(l["data"]["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(l["data"]["meta"]["total"], 1);
    let (s, u) = json(
        astra(
            reqwest::Method::PATCH,
            &format!("/v1/api/webhooks/{id}"),
            Some(json!({"active": false, "events": ["payment.expired"]})),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (s, u["data"]["active"].as_bool(), u["data"]["events"].clone()),
        (200, Some(false), json!(["payment.expired"]))
    );
    let stored = app.store.list_webhook_endpoints(&m.id, Mode::Test).await.unwrap();
    assert_eq!(stored[0].format, payd_core::webhook::WebhookFormat::Astrapay);

    // HTTPS only, events required and AstraPay's, its error format throughout.
    for body in [
        json!({"url": "http://shop.example/astra", "events": ["payment.completed"]}),
        json!({"url": "https://shop.example/astra", "events": []}),
        json!({"url": "https://shop.example/astra"}),
        json!({"url": "https://shop.example/astra", "events": ["payment.cancelled"]}),
    ] {
        let (s, e) =
            json(astra(reqwest::Method::POST, "/v1/api/webhooks", Some(body.clone())).await.unwrap()).await;
        assert_eq!(
            (s, e["error"]["code"].as_str(), e["error"]["status"].as_u64()),
            (400, Some("BAD_REQUEST"), Some(400)),
            "{body}: {e}"
        );
    }
    let no_scope = app
        .key(KeyOwner::Merchant(m.id.clone()), Mode::Test, &[payd_core::apikey::Scope::PaymentsRead])
        .await;
    let res =
        app.client.get(app.url("/v1/api/webhooks")).header("X-Api-Key", &no_scope).send().await.unwrap();
    assert_eq!(json(res).await.1["error"]["code"], "FORBIDDEN");

    let (s, d) =
        json(astra(reqwest::Method::DELETE, &format!("/v1/api/webhooks/{id}"), None).await.unwrap()).await;
    assert_eq!((s, d["data"]["deleted"].as_bool()), (200, Some(true)));
    let (s, e) =
        json(astra(reqwest::Method::GET, &format!("/v1/api/webhooks/{id}"), None).await.unwrap()).await;
    assert_eq!((s, e["error"]["code"].as_str()), (404, Some("NOT_FOUND")));
}

/// The snippets docs/webhooks.md shows are the code the tests above run, to the letter.
#[test]
fn the_docs_show_the_verification_code_the_tests_run() {
    let md = std::fs::read_to_string(docs("../webhooks.md")).unwrap();
    let py = std::fs::read_to_string(docs("verify.py")).unwrap();
    let mjs = std::fs::read_to_string(docs("verify.mjs")).unwrap();
    let mut checked = 0;
    for block in py.split("\n\n\n").filter(|b| b.starts_with("def verify_")) {
        assert!(md.contains(block.trim_end()), "docs/webhooks.md lacks, or differs from:\n{block}");
        checked += 1;
    }
    let defines_function =
        |b: &&str| b.lines().any(|l| l.starts_with("function ") || l.starts_with("export function "));
    for block in mjs.split("\n\n").filter(defines_function) {
        assert!(md.contains(block.trim_end()), "docs/webhooks.md lacks, or differs from:\n{block}");
        checked += 1;
    }
    assert_eq!(checked, 5 + 7, "five Python verifiers; two Node helpers and five verifiers");
}

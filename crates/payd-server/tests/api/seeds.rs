//! Each provider's own request examples (tests/seeds/, copied verbatim from their Create
//! Payment pages) run unchanged apart from the base URL and the credentials, with curl, Node
//! and Python, and get the documented status code and response shape.

use std::process::Command;

use payd_core::apikey::Mode;
use payd_server::http::dialects::alppay::wire::hmac::sign;
use payd_server::keys::KeyOwner;
use serde_json::Value;

use crate::helpers::{spawn_app, TestApp};

fn seed(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/seeds/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn in_ci() -> bool {
    payd_store::testing::in_ci()
}

/// Runs a program, returning stdout; panics with stderr on failure. (Blocking: the tests run
/// on a multi-thread runtime so the server keeps answering meanwhile.)
fn run(program: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether a tool is present; under CI a missing one fails the run.
fn have(program: &str, args: &[&str]) -> bool {
    let ok = Command::new(program).args(args).output().map(|o| o.status.success()).unwrap_or(false);
    if !ok {
        assert!(!in_ci(), "{program} is required under CI=true");
        eprintln!("skipping: {program} {args:?} not available");
    }
    ok
}

fn python() -> String {
    std::env::var("PAYD_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// A curl snippet's answer: (status, body JSON).
fn curl(script: &str) -> (u16, Value) {
    let out = run("sh", &["-c", &format!("{} -sS -w '\\n%{{http_code}}'", script.trim_end())], &[]);
    let (body, status) = out.trim_end().rsplit_once('\n').unwrap();
    (status.parse().unwrap(), serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}")))
}

async fn fresh_key(app: &TestApp) -> String {
    app.merchant_with_key().await.1
}

fn astrapay(s: &str, app: &TestApp, key: &str) -> String {
    s.replace("https://apipay.byastra.ai", &app.address).replace("ap_live_your_api_key", key)
}

fn short_id_url(v: &Value, app: &TestApp) {
    let url = v.as_str().unwrap();
    assert!(url.starts_with(&format!("{}/purchases/", app.address)), "{url}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn astrapays_examples_run_unchanged() {
    let app = spawn_app(payd_store::Backend::Sqlite).await.unwrap();
    let (s, v) = curl(&astrapay(&seed("astrapay.sh"), &app, &fresh_key(&app).await));
    assert_eq!((s, v["success"].as_bool(), v["statusCode"].as_u64()), (201, Some(true), Some(201)), "{v}");
    assert_eq!(
        (v["data"]["status"].as_str(), v["data"]["metadata"]["plan"].as_str()),
        (Some("PENDING"), Some("pro"))
    );
    short_id_url(&v["data"]["checkout_url"], &app);

    if have("node", &["--version"]) {
        let js = format!(
            "globalThis.window = {{ location: {{}} }};\n{}\nconsole.log(JSON.stringify({{ status: res.status, href: window.location.href }}));",
            astrapay(&seed("astrapay.mjs"), &app, &fresh_key(&app).await)
        );
        let out: Value =
            serde_json::from_str(run("node", &["--input-type=module", "-e", &js], &[]).trim()).unwrap();
        assert_eq!(out["status"], 201);
        short_id_url(&out["href"], &app);
    }
    let py = python();
    if have(&py, &["-c", "import requests"]) {
        let script = format!(
            "{}\nimport json\nprint(json.dumps({{'status': res.status_code, 'url': checkout_url}}))",
            astrapay(&seed("astrapay.py"), &app, &fresh_key(&app).await)
        );
        let out: Value = serde_json::from_str(run(&py, &["-c", &script], &[]).trim()).unwrap();
        assert_eq!(out["status"], 201);
        short_id_url(&out["url"], &app);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paygentics_example_runs_unchanged() {
    let app = spawn_app(payd_store::Backend::Sqlite).await.unwrap();
    let key = fresh_key(&app).await;
    let script =
        seed("paygentic.sh").replace("https://api.paygentic.io", &app.address).replace("<token>", &key);
    let (s, v) = curl(&script);
    assert_eq!(
        (s, v["object"].as_str(), v["amount"].as_str(), v["status"].as_str()),
        (201, Some("payment"), Some("10.50"), Some("pending")),
        "{v}"
    );
    assert!(v["id"].as_str().unwrap().starts_with("pay_"));
    // The same request again: the existing payment, with 200.
    let (s, again) = curl(&script);
    assert_eq!((s, again["id"].clone()), (200, v["id"].clone()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutopays_examples_run_unchanged() {
    let app = spawn_app(payd_store::Backend::Sqlite).await.unwrap();
    let base = |s: String| s.replace("https://mutopay.com", &app.address);
    let key = fresh_key(&app).await;
    let script = base(seed("mutopay.sh")).replace("$MUTOPAY_CHANNEL_KEY", &key);
    let (s, v) = curl(&script);
    assert_eq!(
        (s, v["status"].as_str(), v["external_id"].as_str()),
        (201, Some("pending"), Some("order_1042")),
        "{v}"
    );
    assert!(v["url"].as_str().unwrap().ends_with(&format!("/pay/{}", v["id"].as_str().unwrap())));

    if have("node", &["--version"]) {
        let js = format!(
            "{}\nconsole.log(JSON.stringify({{ status: res.status, payment }}));",
            base(seed("mutopay.mjs"))
        );
        let out: Value = serde_json::from_str(
            run("node", &["--input-type=module", "-e", &js], &[("MUTOPAY_CHANNEL_KEY", &key)]).trim(),
        )
        .unwrap();
        assert_eq!(
            (out["status"].as_u64(), out["payment"]["description"].as_str()),
            (Some(201), Some("Order #1042"))
        );
    }
    let py = python();
    if have(&py, &["-c", "import requests"]) {
        let script = format!(
            "{}\nimport json\nprint(json.dumps({{'status': res.status_code, 'url': payment['url']}}))",
            base(seed("mutopay.py"))
        );
        let out: Value =
            serde_json::from_str(run(&py, &["-c", &script], &[("MUTOPAY_CHANNEL_KEY", &key)]).trim())
                .unwrap();
        assert_eq!(out["status"], 201);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alppays_example_runs_with_a_real_key_and_signature() {
    let app = spawn_app(payd_store::Backend::Sqlite).await.unwrap();
    let m = app.merchant("Your Company").await;
    let (key, secret) = app.key_with_signing_secret(KeyOwner::Merchant(m.id), Mode::Test).await;
    let script = seed("alppay.sh");
    // The signature is over the snippet's own body, exactly as the merchant would compute it.
    let body = script.split("-d '").nth(1).and_then(|b| b.rsplit_once('\'')).map(|(b, _)| b).unwrap();
    let script = script
        .replace("https://api.alppay.io", &app.address)
        .replace("ak_live_1234567890abcdef", &key)
        .replace("your_calculated_signature", &sign(&secret, body.as_bytes()).unwrap());
    let (s, v) = curl(&script);
    assert_eq!(
        (s, v["status"].as_str(), v["displayStatus"].as_str()),
        (200, Some("OPEN"), Some("OPEN")),
        "{v}"
    );
    assert_eq!(
        (v["amount"].as_str(), v["asset"]["network"].as_str(), v["invoice"].as_str()),
        (Some("1000.00"), Some("tron"), Some("INV-001"))
    );
}

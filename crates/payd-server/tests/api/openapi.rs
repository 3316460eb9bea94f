//! The published OpenAPI documents, held to the server by schemathesis: for each API at
//! least 1,000 generated requests (valid and invalid), no 5xx, and every response's status,
//! content type and body matching the document.

use std::path::PathBuf;
use std::process::Command;

use payd_core::apikey::Mode;
use payd_server::keys::KeyOwner;
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{json, spawn_app_with, TestApp};

const MIN_REQUESTS: u64 = 1_000;

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn python() -> String {
    std::env::var("PAYD_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Whether schemathesis can run; under CI a missing one fails the run.
fn have_schemathesis() -> bool {
    let ok = Command::new(python())
        .args(["-c", "import schemathesis"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        assert!(!in_ci(), "schemathesis is required under CI=true (scripts/test installs it)");
        eprintln!("skipping: schemathesis is not installed");
    }
    ok
}

/// Rate limits out of the way: the fuzzer sends thousands of requests a minute on one key.
const NO_LIMITS: (&str, &str) =
    ("PAYD_RATE_LIMITS", "native=1000000,astrapay=1000000,paygentic=1000000,mutopay=1000000,alppay=1000000");

/// Runs schemathesis against `/openapi/{name}.json` and checks its report.
fn fuzz(app: &TestApp, name: &str, header: &str, examples: u32, signing_secret: Option<&str>) {
    let dir = std::env::temp_dir().join(format!("payd-schemathesis-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let hooks = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis");
    let mut cmd = Command::new(python());
    cmd.args(["-m", "schemathesis.cli", "run", &app.url(&format!("/openapi/{name}.json"))])
        .args(["--header", header])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        ])
        .args(["--max-examples", &examples.to_string()])
        .args(["--report", "json", "--report-dir"])
        .arg(&dir)
        .args(["--no-color", "--generation-database", "none", "--request-timeout", "10"])
        // Run inside the scratch directory so no cache lands in the clone.
        .current_dir(&dir)
        .env("PYTHONPATH", &hooks)
        .env("SCHEMATHESIS_HOOKS", "payd_hooks");
    if let Some(secret) = signing_secret {
        cmd.env("PAYD_ALPPAY_SIGNING_SECRET", secret);
    }
    let out = cmd.output().expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The seed and every failure are in the output; print it so a failed run can be replayed.
    println!("{stdout}");
    assert!(
        out.status.success(),
        "schemathesis found problems in {name}:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.path().extension().is_some_and(|x| x == "json"))
        .expect("schemathesis JSON report");
    let report: Value = serde_json::from_slice(&std::fs::read(report.path()).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let generated = report["test_cases"]["generated"].as_u64().unwrap();
    println!("{name}: {generated} requests");
    assert!(generated >= MIN_REQUESTS, "{name}: only {generated} requests generated");
    assert_eq!(report["failures"].as_array().map(Vec::len), Some(0), "{name}: {}", report["failures"]);
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(0), "{name}: {}", report["errors"]);
}

/// No webhook dispatcher: the fuzzer registers endpoints at made-up hosts, which must not be
/// looked up or called.
const NO_DISPATCH: (&str, &str) = ("PAYD_WEBHOOKS_CONCURRENCY", "0");

async fn fuzzed(backend: payd_store::Backend) -> Option<TestApp> {
    if !have_schemathesis() {
        return None;
    }
    spawn_app_with(backend, &[NO_LIMITS, NO_DISPATCH]).await
}

macro_rules! fuzz_tests {
    ($($name:ident => $body:expr),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = super::fuzzed(payd_store::Backend::Sqlite).await {
                    ($body)(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = super::fuzzed(payd_store::Backend::Postgres).await {
                    ($body)(app).await;
                }
            }
        }
    )*};
}

async fn native(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    tokio::task::spawn_blocking(move || {
        fuzz(&app, "native", &format!("Authorization: Bearer {key}"), 300, None)
    })
    .await
    .unwrap();
}

async fn astrapay(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    tokio::task::spawn_blocking(move || fuzz(&app, "astrapay", &format!("X-Api-Key: {key}"), 120, None))
        .await
        .unwrap();
}

async fn paygentic(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    tokio::task::spawn_blocking(move || {
        fuzz(&app, "paygentic", &format!("Authorization: Bearer {key}"), 250, None)
    })
    .await
    .unwrap();
}

async fn mutopay(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    tokio::task::spawn_blocking(move || fuzz(&app, "mutopay", &format!("X-API-Key: {key}"), 200, None))
        .await
        .unwrap();
}

async fn alppay(app: TestApp) {
    let m = app.merchant("Alp shop").await;
    let (key, secret) = app.key_with_signing_secret(KeyOwner::Merchant(m.id.clone()), Mode::Test).await;
    tokio::task::spawn_blocking(move || fuzz(&app, "alppay", &format!("API-KEY: {key}"), 200, Some(&secret)))
        .await
        .unwrap();
}

fuzz_tests! {
    schemathesis_native => super::native,
    schemathesis_astrapay => super::astrapay,
    schemathesis_paygentic => super::paygentic,
    schemathesis_mutopay => super::mutopay,
    schemathesis_alppay => super::alppay,
}

/// Every route of every API is in its document (an undocumented route would go unfuzzed).
async fn documents_cover_every_route(app: TestApp) {
    let expected: &[(&str, &[&str])] = &[
        (
            "native",
            &[
                "/v1/payments",
                "/v1/payments/{id}",
                "/v1/payments/{id}/cancel",
                "/v1/payments/{id}/test_pay",
                "/v1/webhook_endpoints",
                "/v1/webhook_endpoints/{id}",
                "/v1/webhook_endpoints/{id}/rotate_secret",
                "/v1/webhook_endpoints/{id}/replay_failed",
                "/v1/webhook_deliveries",
                "/v1/webhook_deliveries/{id}",
                "/v1/webhook_deliveries/{id}/replay",
            ],
        ),
        (
            "astrapay",
            &[
                "/v1/api/payments",
                "/v1/api/payments/{id}",
                "/v1/api/payments/{id}/cancel",
                "/v1/api/products",
                "/v1/api/products/{id}",
                "/v1/api/webhooks",
                "/v1/api/webhooks/{id}",
            ],
        ),
        ("paygentic", &["/v0/payments", "/v0/payments/{id}", "/v0/customers", "/v0/customers/{id}"]),
        ("mutopay", &["/api/payments", "/api/payments/{id}", "/api/payments/{id}/status"]),
        ("alppay", &["/v2/payment", "/v2/payment/{id}", "/v2/payments"]),
    ];
    for (name, paths) in expected {
        let (status, doc) =
            json(app.client.get(app.url(&format!("/openapi/{name}.json"))).send().await.unwrap()).await;
        assert_eq!(status, 200, "{name}");
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{name}: {doc}");
        let documented: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
        for p in *paths {
            assert!(documented.iter().any(|d| d == p), "{name}: {p} is not documented ({documented:?})");
        }
    }
}

backend_tests!(documents_cover_every_route);

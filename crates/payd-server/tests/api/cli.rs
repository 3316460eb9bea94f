//! The `payd` command, run as a separate process against the test server's database.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{code, json, TestApp, MASTER_KEY};

backend_tests!(
    merchants_and_keys_made_by_the_cli_work_against_the_server,
    cli_errors_exit_non_zero,
    the_underpayment_tolerance_is_set_in_percent_and_checked,
);

fn payd(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let dir = std::env::temp_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_payd"))
        .args(["--database-url", &app.db.url])
        .args(args)
        .current_dir(dir)
        .env("PAYD_MASTER_KEY", MASTER_KEY)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn payd_json(app: &TestApp, args: &[&str]) -> Value {
    let (ok, out, err) = payd(app, args);
    assert!(ok, "payd {args:?} failed: {err}");
    serde_json::from_str(out.trim()).unwrap_or_else(|_| panic!("not one JSON object: {out}"))
}

async fn merchants_and_keys_made_by_the_cli_work_against_the_server(app: TestApp) {
    let m = payd_json(
        &app,
        &[
            "merchant",
            "create",
            "--name",
            "CLI Shop",
            "--email",
            "ops@shop.example",
            "--site-url",
            "https://shop.example",
            "--json",
        ],
    );
    let mid = m["id"].as_str().unwrap().to_owned();
    assert!(mid.starts_with("mer_"));
    let k = payd_json(
        &app,
        &[
            "key",
            "create",
            "--merchant",
            &mid,
            "--mode",
            "test",
            "--scope",
            "payments:create",
            "--scope",
            "payments:read",
            "--json",
        ],
    );
    let key = k["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("pk_test_"));
    assert!(k["signing_secret"].as_str().unwrap().starts_with("ss_"));
    assert!(k["id"].as_str().unwrap().starts_with("key_"));

    let body = r#"{"amount":"12.50","currency":"USD"}"#;
    assert_eq!(app.post_raw("/v1/payments", &key, body, None).await.status(), 201);

    // The signing secret is stored sealed, and opens with the master key.
    let stored = app.store.get_api_key(&k["id"].as_str().unwrap().parse().unwrap()).await.unwrap().unwrap();
    assert!(!stored.signing_secret_sealed.contains(k["signing_secret"].as_str().unwrap()));
    let master = payd_core::crypto::MasterKey::parse(MASTER_KEY).unwrap();
    assert_eq!(
        master.open(&stored.signing_secret_sealed).unwrap().expose(),
        k["signing_secret"].as_str().unwrap()
    );

    // Changed by another process: on PostgreSQL the server's key cache (which holds each
    // key's merchants too) learns it from the database's notification, milliseconds later.
    payd_json(&app, &["merchant", "suspend", &mid, "--json"]);
    until_answer(&app, &key, body, (403, "merchant_suspended"), 201).await;
    let m = payd_json(&app, &["merchant", "activate", &mid, "--json"]);
    assert_eq!(m["status"], "active");
    until_answer(&app, &key, body, (201, ""), 403).await;

    payd_json(&app, &["key", "revoke", k["id"].as_str().unwrap(), "--json"]);
    until_answer(&app, &key, body, (401, "invalid_api_key"), 201).await;
}

/// Creates with `key` until the answer is `want` (status, error code; "" for a success),
/// accepting only `before` meanwhile. The bound only turns a hang into a failure.
async fn until_answer(app: &TestApp, key: &str, body: &str, want: (u16, &str), before: u16) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (s, e) = json(app.post_raw("/v1/payments", key, body, None).await).await;
        if s == want.0 {
            if !want.1.is_empty() {
                assert_eq!(code(&e), want.1);
            }
            return;
        }
        assert_eq!(s, before, "{e}");
        assert!(std::time::Instant::now() < deadline, "still {s} instead of {}", want.0);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn cli_errors_exit_non_zero(app: TestApp) {
    for args in [
        vec!["merchant", "suspend", "mer_00000000000000000000000000000000"],
        vec!["merchant", "suspend", "not-an-id"],
        vec!["key", "create", "--merchant", "mer_00000000000000000000000000000000", "--mode", "test"],
        vec!["key", "create", "--merchant", "x", "--mode", "sandbox"],
        vec!["key", "revoke", "key_00000000000000000000000000000000"],
        vec!["merchant", "create", "--name", "X", "--site-url", "not a url"],
    ] {
        let (ok, _, err) = payd(&app, &args);
        assert!(!ok, "{args:?} should fail");
        assert!(!err.trim().is_empty(), "{args:?} should say why");
    }
}

async fn the_underpayment_tolerance_is_set_in_percent_and_checked(app: TestApp) {
    let m = app.merchant("Tolerant").await;
    let id = m.id.to_string();
    let out = payd_json(&app, &["merchant", "configure", &id, "--underpayment-tolerance", "0.75", "--json"]);
    assert_eq!(out["underpayment_tolerance_percent"], "0.75");
    assert_eq!(app.store.merchant_underpayment_tolerance(&m.id).await.unwrap(), Some(75));
    // At most 10 %: beyond it "paid" stops meaning paid (at 100 % one base unit paid anything).
    for bad in ["100", "10.01", "100.5", "-1", "0.001", "half"] {
        let arg = format!("--underpayment-tolerance={bad}");
        let (ok, _, err) = payd(&app, &["merchant", "configure", &id, &arg]);
        assert!(!ok && err.contains("--underpayment-tolerance"), "{bad}: {err}");
    }
    // A refused value changes nothing.
    assert_eq!(app.store.merchant_underpayment_tolerance(&m.id).await.unwrap(), Some(75));
    let out = payd_json(&app, &["merchant", "configure", &id, "--underpayment-tolerance", "10", "--json"]);
    assert_eq!(out["underpayment_tolerance_percent"], "10");
    let out = payd_json(&app, &["merchant", "configure", &id, "--underpayment-tolerance", "0", "--json"]);
    assert_eq!(out["underpayment_tolerance_percent"], "0");
}

/// `payd serve` with no configuration at all: SQLite in ./payd-data, a demo merchant and
/// key, and a printed curl command that gets a 201.
#[test]
fn serve_with_no_configuration_prints_a_curl_that_works() {
    let dir = std::env::temp_dir().join(format!("payd-serve-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_payd"));
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("PAYD_")) {
        cmd.env_remove(k);
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut curl = None;
    while curl.is_none() && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            if line.trim_start().starts_with("curl ") {
                curl = Some(line.trim().to_owned());
            }
        }
    }
    let curl = curl.expect("serve printed no curl command");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("{curl} -o /dev/null -w '%{{http_code}}'"))
        .output()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(dir.join("payd-data/payd.db").exists());
    assert!(dir.join("payd-data/master.key").exists());
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "201", "the printed curl: {curl}");
}

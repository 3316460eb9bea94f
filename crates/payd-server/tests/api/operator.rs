//! An operator's first minutes, through the real `payd` binary: the quick start prints what
//! it takes to try AlpPay too, logs carry no colour codes off a terminal, `config check`
//! writes nothing and names every unknown key, and "not found" errors name the database.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use payd_server::http::dialects::alppay::wire::hmac::sign;
use payd_store::testing::TestDatabase;
use payd_store::{Backend, ConnectOptions, Store};

use crate::backend_tests;
use crate::helpers::{TestApp, MASTER_KEY};

backend_tests!(a_cli_error_names_the_database_it_looked_in);

fn empty_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("payd-{what}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `payd` in `dir` with no PAYD_ variable but those given: `(success, stdout, stderr)`.
fn payd_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_payd"));
    cmd.args(args).current_dir(dir);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("PAYD_") || k == "NO_COLOR") {
        cmd.env_remove(k);
    }
    let out = cmd.envs(env.iter().copied()).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn lines_of(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The first `payd serve` in an empty directory prints the demo key's signing secret and an
/// AlpPay request signed with it, which works as printed; its log lines, written to a pipe,
/// carry no ANSI colour codes.
#[test]
fn the_quick_start_prints_the_signing_secret_and_plain_logs() {
    let dir = empty_dir("quick-start");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_payd"));
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("PAYD_") || k == "NO_COLOR") {
        cmd.env_remove(k);
    }
    let mut child = cmd.spawn().unwrap();
    let out = lines_of(child.stdout.take().unwrap());
    let err = lines_of(child.stderr.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut secret, mut curls) = (None, Vec::new());
    while curls.len() < 2 && Instant::now() < deadline {
        if let Ok(line) = out.recv_timeout(Duration::from_millis(200)) {
            let line = line.trim().to_owned();
            if let Some(s) = line.strip_prefix("signing secret") {
                secret = Some(s.trim().to_owned());
            }
            if line.starts_with("curl ") {
                curls.push(line);
            }
        }
    }
    let mut logs = Vec::new();
    while let Ok(line) = err.recv_timeout(Duration::from_millis(500)) {
        logs.push(line);
    }
    let run = |curl: &str| {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("{curl} -o /dev/null -w '%{{http_code}}'"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let codes: Vec<String> = curls.iter().map(|c| run(c)).collect();
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);

    let secret = secret.expect("the banner prints the signing secret");
    assert!(secret.starts_with("ss_"), "{secret}");
    let alppay = curls.iter().find(|c| c.contains("/v2/payment")).expect("an AlpPay curl command");
    let body = alppay.rsplit_once("-d '").map(|(_, b)| b.trim_end_matches('\'')).unwrap();
    let hmac = sign(&secret, body.as_bytes()).unwrap();
    assert!(alppay.contains(&format!("X-HMAC: {hmac}")), "signed with the printed secret: {alppay}");
    assert_eq!(codes, ["201", "200"], "{curls:?}");

    assert!(logs.iter().any(|l| l.contains("payd listening")), "{logs:?}");
    assert!(logs.iter().all(|l| !l.contains('\u{1b}')), "colour codes in a pipe: {logs:?}");
}

/// `payd config check` in an empty directory creates nothing; on an existing database it
/// applies no migration.
#[test]
fn config_check_writes_nothing() {
    let dir = empty_dir("check");
    let (ok, out, err) = payd_in(&dir, &["config", "check"], &[]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("does not exist yet"), "{out}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "the check created files");
    // An empty SQLite file: the check reads it, says the migrations are pending, applies none.
    let db = dir.join("empty.db");
    std::fs::write(&db, b"").unwrap();
    let url = format!("sqlite:{}", db.display());
    let (ok, out, err) = payd_in(&dir, &["config", "check", "--json", "--database-url", &url], &[]);
    assert!(ok, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(report["notes"][0].as_str().unwrap().contains("not applied yet"), "{report}");
    assert_eq!(std::fs::metadata(&db).unwrap().len(), 0, "the check wrote to the database");
    let entries: Vec<_> =
        std::fs::read_dir(&dir).unwrap().filter_map(Result::ok).map(|e| e.file_name()).collect();
    assert_eq!(entries, ["empty.db"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every unknown key of payd.toml is reported, each with its place in the file.
#[test]
fn config_check_reports_every_unknown_key() {
    let dir = empty_dir("keys");
    std::fs::write(
        dir.join("payd.toml"),
        "[server]\nlisten = \"127.0.0.1:8080\"\nlisten_addr = \"x\"\ncolour = true\n\n\
         [webhooks]\nmax_endpoint = 3\n\n[payments]\ndefault_expiry = 60\n",
    )
    .unwrap();
    let (ok, _, err) = payd_in(&dir, &["config", "check"], &[]);
    assert!(!ok);
    for key in ["server.listen_addr", "server.colour", "webhooks.max_endpoint", "payments.default_expiry"] {
        assert!(err.contains(&format!("unknown key `{key}`")), "{key} not reported:\n{err}");
    }
    assert!(!dir.join("payd-data").exists(), "the check created the database");
    let _ = std::fs::remove_dir_all(&dir);
}

async fn a_cli_error_names_the_database_it_looked_in(app: TestApp) {
    let dir = empty_dir("where");
    let missing = "mer_00000000000000000000000000000000";
    let env = [("PAYD_MASTER_KEY", MASTER_KEY)];
    let (ok, _, err) = payd_in(&dir, &["--database-url", &app.db.url, "merchant", "suspend", missing], &env);
    assert!(!ok);
    assert!(err.contains(&format!("no merchant {missing}")), "{err}");
    match app.db.backend {
        // The absolute path of the file.
        Backend::Sqlite => assert!(err.contains(&app.db.url), "{err}"),
        Backend::Postgres => {
            let name = app.db.url.rsplit('/').next().unwrap();
            assert!(err.contains(name) && err.contains("postgres://"), "{err}");
        }
    }
    for args in [
        vec!["key", "create", "--merchant", missing, "--mode", "test"],
        vec!["key", "revoke", "key_00000000000000000000000000000000"],
        vec!["webhook", "add", "--merchant", missing, "--url", "https://shop.example/h"],
    ] {
        let mut all = vec!["--database-url", app.db.url.as_str()];
        all.extend(args.iter().copied());
        let (ok, _, err) = payd_in(&dir, &all, &env);
        assert!(!ok && err.contains("in the database at"), "{args:?}: {err}");
    }
    // A relative SQLite path names where it resolved to, and a new file is announced.
    let (ok, _, err) =
        payd_in(&dir, &["--database-url", "sqlite:rel/x.db", "merchant", "suspend", missing], &env);
    assert!(!ok);
    let abs = dir.join("rel/x.db");
    assert!(err.contains(&format!("created a new, empty database at sqlite:{}", abs.display())), "{err}");
    assert!(err.contains(&format!("in the database at sqlite:{}", abs.display())), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A PostgreSQL URL in an error never carries its password.
#[tokio::test]
async fn a_postgres_password_never_appears_in_a_cli_error() {
    let dir = empty_dir("pg-password");
    // Nothing listens on port 1: the command fails on connecting, and says where it tried.
    let url = "postgres://payd:hunter2@127.0.0.1:1/payd";
    let (ok, out, err) = payd_in(&dir, &["--database-url", url, "config", "check"], &[]);
    assert!(!ok);
    assert!(!out.contains("hunter2") && !err.contains("hunter2"), "{out}{err}");
    assert!(err.contains("postgres://payd@127.0.0.1:1/payd"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
    // And the check on a fresh database applies no migration.
    let Some(db) = TestDatabase::create(Backend::Postgres).await.unwrap() else { return };
    let dir = empty_dir("pg-check");
    let (ok, out, err) = payd_in(&dir, &["--database-url", &db.url, "config", "check"], &[]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(ok, "{out}{err}");
    assert!(out.contains("not applied yet"), "{out}");
    let store = Store::connect(&db.url, &ConnectOptions::default()).await.unwrap();
    assert!(!store.pending_migrations().await.unwrap().is_empty(), "the check migrated the database");
    store.close().await;
}

//! A rate source's URL may carry an API key. When the source fails, no response of any API
//! and no log line repeats the URL, the key or what the source answered. `payd serve` runs as
//! a child process here so that its log, at payd's most verbose level, can be read whole.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use payd_core::apikey::Mode;
use payd_core::crypto::MasterKey;
use payd_core::merchant::NewMerchant;
use payd_server::http::dialects::alppay::wire::hmac::sign;
use payd_server::keys::{issue_key, KeyOwner};
use payd_store::testing::TestDatabase;
use payd_store::{Backend, ConnectOptions, Store};
use serde_json::{json, Value};

use crate::fx_upstream::Upstream;
use crate::helpers::{json as read, MASTER_KEY};

const KEY: &str = "fxkey_0123456789SECRET";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_fx_source_leaks_its_url_nowhere_sqlite() {
    a_failing_fx_source_leaks_its_url_nowhere(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_fx_source_leaks_its_url_nowhere_postgres() {
    a_failing_fx_source_leaks_its_url_nowhere(Backend::Postgres).await;
}

struct Serve {
    child: Child,
    port: u16,
    log: std::sync::mpsc::Receiver<String>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    /// Stops the server and returns everything it wrote, colour codes removed.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The readers end when the pipes close; wait for them to hand over the last lines.
        let mut out = Vec::new();
        while let Ok(line) = self.log.recv_timeout(Duration::from_secs(5)) {
            out.push(line);
        }
        strip_ansi(&out.join("\n"))
    }
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn serve(db_url: &str, fx: &[(&str, &str)]) -> Serve {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_payd"));
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .env("PAYD_DATABASE_URL", db_url)
        .env("PAYD_MASTER_KEY", MASTER_KEY)
        .env("PAYD_BOOTSTRAP_DEMO", "false")
        .env("PAYD_DEVNET_BLOCK_MS", "0")
        .env(
            "PAYD_LOG",
            "info,payd=trace,payd_server=trace,payd_store=trace,payd_chain=trace,payd_core=trace",
        )
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in fx {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    // Both streams are read as they come, so neither pipe fills up.
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let out_tx = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = out_tx.send(line);
        }
    });
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let (mut seen, mut port) = (Vec::new(), None);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while port.is_none() && std::time::Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            port = line
                .split("listening on port ")
                .nth(1)
                .and_then(|r| r.split_whitespace().next()?.parse().ok());
            seen.push(line);
        }
    }
    let port = port.unwrap_or_else(|| panic!("payd serve did not start: {seen:?}"));
    // Put back what was read, so the whole log is checked.
    let (tx2, rx2) = std::sync::mpsc::channel();
    for line in seen {
        let _ = tx2.send(line);
    }
    std::thread::spawn(move || {
        for line in rx.iter() {
            if tx2.send(line).is_err() {
                break;
            }
        }
    });
    Serve { child, port, log: rx2 }
}

async fn a_failing_fx_source_leaks_its_url_nowhere(backend: Backend) {
    let Some(db) = TestDatabase::create(backend).await.unwrap() else { return };
    let upstream = Upstream::start(&Upstream::today()).await;
    upstream.fail(true);
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let live = upstream.base.trim_start_matches("http://").to_owned();
    // Three sources, three ways to fail: an answer echoing the request (key included), a
    // refused connection, and a key in the path of a source that answers 500.
    let sources = [
        ("http", format!("{}/v1/latest?access_key={KEY}&base={{from}}&symbols={{to}}", upstream.base)),
        ("ecb", format!("http://reader:{KEY}@127.0.0.1:{closed}/stats/eurofxref/eurofxref-daily.xml")),
        ("coinbase", format!("{}/{KEY}", upstream.base)),
    ];
    for (provider, url) in sources {
        let payd = serve(&db.url, &[("PAYD_FX_PROVIDER", provider), ("PAYD_FX_URL", &url)]);
        let bodies = every_dialect(&db, payd.port).await;
        let log = payd.stop();
        let forbidden = [
            KEY,
            url.as_str(),
            live.as_str(),
            "access_key",
            "/v1/latest",
            "eurofxref-daily",
            "upstream error",
        ];
        for (what, status, body) in &bodies {
            for f in forbidden {
                assert!(!body.contains(f), "{provider}: {what} ({status}) repeats `{f}`: {body}");
            }
        }
        assert!(log.contains("exchange-rate source failed"), "{provider}: the failure is logged: {log}");
        assert!(log.contains(&format!("source=\"{provider}\"")), "{provider}: the source is named: {log}");
        for f in forbidden {
            assert!(!log.contains(f), "{provider}: the log repeats `{f}`:\n{log}");
        }
        assert!(
            !log.contains(&format!("127.0.0.1:{closed}")),
            "{provider}: the log names the source's address:\n{log}"
        );
    }
}

/// A create on every API: the three that take prices in EUR must refuse it in their own
/// error format, the two that price in USD only must not need the source at all.
async fn every_dialect(db: &TestDatabase, port: u16) -> Vec<(&'static str, u16, String)> {
    let store = Store::connect(&db.url, &ConnectOptions::default()).await.unwrap();
    let m = store
        .create_merchant(&NewMerchant { name: "Shop".into(), ..Default::default() }, payd_store::now())
        .await
        .unwrap();
    let master = MasterKey::parse(MASTER_KEY).unwrap();
    let issued =
        issue_key(&store, &master, KeyOwner::Merchant(m.id.clone()), Mode::Test, Vec::new()).await.unwrap();
    let (key, signing) = (issued.secret.expose().to_owned(), issued.signing_secret.expose().to_owned());
    store.close().await;
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let send = |path: &str, headers: Vec<(&'static str, String)>, body: String| {
        let mut req =
            client.post(format!("{base}{path}")).header("Content-Type", "application/json").body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send()
    };
    let mut out = Vec::new();
    let mut record = |what, res: (u16, Value)| out.push((what, res.0, res.1.to_string()));

    let native = json!({"amount": "25.00", "currency": "EUR", "token": "USDC", "network": "base"});
    let res = read(
        send("/v1/payments", vec![("Authorization", format!("Bearer {key}"))], native.to_string())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((res.0, res.1["error"]["code"].as_str()), (422, Some("fx_unavailable")), "{}", res.1);
    record("native", res);

    let body = json!({"amount": "10.50", "currency": "EUR", "reference": "Order #12345"}).to_string();
    let res =
        read(send("/v0/payments", vec![("Authorization", format!("Bearer {key}"))], body).await.unwrap())
            .await;
    assert_eq!((res.0, res.1["code"].as_str()), (400, Some("FX_UNAVAILABLE")), "{}", res.1);
    record("paygentic", res);

    let body = r#"{"amount_original": 25.00, "currency": "EUR", "description": "Abonnement Pro"}"#.to_owned();
    let res = read(send("/api/payments", vec![("X-API-Key", key.clone())], body).await.unwrap()).await;
    assert_eq!((res.0, res.1["error"].as_str()), (400, Some("invalid_request")), "{}", res.1);
    record("mutopay", res);

    let body = r#"{"amount": 10, "token": "USDC", "network": "base"}"#.to_owned();
    let res = read(send("/v1/api/payments", vec![("X-Api-Key", key.clone())], body).await.unwrap()).await;
    assert_eq!(res.0, 201, "{}", res.1);
    record("astrapay", res);

    let body =
        r#"{"amount":"10.00","asset":{"short":"USDC","network":"base"},"customer":{"id":1}}"#.to_owned();
    let sig = sign(&signing, body.as_bytes()).unwrap();
    let res =
        read(send("/v2/payment", vec![("API-KEY", key.clone()), ("X-HMAC", sig)], body).await.unwrap()).await;
    assert_eq!(res.0, 200, "{}", res.1);
    record("alppay", res);
    out
}

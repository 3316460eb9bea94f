//! The EVM watcher under faults: payd refuses to start on a wrong chain id or wrong token
//! decimals, `payd config check` reports every problem at once, an RPC endpoint that times
//! out, rate-limits, answers garbage or refuses large log ranges only delays crediting, one
//! node scans a network at a time, and the real `payd serve` SIGKILLed at random points of
//! its scan loop loses no transfer and credits none twice.

use std::collections::HashMap;
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::IntoResponse;
use payd_core::apikey::Mode;
use payd_core::crypto::MasterKey;
use payd_core::ids::PaymentId;
use payd_core::merchant::NewMerchant;
use payd_core::registry::Family;
use payd_server::app::Application;
use payd_server::keys::{issue_key, KeyOwner};
use payd_store::testing::TestDatabase;
use payd_store::{Backend, ConnectOptions, Store};
use serde_json::{json, Value};

use crate::anvil::Anvil;
use crate::evm::{address, eventually, networks_json, usdc, EvmEnv, CONFIRMATIONS, NETWORK, XPUB};
use crate::helpers::{test_config, MASTER_KEY};

crate::on_both_backends!(
    payd_refuses_to_start_on_a_wrong_chain_id_or_wrong_decimals,
    config_check_reports_every_problem_at_once,
    rpc_faults_delay_but_never_break_crediting,
    one_node_scans_a_network_at_a_time,
    payd_killed_at_random_points_loses_and_doubles_nothing,
    merchant_configure_sets_and_checks_the_evm_xpub,
    a_websocket_new_head_wakes_the_watcher_before_its_poll,
    money_sent_on_the_wrong_network_is_recorded_unattributed,
);

async fn tokens(anvil: &Anvil) -> (String, String) {
    (anvil.deploy_token("USDC", 6).await, anvil.deploy_token("USDT", 18).await)
}

async fn payd_refuses_to_start_on_a_wrong_chain_id_or_wrong_decimals(backend: Backend) {
    let Some(anvil) = Anvil::start(&[]).await else { return };
    let (usdc, usdt) = tokens(&anvil).await;
    let Some(db) = TestDatabase::create(backend).await.unwrap() else { return };
    let good = networks_json(&anvil.url, &usdc, &usdt, 1);
    let cases = [
        (good.replace("31337", "8453"), "is chain 31337, configured chain_id is 8453"),
        (good.replace("\"decimals\":18", "\"decimals\":6"), "has 18 decimals on chain, configured 6"),
    ];
    for (networks, expected) in cases {
        let config = test_config(&db, &[("PAYD_NETWORKS", &networks)]);
        let err = Application::build(config).await.err().map(|e| format!("{e:#}")).unwrap_or_default();
        assert!(err.contains("refusing to start") && err.contains(expected), "{err}");
    }
    let config = test_config(&db, &[("PAYD_NETWORKS", &good)]);
    assert!(Application::build(config).await.is_ok());
}

async fn config_check_reports_every_problem_at_once(backend: Backend) {
    let Some(anvil) = Anvil::start(&[]).await else { return };
    let (usdc, usdt) = tokens(&anvil).await;
    let Some(db) = TestDatabase::create(backend).await.unwrap() else { return };
    let store = connect(&db).await;
    store
        .create_merchant(&NewMerchant { name: "No xpub".into(), ..Default::default() }, payd_store::now())
        .await
        .unwrap();
    let check = |networks: String| {
        let out = Command::new(env!("CARGO_BIN_EXE_payd"))
            .args(["config", "check", "--json", "--database-url", &db.url])
            .env("PAYD_NETWORKS", networks)
            .env("PAYD_MASTER_KEY", MASTER_KEY)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.success(), v)
    };
    let networks = json!([
        {"name": "anvil", "chain_id": 31337, "rpc_url": anvil.url, "confirmations": 1,
         "tokens": [{"symbol": "USDC", "contract": usdc, "decimals": 18}, {"symbol": "USDT", "contract": usdt, "decimals": 18}]},
        {"name": "wrongchain", "chain_id": 1, "rpc_url": anvil.url,
         "tokens": [{"symbol": "USDC", "contract": usdc, "decimals": 6}]},
        {"name": "down", "chain_id": 1, "rpc_url": "http://127.0.0.1:1", "timeout_ms": 500,
         "tokens": [{"symbol": "USDC", "contract": usdc, "decimals": 6}]}
    ]);
    let (ok, v) = check(networks.to_string());
    assert!(!ok);
    let problems: Vec<String> =
        v["problems"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect();
    let has = |s: &str| problems.iter().any(|p| p.contains(s));
    assert!(has("USDC") && has("has 6 decimals on chain, configured 18"), "{problems:?}");
    assert!(has("network wrongchain") && has("is chain 31337"), "{problems:?}");
    assert!(has("network down") && has("unreachable"), "{problems:?}");
    assert!(has("no EVM xpub"), "{problems:?}");
    assert_eq!(problems.len(), 4, "{problems:?}");

    // Configuration errors come together with the nodes' problems.
    let networks = json!([
        {"name": "anvil", "chain_id": 31337, "rpc_url": anvil.url,
         "tokens": [{"symbol": "USDC", "contract": usdc, "decimals": 18}]},
        {"name": "bad", "chain_id": 1, "rpc_url": "ftp://x",
         "tokens": [{"symbol": "USDC", "contract": "0x12", "decimals": 6}]}
    ]);
    let (ok, v) = check(networks.to_string());
    let problems = v["problems"].to_string();
    assert!(!ok && v["ok"] == false);
    assert!(problems.contains("rpc_url must be an http(s) URL"), "{problems}");
    assert!(problems.contains("is not an EVM address"), "{problems}");
    assert!(problems.contains("has 6 decimals on chain, configured 18"), "{problems}");

    // All fixed: OK.
    let m = store.merchant_xpubs(Family::Evm).await.unwrap()[0].0.clone();
    store.set_merchant_xpub(&m, Family::Evm, Some(XPUB), payd_store::now()).await.unwrap();
    let (ok, v) = check(networks_json(&anvil.url, &usdc, &usdt, 1));
    assert!(ok, "{v}");
    assert_eq!(v, json!({"ok": true, "problems": [], "notes": []}));
}

async fn connect(db: &TestDatabase) -> Store {
    let store = Store::connect(&db.url, &ConnectOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    store
}

/// A JSON-RPC proxy in front of anvil that injects faults by request number: HTTP 429, a
/// garbage body, a reply slower than payd's timeout, a provider range limit on
/// `eth_getLogs` over more than 4 blocks, and logs with a truncated data field.
struct FaultProxy {
    url: String,
    seen_small_ranges: Arc<AtomicU64>,
    faults: Arc<AtomicU64>,
}

#[derive(Clone)]
struct ProxyState {
    upstream: String,
    client: reqwest::Client,
    n: Arc<AtomicU64>,
    small: Arc<AtomicU64>,
    faults: Arc<AtomicU64>,
}

async fn proxy(State(s): State<ProxyState>, body: Bytes) -> axum::response::Response {
    use axum::http::StatusCode;
    let n = s.n.fetch_add(1, Ordering::Relaxed);
    let req: Value = serde_json::from_slice(&body).unwrap_or_default();
    let method = req["method"].as_str().unwrap_or_default().to_owned();
    let fault = |s: &ProxyState| s.faults.fetch_add(1, Ordering::Relaxed);
    match n % 9 {
        2 => {
            fault(&s);
            return (StatusCode::TOO_MANY_REQUESTS, "slow down").into_response();
        }
        4 => {
            fault(&s);
            return (StatusCode::OK, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":").into_response();
        }
        6 => {
            fault(&s);
            tokio::time::sleep(Duration::from_millis(800)).await;
        }
        _ => {}
    }
    if method == "eth_getLogs" {
        let hex = |v: &Value| {
            u64::from_str_radix(v.as_str().unwrap_or("0x0").trim_start_matches("0x"), 16).unwrap_or(0)
        };
        let (from, to) = (hex(&req["params"][0]["fromBlock"]), hex(&req["params"][0]["toBlock"]));
        if to.saturating_sub(from) + 1 > 4 {
            fault(&s);
            let e = json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32005, "message": "query returned more than 10000 results"}});
            return axum::Json(e).into_response();
        }
        s.small.fetch_add(1, Ordering::Relaxed);
    }
    let res =
        match s.client.post(&s.upstream).body(body).header("content-type", "application/json").send().await {
            Ok(r) => r,
            Err(_) => return (StatusCode::BAD_GATEWAY, "upstream").into_response(),
        };
    let mut v: Value = res.json().await.unwrap_or_default();
    if method == "eth_getLogs" && n % 5 == 3 {
        if let Some(log) = v["result"].as_array_mut().and_then(|a| a.first_mut()) {
            fault(&s);
            log["data"] = json!("0x12");
        }
    }
    axum::Json(v).into_response()
}

impl FaultProxy {
    async fn start(upstream: &str) -> FaultProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = ProxyState {
            upstream: upstream.to_owned(),
            client: reqwest::Client::new(),
            n: Arc::default(),
            small: Arc::default(),
            faults: Arc::default(),
        };
        let (small, faults) = (state.small.clone(), state.faults.clone());
        let app = axum::Router::new().fallback(proxy).with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await });
        FaultProxy { url, seen_small_ranges: small, faults }
    }
}

async fn rpc_faults_delay_but_never_break_crediting(backend: Backend) {
    let Some(anvil) = Anvil::start(&[]).await else { return };
    let (usdc_token, usdt) = tokens(&anvil).await;
    // Blocks to catch up on at start: the first log requests hit the range limit.
    anvil.mine(30).await;
    let proxy = FaultProxy::start(&anvil.url).await;
    let mut networks: Value =
        serde_json::from_str(&networks_json(&proxy.url, &usdc_token, &usdt, 2)).unwrap();
    networks[0]["timeout_ms"] = json!(300);
    networks[0]["block_range"] = json!(16);
    let networks = networks.to_string();
    let Some(env) = EvmEnv::start_on(backend, anvil, usdc_token, usdt, &networks).await else { return };
    let mut ids = Vec::new();
    for i in 1..=4u128 {
        let (id, p) = env.create(usdc(&i.to_string())).await;
        env.anvil.transfer(&env.usdc, p["asset"]["address"].as_str().unwrap(), i * 1_000_000).await;
        ids.push((id, i * 1_000_000));
    }
    env.anvil.mine(3).await;
    for (id, amount) in &ids {
        let p = env.status_becomes(id, "completed").await;
        assert_eq!(p.funds.confirmed, *amount, "credited exactly once");
    }
    assert_eq!(env.app.store.list_transfers(NETWORK).await.unwrap().len(), 4);
    assert!(proxy.faults.load(Ordering::Relaxed) > 10, "faults were injected");
    assert!(
        proxy.seen_small_ranges.load(Ordering::Relaxed) > 0,
        "the range shrank to what the provider takes"
    );
    // The server still answers.
    let (s, _) = env.app.get(&format!("/v1/payments/{}", ids[0].0), &env.key).await;
    assert_eq!(s, 200);
}

async fn one_node_scans_a_network_at_a_time(backend: Backend) {
    let Some(env) = EvmEnv::start_with(backend, &[("PAYD_NODE_ID", "node-a")]).await else { return };
    let (id, p) = env.create(usdc("3")).await;
    eventually("node a holds the lease", || async {
        env.app.store.lease_holder(NETWORK).await.unwrap().is_some_and(|(h, _)| h == "node-a")
    })
    .await;
    // A second node's watcher on the same database stands by.
    let networks = payd_server::config::networks::validate(
        payd_server::config::networks::from_json(&networks_json(
            &env.anvil.url,
            &env.usdc,
            &env.usdt,
            CONFIRMATIONS,
        ))
        .unwrap(),
        &mut Vec::new(),
    );
    let net = &networks[0];
    let watch = payd_server::workers::chain::ChainWatch {
        cfg: payd_server::engine::credit::NetworkConfig::live(net, chrono::Duration::days(1)),
        interval: Duration::from_millis(50),
        lease: Some(payd_server::workers::chain::Lease {
            holder: "node-b".into(),
            lifetime: Duration::from_secs(5),
        }),
        wake: None,
        metrics: Default::default(),
    };
    let cancel = tokio_util::sync::CancellationToken::new();
    let b = tokio::spawn(payd_server::workers::chain::watch(
        env.app.store.clone(),
        payd_server::config::networks::source(net).unwrap(),
        watch,
        cancel.clone(),
    ));
    env.anvil.transfer(&env.usdc, p["asset"]["address"].as_str().unwrap(), 3_000_000).await;
    env.anvil.mine(u64::from(CONFIRMATIONS)).await;
    let p = env.status_becomes(&id, "completed").await;
    assert_eq!(p.funds.confirmed, 3_000_000);
    assert_eq!(env.app.store.lease_holder(NETWORK).await.unwrap().map(|(h, _)| h).as_deref(), Some("node-a"));
    assert!(!env
        .app
        .store
        .acquire_lease(NETWORK, "node-b", payd_store::now(), payd_store::now())
        .await
        .unwrap());
    // An expired lease is taken over.
    let later = payd_store::now() + chrono::Duration::minutes(10);
    assert!(env.app.store.acquire_lease(NETWORK, "node-c", later, later).await.unwrap());
    cancel.cancel();
    b.await.unwrap();
}

/// `payd serve` as a child process, SIGKILLed by the test.
pub(crate) struct Payd {
    child: Child,
    pub(crate) port: u16,
}

impl Drop for Payd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn spawn_payd(db_url: &str, networks: &str) -> Payd {
    spawn_payd_with(db_url, networks, &[])
}

/// [`spawn_payd`] with more settings (later ones win).
pub(crate) fn spawn_payd_with(db_url: &str, networks: &str, extra_env: &[(&str, &str)]) -> Payd {
    let mut child = Command::new(env!("CARGO_BIN_EXE_payd"))
        .arg("serve")
        .env("PAYD_DATABASE_URL", db_url)
        .env("PAYD_MASTER_KEY", MASTER_KEY)
        .env("PAYD_BOOTSTRAP_DEMO", "false")
        .env("PAYD_DEVNET_BLOCK_MS", "0")
        .env("PAYD_LISTEN", "127.0.0.1:0")
        .env("PAYD_NETWORKS", networks)
        .env("PAYD_NODE_ID", "crash-test")
        .env("PAYD_LOG", "warn")
        .envs(extra_env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(60)).expect("payd prints its port");
    let port = line.split("port ").nth(1).and_then(|r| r.split_whitespace().next()).unwrap().parse().unwrap();
    Payd { child, port }
}

/// A small deterministic generator (the seed is printed, so a failure can be replayed).
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

async fn payd_killed_at_random_points_loses_and_doubles_nothing(backend: Backend) {
    const RUNS: usize = 20;
    let Some(anvil) = Anvil::start(&[]).await else { return };
    let (usdc_token, usdt) = tokens(&anvil).await;
    let Some(db) = TestDatabase::create(backend).await.unwrap() else { return };
    let store = connect(&db).await;
    let m = store
        .create_merchant(&NewMerchant { name: "Shop".into(), ..Default::default() }, payd_store::now())
        .await
        .unwrap();
    store.set_merchant_xpub(&m.id, Family::Evm, Some(XPUB), payd_store::now()).await.unwrap();
    let master = MasterKey::parse(MASTER_KEY).unwrap();
    let key = issue_key(&store, &master, KeyOwner::Merchant(m.id.clone()), Mode::Live, vec![])
        .await
        .unwrap()
        .secret
        .expose()
        .to_owned();
    let mut networks: Value =
        serde_json::from_str(&networks_json(&anvil.url, &usdc_token, &usdt, 2)).unwrap();
    // Small steps: a kill lands between commits as often as inside one.
    networks[0]["block_range"] = json!(2);
    networks[0]["poll_interval_ms"] = json!(50);
    let networks = networks.to_string();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let seed = std::env::var("PAYD_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(now.as_secs() ^ u64::from(now.subsec_nanos()));
    eprintln!("crash test seed {seed} (replay: PAYD_CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    let client = reqwest::Client::new();
    let mut sent: HashMap<PaymentId, (u128, u128)> = HashMap::new(); // due, sent
    let mut transfers = 0usize;

    // Where each kill landed: behind the head (mid catch-up) or caught up.
    let (mut behind, mut caught_up) = (0, 0);
    for run in 0..RUNS {
        let payd = spawn_payd(&db.url, &networks);
        let body = usdc(&format!("{}", 1 + rng.below(20)));
        let res = client
            .post(format!("http://127.0.0.1:{}/v1/payments", payd.port))
            .bearer_auth(&key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let p: Value = res.json().await.unwrap();
        let id: PaymentId = p["id"].as_str().unwrap_or_else(|| panic!("{p}")).parse().unwrap();
        let due: u128 = p["asset"]["amount_due"].as_str().unwrap().parse().unwrap();
        let to = p["asset"]["address"].as_str().unwrap().to_owned();
        // Paid in one or two transfers, some blocks mined, then a kill at a random moment.
        let first = if rng.below(2) == 0 { due } else { due / 2 };
        anvil.transfer(&usdc_token, &to, first).await;
        transfers += 1;
        if first < due {
            anvil.mine(rng.below(3)).await;
            anvil.transfer(&usdc_token, &to, due - first).await;
            transfers += 1;
        }
        sent.insert(id, (due, due));
        if run % 3 == 0 {
            // A long catch-up (75 steps of 2 blocks, each its own commit), killed as soon as
            // it has started.
            let start = store.chain_cursor(NETWORK).await.unwrap().map_or(0, |c| c.number);
            anvil.mine(150).await;
            eventually("the watcher starts catching up", || async {
                store.chain_cursor(NETWORK).await.unwrap().is_some_and(|c| c.number > start)
            })
            .await;
        } else {
            // Up to 40 blocks of catch-up, killed at a random moment.
            anvil.mine(rng.below(40)).await;
            tokio::time::sleep(Duration::from_millis(rng.below(300))).await;
        }
        drop(payd); // SIGKILL
        let cursor = store.chain_cursor(NETWORK).await.unwrap().map_or(0, |c| c.number);
        if cursor < anvil.head().await {
            behind += 1;
        } else {
            caught_up += 1;
        }
        if run % 4 == 3 {
            // Blocks arrive while payd is down.
            anvil.mine(1 + rng.below(5)).await;
        }
    }

    eprintln!("kills: {behind} behind the head, {caught_up} caught up");
    assert!(behind > 0, "some kills land while the watcher is still scanning");
    let _payd = spawn_payd(&db.url, &networks);
    anvil.mine(3).await;
    for (id, (due, paid)) in &sent {
        eventually("every payment is credited", || async {
            store.get_payment(id).await.unwrap().unwrap().funds.confirmed >= *paid
        })
        .await;
        let p = store.get_payment(id).await.unwrap().unwrap();
        assert_eq!((p.status.as_str(), p.funds.confirmed, p.funds.pending), ("completed", *due, 0), "{id}");
    }
    let recorded = store.list_transfers(NETWORK).await.unwrap();
    assert_eq!(recorded.len(), transfers, "each transfer recorded exactly once");
    let keys: std::collections::HashSet<_> =
        recorded.iter().map(|t| (t.transfer.tx_hash.clone(), t.transfer.log_index)).collect();
    assert_eq!(keys.len(), transfers);
    assert!(recorded.iter().all(|t| t.transfer.payment_id.is_some()));
}

async fn merchant_configure_sets_and_checks_the_evm_xpub(backend: Backend) {
    let Some(db) = TestDatabase::create(backend).await.unwrap() else { return };
    let store = connect(&db).await;
    let m = store
        .create_merchant(&NewMerchant { name: "Shop".into(), ..Default::default() }, payd_store::now())
        .await
        .unwrap();
    let id = m.id.to_string();
    let run = |xpub: &str| {
        Command::new(env!("CARGO_BIN_EXE_payd"))
            .args(["merchant", "configure", &id, "--xpub-evm", xpub, "--json", "--database-url", &db.url])
            .env("PAYD_MASTER_KEY", MASTER_KEY)
            .output()
            .unwrap()
    };
    let bad = run("xpub-not-a-key");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--xpub-evm"), "{bad:?}");
    assert_eq!(store.merchant_xpub(&m.id, Family::Evm).await.unwrap(), None);
    let ok = run(XPUB);
    assert!(ok.status.success(), "{ok:?}");
    let v: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(v["xpub_evm"], XPUB);
    assert_eq!(store.merchant_xpub(&m.id, Family::Evm).await.unwrap().as_deref(), Some(XPUB));
    assert!(run("none").status.success());
    assert_eq!(store.merchant_xpub(&m.id, Family::Evm).await.unwrap(), None);
}

async fn a_websocket_new_head_wakes_the_watcher_before_its_poll(backend: Backend) {
    let Some(anvil) = Anvil::start(&[]).await else { return };
    let usdc_token = anvil.deploy_token("USDC", 6).await;
    let usdt = anvil.deploy_token("USDT", 18).await;
    let mut networks: Value =
        serde_json::from_str(&networks_json(&anvil.url, &usdc_token, &usdt, CONFIRMATIONS)).unwrap();
    // Ten minutes between polls: only the newHeads subscription can make this test pass.
    networks[0]["poll_interval_ms"] = json!(600_000);
    networks[0]["ws_url"] = json!(anvil.url.replace("http://", "ws://"));
    let Some(env) = EvmEnv::start_on(backend, anvil, usdc_token, usdt, &networks.to_string()).await else {
        return;
    };
    let (id, p) = env.create(usdc("2")).await;
    env.anvil.transfer(&env.usdc, &address(&p), 2_000_000).await;
    env.anvil.mine(u64::from(CONFIRMATIONS)).await;
    let p = env.status_becomes(&id, "completed").await;
    assert_eq!(p.funds.confirmed, 2_000_000);
}

async fn money_sent_on_the_wrong_network_is_recorded_unattributed(backend: Backend) {
    let Some(anvil) = Anvil::start(&[]).await else { return };
    let (usdc_token, usdt) = tokens(&anvil).await;
    // Two configured networks read the same node: a transfer for a payment on `anvil` is, for
    // `anvil2`, money sent on another network than the payment's.
    let mut networks: Value =
        serde_json::from_str(&networks_json(&anvil.url, &usdc_token, &usdt, 1)).unwrap();
    let mut second = networks[0].clone();
    second["name"] = json!("anvil2");
    networks.as_array_mut().unwrap().push(second);
    let Some(env) = EvmEnv::start_on(backend, anvil, usdc_token, usdt, &networks.to_string()).await else {
        return;
    };
    let (id, p) = env.create(usdc("4")).await;
    let to = address(&p);
    env.anvil.transfer(&env.usdc, &to, 4_000_000).await;
    env.status_becomes(&id, "completed").await;
    eventually("anvil2 records it", || async {
        !env.app.store.list_transfers("anvil2").await.unwrap().is_empty()
    })
    .await;
    let other = env.app.store.list_transfers("anvil2").await.unwrap();
    assert_eq!(other.len(), 1);
    assert_eq!((other[0].transfer.payment_id.as_ref(), other[0].transfer.amount), (None, 4_000_000));
    assert_eq!(other[0].transfer.to, to.to_ascii_lowercase());
    assert_eq!(env.payment(&id).await.funds.confirmed, 4_000_000, "credited once, on its own network");
}

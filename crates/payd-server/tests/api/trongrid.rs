//! Tron through TronGrid's v1 REST API (`source = "trongrid"`), against a faithful double on
//! 127.0.0.1 built from the documented shapes (chains.md §8.1-8.2): TRC-20 history by account
//! with `fingerprint` paging, `only_confirmed`, `min_timestamp`/`max_timestamp`, a
//! `links.next` that points at another host, HTTP 429; java-tron's solidity HTTP API for the
//! solidified head, blocks, transaction records and a block's records. The real server's
//! watcher credits what is solidified, keys each transfer by its log's index in its block (as
//! java-tron's `/jsonrpc` does), never follows `links.next`, backs off on 429, refuses a
//! malformed item without crediting anything, and never credits a failed transaction.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::Json;
use payd_chain::address::{tron, tron_id};
use payd_core::apikey::Mode;
use payd_core::ids::PaymentId;
use payd_core::registry::Family;
use payd_server::keys::KeyOwner;
use payd_store::Backend;
use serde_json::{json, Value};

use crate::evm::eventually;
use crate::helpers::{spawn_app_with, TestApp};
use crate::tron::{CHAIN_ID, NETWORK, XPUB};

const TRANSFER_TOPIC: &str = "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
const USDT: &str = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";
/// Another TRC-20 contract (Tron's USDC): its transfers are not accepted here.
const OTHER: &str = "TEkxiTehnzSmSe2XqrBj4w32RUN966rdz8";
const T0: i64 = 1_786_796_664_000;

crate::on_both_backends!(
    solidified_transfers_are_found_page_by_page_and_credited_once,
    malformed_items_and_failed_transactions_never_credit,
    config_check_reads_the_chain_id_and_decimals_through_trongrid,
    payd_killed_during_a_trongrid_scan_loses_and_doubles_nothing,
);

#[derive(Clone)]
struct Tx {
    id: String,
    from: [u8; 20],
    to: [u8; 20],
    contract: [u8; 20],
    value: u128,
    result: &'static str,
    /// Logs of other contracts the transaction emits before its Transfer.
    other_logs: usize,
}

#[derive(Default)]
struct Chain {
    /// Block n's transactions (block 0 is genesis).
    blocks: Vec<Vec<Tx>>,
    solid: u64,
    /// A transaction whose history item is served with a broken amount.
    broken: Option<String>,
}

#[derive(Clone, Default)]
struct Grid {
    chain: Arc<Mutex<Chain>>,
    /// The next this many history requests get 429.
    throttle: Arc<AtomicU64>,
    throttled: Arc<AtomicU64>,
    /// Where `links.next` points (another host).
    foreign: Arc<Mutex<String>>,
    /// History requests as received (path and query).
    history: Arc<Mutex<Vec<String>>>,
    keys: Arc<Mutex<HashSet<String>>>,
}

fn block_id(n: u64) -> String {
    if n == 0 {
        // Tron's chain id is the genesis id's last four bytes.
        return format!("{:0>64}", format!("{CHAIN_ID:08x}"));
    }
    // Tron block ids begin with the block number.
    format!("{n:016x}{:048x}", n.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

fn ts(n: u64) -> i64 {
    T0 + i64::try_from(n).unwrap() * 3000
}

fn block_json(n: u64) -> Value {
    json!({"blockID": block_id(n), "block_header": {"raw_data": {"number": n, "timestamp": ts(n)}}})
}

fn word(bytes: &[u8]) -> String {
    format!("{:0>64}", hex::encode(bytes))
}

fn record(tx: &Tx, block: u64) -> Value {
    let mut logs: Vec<Value> = (0..tx.other_logs)
        .map(|i| json!({"address": format!("{:0>40x}", i + 1), "topics": [word(&[7])], "data": word(&[1])}))
        .collect();
    logs.push(json!({
        "address": hex::encode(tx.contract),
        "topics": [TRANSFER_TOPIC, word(&tx.from), word(&tx.to)],
        "data": format!("{:064x}", tx.value),
    }));
    json!({"id": tx.id, "blockNumber": block, "blockTimeStamp": ts(block),
           "contract_address": format!("41{}", hex::encode(tx.contract)),
           "receipt": {"result": tx.result}, "log": logs})
}

impl Grid {
    async fn start() -> (Grid, String) {
        let grid = Grid::default();
        grid.chain.lock().unwrap().blocks.push(Vec::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route("/v1/accounts/{address}/transactions/trc20", axum::routing::get(history))
            .route("/{section}/{method}", axum::routing::post(wallet))
            .with_state(grid.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (grid, url)
    }

    /// Mines a block carrying `txs`; returns its number.
    fn mine(&self, txs: Vec<Tx>) -> u64 {
        let mut c = self.chain.lock().unwrap();
        c.blocks.push(txs);
        u64::try_from(c.blocks.len() - 1).unwrap()
    }

    fn solidify(&self) {
        let mut c = self.chain.lock().unwrap();
        c.solid = u64::try_from(c.blocks.len() - 1).unwrap();
    }

    fn find(&self, id: &str) -> Option<(u64, Tx)> {
        let c = self.chain.lock().unwrap();
        c.blocks.iter().enumerate().find_map(|(n, txs)| {
            txs.iter().find(|t| t.id == id).map(|t| (u64::try_from(n).unwrap(), t.clone()))
        })
    }

    /// The index java-tron's `/jsonrpc` gives the Transfer log of `id`.
    fn log_index(&self, id: &str) -> u64 {
        let (n, _) = self.find(id).unwrap();
        let c = self.chain.lock().unwrap();
        let mut i = 0;
        for t in &c.blocks[usize::try_from(n).unwrap()] {
            if t.id == id {
                return i + u64::try_from(t.other_logs).unwrap();
            }
            i += u64::try_from(t.other_logs + 1).unwrap();
        }
        unreachable!()
    }
}

async fn wallet(
    State(g): State<Grid>,
    Path((section, method)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let c = g.chain.lock().unwrap();
    let solid_only = section == "walletsolidity";
    let top = if solid_only { c.solid } else { u64::try_from(c.blocks.len() - 1).unwrap() };
    let num = body["num"].as_u64().unwrap_or(u64::MAX);
    Json(match method.as_str() {
        "getnowblock" => block_json(top),
        "getblockbynum" if num <= top => block_json(num),
        "getblockbynum" => json!({}),
        "triggerconstantcontract" => {
            json!({"constant_result": [format!("{:064x}", 6)], "result": {"result": true}})
        }
        "gettransactioninfobyid" => {
            let id = body["value"].as_str().unwrap_or_default();
            c.blocks
                .iter()
                .enumerate()
                .take(usize::try_from(top).unwrap() + 1)
                .find_map(|(n, txs)| {
                    txs.iter().find(|t| t.id == id).map(|t| record(t, u64::try_from(n).unwrap()))
                })
                .unwrap_or_else(|| json!({}))
        }
        "gettransactioninfobyblocknum" if num <= top => {
            Value::Array(c.blocks[usize::try_from(num).unwrap()].iter().map(|t| record(t, num)).collect())
        }
        _ => json!({}),
    })
}

async fn history(
    State(g): State<Grid>,
    Path(address): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
) -> axum::response::Response {
    if let Some(k) = headers.get("TRON-PRO-API-KEY").and_then(|v| v.to_str().ok()) {
        g.keys.lock().unwrap().insert(k.to_owned());
    }
    g.history.lock().unwrap().push(uri.to_string());
    if g.throttle.load(Ordering::SeqCst) > 0 {
        g.throttle.fetch_sub(1, Ordering::SeqCst);
        g.throttled.fetch_add(1, Ordering::SeqCst);
        return (axum::http::StatusCode::TOO_MANY_REQUESTS, [("Retry-After", "0")], "rate limited")
            .into_response();
    }
    let Some(addr) = tron_id(&address) else {
        return (axum::http::StatusCode::BAD_REQUEST, "bad address").into_response();
    };
    let c = g.chain.lock().unwrap();
    let confirmed = q.get("only_confirmed").is_some_and(|v| v == "true");
    let min = q.get("min_timestamp").and_then(|v| v.parse().ok()).unwrap_or(i64::MIN);
    let max = q.get("max_timestamp").and_then(|v| v.parse().ok()).unwrap_or(i64::MAX);
    let limit: usize = q.get("limit").and_then(|v| v.parse().ok()).unwrap_or(20).min(200);
    let page_size = limit.min(2); // small pages, so paging is exercised
    let mut items = Vec::new();
    for (n, txs) in c.blocks.iter().enumerate() {
        let n = u64::try_from(n).unwrap();
        if confirmed && n > c.solid || !(min..=max).contains(&ts(n)) {
            continue;
        }
        for t in txs.iter().filter(|t| t.to == addr) {
            let value = if c.broken.as_deref() == Some(t.id.as_str()) {
                "12.5".to_owned()
            } else {
                t.value.to_string()
            };
            let symbol = if tron(&t.contract) == USDT { "USDT" } else { "USDC" };
            items.push(json!({
                "transaction_id": t.id,
                "token_info": {"symbol": symbol, "address": tron(&t.contract), "decimals": 6, "name": symbol},
                "block_timestamp": ts(n), "from": tron(&t.from), "to": tron(&t.to), "type": "Transfer", "value": value
            }));
        }
    }
    let offset: usize =
        q.get("fingerprint").and_then(|f| f.strip_prefix("fp-")).and_then(|f| f.parse().ok()).unwrap_or(0);
    let page: Vec<Value> = items.iter().skip(offset).take(page_size).cloned().collect();
    let mut meta = json!({"at": T0, "page_size": page.len()});
    if offset + page_size < items.len() {
        let fp = format!("fp-{}", offset + page_size);
        meta["fingerprint"] = json!(fp);
        let foreign = g.foreign.lock().unwrap().clone();
        meta["links"] =
            json!({"next": format!("{foreign}/v1/accounts/{address}/transactions/trc20?fingerprint={fp}")});
    }
    Json(json!({"data": page, "success": true, "meta": meta})).into_response()
}

/// A host `links.next` points at: it counts what reaches it.
async fn trap() -> (String, Arc<AtomicU64>) {
    let hits = Arc::new(AtomicU64::new(0));
    let h = hits.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(move || {
        let h = h.clone();
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            Json(json!({"data": [], "success": true, "meta": {}}))
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, hits)
}

struct GridEnv {
    app: TestApp,
    grid: Grid,
    key: String,
    n: u64,
}

impl GridEnv {
    async fn start(backend: Backend) -> Option<GridEnv> {
        let (grid, url) = Grid::start().await;
        let networks = json!([{
            "name": NETWORK, "family": "tron", "source": "trongrid", "chain_id": CHAIN_ID, "rpc_url": url,
            "api_key": "grid-key", "confirmations": 1, "block_range": 20, "poll_interval_ms": 100, "start_block": 0,
            "tokens": [{"symbol": "USDT", "contract": USDT, "decimals": 6}]
        }])
        .to_string();
        let app =
            spawn_app_with(backend, &[("PAYD_NETWORKS", &networks), ("PAYD_CHAIN_LEASE_SECS", "5")]).await?;
        let m = app.merchant("Grid shop").await;
        app.store.set_merchant_xpub(&m.id, Family::Tron, Some(XPUB), payd_store::now()).await.unwrap();
        let key = app.key(KeyOwner::Merchant(m.id.clone()), Mode::Live, &[]).await;
        Some(GridEnv { app, grid, key, n: 0 })
    }

    async fn create(&self, amount: &str) -> (PaymentId, [u8; 20]) {
        let body = json!({"amount": amount, "currency": "USD", "token": "USDT", "network": NETWORK});
        let (s, p) = self.app.create_payment(&self.key, &body).await;
        assert_eq!(s, 201, "{p}");
        let to = tron_id(p["asset"]["address"].as_str().unwrap()).unwrap();
        (p["id"].as_str().unwrap().parse().unwrap(), to)
    }

    fn tx(
        &mut self,
        to: [u8; 20],
        contract: &str,
        value: u128,
        result: &'static str,
        other_logs: usize,
    ) -> Tx {
        self.n += 1;
        Tx {
            id: format!("{:064x}", 0xabc0_0000 + self.n),
            from: [0x11; 20],
            to,
            contract: tron_id(contract).unwrap(),
            value,
            result,
            other_logs,
        }
    }

    async fn synced_to_solid(&self) {
        let solid = self.grid.chain.lock().unwrap().solid;
        eventually("the watcher reaches the solidified head", || async {
            self.app.store.chain_cursor(NETWORK).await.unwrap().is_some_and(|c| c.number >= solid)
        })
        .await;
    }
}

async fn solidified_transfers_are_found_page_by_page_and_credited_once(backend: Backend) {
    let Some(mut env) = GridEnv::start(backend).await else { return };
    let (foreign, trap_hits) = trap().await;
    *env.grid.foreign.lock().unwrap() = foreign;
    let (id, to) = env.create("10").await;
    env.grid.mine(Vec::new());
    env.grid.solidify();
    env.synced_to_solid().await;

    // Five transfers to the payment's address over two blocks (one of another token), after a
    // transaction with logs of its own; not solidified yet.
    let stranger = env.tx([0x22; 20], USDT, 9, "SUCCESS", 2);
    let a = env.tx(to, USDT, 2_000_000, "SUCCESS", 1);
    let b = env.tx(to, USDT, 2_000_000, "SUCCESS", 0);
    let other = env.tx(to, OTHER, 5_000_000, "SUCCESS", 0);
    let c = env.tx(to, USDT, 2_000_000, "SUCCESS", 0);
    let d = env.tx(to, USDT, 4_000_000, "SUCCESS", 3);
    env.grid.mine(vec![stranger, a.clone(), b.clone(), other, c.clone()]);
    env.grid.mine(vec![d.clone()]);
    env.grid.mine(Vec::new());
    // Unsolidified: payd's head is the solidified block, nothing is read yet.
    let p = env.app.store.get_payment(&id).await.unwrap().unwrap();
    assert_eq!((p.status.as_str(), p.funds.pending), ("pending", 0));

    // Solidified, with TronGrid rate-limiting the next requests.
    env.grid.throttle.store(3, Ordering::SeqCst);
    env.grid.solidify();
    env.synced_to_solid().await;
    eventually("the payment completes", || async {
        env.app.store.get_payment(&id).await.unwrap().unwrap().status.as_str() == "completed"
    })
    .await;
    let p = env.app.store.get_payment(&id).await.unwrap().unwrap();
    assert_eq!((p.funds.confirmed, p.overpaid), (10_000_000, false));
    let got = env.app.store.transfers_of_payment(&id).await.unwrap();
    let keys: Vec<(String, u64)> =
        got.iter().map(|t| (t.transfer.tx_hash.clone(), t.transfer.log_index)).collect();
    // Keyed as java-tron's /jsonrpc keys them: id without 0x, the log's index in its block.
    let expected: Vec<(String, u64)> =
        [&a, &b, &c, &d].iter().map(|t| (t.id.clone(), env.grid.log_index(&t.id))).collect();
    assert_eq!(keys, expected);
    assert_eq!(
        keys[0].1, 4,
        "two logs of the stranger's transaction, its own Transfer, then a's one other log"
    );
    assert!(got.iter().all(|t| t.transfer.to == tron(&to) && t.transfer.token == USDT));

    let history = env.grid.history.lock().unwrap().clone();
    assert!(history.iter().any(|h| h.contains("fingerprint=fp-2")), "{history:?}");
    assert!(
        history.iter().all(|h| h.contains("only_confirmed=true") && h.contains("only_to=true")),
        "{history:?}"
    );
    assert_eq!(env.grid.throttled.load(Ordering::SeqCst), 3);
    assert_eq!(trap_hits.load(Ordering::SeqCst), 0, "links.next on another host is never followed");
    assert_eq!(*env.grid.keys.lock().unwrap(), HashSet::from(["grid-key".to_owned()]));
}

async fn malformed_items_and_failed_transactions_never_credit(backend: Backend) {
    let Some(mut env) = GridEnv::start(backend).await else { return };
    let (id, to) = env.create("5").await;
    let reverted = env.tx(to, USDT, 5_000_000, "REVERT", 0);
    let out_of_energy = env.tx(to, USDT, 5_000_000, "OUT_OF_ENERGY", 0);
    let good = env.tx(to, USDT, 5_000_000, "SUCCESS", 0);
    env.grid.mine(vec![reverted.clone()]);
    env.grid.mine(vec![out_of_energy]);
    env.grid.mine(vec![good.clone()]);
    env.grid.chain.lock().unwrap().broken = Some(good.id.clone());
    let before = env.grid.history.lock().unwrap().len();
    env.grid.solidify();
    // The watcher reads the window again and again and commits nothing while an item is bad.
    eventually("the bad page is read several times", || async {
        env.grid.history.lock().unwrap().len() >= before + 3
    })
    .await;
    let p = env.app.store.get_payment(&id).await.unwrap().unwrap();
    assert_eq!((p.status.as_str(), p.funds.confirmed, p.funds.pending), ("pending", 0, 0));
    assert!(env.app.store.list_transfers(NETWORK).await.unwrap().is_empty());

    // Fixed: only the successful transaction credits.
    env.grid.chain.lock().unwrap().broken = None;
    env.synced_to_solid().await;
    eventually("the payment completes", || async {
        env.app.store.get_payment(&id).await.unwrap().unwrap().status.as_str() == "completed"
    })
    .await;
    let recorded = env.app.store.list_transfers(NETWORK).await.unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].transfer.tx_hash, good.id);
    assert_eq!(env.app.store.get_payment(&id).await.unwrap().unwrap().funds.confirmed, 5_000_000);
}

async fn config_check_reads_the_chain_id_and_decimals_through_trongrid(backend: Backend) {
    let (_grid, url) = Grid::start().await;
    let Some(db) = payd_store::testing::TestDatabase::create(backend).await.unwrap() else { return };
    let check = |networks: String| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_payd"))
            .args(["config", "check", "--json", "--database-url", &db.url])
            .env("PAYD_NETWORKS", networks)
            .env("PAYD_MASTER_KEY", crate::helpers::MASTER_KEY)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{out:?}"));
        (out.status.success(), v)
    };
    let net = |name: &str, chain_id: u64, decimals: u8| {
        json!({"name": name, "family": "tron", "source": "trongrid", "chain_id": chain_id,
               "rpc_url": format!("{url}/?apikey=sekrit-in-url"), "api_key": "sekrit-grid-key",
               "tokens": [{"symbol": "USDT", "contract": USDT, "decimals": decimals}]})
    };
    let (ok, v) = check(json!([net("tron", CHAIN_ID, 18), net("nile", 0xcd86_90dc, 6)]).to_string());
    assert!(!ok);
    let problems: Vec<String> =
        v["problems"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect();
    assert_eq!(
        problems,
        [
            format!("network tron: USDT at {USDT} has 6 decimals on chain, configured 18"),
            "network nile: TronGrid at http://127.0.0.1 is chain 728126428, configured chain_id is 3448148188".to_owned(),
        ]
    );
    assert!(!v.to_string().contains("sekrit"), "{v}");
    let (ok, v) = check(json!([net("tron", CHAIN_ID, 6)]).to_string());
    assert!(ok, "{v}");
}

async fn payd_killed_during_a_trongrid_scan_loses_and_doubles_nothing(backend: Backend) {
    use crate::evm_faults::{spawn_payd, Rng};
    const RUNS: usize = 10;
    let (grid, url) = Grid::start().await;
    let Some(db) = payd_store::testing::TestDatabase::create(backend).await.unwrap() else { return };
    let store = payd_store::Store::connect(&db.url, &payd_store::ConnectOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    let m = store
        .create_merchant(
            &payd_core::merchant::NewMerchant { name: "Shop".into(), ..Default::default() },
            payd_store::now(),
        )
        .await
        .unwrap();
    store.set_merchant_xpub(&m.id, Family::Tron, Some(XPUB), payd_store::now()).await.unwrap();
    let master = payd_core::crypto::MasterKey::parse(crate::helpers::MASTER_KEY).unwrap();
    let key =
        payd_server::keys::issue_key(&store, &master, KeyOwner::Merchant(m.id.clone()), Mode::Live, vec![])
            .await
            .unwrap()
            .secret
            .expose()
            .to_owned();
    // Small steps: a kill lands between commits as often as inside one.
    let networks = json!([{
        "name": NETWORK, "family": "tron", "source": "trongrid", "chain_id": CHAIN_ID, "rpc_url": url,
        "confirmations": 1, "block_range": 2, "poll_interval_ms": 50, "start_block": 0,
        "tokens": [{"symbol": "USDT", "contract": USDT, "decimals": 6}]
    }])
    .to_string();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let seed = std::env::var("PAYD_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(now.as_secs() ^ u64::from(now.subsec_nanos()));
    eprintln!("trongrid crash test seed {seed} (replay: PAYD_CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    let client = reqwest::Client::new();
    let mut due_of: Vec<(PaymentId, u128)> = Vec::new();
    let mut ids = 0u64;
    let mut tx = |to: [u8; 20], value: u128| {
        ids += 1;
        Tx {
            id: format!("{:064x}", 0xdead_0000 + ids),
            from: [0x33; 20],
            to,
            contract: tron_id(USDT).unwrap(),
            value,
            result: "SUCCESS",
            other_logs: 1,
        }
    };
    let mut transfers = 0usize;
    let mut behind = 0;
    for run in 0..RUNS {
        let payd = spawn_payd(&db.url, &networks);
        let body = json!({"amount": format!("{}", 1 + rng.below(20)), "currency": "USD", "token": "USDT", "network": NETWORK});
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
        let to = tron_id(p["asset"]["address"].as_str().unwrap()).unwrap();
        // Paid in one or two transfers, in one block or two.
        let first = if rng.below(2) == 0 { due } else { due / 2 };
        let mut block = vec![tx(to, first)];
        transfers += 1;
        if first < due {
            if rng.below(2) == 0 {
                grid.mine(std::mem::take(&mut block));
            }
            block.push(tx(to, due - first));
            transfers += 1;
        }
        grid.mine(block);
        due_of.push((id, due));
        // Empty blocks to catch up on (many on every third run), solidified, then a kill.
        for _ in 0..if run % 3 == 0 { 60 } else { rng.below(20) } {
            grid.mine(Vec::new());
        }
        let start = store.chain_cursor(NETWORK).await.unwrap().map_or(0, |c| c.number);
        grid.solidify();
        if run % 3 == 0 {
            eventually("the watcher starts catching up", || async {
                store.chain_cursor(NETWORK).await.unwrap().is_some_and(|c| c.number > start)
            })
            .await;
        } else {
            tokio::time::sleep(std::time::Duration::from_millis(rng.below(300))).await;
        }
        drop(payd); // SIGKILL
        if store.chain_cursor(NETWORK).await.unwrap().map_or(0, |c| c.number)
            < grid.chain.lock().unwrap().solid
        {
            behind += 1;
        }
    }
    eprintln!("trongrid kills: {behind} of {RUNS} behind the solidified head");
    assert!(behind > 0, "some kills land while the watcher is still scanning");
    let _payd = spawn_payd(&db.url, &networks);
    for (id, due) in &due_of {
        eventually("every payment is credited", || async {
            store.get_payment(id).await.unwrap().unwrap().status.as_str() == "completed"
        })
        .await;
        let p = store.get_payment(id).await.unwrap().unwrap();
        assert_eq!((p.funds.confirmed, p.funds.pending, p.overpaid), (*due, 0, false), "{id}");
    }
    let recorded = store.list_transfers(NETWORK).await.unwrap();
    assert_eq!(recorded.len(), transfers, "each transfer recorded exactly once");
    let keys: HashSet<_> =
        recorded.iter().map(|t| (t.transfer.tx_hash.clone(), t.transfer.log_index)).collect();
    assert_eq!(keys.len(), transfers);
}

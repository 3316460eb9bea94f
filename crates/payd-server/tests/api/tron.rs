//! Tron (USDT TRC-20) end to end. The JSON-RPC path runs against a real node: anvil started
//! as Tron mainnet's chain id (728126428) with the project's 6-decimal test token, configured
//! as `family = "tron"` with its contract in base58, read by payd's own watcher under Tron's
//! rules (addresses `T…`, transaction ids without `0x`, finality = the `finalized`
//! (solidified) block, which anvil keeps two blocks behind its head with one slot per epoch).
//! java-tron's own quirks (`TAG safe not supported`, `exceed max block range: 5000`, block ids
//! that begin with the block number, a transaction that failed with its log still reported, a
//! node without the `finalized` tag) come from a faithful double on 127.0.0.1 in front of that
//! anvil. AlpPay's own seed request
//! runs against a live merchant with a Tron xpub. Tests poll for eventual states; nothing
//! asserts on timing.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use alloy::primitives::{Address, U256};
use alloy::sol;
use alloy::sol_types::SolCall;
use axum::body::Bytes;
use axum::extract::State;
use payd_chain::address::{tron, tron_id, AccountKey, AddressFormat};
use payd_core::apikey::Mode;
use payd_core::ids::PaymentId;
use payd_core::payment::Payment;
use payd_core::registry::Family;
use payd_server::keys::KeyOwner;
use payd_store::Backend;
use serde_json::{json, Value};

use std::process::Command;

use payd_core::merchant::NewMerchant;
use payd_server::http::dialects::alppay::wire::hmac::sign;
use payd_store::testing::TestDatabase;
use payd_store::{ConnectOptions, Store};

use crate::anvil::Anvil;
use crate::evm::eventually;
use crate::helpers::{json as read, spawn_app_with, TestApp, MASTER_KEY};
use crate::receiver::Receiver;
use crate::webhooks::{add_endpoint, HOOK_ENV};

sol! {
    function transfer(address to, uint256 value) returns (bool);
}

/// A Tron account-level xpub (any valid xpub derives; BIP-32 test vector 1's m/0H).
pub const XPUB: &str = "xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw";
pub const NETWORK: &str = "tron";
/// Tron mainnet's `eth_chainId` (0x2b6653dc).
pub const CHAIN_ID: u64 = 728_126_428;

crate::on_both_backends!(
    an_exact_usdt_payment_completes_once_its_block_is_solidified,
    two_partial_payments_add_up_to_completed,
    a_failed_transfer_is_never_credited,
    a_reorg_of_the_unsolidified_tail_takes_the_money_back,
    java_tron_quirks_are_adapted_to_and_failed_receipts_never_credit,
    a_node_without_the_finalized_tag_still_completes_by_depth_and_undoes_a_reorg,
    config_check_reports_every_tron_problem_at_once,
    merchant_configure_sets_and_checks_the_tron_xpub,
    alppays_seed_request_is_paid_on_tron_and_announced,
    payd_killed_during_a_tron_scan_loses_and_doubles_nothing,
);

/// anvil as a Tron chain: Tron's chain id, one slot per epoch (finalized = head - 2).
pub async fn tron_anvil() -> Option<Anvil> {
    Anvil::start(&["--chain-id", &CHAIN_ID.to_string(), "--slots-in-an-epoch", "1"]).await
}

/// A Tron network on `rpc_url` accepting `usdt` (base58).
pub fn tron_networks(rpc_url: &str, usdt: &str, confirmations: u32) -> Value {
    json!([{
        "name": NETWORK, "family": "tron", "chain_id": CHAIN_ID, "rpc_url": rpc_url,
        "confirmations": confirmations, "block_range": 20, "poll_interval_ms": 100, "start_block": 0,
        "api_key": "test-trongrid-key",
        "tokens": [{"symbol": "USDT", "contract": usdt, "decimals": 6}]
    }])
}

/// The `0x` form of a Tron address (what the EVM-side node takes).
pub fn hex_of(t: &str) -> String {
    format!("0x{}", hex::encode(tron_id(t).unwrap_or_else(|| panic!("{t} is not a Tron address"))))
}

/// The base58 form of a `0x` address.
pub fn base58_of(h: &str) -> String {
    let id: [u8; 20] = hex::decode(h.trim_start_matches("0x")).unwrap().try_into().unwrap();
    tron(&id)
}

pub struct TronEnv {
    pub app: TestApp,
    pub anvil: Anvil,
    /// The token's contract as anvil knows it (`0x…`).
    pub token: String,
    /// The same contract in base58 (`T…`).
    pub usdt: String,
    pub key: String,
}

impl TronEnv {
    async fn start(backend: Backend, confirmations: u32) -> Option<TronEnv> {
        let anvil = tron_anvil().await?;
        let token = anvil.deploy_token("USDT", 6).await;
        let usdt = base58_of(&token);
        let networks = tron_networks(&anvil.url, &usdt, confirmations).to_string();
        TronEnv::start_with(backend, anvil, token, &networks).await
    }

    async fn start_with(backend: Backend, anvil: Anvil, token: String, networks: &str) -> Option<TronEnv> {
        let env = [("PAYD_NETWORKS", networks), ("PAYD_CHAIN_LEASE_SECS", "5")];
        let app = spawn_app_with(backend, &env).await?;
        let m = app.merchant("Tron shop").await;
        app.store.set_merchant_xpub(&m.id, Family::Tron, Some(XPUB), payd_store::now()).await.unwrap();
        let key = app.key(KeyOwner::Merchant(m.id.clone()), Mode::Live, &[]).await;
        Some(TronEnv { app, usdt: base58_of(&token), anvil, token, key })
    }

    async fn create(&self, amount: &str) -> (PaymentId, String) {
        let body = json!({"amount": amount, "currency": "USD", "token": "USDT", "network": NETWORK});
        let (s, p) = self.app.create_payment(&self.key, &body).await;
        assert_eq!(s, 201, "{p}");
        let to = p["asset"]["address"].as_str().unwrap().to_owned();
        (p["id"].as_str().unwrap().parse().unwrap(), to)
    }

    async fn pay(&self, to: &str, amount: u128) -> String {
        self.anvil.transfer(&self.token, &hex_of(to), amount).await
    }

    async fn payment(&self, id: &PaymentId) -> Payment {
        self.app.store.get_payment(id).await.unwrap().unwrap()
    }

    async fn kinds(&self, id: &PaymentId) -> Vec<&'static str> {
        self.app.store.list_events(id).await.unwrap().iter().map(|e| e.kind.as_str()).collect()
    }

    async fn synced(&self) {
        let head = self.anvil.head().await;
        eventually("the watcher reaches the head", || async {
            self.app.store.chain_cursor(NETWORK).await.unwrap().is_some_and(|c| c.number >= head)
        })
        .await;
    }

    async fn status_becomes(&self, id: &PaymentId, status: &str) -> Payment {
        eventually(&format!("payment becomes {status}"), || async {
            self.payment(id).await.status.as_str() == status
        })
        .await;
        self.payment(id).await
    }

    async fn finalized(&self) -> u64 {
        let b = self.anvil.rpc("eth_getBlockByNumber", json!(["finalized", false])).await;
        u64::from_str_radix(b["number"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    }
}

/// The address payd must hand out at `index` of the merchant's Tron xpub.
fn expected_address(index: u64) -> String {
    XPUB.parse::<AccountKey>().unwrap().address(index, AddressFormat::Tron).unwrap()
}

async fn an_exact_usdt_payment_completes_once_its_block_is_solidified(backend: Backend) {
    // Depth 1: only solidification holds the payment back.
    let Some(env) = TronEnv::start(backend, 1).await else { return };
    let (id, to) = env.create("12.34").await;
    assert_eq!(to, expected_address(0));
    assert!(tron_id(&to).is_some(), "{to} is a valid base58check Tron address");
    assert_eq!(env.app.store.get_deposit_address(&to).await.unwrap().unwrap().family, "tron");

    let tx = env.pay(&to, 12_340_000).await;
    let block = env.anvil.head().await;
    let p = env.status_becomes(&id, "processing").await;
    assert_eq!((p.funds.pending, p.funds.confirmed), (12_340_000, 0));
    // Two blocks deep, still above the solidified block: processing.
    env.anvil.mine(1).await;
    env.synced().await;
    assert!(env.finalized().await < block);
    assert_eq!(env.payment(&id).await.status.as_str(), "processing");
    // The block that solidifies it completes it.
    env.anvil.mine(1).await;
    let solidified = Instant::now();
    assert_eq!(env.finalized().await, block);
    let p = env.status_becomes(&id, "completed").await;
    eprintln!("tron: solidifying block to completed in {:?} (poll interval 100 ms)", solidified.elapsed());
    assert_eq!((p.funds.confirmed, p.underpaid, p.overpaid), (12_340_000, false, false));
    assert_eq!(env.kinds(&id).await, ["payment.created", "payment.processing", "payment.completed"]);

    let transfers = env.app.store.transfers_of_payment(&id).await.unwrap();
    assert_eq!(transfers.len(), 1);
    let t = &transfers[0].transfer;
    // Tron's own forms: a 64-hex transaction id without 0x, base58 addresses.
    assert_eq!(t.tx_hash, tx.trim_start_matches("0x"));
    assert_eq!((t.token.as_str(), t.to.as_str()), (env.usdt.as_str(), to.as_str()));
    assert_eq!(t.from, base58_of(&env.anvil.account));
}

async fn two_partial_payments_add_up_to_completed(backend: Backend) {
    let Some(env) = TronEnv::start(backend, 1).await else { return };
    let (id, to) = env.create("10").await;
    env.pay(&to, 4_000_000).await;
    let p = env.status_becomes(&id, "processing").await;
    assert_eq!(p.funds.pending, 4_000_000);
    env.anvil.mine(3).await;
    env.synced().await;
    // Confirmed but short: still processing, nothing completed.
    let p = env.payment(&id).await;
    assert_eq!((p.status.as_str(), p.funds.confirmed), ("processing", 4_000_000));
    env.pay(&to, 6_000_000).await;
    env.anvil.mine(2).await;
    let p = env.status_becomes(&id, "completed").await;
    assert_eq!((p.funds.confirmed, p.funds.pending, p.underpaid), (10_000_000, 0, false));
    assert_eq!(env.app.store.transfers_of_payment(&id).await.unwrap().len(), 2);
}

async fn a_failed_transfer_is_never_credited(backend: Backend) {
    let Some(env) = TronEnv::start(backend, 1).await else { return };
    let (id, to) = env.create("5").await;
    // From an account holding no USDT: the transfer reverts on chain.
    let accounts = env.anvil.rpc("eth_accounts", json!([])).await;
    let poor = accounts[1].as_str().unwrap();
    let data = transferCall { to: hex_of(&to).parse::<Address>().unwrap(), value: U256::from(5_000_000u64) }
        .abi_encode();
    let tx =
        json!({"from": poor, "to": env.token, "data": format!("0x{}", hex::encode(data)), "gas": "0x4c4b40"});
    let hash = env.anvil.rpc("eth_sendTransaction", json!([tx])).await;
    let r = env.anvil.receipt(hash.as_str().unwrap()).await;
    assert_eq!(r["status"], "0x0", "the transfer failed: {r}");
    env.anvil.mine(4).await;
    env.synced().await;
    let p = env.payment(&id).await;
    assert_eq!((p.status.as_str(), p.funds.confirmed, p.funds.pending), ("pending", 0, 0));
    assert!(env.app.store.list_transfers(NETWORK).await.unwrap().is_empty());
    // A good transfer afterwards still completes it.
    env.pay(&to, 5_000_000).await;
    env.anvil.mine(2).await;
    env.status_becomes(&id, "completed").await;
}

async fn a_reorg_of_the_unsolidified_tail_takes_the_money_back(backend: Backend) {
    let Some(env) = TronEnv::start(backend, 1).await else { return };
    let (id, to) = env.create("7").await;
    env.pay(&to, 7_000_000).await;
    env.status_becomes(&id, "processing").await;
    env.synced().await;
    // The transfer's block is replaced before it solidified: the money is gone.
    env.anvil.reorg(1, json!([])).await;
    env.anvil.mine(1).await;
    env.status_becomes(&id, "pending").await;
    assert_eq!(env.kinds(&id).await, ["payment.created", "payment.processing", "payment.reverted"]);
    let recorded = env.app.store.list_transfers(NETWORK).await.unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].status.as_str(), "orphaned");
    // Paid again, it completes once solidified, counting the new transfer only.
    env.pay(&to, 7_000_000).await;
    env.anvil.mine(2).await;
    let p = env.status_becomes(&id, "completed").await;
    assert_eq!((p.funds.confirmed, p.overpaid), (7_000_000, false));
}

// ---- java-tron's JSON-RPC, as a faithful double in front of anvil ----

/// What the double does beyond forwarding to anvil.
#[derive(Clone)]
struct Quirks {
    upstream: String,
    client: reqwest::Client,
    /// java-tron's `maxBlockRange` (5000 by default; node operators set their own).
    max_block_range: u64,
    /// Whether the node knows the `finalized` tag (java-tron before it did not).
    finalized_tag: bool,
    /// Transactions whose receipt says they failed (`REVERT`, `OUT_OF_ENERGY`) although
    /// their log was reported.
    failed: Arc<Mutex<HashSet<String>>>,
    /// Every error the double answered.
    refused: Arc<Mutex<Vec<String>>>,
    /// The `TRON-PRO-API-KEY` header of every request.
    keys: Arc<Mutex<HashSet<String>>>,
}

struct JavaTron {
    url: String,
    quirks: Quirks,
}

impl JavaTron {
    async fn start(upstream: &str, max_block_range: u64, finalized_tag: bool) -> JavaTron {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jsonrpc", listener.local_addr().unwrap());
        let quirks = Quirks {
            upstream: upstream.to_owned(),
            client: reqwest::Client::new(),
            max_block_range,
            finalized_tag,
            failed: Arc::default(),
            refused: Arc::default(),
            keys: Arc::default(),
        };
        let app = axum::Router::new().fallback(java_tron).with_state(quirks.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        JavaTron { url, quirks }
    }

    fn refused(&self) -> Vec<String> {
        self.quirks.refused.lock().unwrap().clone()
    }
}

fn block_number(v: &Value) -> Option<u64> {
    u64::from_str_radix(v.as_str()?.strip_prefix("0x")?, 16).ok()
}

/// The block tags a request names (java-tron takes numbers, `latest`, `earliest` and
/// `finalized`; `eth_call` and `eth_getBalance` only `latest`).
fn tags(method: &str, params: &Value) -> Vec<String> {
    let text = |v: &Value| v.as_str().filter(|s| !s.starts_with("0x")).map(str::to_owned);
    match method {
        "eth_getBlockByNumber" => text(&params[0]).into_iter().collect(),
        "eth_call" | "eth_getBalance" | "eth_getCode" => text(&params[1]).into_iter().collect(),
        "eth_getLogs" => {
            [text(&params[0]["fromBlock"]), text(&params[0]["toBlock"])].into_iter().flatten().collect()
        }
        _ => Vec::new(),
    }
}

async fn java_tron(
    State(q): State<Quirks>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> axum::Json<Value> {
    if let Some(k) = headers.get("TRON-PRO-API-KEY").and_then(|v| v.to_str().ok()) {
        q.keys.lock().unwrap().insert(k.to_owned());
    }
    let req: Value = serde_json::from_slice(&body).unwrap_or_default();
    let method = req["method"].as_str().unwrap_or_default().to_owned();
    let params = req["params"].clone();
    let refuse = |code: i64, message: String| {
        q.refused.lock().unwrap().push(message.clone());
        axum::Json(json!({"jsonrpc": "2.0", "id": req["id"], "error": {"code": code, "message": message}}))
    };
    for tag in tags(&method, &params) {
        let known = match tag.as_str() {
            "latest" | "earliest" => true,
            "finalized" => q.finalized_tag && method != "eth_call",
            _ => false,
        };
        if !known {
            return refuse(-32602, format!("TAG {tag} not supported"));
        }
    }
    if method == "eth_getLogs" {
        let f = &params[0];
        if f.get("blockHash").is_some() && (f.get("fromBlock").is_some() || f.get("toBlock").is_some()) {
            return refuse(
                -32602,
                "cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other".into(),
            );
        }
        let addresses: Vec<Value> = match &f["address"] {
            Value::Array(a) => a.clone(),
            Value::Null => Vec::new(),
            one => vec![one.clone()],
        };
        if addresses.len() > 1000 {
            return refuse(-32602, "exceed max addresses: 1000".into());
        }
        // 20-byte hex only: base58 and 41-prefixed forms are refused.
        let twenty = |a: &Value| {
            a.as_str()
                .and_then(|s| s.strip_prefix("0x"))
                .is_some_and(|h| h.len() == 40 && hex::decode(h).is_ok())
        };
        if !addresses.iter().all(twenty) {
            return refuse(-32602, "invalid address".into());
        }
        if f["topics"].as_array().is_some_and(|t| t.len() > 4) {
            return refuse(-32602, "topics size should be <= 4".into());
        }
        if let (Some(from), Some(to)) = (block_number(&f["fromBlock"]), block_number(&f["toBlock"])) {
            if from > to {
                return refuse(-32602, "please verify: fromBlock <= toBlock".into());
            }
            if to - from > q.max_block_range {
                return refuse(-32602, format!("exceed max block range: {}", q.max_block_range));
            }
        }
    }
    let res = q.client.post(&q.upstream).header("content-type", "application/json").body(body).send().await;
    let mut v: Value = match res {
        Ok(r) => r.json().await.unwrap_or_default(),
        Err(e) => return refuse(-32000, format!("upstream: {e}")),
    };
    if method == "eth_getTransactionReceipt" {
        let hash = params[0].as_str().unwrap_or_default().to_ascii_lowercase();
        if q.failed.lock().unwrap().contains(&hash) && v["result"].is_object() {
            v["result"]["status"] = json!("0x0");
        }
    }
    // Tron's block ids begin with the block number (8 bytes); the rest stays anvil's, so a
    // replaced block still gets another id.
    match method.as_str() {
        "eth_getBlockByNumber" if v["result"].is_object() => {
            let n = block_number(&v["result"]["number"]).unwrap_or_default();
            tron_hash(&mut v["result"]["hash"], n);
            tron_hash(&mut v["result"]["parentHash"], n.saturating_sub(1));
        }
        "eth_getLogs" => {
            for log in v["result"].as_array_mut().into_iter().flatten() {
                let n = block_number(&log["blockNumber"]).unwrap_or_default();
                tron_hash(&mut log["blockHash"], n);
            }
        }
        "eth_getTransactionReceipt" if v["result"].is_object() => {
            let n = block_number(&v["result"]["blockNumber"]).unwrap_or_default();
            tron_hash(&mut v["result"]["blockHash"], n);
        }
        _ => {}
    }
    axum::Json(v)
}

/// `0x` + the block number in 16 hex digits + the hash's last 24 bytes.
fn tron_hash(hash: &mut Value, number: u64) {
    if let Some(h) = hash.as_str().and_then(|h| h.strip_prefix("0x")).filter(|h| h.len() == 64) {
        *hash = json!(format!("0x{number:016x}{}", &h[16..]));
    }
}

async fn java_tron_quirks_are_adapted_to_and_failed_receipts_never_credit(backend: Backend) {
    let Some(anvil) = tron_anvil().await else { return };
    let token = anvil.deploy_token("USDT", 6).await;
    // History to catch up on from block 0, so payd's first 20-block step meets the limit.
    anvil.mine(30).await;
    // A node whose operator set maxBlockRange to 4, below payd's block_range of 20.
    let node = JavaTron::start(&anvil.url, 4, true).await;
    let networks = tron_networks(&node.url, &base58_of(&token), 1).to_string();
    let Some(env) = TronEnv::start_with(backend, anvil, token, &networks).await else { return };
    let (id, to) = env.create("12").await;
    // Blocks mined from here on only when the test says so, so the failed transaction is
    // known to the double before payd can read it.
    env.anvil.rpc("evm_setAutomine", json!([false])).await;
    let send = |amount: u64| {
        let data = transferCall { to: hex_of(&to).parse::<Address>().unwrap(), value: U256::from(amount) }
            .abi_encode();
        let anvil = &env.anvil;
        let token = env.token.clone();
        async move { anvil.send(Some(&token), data).await }
    };
    let good = send(5_000_000).await;
    env.anvil.mine(1).await;
    // Its log is reported, its receipt says it failed (out of energy): never credited.
    let failed = send(7_000_000).await;
    node.quirks.failed.lock().unwrap().insert(failed.to_ascii_lowercase());
    env.anvil.mine(3).await;
    env.synced().await;
    eventually("the good transfer is confirmed", || async {
        env.payment(&id).await.funds.confirmed == 5_000_000
    })
    .await;
    let p = env.payment(&id).await;
    assert_eq!((p.status.as_str(), p.funds.confirmed, p.funds.pending), ("processing", 5_000_000, 0));
    let recorded = env.app.store.list_transfers(NETWORK).await.unwrap();
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0].transfer.tx_hash, good.trim_start_matches("0x"));
    // The block id as Tron writes it: no 0x, the block number first.
    let block = &recorded[0].transfer.block;
    assert!(block.hash.starts_with(&format!("{:016x}", block.number)) && block.hash.len() == 64, "{block:?}");

    let refused = node.refused();
    assert!(refused.iter().any(|r| r == "exceed max block range: 4"), "{refused:?}");
    // payd never asks for what java-tron refuses (`safe`, `pending`), nor sends base58.
    assert!(refused.iter().all(|r| r.starts_with("exceed max block range")), "{refused:?}");
    // The API key header reached the node, and only it.
    assert_eq!(*node.quirks.keys.lock().unwrap(), HashSet::from(["test-trongrid-key".to_owned()]));
}

async fn a_node_without_the_finalized_tag_still_completes_by_depth_and_undoes_a_reorg(backend: Backend) {
    let Some(anvil) = tron_anvil().await else { return };
    let token = anvil.deploy_token("USDT", 6).await;
    let node = JavaTron::start(&anvil.url, 5000, false).await;
    let networks = tron_networks(&node.url, &base58_of(&token), 3).to_string();
    let Some(env) = TronEnv::start_with(backend, anvil, token, &networks).await else { return };
    let (id, to) = env.create("3").await;
    env.pay(&to, 3_000_000).await;
    env.status_becomes(&id, "processing").await;
    env.synced().await;
    // A reorg seen through Tron-shaped block ids (the number first) is still a reorg.
    env.anvil.reorg(1, json!([])).await;
    env.anvil.mine(1).await;
    env.status_becomes(&id, "pending").await;
    env.pay(&to, 3_000_000).await;
    env.status_becomes(&id, "processing").await;
    env.anvil.mine(2).await;
    let p = env.status_becomes(&id, "completed").await;
    assert_eq!((p.funds.confirmed, p.overpaid), (3_000_000, false));
    assert!(node.refused().iter().any(|r| r == "TAG finalized not supported"), "{:?}", node.refused());
}

// ---- configuration, the CLI, and AlpPay's own request ----

async fn connect(db: &TestDatabase) -> Store {
    let store = Store::connect(&db.url, &ConnectOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    store
}

async fn config_check_reports_every_tron_problem_at_once(backend: Backend) {
    let Some(anvil) = tron_anvil().await else { return };
    let usdt = base58_of(&anvil.deploy_token("USDT", 6).await);
    let Some(db) = TestDatabase::create(backend).await.unwrap() else { return };
    let store = connect(&db).await;
    let m = store
        .create_merchant(
            &NewMerchant { name: "No Tron xpub".into(), ..Default::default() },
            payd_store::now(),
        )
        .await
        .unwrap();
    let check = |networks: String| {
        let out = Command::new(env!("CARGO_BIN_EXE_payd"))
            .args(["config", "check", "--json", "--database-url", &db.url])
            .env("PAYD_NETWORKS", networks)
            .env("PAYD_MASTER_KEY", MASTER_KEY)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{out:?}"));
        (out.status.success(), v)
    };
    // The node's problems: wrong decimals, another chain's id (Nile's), and the merchant's
    // missing Tron key, all in one report; the API key never appears in it.
    let mut networks = tron_networks(&anvil.url, &usdt, 19);
    networks[0]["tokens"][0]["decimals"] = json!(18);
    networks[0]["api_key"] = json!("sekrit-trongrid-key");
    let mut nile = tron_networks(&anvil.url, &usdt, 19)[0].clone();
    nile["name"] = json!("nile");
    nile["chain_id"] = json!(0xcd86_90dc_u64);
    networks.as_array_mut().unwrap().push(nile);
    let (ok, v) = check(networks.to_string());
    assert!(!ok);
    let problems: Vec<String> =
        v["problems"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect();
    let has = |s: &str| problems.iter().any(|p| p.contains(s));
    assert!(has(&format!("USDT at {usdt} has 6 decimals on chain, configured 18")), "{problems:?}");
    assert!(
        has("network nile") && has("is chain 728126428, configured chain_id is 3448148188"),
        "{problems:?}"
    );
    assert!(has(&format!("merchant {}: no TRON xpub", m.id)) && has("--xpub-tron"), "{problems:?}");
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(!v.to_string().contains("sekrit"), "{v}");

    // Configuration errors, every one, with the nodes of the valid networks checked too.
    let networks = json!([
        {"name": "tron", "family": "tron", "chain_id": CHAIN_ID, "rpc_url": anvil.url, "block_range": 6000,
         "finality": "sometimes", "tokens": [{"symbol": "USDT", "contract": hex_of(&usdt), "decimals": 6}]},
        {"name": "anvil", "chain_id": 728126428, "rpc_url": anvil.url, "api_key": "k",
         "tokens": [{"symbol": "USDT", "contract": hex_of(&usdt), "decimals": 6}]}
    ]);
    let (ok, v) = check(networks.to_string());
    let problems = v["problems"].to_string();
    assert!(!ok, "{v}");
    assert!(problems.contains("is not a Tron address"), "{problems}");
    assert!(problems.contains("block_range must be 1 to 5000"), "{problems}");
    assert!(problems.contains("finality must be `depth` or `finalized`"), "{problems}");
    assert!(problems.contains("api_key is TronGrid's header on Tron networks"), "{problems}");

    // All fixed: OK.
    store.set_merchant_xpub(&m.id, Family::Tron, Some(XPUB), payd_store::now()).await.unwrap();
    let (ok, v) = check(tron_networks(&anvil.url, &usdt, 19).to_string());
    assert!(ok, "{v}");
    assert_eq!(v, json!({"ok": true, "problems": [], "notes": []}));
}

async fn merchant_configure_sets_and_checks_the_tron_xpub(backend: Backend) {
    let Some(db) = TestDatabase::create(backend).await.unwrap() else { return };
    let store = connect(&db).await;
    let m = store
        .create_merchant(&NewMerchant { name: "Shop".into(), ..Default::default() }, payd_store::now())
        .await
        .unwrap();
    let id = m.id.to_string();
    let run = |xpub: &str| {
        Command::new(env!("CARGO_BIN_EXE_payd"))
            .args(["merchant", "configure", &id, "--xpub-tron", xpub, "--json", "--database-url", &db.url])
            .env("PAYD_MASTER_KEY", MASTER_KEY)
            .output()
            .unwrap()
    };
    let bad = run("xpub-not-a-key");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--xpub-tron"), "{bad:?}");
    assert_eq!(store.merchant_xpub(&m.id, Family::Tron).await.unwrap(), None);
    let ok = run(XPUB);
    assert!(ok.status.success(), "{ok:?}");
    let v: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!((v["xpub_tron"].as_str(), v["xpub_evm"].as_str()), (Some(XPUB), None));
    assert_eq!(store.merchant_xpub(&m.id, Family::Tron).await.unwrap().as_deref(), Some(XPUB));
    assert_eq!(store.merchant_xpub(&m.id, Family::Evm).await.unwrap(), None);
    assert!(run("none").status.success());
    assert_eq!(store.merchant_xpub(&m.id, Family::Tron).await.unwrap(), None);
}

/// AlpPay's seed cURL body, byte for byte (the e-mail de-obfuscated).
const SEED_BODY: &str = r#"{"amount":"1000.00","asset":{"short":"USDT","network":"tron"},"customer":{"id":12312312,"name":"John","email":"john@example.com"},"clientId":"your_client_id","invoice":"INV-001","checkoutUrl":"https://your-shop.com/orders/40113049"}"#;

async fn alppays_seed_request_is_paid_on_tron_and_announced(backend: Backend) {
    const DEPTH: u32 = 30; // AlpPay's own confirmsNeeded for Tron
    let Some(anvil) = tron_anvil().await else { return };
    let token = anvil.deploy_token("USDT", 6).await;
    let networks = tron_networks(&anvil.url, &base58_of(&token), DEPTH).to_string();
    let mut env: Vec<(&str, &str)> = vec![("PAYD_NETWORKS", &networks), ("PAYD_CHAIN_LEASE_SECS", "5")];
    env.extend_from_slice(HOOK_ENV);
    let Some(app) = spawn_app_with(backend, &env).await else { return };
    let m = app.merchant("Your Company").await;
    app.store.set_merchant_xpub(&m.id, Family::Tron, Some(XPUB), payd_store::now()).await.unwrap();
    let (key, secret) = app.key_with_signing_secret(KeyOwner::Merchant(m.id.clone()), Mode::Live).await;
    let rx = Receiver::start().await;
    add_endpoint(&app, &key, json!({"url": rx.url(), "format": "alppay"})).await;

    let res = app
        .client
        .post(app.url("/v2/payment"))
        .header("Content-Type", "application/json")
        .header("API-KEY", &key)
        .header("X-HMAC", sign(&secret, SEED_BODY.as_bytes()).unwrap())
        .body(SEED_BODY)
        .send()
        .await
        .unwrap();
    let (s, p) = read(res).await;
    assert_eq!(s, 200, "{p}");
    let to = p["addressTo"].as_str().unwrap().to_owned();
    assert_eq!(to, expected_address(0), "{p}");
    assert_eq!(p["confirmsNeeded"], DEPTH, "{p}");
    assert_eq!(p["asset"]["network"], "tron");

    // Paid in full through the anvil-backed Tron network.
    let tx = anvil.transfer(&token, &hex_of(&to), 1_000_000_000).await;
    let uuid = p["id"].as_str().unwrap().to_owned();
    let get = || async {
        let res =
            app.client.get(app.url(&format!("/v2/payment/{uuid}"))).header("API-KEY", &key).send().await;
        read(res.unwrap()).await.1["data"].clone()
    };
    eventually("the transfer is seen", || async {
        get().await["transactions"].as_array().is_some_and(|t| !t.is_empty())
    })
    .await;
    assert_ne!(get().await["status"], "COMPLETED");
    anvil.mine(u64::from(DEPTH)).await;
    eventually("the payment completes", || async { get().await["status"] == "COMPLETED" }).await;
    let d = get().await;
    assert_eq!(d["totalReceivedAmount"], "1000.00", "{d}");
    let txs = d["transactions"].as_array().unwrap();
    assert_eq!(txs.len(), 1, "{d}");
    assert_eq!(txs[0]["txnId"], tx.trim_start_matches("0x"), "{d}");
    assert_eq!(
        (txs[0]["addressTo"].as_str(), txs[0]["receivedAmount"].as_str()),
        (Some(to.as_str()), Some("1000.00"))
    );
    assert_eq!(txs[0]["addressFrom"], base58_of(&anvil.account), "{d}");

    // The AlpPay webhook announces it, the payment object as AlpPay sends it.
    eventually("the completed payment is announced", || async {
        rx.received().iter().any(|r| r.json()["id"] == uuid.as_str() && r.json()["status"] == "COMPLETED")
    })
    .await;
    let hook = rx.received().into_iter().map(|r| r.json()).find(|b| b["status"] == "COMPLETED").unwrap();
    assert_eq!(
        (hook["addressTo"].as_str(), hook["transactions"][0]["txnId"].as_str()),
        (Some(to.as_str()), txs[0]["txnId"].as_str())
    );

    // The client keeps its Tron address: the same request again is paid to it.
    let again = SEED_BODY.replace("INV-001", "INV-002");
    let res = app
        .client
        .post(app.url("/v2/payment"))
        .header("Content-Type", "application/json")
        .header("API-KEY", &key)
        .header("X-HMAC", sign(&secret, again.as_bytes()).unwrap())
        .body(again)
        .send()
        .await
        .unwrap();
    let (s, p2) = read(res).await;
    assert_eq!(s, 200, "{p2}");
    assert_eq!(p2["addressTo"].as_str(), Some(to.as_str()));
    assert_ne!(p2["id"], p["id"]);
}

async fn payd_killed_during_a_tron_scan_loses_and_doubles_nothing(backend: Backend) {
    use crate::evm_faults::{spawn_payd, Rng};
    const RUNS: usize = 12;
    let Some(anvil) = tron_anvil().await else { return };
    let token = anvil.deploy_token("USDT", 6).await;
    let Some(db) = TestDatabase::create(backend).await.unwrap() else { return };
    let store = connect(&db).await;
    let m = store
        .create_merchant(&NewMerchant { name: "Shop".into(), ..Default::default() }, payd_store::now())
        .await
        .unwrap();
    store.set_merchant_xpub(&m.id, Family::Tron, Some(XPUB), payd_store::now()).await.unwrap();
    let master = payd_core::crypto::MasterKey::parse(MASTER_KEY).unwrap();
    let key =
        payd_server::keys::issue_key(&store, &master, KeyOwner::Merchant(m.id.clone()), Mode::Live, vec![])
            .await
            .unwrap()
            .secret
            .expose()
            .to_owned();
    let mut networks = tron_networks(&anvil.url, &base58_of(&token), 2);
    // Small steps: a kill lands between commits as often as inside one.
    networks[0]["block_range"] = json!(2);
    networks[0]["poll_interval_ms"] = json!(50);
    let networks = networks.to_string();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let seed = std::env::var("PAYD_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(now.as_secs() ^ u64::from(now.subsec_nanos()));
    eprintln!("tron crash test seed {seed} (replay: PAYD_CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    let client = reqwest::Client::new();
    let mut due_of: Vec<(PaymentId, u128)> = Vec::new();
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
        let to = p["asset"]["address"].as_str().unwrap().to_owned();
        assert!(to.starts_with('T'), "{to}");
        // Paid in one or two transfers, some blocks mined, then a kill at a random moment.
        let first = if rng.below(2) == 0 { due } else { due / 2 };
        anvil.transfer(&token, &hex_of(&to), first).await;
        transfers += 1;
        if first < due {
            anvil.mine(rng.below(3)).await;
            anvil.transfer(&token, &hex_of(&to), due - first).await;
            transfers += 1;
        }
        due_of.push((id, due));
        if run % 3 == 0 {
            // A long catch-up (each 2-block step its own commit), killed once it has started.
            let start = store.chain_cursor(NETWORK).await.unwrap().map_or(0, |c| c.number);
            anvil.mine(100).await;
            eventually("the watcher starts catching up", || async {
                store.chain_cursor(NETWORK).await.unwrap().is_some_and(|c| c.number > start)
            })
            .await;
        } else {
            anvil.mine(rng.below(30)).await;
            tokio::time::sleep(std::time::Duration::from_millis(rng.below(300))).await;
        }
        drop(payd); // SIGKILL
        if store.chain_cursor(NETWORK).await.unwrap().map_or(0, |c| c.number) < anvil.head().await {
            behind += 1;
        }
        if run % 4 == 3 {
            anvil.mine(1 + rng.below(5)).await;
        }
    }
    eprintln!("tron kills: {behind} of {RUNS} behind the head");
    assert!(behind > 0, "some kills land while the watcher is still scanning");
    let _payd = spawn_payd(&db.url, &networks);
    anvil.mine(3).await;
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
    assert!(recorded.iter().all(|t| t.transfer.payment_id.is_some() && t.transfer.to.starts_with('T')));
}

//! Detection latency: the time from the block that gives a payment its last required
//! confirmation (the moment it is the head) to the payment reading `completed` in the
//! database, and to its `payment.completed` webhook arriving at a local receiver (a native
//! endpoint, 127.0.0.1), over real ERC-20 transfers on anvil mining a block every second. It
//! drives the real `payd` binary and CLI. The floor: one plain `eth_getLogs` call for that
//! block, made by the bench the moment it sees the block (what any watcher must at least wait
//! for once the block exists).
//!
//! Run: `bash bench/confirmation-latency/run.sh` (or `cargo bench -p payd-server --bench
//! confirmation_latency`). Settings: BENCH_PAYMENTS (100), BENCH_PER_BLOCK (transfers sent
//! per block, 10), BENCH_CONFIRMATIONS (3), BENCH_POLL_MS (the watcher's poll interval, 250),
//! BENCH_BLOCK_TIME (1), BENCH_WS (1: also subscribe to `newHeads` over WebSocket; 0 by
//! default, polling only). The webhook dispatcher runs with payd's defaults.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::float_arithmetic)]

use std::collections::HashMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256};
use alloy::sol;
use alloy::sol_types::{SolCall, SolValue};
use serde_json::{json, Value};

sol! {
    function transfer(address to, uint256 value) returns (bool);
}

const MASTER_KEY: &str = "0101010101010101010101010101010101010101010101010101010101010101";
const XPUB: &str = "xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw";

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Rpc {
    url: String,
    client: reqwest::Client,
}

impl Rpc {
    async fn call(&self, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let v: Value = self.client.post(&self.url).json(&body).send().await.unwrap().json().await.unwrap();
        assert!(v.get("error").is_none(), "{method}: {v}");
        v["result"].clone()
    }

    async fn head(&self) -> u64 {
        let h = self.call("eth_blockNumber", json!([])).await;
        u64::from_str_radix(h.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    }

    async fn send_and_wait(&self, from: &str, to: Option<&str>, data: Vec<u8>) -> Value {
        let hash = self.send(from, to, data).await;
        self.receipt(&hash).await
    }

    async fn send(&self, from: &str, to: Option<&str>, data: Vec<u8>) -> Value {
        let mut tx = json!({"from": from, "data": format!("0x{}", hex::encode(data)), "gas": "0x4c4b40"});
        if let Some(to) = to {
            tx["to"] = json!(to);
        }
        self.call("eth_sendTransaction", json!([tx])).await
    }

    async fn receipt(&self, hash: &Value) -> Value {
        loop {
            let r = self.call("eth_getTransactionReceipt", json!([hash])).await;
            if !r.is_null() {
                assert_eq!(r["status"], "0x1", "{r}");
                return r;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

fn payd_cli(db: &str, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_payd"))
        .args(args)
        .args(["--database-url", db, "--json"])
        .env("PAYD_MASTER_KEY", MASTER_KEY)
        .output()
        .unwrap();
    assert!(out.status.success(), "payd {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn percentile(sorted: &[f64], p: usize) -> f64 {
    // Nearest rank.
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

fn hex_u64(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// A receiver for the native endpoint: when each payment's `payment.completed` arrived.
async fn receiver(arrived: Arc<Mutex<HashMap<String, Instant>>>) -> String {
    let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
        let arrived = Arc::clone(&arrived);
        async move {
            let at = Instant::now();
            if let Ok(event) = serde_json::from_slice::<Value>(&body) {
                if event["type"] == "payment.completed" {
                    if let Some(id) = event["data"]["id"].as_str() {
                        arrived.lock().unwrap().entry(id.to_owned()).or_insert(at);
                    }
                }
            }
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://127.0.0.1:{}/hooks", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// Median, p95, min and max of `ms`, sorted in place.
fn summary(ms: &mut [f64]) -> String {
    ms.sort_by(f64::total_cmp);
    format!(
        "median {:.1} ms   p95 {:.1} ms   min {:.1} ms   max {:.1} ms",
        percentile(ms, 50),
        percentile(ms, 95),
        ms[0],
        ms[ms.len() - 1]
    )
}

#[tokio::main]
async fn main() {
    let payments = setting("BENCH_PAYMENTS", 100);
    let per_block = setting("BENCH_PER_BLOCK", 10).max(1);
    let confirmations = setting("BENCH_CONFIRMATIONS", 3);
    let poll_ms = setting("BENCH_POLL_MS", 250);
    let block_time = setting("BENCH_BLOCK_TIME", 1);
    let ws = setting("BENCH_WS", 0) == 1;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let anvil_bin = root.join("node_modules/.bin/anvil");
    assert!(anvil_bin.exists(), "run `npm ci` at the repository root first (anvil)");

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let _anvil = Killed(
        Command::new(anvil_bin)
            .args(["--port", &port.to_string(), "--block-time", &block_time.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let rpc = Rpc { url: format!("http://127.0.0.1:{port}"), client: reqwest::Client::new() };
    let mut account = Value::Null;
    for _ in 0..100 {
        if let Ok(r) = rpc
            .client
            .post(&rpc.url)
            .json(&json!({"jsonrpc":"2.0","id":1,"method":"eth_accounts","params":[]}))
            .send()
            .await
        {
            account = r.json::<Value>().await.unwrap()["result"][0].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let account = account.as_str().expect("anvil started").to_owned();
    let bin = std::fs::read_to_string(root.join("testdata/erc20/TestToken.bin")).unwrap();
    let mut code = hex::decode(bin.trim()).unwrap();
    code.extend(
        ("Bench USDC".to_owned(), "USDC".to_owned(), U256::from(6), U256::from(10u64).pow(U256::from(18)))
            .abi_encode_params(),
    );
    let token = rpc.send_and_wait(&account, None, code).await["contractAddress"].as_str().unwrap().to_owned();

    let dir = std::env::temp_dir().join(format!("payd-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db_path = dir.join("payd.db");
    let db = format!("sqlite:{}?mode=rwc", db_path.display());
    let merchant = payd_cli(&db, &["merchant", "create", "--name", "Bench"]);
    let mid = merchant["id"].as_str().unwrap();
    payd_cli(&db, &["merchant", "configure", mid, "--xpub-evm", XPUB]);
    let key = payd_cli(&db, &["key", "create", "--merchant", mid, "--mode", "live"])["key"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut networks = json!([{
        "name": "anvil", "chain_id": 31337, "rpc_url": rpc.url, "confirmations": confirmations,
        "block_range": 100, "poll_interval_ms": poll_ms,
        "tokens": [{"symbol": "USDC", "contract": token, "decimals": 6}]
    }]);
    if ws {
        networks[0]["ws_url"] = json!(format!("ws://127.0.0.1:{port}"));
    }
    let mut payd = Command::new(env!("CARGO_BIN_EXE_payd"))
        .arg("serve")
        .env("PAYD_DATABASE_URL", &db)
        .env("PAYD_MASTER_KEY", MASTER_KEY)
        .env("PAYD_BOOTSTRAP_DEMO", "false")
        .env("PAYD_DEVNET_BLOCK_MS", "0")
        .env("PAYD_LISTEN", "127.0.0.1:0")
        .env("PAYD_NETWORKS", networks.to_string())
        .env("PAYD_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true")
        .env("PAYD_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let line = std::io::BufReader::new(payd.stdout.take().unwrap()).lines().next().unwrap().unwrap();
    let _payd = Killed(payd);
    let api_port: u16 =
        line.split("port ").nth(1).and_then(|r| r.split_whitespace().next()).unwrap().parse().unwrap();
    let base = format!("http://127.0.0.1:{api_port}");
    let client = reqwest::Client::new();

    let hooks: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let hook_url = receiver(Arc::clone(&hooks)).await;
    let endpoint = client
        .post(format!("{base}/v1/webhook_endpoints"))
        .bearer_auth(&key)
        .json(&json!({"url": hook_url, "events": ["payment.completed"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(endpoint.status(), 201, "{}", endpoint.text().await.unwrap());

    let mut ids = Vec::new();
    let mut targets = Vec::new();
    for _ in 0..payments {
        let p: Value = client
            .post(format!("{base}/v1/payments"))
            .bearer_auth(&key)
            .json(&json!({"amount": "1.00", "currency": "USD", "token": "USDC", "network": "anvil"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(p["id"].as_str().unwrap_or_else(|| panic!("{p}")).to_owned());
        targets.push(p["asset"]["address"].as_str().unwrap().parse::<Address>().unwrap());
    }

    // When each block was first the head (polled every 2 ms), and the floor: one eth_getLogs
    // for that block, asked the moment it is seen.
    let seen: Arc<Mutex<HashMap<u64, Instant>>> = Arc::default();
    let floor: Arc<Mutex<HashMap<u64, f64>>> = Arc::default();
    let stop = tokio_util::sync::CancellationToken::new();
    let heads = {
        let (seen, floor, stop) = (Arc::clone(&seen), Arc::clone(&floor), stop.clone());
        let rpc = Rpc { url: rpc.url.clone(), client: reqwest::Client::new() };
        let token = token.clone();
        tokio::spawn(async move {
            let mut last = rpc.head().await;
            while !stop.is_cancelled() {
                let head = rpc.head().await;
                if head > last {
                    let at = Instant::now();
                    for n in last + 1..=head {
                        seen.lock().unwrap().insert(n, at);
                    }
                    let range = json!([{"fromBlock": format!("0x{head:x}"), "toBlock": format!("0x{head:x}"), "address": token}]);
                    rpc.call("eth_getLogs", range).await;
                    floor.lock().unwrap().insert(head, at.elapsed().as_secs_f64() * 1000.0);
                    last = head;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    // When each payment first read `completed` in the database (polled every 2 ms).
    let completed: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let poller = {
        let (completed, stop) = (Arc::clone(&completed), stop.clone());
        let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(&db_path).read_only(true);
        let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
        tokio::spawn(async move {
            while !stop.is_cancelled() {
                let rows: Vec<(String,)> =
                    sqlx::query_as("SELECT id FROM payments WHERE status = 'completed'")
                        .fetch_all(&pool)
                        .await
                        .unwrap();
                let at = Instant::now();
                {
                    let mut done = completed.lock().unwrap();
                    for (id,) in rows {
                        done.entry(id).or_insert(at);
                    }
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };

    // The transfers, BENCH_PER_BLOCK at a time: each group is sent together and mined in the
    // next block.
    let mut mined = Vec::new();
    for group in targets.chunks(usize::try_from(per_block).unwrap()) {
        let mut hashes = Vec::new();
        for to in group {
            let data = transferCall { to: *to, value: U256::from(1_000_000u64) }.abi_encode();
            hashes.push(rpc.send(&account, Some(&token), data).await);
        }
        for h in &hashes {
            mined.push(hex_u64(&rpc.receipt(h).await["blockNumber"]));
        }
    }
    let bound = Instant::now() + Duration::from_secs(120 + payments * 2);
    loop {
        let (db_done, hooks_done) = (completed.lock().unwrap().len(), hooks.lock().unwrap().len());
        if db_done >= ids.len() && hooks_done >= ids.len() {
            break;
        }
        assert!(
            Instant::now() < bound,
            "not finished: {db_done} of {} completed, {hooks_done} webhooks received",
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.cancel();
    heads.await.unwrap();
    poller.await.unwrap();

    let (seen, completed, hooks, floor) =
        (seen.lock().unwrap(), completed.lock().unwrap(), hooks.lock().unwrap(), floor.lock().unwrap());
    let signed_ms = |from: Instant, to: Instant| {
        if to >= from {
            (to - from).as_secs_f64() * 1000.0
        } else {
            -((from - to).as_secs_f64() * 1000.0)
        }
    };
    let (mut to_db, mut to_hook, mut floors) = (Vec::new(), Vec::new(), Vec::new());
    for (id, block) in ids.iter().zip(&mined) {
        let confirming = block + confirmations - 1;
        let at = *seen.get(&confirming).unwrap_or_else(|| panic!("block {confirming} not seen"));
        to_db.push(signed_ms(at, completed[id]));
        to_hook.push(signed_ms(at, hooks[id]));
        floors.push(*floor.get(&confirming).unwrap_or(&f64::NAN));
    }
    floors.retain(|f| !f.is_nan());
    println!();
    println!(
        "detection latency (confirming block is the head → …), {} payments, {per_block} per block",
        ids.len()
    );
    let heads = if ws { ", newHeads over WebSocket" } else { "" };
    println!(
        "  anvil --block-time {block_time}, confirmations {confirmations}, watcher poll {poll_ms} ms{heads}, webhook dispatcher defaults"
    );
    println!("  → completed in the database:  {}", summary(&mut to_db));
    println!("  → webhook received:           {}", summary(&mut to_hook));
    println!("  floor, one eth_getLogs:       {}", summary(&mut floors));
    println!(
        "reproduce: BENCH_PAYMENTS={payments} BENCH_PER_BLOCK={per_block} BENCH_CONFIRMATIONS={confirmations} BENCH_POLL_MS={poll_ms} \\\n           BENCH_BLOCK_TIME={block_time} BENCH_WS={} bash bench/confirmation-latency/run.sh",
        u8::from(ws)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

//! Confirmation latency: the time from the block that gives a payment its last required
//! confirmation to the payment showing `completed` in the API, over real ERC-20 transfers
//! on anvil mining a block every second. It drives the real `payd` binary and CLI.
//!
//! Run: `bash bench/confirmation-latency/run.sh` (or `cargo bench -p payd-server --bench
//! confirmation_latency`). Settings: BENCH_PAYMENTS (20), BENCH_CONFIRMATIONS (3),
//! BENCH_POLL_MS (the watcher's poll interval, 250), BENCH_BLOCK_TIME (1), BENCH_WS (1: also
//! subscribe to `newHeads` over WebSocket; 0 by default, polling only).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::float_arithmetic)]

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
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
        let mut tx = json!({"from": from, "data": format!("0x{}", hex::encode(data)), "gas": "0x4c4b40"});
        if let Some(to) = to {
            tx["to"] = json!(to);
        }
        let hash = self.call("eth_sendTransaction", json!([tx])).await;
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

#[tokio::main]
async fn main() {
    let payments = setting("BENCH_PAYMENTS", 20);
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
    let db = format!("sqlite:{}?mode=rwc", dir.join("payd.db").display());
    let merchant = payd_cli(&db, &["merchant", "create", "--name", "Bench"]);
    let mid = merchant["id"].as_str().unwrap();
    payd_cli(&db, &["merchant", "configure", mid, "--xpub-evm", XPUB]);
    let key = payd_cli(&db, &["key", "create", "--merchant", mid, "--mode", "live"])["key"]
        .as_str()
        .unwrap()
        .to_owned();

    let networks = json!([{
        "name": "anvil", "chain_id": 31337, "rpc_url": rpc.url, "confirmations": confirmations,
        "block_range": 100, "poll_interval_ms": poll_ms,
        "tokens": [{"symbol": "USDC", "contract": token, "decimals": 6}]
    }]);
    let mut networks = networks;
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
        .env("PAYD_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let line = std::io::BufReader::new(payd.stdout.take().unwrap()).lines().next().unwrap().unwrap();
    let _payd = Killed(payd);
    let api_port: u16 =
        line.split("port ").nth(1).and_then(|r| r.split_whitespace().next()).unwrap().parse().unwrap();
    let api = format!("http://127.0.0.1:{api_port}/v1/payments");
    let client = reqwest::Client::new();

    let mut latencies = Vec::new();
    for i in 0..payments {
        let p: Value = client
            .post(&api)
            .bearer_auth(&key)
            .json(&json!({"amount": "1.00", "currency": "USD", "token": "USDC", "network": "anvil"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = p["id"].as_str().unwrap_or_else(|| panic!("{p}")).to_owned();
        let to: Address = p["asset"]["address"].as_str().unwrap().parse().unwrap();
        let data = transferCall { to, value: U256::from(1_000_000u64) }.abi_encode();
        let receipt = rpc.send_and_wait(&account, Some(&token), data).await;
        let mined =
            u64::from_str_radix(receipt["blockNumber"].as_str().unwrap().trim_start_matches("0x"), 16)
                .unwrap();
        let confirming = mined + confirmations - 1;
        while rpc.head().await < confirming {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let seen = Instant::now();
        loop {
            let p: Value = client
                .get(format!("{api}/{id}"))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if p["status"] == "completed" {
                break;
            }
            assert!(seen.elapsed() < Duration::from_secs(60), "payment {id} did not complete: {p}");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let ms = seen.elapsed().as_secs_f64() * 1000.0;
        eprintln!("payment {:>2}: block {confirming} → completed in {ms:.0} ms", i + 1);
        latencies.push(ms);
    }
    latencies.sort_by(f64::total_cmp);
    let median = percentile(&latencies, 50);
    let p90 = percentile(&latencies, 90);
    println!();
    println!("confirmation latency (confirming block → completed), {} payments", latencies.len());
    let heads = if ws { ", newHeads over WebSocket" } else { "" };
    println!(
        "  anvil --block-time {block_time}, confirmations {confirmations}, watcher poll {poll_ms} ms{heads}"
    );
    println!(
        "  median {median:.0} ms   p90 {p90:.0} ms   min {:.0} ms   max {:.0} ms",
        latencies[0],
        latencies[latencies.len() - 1]
    );
    println!(
        "reproduce: BENCH_PAYMENTS={payments} BENCH_CONFIRMATIONS={confirmations} BENCH_POLL_MS={poll_ms} \\\n           BENCH_BLOCK_TIME={block_time} BENCH_WS={} bash bench/confirmation-latency/run.sh",
        u8::from(ws)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

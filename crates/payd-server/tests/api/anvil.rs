//! The anvil harness: starts anvil (npm `@foundry-rs/anvil-linux-amd64`, installed by
//! `npm ci` at the repo root) on a free port, deploys payd's test ERC-20
//! (`testdata/erc20/TestToken.bin`, rebuilt by `testdata/erc20/build.js`) and sends real
//! transfers from anvil's unlocked first account. Without anvil the EVM tests skip with a
//! message, except under CI=true, where they fail.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use alloy::primitives::{Address, U256};
use alloy::sol;
use alloy::sol_types::{SolCall, SolValue};
use serde_json::{json, Value};

sol! {
    function transfer(address to, uint256 value) returns (bool);
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The anvil binary, or `None` (skip) when `npm ci` has not run; under CI=true its absence
/// is a failure.
pub fn anvil_binary() -> Option<PathBuf> {
    let bin = repo_root().join("node_modules/.bin/anvil");
    if bin.exists() {
        return Some(bin);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("anvil is required under CI=true: run `npm ci` at the repository root");
    }
    eprintln!("skipping: anvil not installed (run `npm ci` at the repository root)");
    None
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running anvil, killed on drop.
pub struct Anvil {
    child: Child,
    pub url: String,
    client: reqwest::Client,
    pub account: String,
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Anvil {
    /// Starts anvil with automine (a block per transaction) plus `args`.
    pub async fn start(args: &[&str]) -> Option<Anvil> {
        let bin = anvil_binary()?;
        for _ in 0..5 {
            let port = free_port();
            let child = Command::new(&bin)
                .args(["--port", &port.to_string(), "--host", "127.0.0.1"])
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn anvil");
            let mut anvil = Anvil {
                child,
                url: format!("http://127.0.0.1:{port}"),
                client: reqwest::Client::new(),
                account: String::new(),
            };
            for _ in 0..100 {
                if let Ok(v) = anvil.try_rpc("eth_accounts", json!([])).await {
                    anvil.account = v[0].as_str().unwrap().to_owned();
                    return Some(anvil);
                }
                if anvil.child.try_wait().ok().flatten().is_some() {
                    break; // the port was taken meanwhile: another one
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        panic!("anvil did not start");
    }

    async fn try_rpc(&self, method: &str, params: Value) -> Result<Value, String> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let res = self.client.post(&self.url).json(&body).send().await.map_err(|e| e.to_string())?;
        let v: Value = res.json().await.map_err(|e| e.to_string())?;
        if let Some(e) = v.get("error") {
            return Err(format!("{method}: {e}"));
        }
        Ok(v["result"].clone())
    }

    pub async fn rpc(&self, method: &str, params: Value) -> Value {
        self.try_rpc(method, params).await.unwrap()
    }

    pub async fn head(&self) -> u64 {
        let h = self.rpc("eth_blockNumber", json!([])).await;
        u64::from_str_radix(h.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    }

    pub async fn mine(&self, blocks: u64) {
        self.rpc("anvil_mine", json!([format!("{blocks:#x}")])).await;
    }

    /// Moves the chain's clock: the next block is timestamped `secs` later than it would be.
    pub async fn increase_time(&self, secs: u64) {
        self.rpc("evm_increaseTime", json!([secs])).await;
    }

    /// Sends a transaction from the first account; returns its hash (mined at once under
    /// automine).
    pub async fn send(&self, to: Option<&str>, data: Vec<u8>) -> String {
        let mut tx =
            json!({"from": self.account, "data": format!("0x{}", hex::encode(data)), "gas": "0x4c4b40"});
        if let Some(to) = to {
            tx["to"] = json!(to);
        }
        self.rpc("eth_sendTransaction", json!([tx])).await.as_str().unwrap().to_owned()
    }

    pub async fn receipt(&self, tx: &str) -> Value {
        for _ in 0..100 {
            let r = self.rpc("eth_getTransactionReceipt", json!([tx])).await;
            if !r.is_null() {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no receipt for {tx}");
    }

    /// Deploys payd's test ERC-20 with `decimals`, a large supply to the first account.
    pub async fn deploy_token(&self, symbol: &str, decimals: u8) -> String {
        let bin = std::fs::read_to_string(repo_root().join("testdata/erc20/TestToken.bin")).unwrap();
        let mut code = hex::decode(bin.trim()).unwrap();
        let supply = U256::from(10u64).pow(U256::from(u32::from(decimals) + 12));
        code.extend(
            (format!("Test {symbol}"), symbol.to_owned(), U256::from(decimals), supply).abi_encode_params(),
        );
        let tx = self.send(None, code).await;
        let r = self.receipt(&tx).await;
        assert_eq!(r["status"], "0x1", "deploy failed: {r}");
        r["contractAddress"].as_str().unwrap().to_owned()
    }

    /// A real ERC-20 `transfer` of `amount` base units to `to`; returns the tx hash.
    pub async fn transfer(&self, token: &str, to: &str, amount: u128) -> String {
        let to: Address = to.parse().unwrap();
        let data = transferCall { to, value: U256::from(amount) }.abi_encode();
        let tx = self.send(Some(token), data).await;
        let r = self.receipt(&tx).await;
        assert_eq!(r["status"], "0x1", "transfer failed: {r}");
        tx
    }

    /// `anvil_reorg`: replaces the last `depth` blocks (their transactions are gone unless
    /// re-sent in `txs` as `[raw signed tx, block offset]` pairs).
    pub async fn reorg(&self, depth: u64, txs: Value) {
        self.rpc("anvil_reorg", json!([depth, txs])).await;
    }
}

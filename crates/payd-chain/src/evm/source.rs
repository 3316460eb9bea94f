//! [`EvmSource`]: an EVM chain read through JSON-RPC. Logs are fetched with
//! `eth_getLogs` filtered by the accepted token contracts and the `Transfer` signature, in
//! chunks that halve on a provider's range or result-size error and grow back (doubling, up
//! to the configured range) after successes. Every answer is checked: a log with the wrong
//! topics or data length, or outside the asked range, is a malformed answer, never a panic
//! and never a credit.
//!
//! The same source reads java-tron's Ethereum-compatible JSON-RPC (`/jsonrpc`) under Tron's
//! rules ([`Rules::Tron`]): filter addresses are the 20-byte hex ids (never base58), only
//! block numbers, `latest` and `finalized` are asked for (java-tron refuses `safe` and
//! `pending`), addresses come out in base58 (`T…`) and transaction ids as Tron writes them
//! (64 hex digits, no `0x`), and the receipt of every transaction carrying a transfer payd
//! records is read, so a failed one (`REVERT`, `OUT_OF_ENERGY`) never credits.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use alloy::primitives::{Address, B256, U256, U64};
use alloy::rpc::types::{Filter, Log};
use alloy::sol;
use alloy::sol_types::SolEvent;
use serde_json::{json, Value};

use super::rpc::{RpcClient, RpcError};
use crate::source::{BlockInfo, ChainSource, SourceError};
use crate::{ObservedTransfer, TransferKey};

sol! {
    /// ERC-20 `Transfer`.
    event Transfer(address indexed from, address indexed to, uint256 value);
}

/// Successful chunks in a row before the chunk size doubles again.
const GROW_AFTER: u32 = 4;

/// An accepted token contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvmToken {
    /// Ticker (`USDC`).
    pub symbol: String,
    /// Contract address.
    pub contract: Address,
    /// Base-unit decimals (checked against the chain at start-up).
    pub decimals: u8,
}

/// Which chain's conventions a JSON-RPC source follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rules {
    /// An EVM chain: addresses `0x` lower-case hex, transaction hashes `0x`-prefixed.
    Evm,
    /// Tron's `/jsonrpc`: addresses in base58check (`T…`), transaction and block ids without `0x`
    /// (as java-tron's HTTP API and TronGrid write them),
    /// and each recorded transfer's transaction receipt checked for failure.
    Tron,
}

impl Rules {
    /// An address as this chain writes it.
    pub fn address(self, a: Address) -> String {
        match self {
            Rules::Evm => format!("{a:#x}"),
            Rules::Tron => crate::address::tron(&a.0 .0),
        }
    }

    /// A transaction (or block) hash as this chain writes it.
    pub fn tx_hash(self, h: &B256) -> String {
        match self {
            Rules::Evm => hex32(h),
            Rules::Tron => hex::encode(h.0),
        }
    }
}

/// One EVM network read through JSON-RPC.
#[derive(Debug)]
pub struct EvmSource {
    network: String,
    rpc: RpcClient,
    contracts: Vec<Address>,
    max_range: u64,
    chunk: AtomicU64,
    streak: AtomicU32,
    rules: Rules,
    /// The node refused the `finalized` tag once: told once, depth counts alone.
    no_finalized_tag: AtomicBool,
}

impl EvmSource {
    /// A source for `network` reading `tokens`' logs, at most `max_range` blocks per request.
    pub fn new(network: impl Into<String>, rpc: RpcClient, tokens: &[EvmToken], max_range: u64) -> Self {
        let max_range = max_range.max(1);
        EvmSource {
            network: network.into(),
            rpc,
            contracts: tokens.iter().map(|t| t.contract).collect(),
            max_range,
            chunk: AtomicU64::new(max_range),
            streak: AtomicU32::new(0),
            rules: Rules::Evm,
            no_finalized_tag: AtomicBool::new(false),
        }
    }

    /// The same source under another chain's rules (Tron's `/jsonrpc`).
    pub fn with_rules(mut self, rules: Rules) -> Self {
        self.rules = rules;
        self
    }

    /// The block range the next `eth_getLogs` asks for (shrinks on provider limits).
    pub fn current_range(&self) -> u64 {
        self.chunk.load(Ordering::Relaxed)
    }

    async fn logs(&self, from: u64, to: u64) -> Result<Vec<Log>, RpcError> {
        let filter = Filter::new()
            .address(self.contracts.clone())
            .event_signature(Transfer::SIGNATURE_HASH)
            .from_block(from)
            .to_block(to);
        let filter =
            serde_json::to_value(&filter).map_err(|e| RpcError::Malformed(format!("filter: {e}")))?;
        self.rpc.call("eth_getLogs", json!([filter])).await
    }

    fn decode(&self, log: &Log, from: u64, to: u64) -> Result<Option<ObservedTransfer>, SourceError> {
        let bad = |what: &str| SourceError::Malformed(format!("{}: log {what}", self.network));
        let (Some(block_number), Some(block_hash), Some(tx_hash), Some(log_index)) =
            (log.block_number, log.block_hash, log.transaction_hash, log.log_index)
        else {
            // A pending log: only mined logs count.
            return Err(bad("without block, transaction or index"));
        };
        if block_number < from || block_number > to {
            return Err(bad("outside the requested range"));
        }
        if !self.contracts.contains(&log.address()) {
            return Err(bad("from a contract that was not asked for"));
        }
        let topics = log.topics();
        if topics.len() != 3 || topics[0] != Transfer::SIGNATURE_HASH || log.data().data.len() != 32 {
            return Err(bad("that is not an ERC-20 Transfer (topics or data length)"));
        }
        let from_addr = Address::from_word(topics[1]);
        let to_addr = Address::from_word(topics[2]);
        let value = U256::from_be_slice(&log.data().data);
        let Ok(amount) = u128::try_from(value) else {
            // No stablecoin moves 2^128 base units; record nothing rather than a wrong amount.
            tracing::error!(network = %self.network, tx = %tx_hash, %value, "transfer amount beyond u128 ignored");
            return Ok(None);
        };
        Ok(Some(ObservedTransfer {
            key: TransferKey {
                network: self.network.clone(),
                tx_hash: self.rules.tx_hash(&tx_hash),
                log_index,
            },
            token_contract: self.rules.address(log.address()),
            from: self.rules.address(from_addr),
            to: self.rules.address(to_addr),
            amount,
            block_number,
            block_hash: self.rules.tx_hash(&block_hash),
        }))
    }
}

fn hex32(h: &B256) -> String {
    format!("{h:#x}")
}

fn source_error(network: &str, e: RpcError) -> SourceError {
    tracing::warn!(network, error = %e, "rpc");
    match e {
        RpcError::Malformed(m) => SourceError::Malformed(m),
        RpcError::Unavailable(m) | RpcError::Rejected(m) | RpcError::RangeTooLarge(m) => {
            SourceError::Unavailable(m)
        }
    }
}

impl ChainSource for EvmSource {
    async fn head(&self) -> Result<u64, SourceError> {
        let n: U64 =
            self.rpc.call("eth_blockNumber", json!([])).await.map_err(|e| source_error(&self.network, e))?;
        Ok(n.to::<u64>())
    }

    async fn block(&self, number: u64) -> Result<Option<BlockInfo>, SourceError> {
        let block: Option<Value> = self
            .rpc
            .call("eth_getBlockByNumber", json!([format!("{number:#x}"), false]))
            .await
            .map_err(|e| source_error(&self.network, e))?;
        let Some(block) = block else { return Ok(None) };
        let malformed =
            |what: &str| SourceError::Malformed(format!("{}: block {number} {what}", self.network));
        let hash: B256 = block
            .get("hash")
            .cloned()
            .and_then(|h| serde_json::from_value(h).ok())
            .ok_or_else(|| malformed("without a hash"))?;
        let got: Option<U64> = block.get("number").cloned().and_then(|n| serde_json::from_value(n).ok());
        if got.map(|n| n.to::<u64>()) != Some(number) {
            return Err(malformed("asked for, another answered"));
        }
        let secs: U64 = block
            .get("timestamp")
            .cloned()
            .and_then(|t| serde_json::from_value(t).ok())
            .ok_or_else(|| malformed("without a timestamp"))?;
        let time = i64::try_from(secs.to::<u64>())
            .ok()
            .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
            .ok_or_else(|| malformed("with an impossible timestamp"))?;
        Ok(Some(BlockInfo { hash: self.rules.tx_hash(&hash), time }))
    }

    async fn transfers(&self, from: u64, to: u64) -> Result<Vec<ObservedTransfer>, SourceError> {
        let mut out = Vec::new();
        let mut start = from;
        while start <= to {
            let size = self.chunk.load(Ordering::Relaxed).clamp(1, self.max_range);
            let end = to.min(start.saturating_add(size - 1));
            match self.logs(start, end).await {
                Ok(logs) => {
                    for log in &logs {
                        if let Some(t) = self.decode(log, start, end)? {
                            out.push(t);
                        }
                    }
                    start = end.saturating_add(1);
                    if self.streak.fetch_add(1, Ordering::Relaxed) + 1 >= GROW_AFTER && size < self.max_range
                    {
                        self.chunk.store(size.saturating_mul(2).min(self.max_range), Ordering::Relaxed);
                        self.streak.store(0, Ordering::Relaxed);
                    }
                    if end == u64::MAX {
                        break;
                    }
                }
                Err(RpcError::RangeTooLarge(m)) if size > 1 => {
                    let smaller = (size / 2).max(1);
                    tracing::info!(network = %self.network, from = size, to = smaller, reason = %m, "log range shrunk");
                    self.chunk.store(smaller, Ordering::Relaxed);
                    self.streak.store(0, Ordering::Relaxed);
                }
                Err(e) => return Err(source_error(&self.network, e)),
            }
        }
        out.sort_by_key(|t| (t.block_number, t.key.log_index));
        Ok(out)
    }

    async fn finalized(&self) -> Result<Option<u64>, SourceError> {
        if self.no_finalized_tag.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let block: Option<Value> = match self
            .rpc
            .call("eth_getBlockByNumber", json!(["finalized", false]))
            .await
        {
            Ok(b) => b,
            Err(RpcError::Rejected(m)) => {
                // An older java-tron (or EVM node) without the tag: depth is all there is.
                tracing::warn!(network = %self.network, reason = %m, "the node does not know the `finalized` block; counting confirmations by depth only");
                self.no_finalized_tag.store(true, Ordering::Relaxed);
                return Ok(None);
            }
            Err(e) => return Err(source_error(&self.network, e)),
        };
        let malformed =
            || SourceError::Malformed(format!("{}: finalized block without a number", self.network));
        let Some(block) = block else { return Err(malformed()) };
        let n: U64 = block
            .get("number")
            .cloned()
            .and_then(|n| serde_json::from_value(n).ok())
            .ok_or_else(malformed)?;
        Ok(Some(n.to::<u64>()))
    }

    async fn failed(&self, tx_hashes: &[String]) -> Result<HashSet<String>, SourceError> {
        let mut out = HashSet::new();
        if self.rules != Rules::Tron {
            // EVM nodes drop the logs of reverted transactions: a log is a success.
            return Ok(out);
        }
        for h in tx_hashes {
            let id = h.strip_prefix("0x").unwrap_or(h);
            let receipt: Option<Value> = self
                .rpc
                .call("eth_getTransactionReceipt", json!([format!("0x{id}")]))
                .await
                .map_err(|e| source_error(&self.network, e))?;
            // A log whose transaction has no receipt: the chain moved under the step.
            let receipt = receipt.ok_or_else(|| {
                SourceError::Unavailable(format!("{}: no receipt yet for {id}", self.network))
            })?;
            match receipt.get("status").and_then(Value::as_str) {
                Some("0x1") => {}
                Some("0x0") => {
                    out.insert(h.clone());
                }
                _ => {
                    return Err(SourceError::Malformed(format!(
                        "{}: receipt of {id} without a status",
                        self.network
                    )))
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evm::rpc::RpcSettings;

    const TOKEN: &str = "0x5fbdb2315678afecb367f032d93f642f64180aa3";

    fn source() -> Option<EvmSource> {
        let rpc = RpcClient::new(url::Url::parse("http://127.0.0.1:1").ok()?, RpcSettings::default()).ok()?;
        let token = EvmToken { symbol: "USDC".into(), contract: TOKEN.parse().ok()?, decimals: 6 };
        Some(EvmSource::new("anvil", rpc, &[token], 10))
    }

    fn log(edit: impl FnOnce(&mut Value)) -> Option<Log> {
        let word = |tail: &str| format!("0x{tail:0>64}");
        let mut v = json!({
            "address": TOKEN,
            "topics": [format!("{:#x}", Transfer::SIGNATURE_HASH), word("f39fd6e51aad88f6f4ce6ab8827279cfffb92266"), word("aa")],
            "data": word("989680"),
            "blockNumber": "0x5", "blockHash": word("b1"), "transactionHash": word("7"),
            "transactionIndex": "0x0", "logIndex": "0x2", "removed": false
        });
        edit(&mut v);
        serde_json::from_value(v).ok()
    }

    #[test]
    fn a_transfer_log_decodes_to_exact_base_units() {
        let (Some(s), Some(l)) = (source(), log(|_| {})) else { panic!("fixtures") };
        let t = s.decode(&l, 1, 10).ok().flatten();
        let t = t.as_ref();
        assert_eq!(t.map(|t| (t.amount, t.block_number, t.key.log_index)), Some((10_000_000, 5, 2)));
        assert_eq!(t.map(|t| t.to.as_str()), Some("0x00000000000000000000000000000000000000aa"));
        assert_eq!(t.map(|t| t.token_contract.as_str()), Some(TOKEN));
    }

    #[test]
    fn wrong_topics_data_contracts_or_ranges_are_malformed() {
        let Some(s) = source() else { panic!("fixture") };
        type Edit = Box<dyn FnOnce(&mut Value)>;
        let bad: [Edit; 5] = [
            Box::new(|v| v["data"] = json!("0x12")),
            Box::new(|v| {
                v["topics"].as_array_mut().map(Vec::pop);
            }),
            Box::new(|v| v["address"] = json!("0x00000000000000000000000000000000000000bb")),
            Box::new(|v| v["blockNumber"] = json!("0x50")),
            Box::new(|v| v["blockHash"] = Value::Null),
        ];
        for edit in bad {
            let l = log(edit);
            assert!(l.is_some_and(|l| matches!(s.decode(&l, 1, 10), Err(SourceError::Malformed(_)))));
        }
    }

    #[test]
    fn under_tron_rules_addresses_are_base58_and_ids_have_no_0x() {
        let usdt = "0xa614f803b6fd780986a42c78ec9c7f77e6ded13c";
        let (Some(s), Some(l)) = (source(), log(|v| v["address"] = json!(usdt))) else { panic!("fixtures") };
        let mut s = s.with_rules(Rules::Tron);
        s.contracts = vec![usdt.parse().unwrap_or_default()];
        let t = s.decode(&l, 1, 10).ok().flatten();
        let t = t.as_ref();
        assert_eq!(t.map(|t| t.token_contract.as_str()), Some("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"));
        assert_eq!(t.map(|t| t.key.tx_hash.as_str()), Some(format!("{:0>64}", "7").as_str()));
        assert!(t.is_some_and(|t| t.to.starts_with('T')
            && crate::address::tron_id(&t.to)
                == Some({
                    let mut id = [0u8; 20];
                    id[19] = 0xaa;
                    id
                })));
    }

    #[test]
    fn an_amount_beyond_u128_is_skipped_not_truncated() {
        let (Some(s), Some(l)) = (source(), log(|v| v["data"] = json!(format!("0x{}", "f".repeat(64)))))
        else {
            panic!("fixtures")
        };
        assert!(matches!(s.decode(&l, 1, 10), Ok(None)));
    }
}

//! [`TronGridSource`]: Tron through TronGrid's v1 REST API and java-tron's solidity HTTP API.
//!
//! - The head is the latest **solidified** block (`/walletsolidity/getnowblock`) and block
//!   hashes and times come from `/walletsolidity/getblockbynum`: everything this source
//!   reports is irreversible, so it never has a reorg to report.
//! - Transfers of blocks `from..=to` are read per watched address from
//!   `/v1/accounts/{address}/transactions/trc20` with `only_confirmed`, `only_to` and the two
//!   blocks' timestamps as the time window (Tron makes at most one block per 3-second slot, so
//!   the window is exactly those blocks), page after page by `fingerprint`. The next page's
//!   URL is rebuilt on the configured base with the fingerprint: `links.next` is never
//!   followed, so an answer cannot send payd (and its API key) to another host.
//! - Each item is checked (a 64-hex id, base58 addresses, the asked recipient, a decimal base
//!   unit amount, a timestamp inside the window) and a bad one fails the whole step as
//!   `Malformed`: nothing is committed. Its transaction's record
//!   (`/walletsolidity/gettransactioninfobyid`) gives the block number, the result (anything
//!   but `SUCCESS`, such as `REVERT` or `OUT_OF_ENERGY`, never credits) and the `Transfer`
//!   log; the block's transaction records give the log's index in its block. Transfers are
//!   keyed `(network, transaction id without 0x, log index in block)`, as java-tron's
//!   `/jsonrpc` numbers them, so switching between the two sources never counts one twice.
//! - HTTP 429 and 5xx, timeouts and connection failures are retried with exponential backoff
//!   (at least the `Retry-After` asked for); the API key rides in `TRON-PRO-API-KEY`, marked
//!   sensitive.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::WatchList;
use crate::address::{tron, tron_id};
use crate::source::{BlockInfo, ChainSource, SourceError};
use crate::{ObservedTransfer, TransferKey};

/// keccak256("Transfer(address,address,uint256)"), as java-tron writes topics (no `0x`).
const TRANSFER_TOPIC: &str = "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
/// TronGrid's largest page.
const PAGE_LIMIT: u32 = 200;
/// Pages read for one address and window before the answer is taken as broken.
const MAX_PAGES: usize = 1000;
/// The longest wait between two attempts, whatever `Retry-After` asks.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// How requests are made.
#[derive(Debug, Clone, Copy)]
pub struct GridSettings {
    /// Deadline for one HTTP request.
    pub timeout: Duration,
    /// Attempts per request (at least 1).
    pub attempts: u32,
    /// Wait before the first retry; doubled on each further one.
    pub backoff: Duration,
}

impl Default for GridSettings {
    fn default() -> Self {
        GridSettings { timeout: Duration::from_secs(10), attempts: 4, backoff: Duration::from_millis(500) }
    }
}

/// TronGrid's HTTP endpoint for one network: requests with the API key, retries, backoff.
pub struct GridClient {
    network: String,
    http: reqwest::Client,
    base: url::Url,
    key: Option<reqwest::header::HeaderValue>,
    settings: GridSettings,
}

impl std::fmt::Debug for GridClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither the base URL (it may carry a key) nor the key.
        f.debug_struct("GridClient").field("network", &self.network).finish_non_exhaustive()
    }
}

/// One Tron network read through TronGrid.
pub struct TronGridSource<W> {
    grid: GridClient,
    /// Accepted token contracts, base58.
    contracts: HashSet<String>,
    watch: W,
}

impl<W> std::fmt::Debug for TronGridSource<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TronGridSource").field("grid", &self.grid).finish_non_exhaustive()
    }
}

/// A failed attempt: retried, or final.
enum Fail {
    Retry(String, Option<Duration>),
    Final(SourceError),
}

impl<W: WatchList> TronGridSource<W> {
    /// A source reading `grid`, accepting the TRC-20 `contracts` (base58), watching the
    /// addresses `watch` lists.
    pub fn new(grid: GridClient, contracts: &[String], watch: W) -> Result<Self, SourceError> {
        let mut accepted = HashSet::new();
        for c in contracts {
            let id = tron_id(c).ok_or_else(|| {
                SourceError::Unavailable(format!("{}: contract {c} is not a Tron address", grid.network))
            })?;
            accepted.insert(tron(&id));
        }
        Ok(TronGridSource { grid, contracts: accepted, watch })
    }

    fn malformed(&self, what: impl std::fmt::Display) -> SourceError {
        self.grid.malformed(what)
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, SourceError> {
        self.grid.post(path, body).await
    }
}

impl GridClient {
    /// A client for `network` at `base` (`https://api.trongrid.io`), sending `api_key` as
    /// `TRON-PRO-API-KEY`.
    pub fn new(
        network: impl Into<String>,
        mut base: url::Url,
        api_key: Option<&str>,
        settings: GridSettings,
    ) -> Result<Self, SourceError> {
        let network = network.into();
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let key = api_key
            .map(|k| {
                let mut v = reqwest::header::HeaderValue::from_str(k).map_err(|_| {
                    SourceError::Unavailable(format!("{network}: the API key is not valid header text"))
                })?;
                v.set_sensitive(true);
                Ok::<_, SourceError>(v)
            })
            .transpose()?;
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SourceError::Unavailable(format!("http client: {e}")))?;
        Ok(GridClient { network, http, base, key, settings })
    }

    /// The endpoint, without credentials or path.
    pub fn redacted_url(&self) -> String {
        format!("{}://{}", self.base.scheme(), self.base.host_str().unwrap_or("?"))
    }

    fn url(&self, path: &str) -> Result<url::Url, SourceError> {
        self.base
            .join(path)
            .map_err(|_| SourceError::Unavailable(format!("{}: bad path {path}", self.network)))
    }

    fn malformed(&self, what: impl std::fmt::Display) -> SourceError {
        SourceError::Malformed(format!("{}: {what}", self.network))
    }

    /// Sends the request `make` builds, retrying transient failures.
    async fn send(
        &self,
        what: &str,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Value, SourceError> {
        let attempts = self.settings.attempts.max(1);
        let mut wait = self.settings.backoff;
        let mut last = String::new();
        for attempt in 1..=attempts {
            match self.once(what, make()).await {
                Ok(v) => return Ok(v),
                Err(Fail::Final(e)) => return Err(e),
                Err(Fail::Retry(m, asked)) => {
                    tracing::debug!(network = %self.network, attempt, error = %m, "trongrid request failed");
                    last = m;
                    if attempt < attempts {
                        tokio::time::sleep(asked.map_or(wait, |a| a.max(wait)).min(MAX_WAIT)).await;
                        wait = wait.saturating_mul(2);
                    }
                }
            }
        }
        Err(SourceError::Unavailable(format!("{}: {last}", self.network)))
    }

    async fn once(&self, what: &str, req: reqwest::RequestBuilder) -> Result<Value, Fail> {
        let req = match &self.key {
            Some(k) => req.header("TRON-PRO-API-KEY", k.clone()),
            None => req,
        };
        let res = req.send().await.map_err(|e| Fail::Retry(format!("{what}: {}", describe(&e)), None))?;
        let status = res.status();
        if status.as_u16() == 429 || status.is_server_error() {
            let asked = res
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            return Err(Fail::Retry(format!("{what}: HTTP {status}"), asked));
        }
        if !status.is_success() {
            return Err(Fail::Final(SourceError::Unavailable(format!(
                "{}: {what}: HTTP {status}",
                self.network
            ))));
        }
        let text = res.text().await.map_err(|e| Fail::Retry(format!("{what}: {}", describe(&e)), None))?;
        serde_json::from_str(&text)
            .map_err(|_| Fail::Retry(format!("{what}: not JSON ({} bytes)", text.len()), None))
    }

    /// POSTs `body` to java-tron's HTTP API at `path` (`walletsolidity/getnowblock`).
    pub async fn post(&self, path: &str, body: Value) -> Result<Value, SourceError> {
        let url = self.url(path)?;
        self.send(path, || self.http.post(url.clone()).json(&body)).await
    }

    /// The chain id as java-tron's `eth_chainId` gives it: the last four bytes of the genesis
    /// block's id.
    pub async fn chain_id(&self) -> Result<u64, SourceError> {
        let v = self.post("wallet/getblockbynum", json!({ "num": 0 })).await?;
        let id = v
            .get("blockID")
            .and_then(Value::as_str)
            .filter(|h| is_hex64(h))
            .ok_or_else(|| self.malformed("the genesis block has no blockID"))?;
        u64::from_str_radix(&id[56..], 16).map_err(|_| self.malformed("the genesis blockID is not hex"))
    }

    /// A TRC-20 contract's `decimals()`, by a constant call.
    pub async fn decimals(&self, contract: &str) -> Result<u8, SourceError> {
        let call = json!({
            "owner_address": contract, "contract_address": contract,
            "function_selector": "decimals()", "parameter": "", "visible": true
        });
        let v = self.post("wallet/triggerconstantcontract", call).await?;
        let word = v.pointer("/constant_result/0").and_then(Value::as_str).ok_or_else(|| {
            self.malformed(format!("decimals() of {contract} returned nothing (is it a TRC-20 contract?)"))
        })?;
        word_amount(word)
            .and_then(|d| u8::try_from(d).ok())
            .ok_or_else(|| self.malformed(format!("decimals() of {contract} returned {word}")))
    }

    /// One account's incoming TRC-20 transfers in a time window, every page.
    async fn history(&self, address: &str, min_ms: i64, max_ms: i64) -> Result<Vec<Value>, SourceError> {
        let path = format!("v1/accounts/{address}/transactions/trc20");
        let mut items = Vec::new();
        let mut fingerprint: Option<String> = None;
        let mut seen = HashSet::new();
        for _ in 0..MAX_PAGES {
            let mut url = self.url(&path)?;
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("only_confirmed", "true")
                    .append_pair("only_to", "true")
                    .append_pair("limit", &PAGE_LIMIT.to_string())
                    .append_pair("min_timestamp", &min_ms.to_string())
                    .append_pair("max_timestamp", &max_ms.to_string())
                    .append_pair("order_by", "block_timestamp,asc");
                if let Some(f) = &fingerprint {
                    q.append_pair("fingerprint", f);
                }
            }
            let page = self.send("trc20 history", || self.http.get(url.clone())).await?;
            if page.get("success").and_then(Value::as_bool) != Some(true) {
                return Err(self.malformed("trc20 history page without success: true"));
            }
            let data = page
                .get("data")
                .and_then(Value::as_array)
                .ok_or_else(|| self.malformed("trc20 history page without data"))?;
            items.extend(data.iter().cloned());
            // The next page is asked on the configured base; `links.next` is not followed.
            match page.pointer("/meta/fingerprint").and_then(Value::as_str).filter(|f| !f.is_empty()) {
                Some(f) if !seen.insert(f.to_owned()) => {
                    return Err(self.malformed("trc20 history fingerprint repeats"))
                }
                Some(f) => fingerprint = Some(f.to_owned()),
                None => return Ok(items),
            }
        }
        Err(self.malformed(format!("trc20 history longer than {MAX_PAGES} pages")))
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else {
        "request failed".into()
    }
}

/// A 32-byte log data word (64 hex digits) as base units, when it fits a `u128`.
fn word_amount(word: &str) -> Option<u128> {
    if !is_hex64(word) {
        return None;
    }
    let bytes = hex::decode(word).ok()?;
    u128::try_from(alloy::primitives::U256::from_be_slice(&bytes)).ok()
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What a step reads once per block: its hash and time, and its transactions' records.
#[derive(Default)]
struct Blocks {
    info: HashMap<u64, BlockInfo>,
    records: HashMap<u64, Vec<Value>>,
}

impl<W: WatchList> TronGridSource<W> {
    async fn block_once(&self, blocks: &mut Blocks, number: u64) -> Result<BlockInfo, SourceError> {
        if let Some(b) = blocks.info.get(&number) {
            return Ok(b.clone());
        }
        let b = self.block(number).await?.ok_or_else(|| {
            SourceError::Unavailable(format!("{}: block {number} is not solidified yet", self.grid.network))
        })?;
        blocks.info.insert(number, b.clone());
        Ok(b)
    }

    /// How many logs the transactions before `txid` in block `number` carry.
    async fn log_offset(&self, blocks: &mut Blocks, number: u64, txid: &str) -> Result<u64, SourceError> {
        let records = match blocks.records.entry(number) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let v = self
                    .post("walletsolidity/gettransactioninfobyblocknum", json!({ "num": number }))
                    .await?;
                let list = v.as_array().cloned().ok_or_else(|| {
                    self.malformed(format!("block {number}'s transaction records are not a list"))
                })?;
                e.insert(list)
            }
        };
        let mut offset = 0u64;
        for r in records.iter() {
            if r.get("id").and_then(Value::as_str).is_some_and(|id| id.eq_ignore_ascii_case(txid)) {
                return Ok(offset);
            }
            let logs = r.get("log").and_then(Value::as_array).map_or(0, Vec::len);
            offset = offset.saturating_add(u64::try_from(logs).unwrap_or(u64::MAX));
        }
        Err(self.malformed(format!("transaction {txid} is not among block {number}'s records")))
    }

    /// One history item as a transfer (`None`: not a transfer payd accepts, or its
    /// transaction failed).
    #[allow(clippy::too_many_arguments)]
    async fn transfer(
        &self,
        item: &Value,
        address: &str,
        (from, to): (u64, u64),
        (min_ms, max_ms): (i64, i64),
        blocks: &mut Blocks,
        used: &mut HashMap<String, usize>,
    ) -> Result<Option<ObservedTransfer>, SourceError> {
        let bad = |what: &str| self.malformed(format!("trc20 history item {what}"));
        let txid = item
            .get("transaction_id")
            .and_then(Value::as_str)
            .filter(|t| is_hex64(t))
            .map(str::to_ascii_lowercase)
            .ok_or_else(|| bad("without a 64-hex transaction_id"))?;
        if item.get("type").and_then(Value::as_str) != Some("Transfer") {
            return Ok(None); // an Approval, say
        }
        let contract = item
            .pointer("/token_info/address")
            .and_then(Value::as_str)
            .and_then(tron_id)
            .ok_or_else(|| bad("without a Tron token address"))?;
        if !self.contracts.contains(&tron(&contract)) {
            return Ok(None);
        }
        let recipient = item
            .get("to")
            .and_then(Value::as_str)
            .and_then(tron_id)
            .ok_or_else(|| bad("without a Tron `to`"))?;
        if tron(&recipient) != address {
            return Err(bad("to another address than the one asked"));
        }
        let sender = item
            .get("from")
            .and_then(Value::as_str)
            .and_then(tron_id)
            .ok_or_else(|| bad("without a Tron `from`"))?;
        let amount: u128 = item
            .get("value")
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| bad("without a base-unit amount"))?;
        let at = item
            .get("block_timestamp")
            .and_then(Value::as_i64)
            .ok_or_else(|| bad("without a block_timestamp"))?;
        if at < min_ms || at > max_ms {
            return Err(bad("outside the asked time window"));
        }

        let record = self.post("walletsolidity/gettransactioninfobyid", json!({ "value": txid })).await?;
        if record.get("id").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref()
            != Some(txid.as_str())
        {
            return Err(SourceError::Unavailable(format!(
                "{}: no solidified record of {txid} yet",
                self.grid.network
            )));
        }
        let block = record
            .get("blockNumber")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad("whose record has no blockNumber"))?;
        if block < from || block > to {
            return Err(bad("in a block outside the asked range"));
        }
        match record.pointer("/receipt/result").and_then(Value::as_str) {
            Some("SUCCESS") => {}
            Some(result) => {
                tracing::warn!(network = %self.grid.network, tx = %txid, result, "transfer of a failed transaction ignored");
                return Ok(None);
            }
            None => return Err(bad("whose record has no receipt result")),
        }
        // The matching Transfer log; a transaction paying one address twice the same amount
        // has two, taken in order by its two items.
        let contract_hex = hex::encode(contract);
        let to_word = format!("{:0>64}", hex::encode(recipient));
        let matches: Vec<usize> = record
            .get("log")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .filter(|(_, l)| {
                let topic = |i: usize| {
                    l.pointer(&format!("/topics/{i}")).and_then(Value::as_str).map(str::to_ascii_lowercase)
                };
                l.get("address")
                    .and_then(Value::as_str)
                    .is_some_and(|a| a.eq_ignore_ascii_case(&contract_hex))
                    && topic(0).as_deref() == Some(TRANSFER_TOPIC)
                    && topic(2).as_deref() == Some(to_word.as_str())
                    && l.get("data").and_then(Value::as_str).and_then(word_amount) == Some(amount)
            })
            .map(|(i, _)| i)
            .collect();
        let nth = used.entry(txid.clone()).or_insert(0);
        let in_tx =
            *matches.get(*nth).ok_or_else(|| bad("whose transaction has no matching Transfer log"))?;
        *nth += 1;
        let offset = self.log_offset(blocks, block, &txid).await?;
        let hash = self.block_once(blocks, block).await?.hash;
        Ok(Some(ObservedTransfer {
            key: TransferKey {
                network: self.grid.network.clone(),
                tx_hash: txid,
                log_index: offset.saturating_add(u64::try_from(in_tx).unwrap_or(u64::MAX)),
            },
            token_contract: tron(&contract),
            from: tron(&sender),
            to: tron(&recipient),
            amount,
            block_number: block,
            block_hash: hash,
        }))
    }
}

impl<W: WatchList> ChainSource for TronGridSource<W> {
    async fn head(&self) -> Result<u64, SourceError> {
        let v = self.post("walletsolidity/getnowblock", json!({})).await?;
        v.pointer("/block_header/raw_data/number")
            .and_then(Value::as_u64)
            .ok_or_else(|| self.malformed("the solidified head has no number"))
    }

    async fn block(&self, number: u64) -> Result<Option<BlockInfo>, SourceError> {
        let v = self.post("walletsolidity/getblockbynum", json!({ "num": number })).await?;
        if v.as_object().is_some_and(|o| o.is_empty()) {
            return Ok(None);
        }
        let bad = |what: &str| self.malformed(format!("block {number} {what}"));
        let hash = v
            .get("blockID")
            .and_then(Value::as_str)
            .filter(|h| is_hex64(h))
            .map(str::to_ascii_lowercase)
            .ok_or_else(|| bad("without a blockID"))?;
        if v.pointer("/block_header/raw_data/number").and_then(Value::as_u64) != Some(number) {
            return Err(bad("asked for, another answered"));
        }
        let ms = v
            .pointer("/block_header/raw_data/timestamp")
            .and_then(Value::as_i64)
            .ok_or_else(|| bad("without a timestamp"))?;
        let time: DateTime<Utc> =
            DateTime::from_timestamp_millis(ms).ok_or_else(|| bad("with an impossible timestamp"))?;
        Ok(Some(BlockInfo { hash, time }))
    }

    async fn transfers(&self, from: u64, to: u64) -> Result<Vec<ObservedTransfer>, SourceError> {
        let mut blocks = Blocks::default();
        let first = self.block_once(&mut blocks, from).await?;
        let last = self.block_once(&mut blocks, to).await?;
        // A millisecond wider on each side, so the window holds both blocks whether TronGrid
        // reads its bounds as inclusive or exclusive; blocks are seconds apart, so no other
        // block enters it.
        let window = (first.time.timestamp_millis() - 1, last.time.timestamp_millis() + 1);
        let mut addresses: Vec<String> =
            self.watch.addresses().await?.iter().filter_map(|a| tron_id(a)).map(|id| tron(&id)).collect();
        addresses.sort();
        addresses.dedup();
        let mut out = Vec::new();
        for address in &addresses {
            let mut used = HashMap::new();
            for item in self.grid.history(address, window.0, window.1).await? {
                if let Some(t) =
                    self.transfer(&item, address, (from, to), window, &mut blocks, &mut used).await?
                {
                    out.push(t);
                }
            }
        }
        out.sort_by_key(|t| (t.block_number, t.key.log_index));
        out.dedup_by(|a, b| a.key == b.key);
        Ok(out)
    }

    async fn finalized(&self) -> Result<Option<u64>, SourceError> {
        // The head is the solidified block already.
        self.head().await.map(Some)
    }
}

//! devnet: payd's simulated chain behind every test-mode payment, whatever network it names.
//! Its blocks and transfer log live in the database, so any process (`payd devnet pay`, the
//! test-pay endpoint) submits a transfer to the mempool and the server's block producer mines
//! it. The watcher reads devnet through [`ChainSource`] like any chain: devnet payments go
//! through the same matching, confirmation and reorg code as real ones.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use payd_core::apikey::Mode;
use payd_core::payment::Payment;
use payd_core::registry;
use payd_store::chain::{DevnetTransfer, WatchScope};
use payd_store::{Store, StoreError};

use crate::source::{BlockInfo, ChainSource, SourceError};
use crate::watcher::NetworkConfig;
use crate::{ObservedTransfer, TransferKey};

/// The network id devnet's cursor and transfers are recorded under.
pub const NETWORK: &str = "devnet";
/// The key id devnet's derivation indexes are allocated under.
pub const KEY_ID: &str = "devnet";
/// Where devnet money comes from.
pub const FAUCET: &str = "0x000000000000000000000000000000000000fa0c";

/// devnet read as a chain.
#[derive(Debug, Clone)]
pub struct Devnet {
    store: Store,
}

impl Devnet {
    /// devnet on `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

impl ChainSource for Devnet {
    async fn head(&self) -> Result<u64, SourceError> {
        let head = self.store.devnet_head().await?;
        head.map(|b| b.number).ok_or_else(|| SourceError::Unavailable("devnet has no blocks yet".into()))
    }

    async fn block(&self, number: u64) -> Result<Option<BlockInfo>, SourceError> {
        Ok(self.store.devnet_block(number).await?.map(|(hash, time)| BlockInfo { hash, time }))
    }

    async fn transfers(&self, from: u64, to: u64) -> Result<Vec<ObservedTransfer>, SourceError> {
        let mined = self.store.devnet_transfers(from, to).await?;
        mined
            .into_iter()
            .map(|t| {
                let (Some(block), Some(log_index)) = (t.block, t.log_index) else {
                    return Err(SourceError::Malformed("an unmined devnet transfer".into()));
                };
                Ok(ObservedTransfer {
                    key: TransferKey { network: NETWORK.into(), tx_hash: t.tx_hash, log_index },
                    token_contract: t.token,
                    from: t.from,
                    to: t.to,
                    amount: t.amount,
                    block_number: block.number,
                    block_hash: block.hash,
                })
            })
            .collect()
    }
}

/// The watcher settings for devnet: every test-mode payment, every transfer recorded, its
/// tokens by ticker.
pub fn network_config(monitoring_window: Duration) -> NetworkConfig {
    let tokens: HashMap<String, String> = registry::TOKENS
        .iter()
        .filter(|t| t.network == NETWORK)
        .map(|t| (t.symbol.to_owned(), t.symbol.to_owned()))
        .collect();
    NetworkConfig {
        network: NETWORK.into(),
        scope: WatchScope::Test,
        confirmations: registry::network(NETWORK).map_or(1, |n| n.confirmations),
        max_range: 500,
        keep_blocks: 128,
        monitoring_window,
        record_unknown: true,
        tokens,
        start_block: Some(0),
    }
}

/// A random 32-byte hash in `0x` hex (block and transaction hashes).
pub fn random_hash() -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| StoreError::Corrupt(format!("random source: {e}")))?;
    Ok(format!("0x{}", hex::encode(bytes)))
}

/// Mines the next block; `None` when another producer mined that number first.
pub async fn produce_block(store: &Store, now: DateTime<Utc>) -> Result<Option<u64>, StoreError> {
    match store.devnet_produce_block(&random_hash()?, now).await {
        Ok(n) => Ok(Some(n)),
        Err(StoreError::Conflict(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Replaces the last `depth` blocks with new empty ones (a reorg). Their transfers return to
/// the mempool, so the next block re-mines them under the same hashes, or are dropped.
/// Returns the fork point.
pub async fn reorg(
    store: &Store,
    depth: u64,
    drop_transfers: bool,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let hashes = (0..depth).map(|_| random_hash()).collect::<Result<Vec<_>, _>>()?;
    store.devnet_reorg(&hashes, drop_transfers, now).await
}

/// The most whole tokens one devnet transfer may carry (a trillion: USDT, the largest
/// stablecoin, has about a hundred and fifty billion in circulation).
pub const MAX_WHOLE_TOKENS: u128 = 1_000_000_000_000;

/// Why a devnet payment could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum PayError {
    /// Only test-mode payments live on devnet.
    #[error("only test-mode payments can be paid on devnet")]
    LiveMode,
    /// No asset or address yet: nothing to pay to.
    #[error("the payment has no deposit address yet (pick a token and network first)")]
    NoAddress,
    /// The default amount (what is still due) is zero.
    #[error("nothing is left to pay; give an amount to pay more")]
    NothingDue,
    /// Zero is not a transfer.
    #[error("the amount must be greater than zero")]
    ZeroAmount,
    /// More than any stablecoin's whole supply: no real transfer looks like this.
    #[error("the amount is above {MAX_WHOLE_TOKENS} whole tokens, more than any stablecoin in existence")]
    AbsurdAmount,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Sends a devnet transfer of `amount` base units (default: what is still due) to a test
/// payment's address. The next block mines it; the watcher credits it.
pub async fn pay(
    store: &Store,
    payment: &Payment,
    amount: Option<u128>,
    now: DateTime<Utc>,
) -> Result<DevnetTransfer, PayError> {
    if payment.mode != Mode::Test {
        return Err(PayError::LiveMode);
    }
    let asset = payment.asset.as_ref().ok_or(PayError::NoAddress)?;
    let to = asset.address.clone().ok_or(PayError::NoAddress)?;
    let cap =
        10u128.checked_pow(u32::from(asset.decimals)).and_then(|unit| unit.checked_mul(MAX_WHOLE_TOKENS));
    let amount = match amount {
        Some(0) => return Err(PayError::ZeroAmount),
        Some(a) if cap.is_none_or(|cap| a > cap) => return Err(PayError::AbsurdAmount),
        Some(a) => a,
        None => match asset.amount_due.saturating_sub(payment.funds.total()) {
            0 => return Err(PayError::NothingDue),
            a => a,
        },
    };
    let transfer = DevnetTransfer {
        tx_hash: random_hash()?,
        token: asset.token.clone(),
        from: FAUCET.into(),
        to,
        amount,
        block: None,
        log_index: None,
    };
    store.devnet_submit(&transfer, now).await?;
    Ok(transfer)
}

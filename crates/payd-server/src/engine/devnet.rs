//! devnet, the simulated chain behind every test-mode payment, as the engine drives it: its
//! blocks and transfer log live in the database, so any process (`payd devnet pay`, the
//! test-pay endpoint) submits a transfer to the mempool and the server's block producer mines
//! it. [`Devnet`] reads it as a [`ChainSource`], so devnet payments go through the same
//! crediting ([`super::credit`]), confirmation and reorg code as real ones.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use payd_chain::devnet::random_hash;
// What is fixed about devnet, named here too for its callers.
pub use payd_chain::devnet::{FAUCET, KEY_ID, MAX_WHOLE_TOKENS, NETWORK};
use payd_chain::source::{BlockInfo, ChainSource, SourceError};
use payd_chain::{ObservedTransfer, TransferKey};
use payd_core::apikey::Mode;
use payd_core::chain::DevnetTransfer;
use payd_core::payment::Payment;
use payd_core::registry::{self, Family};
use payd_store::chain::WatchScope;
use payd_store::{Store, StoreError};

use super::credit::NetworkConfig;

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

fn backend(e: StoreError) -> SourceError {
    SourceError::Backend(Box::new(e))
}

impl ChainSource for Devnet {
    async fn head(&self) -> Result<u64, SourceError> {
        let head = self.store.devnet_head().await.map_err(backend)?;
        head.map(|b| b.number).ok_or(SourceError::Empty)
    }

    async fn block(&self, number: u64) -> Result<Option<BlockInfo>, SourceError> {
        Ok(self
            .store
            .devnet_block(number)
            .await
            .map_err(backend)?
            .map(|(hash, time)| BlockInfo { hash, time }))
    }

    async fn transfers(&self, from: u64, to: u64) -> Result<Vec<ObservedTransfer>, SourceError> {
        let mined = self.store.devnet_transfers(from, to).await.map_err(backend)?;
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
        family: Family::Devnet,
        scope: WatchScope::Test,
        confirmations: registry::network(NETWORK).map_or(1, |n| n.confirmations),
        finality: crate::config::networks::Finality::Depth,
        max_range: 500,
        keep_blocks: 128,
        monitoring_window,
        record_unknown: true,
        tokens,
        start_block: Some(0),
    }
}

fn hash() -> Result<String, StoreError> {
    random_hash().map_err(|e| StoreError::Corrupt(format!("random source: {e}")))
}

/// Mines the next block; `None` when another producer mined that number first.
pub async fn produce_block(store: &Store, now: DateTime<Utc>) -> Result<Option<u64>, StoreError> {
    match store.devnet_produce_block(&hash()?, now).await {
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
    let hashes = (0..depth).map(|_| hash()).collect::<Result<Vec<_>, _>>()?;
    store.devnet_reorg(&hashes, drop_transfers, now).await
}

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
        tx_hash: hash()?,
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

/// Pays what is still due on every pending test payment created before `created_before`
/// that has an address and nothing sent to it yet (devnet's auto-pay), up to `limit` of
/// them; returns how many transfers were sent. One that cannot be paid any more (it changed
/// meanwhile) is skipped with a warning.
pub async fn autopay_due(
    store: &Store,
    created_before: DateTime<Utc>,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut sent = 0;
    for id in store.devnet_autopay_due(created_before, limit).await? {
        let Some(payment) = store.get_payment(&id).await? else { continue };
        match pay(store, &payment, None, now).await {
            Ok(t) => {
                sent += 1;
                tracing::info!(payment = %id, tx = %t.tx_hash, "devnet auto-pay sent");
            }
            Err(e) => tracing::warn!(payment = %id, error = %e, "devnet auto-pay skipped"),
        }
    }
    Ok(sent)
}

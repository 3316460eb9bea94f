//! The watcher step: one call of [`scan_once`] checks the chain for a reorg (stored block
//! hashes against the canonical ones), or scans the next bounded block range, matches
//! recipients against an in-memory index of watched addresses, and commits transfers,
//! confirmations, payment transitions, events and the cursor in one transaction. The worker
//! loop calls it on a timer; tests call it directly.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use payd_core::ids::PaymentId;
use payd_store::chain::{BlockRef, NewTransfer, ScanCommit, WatchScope, WatchedPayment};
use payd_store::{Store, StoreError};

use crate::address::{eip55, normalize};

/// The family of the derived addresses a live EVM watcher also recognises.
const DERIVED_FAMILY: &str = "evm";
use crate::source::{ChainSource, SourceError};
use crate::ObservedTransfer;

/// How one network is watched.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    /// Canonical network id (the cursor's key).
    pub network: String,
    /// Which payments this watcher credits.
    pub scope: WatchScope,
    /// Depth at which unattributed transfers count as confirmed (payments carry their own).
    pub confirmations: u32,
    /// Most blocks fetched per step (providers limit log ranges).
    pub max_range: u64,
    /// How many recent block hashes to keep for reorg detection (more than any reorg).
    pub keep_blocks: u64,
    /// How long after its expiry a payment's address still credits it (late money).
    pub monitoring_window: Duration,
    /// Record transfers to addresses payd does not watch, unattributed (devnet: every
    /// transfer on it is payd's business; real chains: no).
    pub record_unknown: bool,
    /// Accepted token contracts (normalized) → ticker. Transfers of other tokens are ignored,
    /// so a fake token with a real ticker never credits anything.
    pub tokens: HashMap<String, String>,
    /// Where a network with no cursor starts; `None`: at the head.
    pub start_block: Option<u64>,
}

/// What a step did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanReport {
    /// The chain head seen.
    pub head: u64,
    /// The cursor after the step.
    pub cursor: Option<u64>,
    /// A reorg was found and undone back to this block.
    pub reorg_to: Option<u64>,
    /// Transfers recorded (new or re-mined).
    pub recorded: usize,
    /// Transfers orphaned.
    pub orphaned: usize,
    /// Payment events written.
    pub events: usize,
    /// Another scanner moved the cursor first; this step changed nothing.
    pub raced: bool,
}

/// A step failed; nothing was committed.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// Reading the chain failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// Writing failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The chain changed while the step read it (a block's hash differed between calls).
    #[error("the chain changed during the scan at block {0}")]
    Unstable(u64),
}

/// The watched addresses, for O(1) matching of each transfer's recipient.
#[derive(Debug, Default)]
pub struct WatchIndex {
    by_address: HashMap<String, WatchedPayment>,
    /// Those of the step's other recipients that payd derived (live scope): money sent to
    /// one of them on a network its payment is not on (a customer's wrong-network payment) is
    /// recorded unattributed.
    derived: HashSet<String>,
}

impl WatchIndex {
    /// Loads the payments of `scope` (one query, not one per transfer). A reused client
    /// address maps to its newest payment. On a live network, those of `recipients` that no
    /// payment claims are looked up among payd's derived addresses in one more query (only
    /// this step's, never the whole ever-growing table).
    pub async fn load<'a>(
        store: &Store,
        scope: &WatchScope,
        recipients: impl IntoIterator<Item = &'a str>,
    ) -> Result<WatchIndex, StoreError> {
        let by_address: HashMap<String, WatchedPayment> =
            store.watched_payments(scope).await?.into_iter().map(|w| (normalize(&w.address), w)).collect();
        let derived = match scope {
            WatchScope::Live(_) => {
                // Stored as derived: EIP-55 mixed case.
                let others: HashSet<String> = recipients
                    .into_iter()
                    .map(normalize)
                    .filter(|a| !by_address.contains_key(a))
                    .filter_map(|a| <[u8; 20]>::try_from(hex::decode(a.strip_prefix("0x")?).ok()?).ok())
                    .map(|id| eip55(&id))
                    .collect();
                let others: Vec<String> = others.into_iter().collect();
                store.derived_among(DERIVED_FAMILY, &others).await?.iter().map(|a| normalize(a)).collect()
            }
            WatchScope::Test => HashSet::new(),
        };
        Ok(WatchIndex { by_address, derived })
    }

    /// How many addresses are watched.
    pub fn len(&self) -> usize {
        self.by_address.len()
    }

    /// Whether nothing is watched.
    pub fn is_empty(&self) -> bool {
        self.by_address.is_empty()
    }

    /// `Some(Some(payment))`: credit it; `Some(None)`: a watched address, but the token is
    /// not the payment's or its monitoring window has passed, or an address payd derived for a
    /// payment on another network (record unattributed); `None`: not payd's address.
    fn attribute(
        &self,
        to: &str,
        ticker: &str,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Option<Option<PaymentId>> {
        let to = normalize(to);
        let Some(w) = self.by_address.get(&to) else {
            return self.derived.contains(&to).then_some(None);
        };
        let in_window = now <= w.expires_at.checked_add_signed(window).unwrap_or(w.expires_at);
        Some((w.token == ticker && in_window).then(|| w.payment_id.clone()))
    }
}

/// One watcher step on one network. Returns what it did; on error nothing was committed and
/// the caller retries later.
pub async fn scan_once<S: ChainSource>(
    store: &Store,
    source: &S,
    cfg: &NetworkConfig,
    now: DateTime<Utc>,
) -> Result<ScanReport, WatchError> {
    let head = source.head().await?;
    let cursor = store.chain_cursor(&cfg.network).await?;
    let mut report = ScanReport { head, cursor: cursor.as_ref().map(|c| c.number), ..ScanReport::default() };

    if let Some(cursor) = &cursor {
        if source.block_hash(cursor.number).await?.as_deref() != Some(cursor.hash.as_str()) {
            return rollback(store, source, cfg, cursor, head, now, report).await;
        }
    }
    let from = match &cursor {
        Some(c) => c.number.saturating_add(1),
        None => cfg.start_block.unwrap_or(head),
    };
    if from > head {
        return Ok(report);
    }
    let to = head.min(from.saturating_add(cfg.max_range.max(1)) - 1);

    // Hashes of the blocks kept for reorg detection (the tail of the range).
    let mut blocks = Vec::new();
    for number in to.saturating_sub(cfg.keep_blocks.saturating_sub(1)).max(from)..=to {
        let hash = source.block_hash(number).await?.ok_or(WatchError::Unstable(number))?;
        blocks.push(BlockRef { number, hash });
    }
    let tip = blocks.last().cloned().ok_or(WatchError::Unstable(to))?;

    let observed = source.transfers(from, to).await?;
    let accepted = observed.iter().filter(|t| cfg.tokens.contains_key(&normalize(&t.token_contract)));
    let index = WatchIndex::load(store, &cfg.scope, accepted.map(|t| t.to.as_str())).await?;
    let mut transfers = Vec::new();
    for t in observed {
        if let Some(b) = blocks.iter().find(|b| b.number == t.block_number) {
            if b.hash != t.block_hash {
                return Err(WatchError::Unstable(t.block_number));
            }
        }
        if t.block_number < from || t.block_number > to {
            return Err(SourceError::Malformed(format!(
                "transfer in block {} outside the range",
                t.block_number
            ))
            .into());
        }
        let Some(ticker) = cfg.tokens.get(&normalize(&t.token_contract)) else { continue };
        let payment_id = match index.attribute(&t.to, ticker, now, cfg.monitoring_window) {
            Some(p) => p,
            None if cfg.record_unknown => None,
            None => continue,
        };
        transfers.push(new_transfer(t, payment_id));
    }

    let commit = ScanCommit {
        network: cfg.network.clone(),
        expected: cursor,
        cursor: tip,
        blocks,
        transfers,
        head,
        confirmations: cfg.confirmations,
        keep_blocks: cfg.keep_blocks,
        now,
    };
    match store.commit_scan(&commit).await {
        Ok(change) => {
            report.cursor = Some(to);
            report.recorded = change.recorded;
            report.events = change.events.len();
            Ok(report)
        }
        Err(StoreError::Conflict("chain_cursor")) => Ok(ScanReport { raced: true, ..report }),
        Err(e) => Err(e.into()),
    }
}

fn new_transfer(t: ObservedTransfer, payment_id: Option<PaymentId>) -> NewTransfer {
    NewTransfer {
        network: t.key.network,
        tx_hash: t.key.tx_hash,
        log_index: t.key.log_index,
        token: t.token_contract,
        from: t.from,
        to: t.to,
        amount: t.amount,
        block: BlockRef { number: t.block_number, hash: t.block_hash },
        payment_id,
    }
}

/// The cursor's block is no longer canonical: walk the stored hashes back to the newest one
/// the chain still has (the fork point) and undo everything above it.
async fn rollback<S: ChainSource>(
    store: &Store,
    source: &S,
    cfg: &NetworkConfig,
    cursor: &BlockRef,
    head: u64,
    now: DateTime<Utc>,
    mut report: ScanReport,
) -> Result<ScanReport, WatchError> {
    let keep = u32::try_from(cfg.keep_blocks).unwrap_or(u32::MAX);
    let recent = store.recent_blocks(&cfg.network, keep).await?;
    let mut fork = None;
    for b in &recent {
        if source.block_hash(b.number).await?.as_deref() == Some(b.hash.as_str()) {
            fork = Some(b.clone());
            break;
        }
    }
    let fork = match fork {
        Some(f) => f,
        None => {
            // Deeper than the hashes kept: restart below the oldest one we knew.
            let number = recent.last().map_or(cursor.number, |b| b.number).saturating_sub(1);
            tracing::error!(network = %cfg.network, number, "reorg deeper than the stored block hashes");
            let hash = source.block_hash(number).await?.ok_or(WatchError::Unstable(number))?;
            BlockRef { number, hash }
        }
    };
    tracing::warn!(network = %cfg.network, from = cursor.number, to = fork.number, "reorg: rolling back");
    match store.rollback_chain(&cfg.network, cursor, &fork, head, now).await {
        Ok(change) => {
            report.reorg_to = Some(fork.number);
            report.cursor = Some(fork.number);
            report.orphaned = change.orphaned;
            report.events = change.events.len();
            Ok(report)
        }
        Err(StoreError::Conflict("chain_cursor")) => Ok(ScanReport { raced: true, ..report }),
        Err(e) => Err(e.into()),
    }
}

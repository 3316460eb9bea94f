//! Crediting: the watcher step and its address index. One call of [`scan_once`] reads a
//! [`ChainSource`] (any family, or devnet) and checks it for a reorg (stored block hashes
//! against the canonical ones), or scans the next bounded block range, matches recipients
//! against the payments of the step's recipients ([`WatchIndex`]), drops the transfers of
//! transactions the source reports failed, and commits transfers, confirmations (by depth,
//! and under a finality policy also against the chain's finalized block), payment
//! transitions, events and the cursor in one store transaction. The chain worker calls it on
//! a timer; tests call it directly.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use payd_chain::family::{match_key, stored_form};
use payd_chain::source::{ChainSource, SourceError};
use payd_chain::ObservedTransfer;
use payd_core::chain::{BlockRef, NewTransfer};
use payd_core::ids::PaymentId;
use payd_core::registry::Family;
use payd_store::chain::{ScanCommit, WatchScope, WatchedPayment};
use payd_store::{Store, StoreError};

use crate::config::networks::{EvmNetwork, Finality};

/// How one network is watched.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    /// Canonical network id (the cursor's key).
    pub network: String,
    /// Its chain family: how its addresses are written (devnet: [`Family::Devnet`]).
    pub family: Family,
    /// Which payments this watcher credits.
    pub scope: WatchScope,
    /// Depth at which unattributed transfers count as confirmed (payments carry their own).
    pub confirmations: u32,
    /// Whether a transfer must also be at or below the chain's finalized (Tron: solidified)
    /// block to count as confirmed.
    pub finality: Finality,
    /// Most blocks fetched per step (providers limit log ranges).
    pub max_range: u64,
    /// How many recent block hashes to keep for reorg detection (more than any reorg).
    pub keep_blocks: u64,
    /// How long after its expiry a payment's address still credits it (late money).
    pub monitoring_window: Duration,
    /// Record transfers to addresses payd does not watch, unattributed (devnet: every
    /// transfer on it is payd's business; real chains: no).
    pub record_unknown: bool,
    /// Accepted token contracts (as `match_key` writes them) → ticker. Transfers of other tokens are ignored,
    /// so a fake token with a real ticker never credits anything.
    pub tokens: HashMap<String, String>,
    /// Where a network with no cursor starts; `None`: at the head.
    pub start_block: Option<u64>,
}

impl NetworkConfig {
    /// The watcher settings of a configured network: live payments on it, its accepted
    /// contracts.
    pub fn live(net: &EvmNetwork, monitoring_window: Duration) -> NetworkConfig {
        NetworkConfig {
            network: net.name.clone(),
            family: net.family,
            scope: WatchScope::Live(net.name.clone()),
            confirmations: net.confirmations,
            finality: net.finality,
            max_range: net.block_range,
            // More than any reorg payd should survive, and than the confirmation depth.
            keep_blocks: u64::from(net.confirmations).saturating_add(64).max(128),
            monitoring_window,
            // A real chain carries everyone's transfers: only payd's addresses are its business.
            record_unknown: false,
            // Keyed as the source writes contracts (`0x…`, or `T…` on Tron).
            tokens: net.tokens.iter().map(|t| (match_key(&net.contract_text(t)), t.symbol.clone())).collect(),
            start_block: net.start_block,
        }
    }
}

/// The addresses of the payments a watcher serves, for a source that reads per address
/// (TronGrid): the same payments [`WatchIndex::load`] matches against.
#[derive(Debug, Clone)]
pub struct WatchedAddresses {
    store: Store,
    scope: WatchScope,
    window: Duration,
}

impl WatchedAddresses {
    /// The addresses of `scope`'s payments in `store` that a transfer can still credit, under
    /// the monitoring `window`.
    pub fn new(store: Store, scope: WatchScope, window: Duration) -> Self {
        WatchedAddresses { store, scope, window }
    }
}

impl payd_chain::tron::WatchList for WatchedAddresses {
    async fn addresses(&self) -> Result<Vec<String>, SourceError> {
        let backend = |e: StoreError| SourceError::Backend(Box::new(e));
        // From the chain time the watcher has reached (its cursor block), as the step does:
        // a watcher catching up still asks for the payments its older blocks can credit.
        let reached = match &self.scope {
            WatchScope::Live(network) => self.store.chain_cursor_time(network).await.map_err(backend)?,
            WatchScope::Test => None,
        };
        let at = reached.unwrap_or_else(payd_store::now);
        let from = at.checked_sub_signed(self.window).unwrap_or(at);
        let watched = self.store.watched_payments(&self.scope, from).await.map_err(backend)?;
        Ok(watched.into_iter().map(|w| w.address).collect())
    }
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
    /// When the block at the cursor was made (the chain time the watcher has reached).
    pub cursor_time: Option<DateTime<Utc>>,
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

/// The payments the recipients of one step's transfers belong to, for O(1) matching of each
/// transfer's recipient.
///
/// Built per step from the database, for those recipients only: one indexed lookup of the
/// addresses the step read (chunked), whatever the number of payments open or ever created.
/// No watched set is kept between steps, so none can go stale: a payment created on another
/// node a moment ago, or whose asset the customer just switched, is found by the next step
/// that sees money sent to it, and a lease taken over needs no reload.
#[derive(Debug, Default)]
pub struct WatchIndex {
    by_address: HashMap<String, WatchedPayment>,
    /// Those of the step's recipients that are deposit addresses of payments in the scope's
    /// mode on another network, with why they credit nothing (recorded unattributed).
    elsewhere: HashMap<String, &'static str>,
}

impl WatchIndex {
    /// Looks `recipients` up (as each family stores its addresses; devnet backs test payments
    /// of every family, so both forms are tried): an address's newest payment on this scope's
    /// network is the one a transfer to it may credit (whether it still can — token, monitoring
    /// window — is [`Self::attribute`]'s call, on the block's time); an address whose
    /// payments are all on other networks is recorded unattributed, since money sent to it is
    /// payd's business even when it credits nothing.
    pub async fn load<'a>(
        store: &Store,
        family: Family,
        scope: &WatchScope,
        recipients: impl IntoIterator<Item = &'a str>,
    ) -> Result<WatchIndex, StoreError> {
        let asked: HashSet<String> = recipients
            .into_iter()
            .filter_map(|a| match family {
                Family::Devnet => stored_form(Family::Evm, a).or_else(|| stored_form(Family::Tron, a)),
                f => stored_form(f, a),
            })
            .collect();
        let asked: Vec<String> = asked.into_iter().collect();
        let mut index = WatchIndex::default();
        for (w, network) in store.payments_at_addresses(scope, &asked).await? {
            match scope {
                WatchScope::Live(this) if *this != network => {
                    index.elsewhere.insert(
                        match_key(&w.address),
                        "sent to a payd address of a payment on another network",
                    );
                }
                _ => {
                    index.by_address.insert(match_key(&w.address), w);
                }
            }
        }
        Ok(index)
    }

    /// An index of the given payments (benchmarks and tests of matching).
    pub fn of(payments: impl IntoIterator<Item = WatchedPayment>) -> WatchIndex {
        WatchIndex {
            by_address: payments.into_iter().map(|w| (match_key(&w.address), w)).collect(),
            elsewhere: HashMap::new(),
        }
    }

    /// How many addresses are watched.
    pub fn len(&self) -> usize {
        self.by_address.len()
    }

    /// Whether nothing is watched.
    pub fn is_empty(&self) -> bool {
        self.by_address.is_empty()
    }

    /// What to do with a transfer of `ticker` to `to` carried by a block made at
    /// `block_time`: credit a payment, record it unattributed with the reason, or ignore it
    /// (not payd's address). The monitoring window is measured on the chain's clock, so a
    /// watcher catching up after downtime credits what was on time.
    pub fn attribute(
        &self,
        to: &str,
        ticker: &str,
        block_time: DateTime<Utc>,
        window: Duration,
    ) -> Attribution {
        let to = match_key(to);
        let Some(w) = self.by_address.get(&to) else {
            return match self.elsewhere.get(&to) {
                Some(why) => Attribution::Unattributed(why),
                None => Attribution::Ignore,
            };
        };
        if w.token != ticker {
            return Attribution::Unattributed("a token other than the payment's");
        }
        if block_time > w.expires_at.checked_add_signed(window).unwrap_or(w.expires_at) {
            return Attribution::Unattributed("after the payment's monitoring window");
        }
        Attribution::Credit(w.payment_id.clone())
    }
}

/// What a watcher does with one observed transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribution {
    /// It pays this payment.
    Credit(PaymentId),
    /// It is payd's business but credits nothing: recorded for the operator, with why.
    Unattributed(&'static str),
    /// Not payd's address.
    Ignore,
}

/// The timestamps of the blocks a step has read, fetched once each.
struct BlockTimes(HashMap<u64, DateTime<Utc>>);

impl BlockTimes {
    async fn get<S: ChainSource>(
        &mut self,
        source: &S,
        number: u64,
        hash: &str,
    ) -> Result<DateTime<Utc>, WatchError> {
        if let Some(t) = self.0.get(&number) {
            return Ok(*t);
        }
        let block = source.block(number).await?.ok_or(WatchError::Unstable(number))?;
        if block.hash != hash {
            return Err(WatchError::Unstable(number));
        }
        self.0.insert(number, block.time);
        Ok(block.time)
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
    let finalized = match cfg.finality {
        // Read after the head, so never above it but for a node that moved meanwhile.
        Finality::Finalized => source.finalized().await?.map(|f| f.min(head)),
        Finality::Depth => None,
    };
    let cursor = store.chain_cursor(&cfg.network).await?;
    let mut report = ScanReport { head, cursor: cursor.as_ref().map(|c| c.number), ..ScanReport::default() };

    // The cursor's block must still be canonical, else the step undoes what lies above the
    // fork first.
    if let Some(cursor) = &cursor {
        match source.block(cursor.number).await? {
            Some(b) if b.hash == cursor.hash => report.cursor_time = Some(b.time),
            _ => return rollback(store, source, cfg, cursor, (head, finalized), now, report).await,
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

    // Hashes of the blocks kept for reorg detection (the tail of the range), and their times.
    let mut blocks = Vec::new();
    let mut times = BlockTimes(HashMap::new());
    for number in to.saturating_sub(cfg.keep_blocks.saturating_sub(1)).max(from)..=to {
        let block = source.block(number).await?.ok_or(WatchError::Unstable(number))?;
        times.0.insert(number, block.time);
        blocks.push(BlockRef { number, hash: block.hash });
    }
    let tip = blocks.last().cloned().ok_or(WatchError::Unstable(to))?;
    let tip_time = times.0.get(&tip.number).copied().ok_or(WatchError::Unstable(to))?;

    let observed = source.transfers(from, to).await?;
    let accepted = observed.iter().filter(|t| cfg.tokens.contains_key(&match_key(&t.token_contract)));
    let index = WatchIndex::load(store, cfg.family, &cfg.scope, accepted.map(|t| t.to.as_str())).await?;
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
        let Some(ticker) = cfg.tokens.get(&match_key(&t.token_contract)) else { continue };
        // Only the blocks of transfers to payd's addresses need their time read.
        if !index.by_address.contains_key(&match_key(&t.to))
            && !index.elsewhere.contains_key(&match_key(&t.to))
            && !cfg.record_unknown
        {
            continue;
        }
        let block_time = times.get(source, t.block_number, &t.block_hash).await?;
        let (payment_id, note) = match index.attribute(&t.to, ticker, block_time, cfg.monitoring_window) {
            Attribution::Credit(p) => (Some(p), None),
            Attribution::Unattributed(why) => (None, Some(why.to_owned())),
            Attribution::Ignore if cfg.record_unknown => {
                (None, Some("not an address of a payd payment".to_owned()))
            }
            Attribution::Ignore => continue,
        };
        transfers.push(new_transfer(t, block_time, payment_id, note));
    }
    // Only what is about to be recorded is checked: one lookup per transaction of payd's.
    let mut hashes: Vec<String> = transfers.iter().map(|t| t.tx_hash.clone()).collect();
    hashes.dedup();
    if !hashes.is_empty() {
        let failed = source.failed(&hashes).await?;
        if !failed.is_empty() {
            transfers.retain(|t| {
                let keep = !failed.contains(&t.tx_hash);
                if !keep {
                    tracing::warn!(network = %cfg.network, tx = %t.tx_hash, to = %t.to, "transfer of a failed transaction ignored");
                }
                keep
            });
        }
    }

    let commit = ScanCommit {
        network: cfg.network.clone(),
        expected: cursor,
        cursor: tip,
        cursor_time: tip_time,
        blocks,
        transfers,
        head,
        finalized,
        confirmations: cfg.confirmations,
        keep_blocks: cfg.keep_blocks,
        now,
    };
    match store.commit_scan(&commit).await {
        Ok(change) => {
            report.cursor = Some(to);
            report.cursor_time = Some(tip_time);
            report.recorded = change.recorded;
            report.events = change.events.len();
            Ok(report)
        }
        Err(StoreError::Conflict("chain_cursor")) => Ok(ScanReport { raced: true, ..report }),
        Err(e) => Err(e.into()),
    }
}

fn new_transfer(
    t: ObservedTransfer,
    block_time: DateTime<Utc>,
    payment_id: Option<PaymentId>,
    note: Option<String>,
) -> NewTransfer {
    NewTransfer {
        network: t.key.network,
        tx_hash: t.key.tx_hash,
        log_index: t.key.log_index,
        token: t.token_contract,
        from: t.from,
        to: t.to,
        amount: t.amount,
        block: BlockRef { number: t.block_number, hash: t.block_hash },
        block_time,
        payment_id,
        note,
    }
}

/// The cursor's block is no longer canonical: walk the stored hashes back to the newest one
/// the chain still has (the fork point) and undo everything above it.
async fn rollback<S: ChainSource>(
    store: &Store,
    source: &S,
    cfg: &NetworkConfig,
    cursor: &BlockRef,
    (head, finalized): (u64, Option<u64>),
    now: DateTime<Utc>,
    mut report: ScanReport,
) -> Result<ScanReport, WatchError> {
    let keep = u32::try_from(cfg.keep_blocks).unwrap_or(u32::MAX);
    let recent = store.recent_blocks(&cfg.network, keep).await?;
    let mut fork = None;
    for b in &recent {
        if let Some(block) = source.block(b.number).await? {
            if block.hash == b.hash {
                fork = Some((b.clone(), block.time));
                break;
            }
        }
    }
    let (fork, fork_time) = match fork {
        Some(f) => f,
        None => {
            // Deeper than the hashes kept: restart below the oldest one we knew.
            let number = recent.last().map_or(cursor.number, |b| b.number).saturating_sub(1);
            tracing::error!(network = %cfg.network, number, "reorg deeper than the stored block hashes");
            let block = source.block(number).await?.ok_or(WatchError::Unstable(number))?;
            (BlockRef { number, hash: block.hash }, block.time)
        }
    };
    tracing::warn!(network = %cfg.network, from = cursor.number, to = fork.number, "reorg: rolling back");
    match store.rollback_chain(&cfg.network, cursor, &fork, fork_time, head, finalized, now).await {
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

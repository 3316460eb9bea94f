//! Storage for the chain engine: deposit addresses and their index allocation, watcher
//! cursors and recent block hashes, observed transfers, and devnet's own chain. The queries
//! are in `ops_chain.rs`, compiled for each backend like `ops.rs`.
//!
//! The one transaction rule: recording transfers, recomputing each affected payment's funds,
//! its transition and events, and moving the cursor commit together ([`Store::commit_scan`],
//! [`Store::rollback_chain`]). A cursor that moved since it was read makes the commit fail
//! with `Conflict("chain_cursor")` and change nothing, so two scanners never credit twice.

use chrono::{DateTime, Utc};
use payd_core::event::Event;
use payd_core::ids::{MerchantId, PaymentId};

// The chain's domain values are payd-core's; they are named here too because the store's API
// takes and returns them.
pub use payd_core::chain::{BlockRef, DevnetTransfer, NewTransfer, StoredTransfer, TransferStatus};

use crate::{postgres, sqlite, Store, StoreError};

/// One watcher step's result, to commit atomically.
#[derive(Debug, Clone)]
pub struct ScanCommit {
    /// Network.
    pub network: String,
    /// The cursor the step started from (`None`: the first step on this network).
    pub expected: Option<BlockRef>,
    /// The new cursor.
    pub cursor: BlockRef,
    /// The timestamp of the cursor's block: once it is past a payment's expiry, the sweeper
    /// may expire that payment.
    pub cursor_time: DateTime<Utc>,
    /// Hashes of the blocks scanned (kept for reorg detection).
    pub blocks: Vec<BlockRef>,
    /// Matched transfers.
    pub transfers: Vec<NewTransfer>,
    /// Chain head: confirmations are counted against it.
    pub head: u64,
    /// The chain's finalized (Tron: solidified) block, where the network's policy asks for
    /// finality: a transfer above it stays unconfirmed whatever its depth.
    pub finalized: Option<u64>,
    /// Confirmation depth for unattributed transfers.
    pub confirmations: u32,
    /// How many recent block hashes to keep.
    pub keep_blocks: u64,
    /// Commit time.
    pub now: DateTime<Utc>,
}

/// What a commit changed.
#[derive(Debug, Clone, Default)]
pub struct ChainChange {
    /// Transfers newly recorded (or re-credited after a reorg).
    pub recorded: usize,
    /// Transfers orphaned by a rollback.
    pub orphaned: usize,
    /// Payment events written.
    pub events: Vec<Event>,
}

/// Which payments a watcher serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchScope {
    /// Every test-mode payment (devnet backs them all).
    Test,
    /// Live payments on this network.
    Live(String),
}

/// A payment with a deposit address, as a watcher's index holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedPayment {
    /// Payment.
    pub payment_id: PaymentId,
    /// Its deposit address (as stored).
    pub address: String,
    /// Its token's ticker.
    pub token: String,
    /// Its expiry.
    pub expires_at: DateTime<Utc>,
}

/// An address derived for a payment or a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDepositAddress {
    /// The address.
    pub address: String,
    /// Family (`evm`, `tron`, `devnet`).
    pub family: String,
    /// Which extended public key it was derived from.
    pub key_id: String,
    /// Child index.
    pub index: u64,
    /// Merchant.
    pub merchant_id: MerchantId,
    /// Payment it was made for.
    pub payment_id: Option<PaymentId>,
    /// AlpPay client it belongs to.
    pub client_id: Option<String>,
}

impl Store {
    /// Takes the next derivation index of `key_id` (0, 1, 2, …), atomically.
    pub async fn allocate_address_index(&self, key_id: &str) -> Result<u64, StoreError> {
        dispatch!(self, allocate_address_index(key_id))
    }

    /// Records a derived address.
    pub async fn insert_deposit_address(
        &self,
        a: &NewDepositAddress,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dispatch!(self, insert_deposit_address(a, now))
    }

    /// A derived address by its text.
    pub async fn get_deposit_address(&self, address: &str) -> Result<Option<NewDepositAddress>, StoreError> {
        dispatch!(self, get_deposit_address(address))
    }

    /// The payments of `scope` a transfer can still credit: those with a deposit address
    /// and an expiry at or after `expiring_from` (the caller's chain time less the monitoring
    /// window), oldest first (so a later payment of a reused client address wins when they
    /// are put in a map). Bounded by the payments still live, never by history.
    pub async fn watched_payments(
        &self,
        scope: &WatchScope,
        expiring_from: DateTime<Utc>,
    ) -> Result<Vec<WatchedPayment>, StoreError> {
        dispatch!(self, watched_payments(scope, expiring_from))
    }

    /// How many payments [`Store::watched_payments`] would return (the operator's gauge),
    /// counted on the same index without reading them.
    pub async fn count_watched_payments(
        &self,
        scope: &WatchScope,
        expiring_from: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        dispatch!(self, count_watched_payments(scope, expiring_from))
    }

    /// For each of `addresses` (as stored) that is a deposit address of a payment in `scope`'s
    /// mode: its newest payment on the scope's network (a live scope), else its newest on any
    /// network, with that payment's network. The watcher's step asks this for the recipients
    /// of the transfers it read: a cost bounded by the step, never by the payments open or
    /// ever created.
    pub async fn payments_at_addresses(
        &self,
        scope: &WatchScope,
        addresses: &[String],
    ) -> Result<Vec<(WatchedPayment, String)>, StoreError> {
        if addresses.is_empty() {
            return Ok(Vec::new());
        }
        dispatch!(self, payments_at_addresses(scope, addresses))
    }

    /// When the block at a watcher's cursor was made (`None`: no cursor, or one written before
    /// block times were kept).
    pub async fn chain_cursor_time(&self, network: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        dispatch!(self, chain_cursor_time(network))
    }

    /// A watcher's cursor.
    pub async fn chain_cursor(&self, network: &str) -> Result<Option<BlockRef>, StoreError> {
        dispatch!(self, chain_cursor(network))
    }

    /// The most recent stored block hashes of a network, newest first.
    pub async fn recent_blocks(&self, network: &str, limit: u32) -> Result<Vec<BlockRef>, StoreError> {
        dispatch!(self, recent_blocks(network, limit))
    }

    /// Records a scan step: transfers, block hashes, payment transitions and their events, and
    /// the cursor, in one transaction.
    pub async fn commit_scan(&self, c: &ScanCommit) -> Result<ChainChange, StoreError> {
        self.waking(async { dispatch!(self, commit_scan(c)) }).await
    }

    /// Undoes a reorg: the cursor goes back to `fork` (made at `fork_time`), transfers above
    /// it are orphaned, their payments are recomputed (and move back, with
    /// `payment.reverted`), in one transaction. Confirmations count against `head` and, where
    /// the network's policy asks for finality, the `finalized` block (as in [`ScanCommit`]).
    #[allow(clippy::too_many_arguments)]
    pub async fn rollback_chain(
        &self,
        network: &str,
        expected: &BlockRef,
        fork: &BlockRef,
        fork_time: DateTime<Utc>,
        head: u64,
        finalized: Option<u64>,
        now: DateTime<Utc>,
    ) -> Result<ChainChange, StoreError> {
        self.waking(async {
            dispatch!(self, rollback_chain(network, expected, fork, fork_time, head, finalized, now))
        })
        .await
    }

    /// A payment's transfers, in chain order.
    pub async fn transfers_of_payment(&self, id: &PaymentId) -> Result<Vec<StoredTransfer>, StoreError> {
        dispatch!(self, transfers_of_payment(id))
    }

    /// The transfers of several payments (a page of a list), in chain order, in one query per
    /// 500 payments rather than one per payment.
    pub async fn transfers_of_payments(&self, ids: &[PaymentId]) -> Result<Vec<StoredTransfer>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        dispatch!(self, transfers_of_payments(ids))
    }

    /// Every recorded transfer of a network, in chain order.
    pub async fn list_transfers(&self, network: &str) -> Result<Vec<StoredTransfer>, StoreError> {
        dispatch!(self, list_transfers(network))
    }

    /// devnet's newest block.
    pub async fn devnet_head(&self) -> Result<Option<BlockRef>, StoreError> {
        dispatch!(self, devnet_head())
    }

    /// The hash and time of devnet block `number`.
    pub async fn devnet_block(&self, number: u64) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        dispatch!(self, devnet_block(number))
    }

    /// devnet transfers mined in blocks `from..=to`, in chain order.
    pub async fn devnet_transfers(&self, from: u64, to: u64) -> Result<Vec<DevnetTransfer>, StoreError> {
        dispatch!(self, devnet_transfers(from, to))
    }

    /// Puts a transfer in devnet's mempool; the next block mines it.
    pub async fn devnet_submit(&self, t: &DevnetTransfer, now: DateTime<Utc>) -> Result<(), StoreError> {
        dispatch!(self, devnet_submit(t, now))
    }

    /// Mines the next devnet block (block 0 on an empty chain) with the mempool in it.
    /// `Conflict` means another producer mined that number first.
    pub async fn devnet_produce_block(&self, hash: &str, now: DateTime<Utc>) -> Result<u64, StoreError> {
        dispatch!(self, devnet_produce_block(hash, now))
    }

    /// Pending test payments created before `created_before` that devnet has sent nothing
    /// to (auto-pay candidates), oldest first.
    pub async fn devnet_autopay_due(
        &self,
        created_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<PaymentId>, StoreError> {
        dispatch!(self, devnet_autopay_due(created_before, limit))
    }

    /// Replaces devnet's last `hashes.len()` blocks with empty ones carrying `hashes`. Their
    /// transfers go back to the mempool (re-mined by the next block), or are dropped when
    /// `drop_transfers`. Returns the fork point (the last block kept).
    pub async fn devnet_reorg(
        &self,
        hashes: &[String],
        drop_transfers: bool,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        dispatch!(self, devnet_reorg(hashes, drop_transfers, now))
    }
}

/// A `chain_transfers` row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TransferRow {
    pub network: String,
    pub tx_hash: String,
    pub log_index: i64,
    pub token: String,
    pub from_address: String,
    pub to_address: String,
    pub amount: String,
    pub block_number: i64,
    pub block_hash: String,
    pub status: String,
    pub payment_id: Option<String>,
    pub block_time: Option<i64>,
    pub created_at: i64,
    pub note: Option<String>,
}

pub(crate) fn to_db(what: &str, v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| crate::rows::corrupt(what, v))
}

pub(crate) fn from_db(what: &str, v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| crate::rows::corrupt(what, v))
}

impl TryFrom<TransferRow> for StoredTransfer {
    type Error = StoreError;
    fn try_from(r: TransferRow) -> Result<Self, StoreError> {
        use crate::rows::corrupt;
        Ok(StoredTransfer {
            status: TransferStatus::parse(&r.status).ok_or_else(|| corrupt("transfer status", &r.status))?,
            transfer: NewTransfer {
                network: r.network,
                tx_hash: r.tx_hash,
                log_index: from_db("log index", r.log_index)?,
                token: r.token,
                from: r.from_address,
                to: r.to_address,
                amount: r.amount.parse().map_err(|_| corrupt("amount", &r.amount))?,
                block: BlockRef { number: from_db("block number", r.block_number)?, hash: r.block_hash },
                // Rows written before block times were kept carry the time payd recorded them.
                block_time: crate::rows::from_ms(r.block_time.unwrap_or(r.created_at))?,
                note: r.note,
                payment_id: r
                    .payment_id
                    .as_deref()
                    .map(|p| p.parse().map_err(|_| corrupt("payment id", p)))
                    .transpose()?,
            },
        })
    }
}

//! What a watcher reads from a chain: its head, the hash of a block, the token transfers in a
//! block range, and where the chain says so, its finalized block and which transactions
//! failed. Implemented per family (the EVM JSON-RPC client in [`crate::evm`], which also reads
//! Tron's JSON-RPC under Tron's rules) and by devnet (its tables, in the server's engine);
//! tests can implement it in memory.

use std::collections::HashSet;
use std::future::Future;

use chrono::{DateTime, Utc};

use crate::ObservedTransfer;

/// A block as a watcher needs it: its hash (for reorgs) and its timestamp (whether money in
/// it was on time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockInfo {
    /// The canonical hash.
    pub hash: String,
    /// The block's own timestamp.
    pub time: DateTime<Utc>,
}

/// A chain source failed; the step is retried later.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The node could not be reached, timed out or refused (rate limit).
    #[error("chain source unavailable: {0}")]
    Unavailable(String),
    /// The chain has no blocks yet (devnet before its first block): nothing to scan, and
    /// not a failure.
    #[error("the chain has no blocks yet")]
    Empty,
    /// The node answered something that does not parse.
    #[error("malformed answer from the chain source: {0}")]
    Malformed(String),
    /// A source backed by something other than a node (devnet's tables) failed to read it.
    #[error("chain source backend: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A chain, as a watcher sees it.
pub trait ChainSource: Send + Sync {
    /// The newest block number.
    fn head(&self) -> impl Future<Output = Result<u64, SourceError>> + Send;

    /// The canonical block `number` (hash and timestamp); `None` when the chain is not that
    /// long.
    fn block(&self, number: u64) -> impl Future<Output = Result<Option<BlockInfo>, SourceError>> + Send;

    /// Every transfer of the accepted tokens in blocks `from..=to`, in chain order. The
    /// watcher matches recipients against its index, so a source need not filter them (a
    /// source that can filter by recipient server-side may).
    fn transfers(
        &self,
        from: u64,
        to: u64,
    ) -> impl Future<Output = Result<Vec<ObservedTransfer>, SourceError>> + Send;

    /// The newest block the chain holds final (Ethereum's `finalized`, Tron's latest
    /// solidified block); `None` when the source has no such signal, and then only depth
    /// counts.
    fn finalized(&self) -> impl Future<Output = Result<Option<u64>, SourceError>> + Send {
        async { Ok(None) }
    }

    /// Of `tx_hashes` (transactions carrying transfers the watcher is about to record), those
    /// whose transaction failed: their transfers never credit. A source whose chain never
    /// reports transfers of failed transactions (EVM logs are dropped on revert) finds none.
    fn failed(
        &self,
        tx_hashes: &[String],
    ) -> impl Future<Output = Result<HashSet<String>, SourceError>> + Send {
        let _ = tx_hashes;
        async { Ok(HashSet::new()) }
    }
}

//! What a watcher reads from a chain: its head, the hash of a block, and the token transfers
//! in a block range. Implemented per family (the EVM JSON-RPC
//! client in [`crate::evm`]) and by devnet (its tables, in the server's engine); tests can
//! implement it in memory.

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
}

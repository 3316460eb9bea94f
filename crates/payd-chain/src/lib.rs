//! Reading chains and deriving addresses, nothing else (no storage: crediting is the server
//! engine's). Address derivation from an xpub ([`address`], [`deposit`]), each family's
//! address rules and the list of families payd watches ([`family`]), the
//! [`source::ChainSource`] a watcher reads and its implementations (EVM and Tron's `/jsonrpc`
//! in [`evm`], TronGrid's REST API in [`tron`]), node checks,
//! and devnet's constants ([`devnet`]). Shared types: an observed transfer, keyed once by
//! `(network, tx hash, log index)`, and a watcher's cursor.

pub mod address;
pub mod deposit;
pub mod devnet;
pub mod evm;
pub mod family;
pub mod source;
pub mod tron;

use serde::{Deserialize, Serialize};

/// Where a transfer sits on its chain: the key that credits it at most once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TransferKey {
    /// Canonical network id.
    pub network: String,
    /// Transaction hash, lower-case hex with `0x` on EVM.
    pub tx_hash: String,
    /// Index of the log (EVM) or instruction (Solana) in its block.
    pub log_index: u64,
}

/// A token transfer to a watched address, as a watcher observed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedTransfer {
    /// Unique key.
    pub key: TransferKey,
    /// Token contract (or mint).
    pub token_contract: String,
    /// Sender.
    pub from: String,
    /// Recipient (a deposit address).
    pub to: String,
    /// Amount in base units.
    pub amount: u128,
    /// Block number.
    pub block_number: u64,
    /// Block hash, to detect reorgs.
    pub block_hash: String,
}

/// A watcher's position on its network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Canonical network id.
    pub network: String,
    /// Last block fully processed.
    pub block_number: u64,
    /// Its hash.
    pub block_hash: String,
}

//! EVM chains over JSON-RPC: [`EvmSource`] is the [`crate::source::ChainSource`] the watcher
//! reads (head, block hashes, ERC-20 `Transfer` logs of the accepted token contracts over an
//! adaptive block range), [`rpc`] the HTTP client under it (timeouts, retries, error sorting),
//! and [`check`] the start-up checks (chain id, each token's `decimals()`).

pub mod check;
pub mod rpc;
mod source;

/// The 20-byte account id a contract is stored as, on EVM chains and Tron alike.
pub use alloy::primitives::Address;
pub use source::{EvmSource, EvmToken, Rules};

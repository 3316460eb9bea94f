//! Tron read through TronGrid's v1 REST API ([`grid::TronGridSource`]), for operators without
//! a JSON-RPC endpoint (Tron's `/jsonrpc` is read by [`crate::evm`] under
//! [`crate::evm::Rules::Tron`]). TronGrid answers per account, not per block range, so this
//! source asks a [`WatchList`] which addresses matter; it reads only solidified data, so what
//! it reports never reorganises.

pub mod grid;

use std::future::Future;

use crate::source::SourceError;

/// The addresses a per-account source looks at (the server's open payments on the network).
pub trait WatchList: Send + Sync {
    /// The watched addresses, in base58 (`T…`).
    fn addresses(&self) -> impl Future<Output = Result<Vec<String>, SourceError>> + Send;
}

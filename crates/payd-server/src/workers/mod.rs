//! Background workers. Each runs a step function in the one loop helper ([`every`]) until
//! cancelled; tests call the steps directly to drain work deterministically. One chain
//! worker ([`chain`]) serves every chain family and devnet.

pub mod chain;
pub mod devnet;
pub mod every;
pub mod evm;
pub mod expiry;
pub mod webhooks;

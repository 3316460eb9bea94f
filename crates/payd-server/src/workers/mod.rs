//! Background workers. Each runs a step function in a loop until cancelled; tests call the
//! step directly to drain work deterministically.

pub mod devnet;
pub mod evm;
pub mod expiry;
pub mod webhooks;

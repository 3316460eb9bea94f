//! payd's domain: pure types and rules, no I/O.
//!
//! Everything a dialect or a worker needs to reason about a payment lives here: typed ids,
//! exact money ([`money`]), token amounts in base units ([`token`]), the network and token
//! registry ([`registry`]), blocks, transfers and the funds tally ([`chain`]), merchants and API keys, and the payment state machine whose every
//! transition returns the events it emits ([`payment`]).

pub mod apikey;
pub mod catalog;
pub mod chain;
pub mod crypto;
pub mod dialect_status;
pub mod event;
pub mod fx;
pub mod ids;
pub mod merchant;
pub mod money;
pub mod payment;
pub mod registry;
pub mod secret;
pub mod token;
pub mod user;
pub mod webhook;
pub mod webhook_sign;

pub use chrono::{DateTime, Utc};

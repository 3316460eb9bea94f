//! The engine: every state change of a payment and the rule it follows, called by every API
//! (native and dialects), the CLI and the workers; what a caller may see and read back
//! (payments, products, customers, webhook endpoints and deliveries); merchants, their
//! settings and the terms they set for new payments; what the checkout page reads and does
//! (`checkout`); the free-text field rules every surface
//! shares. No HTTP and no command line here; each
//! operation is one store transaction, and the lifecycle rules themselves are payd-core's
//! state machine.

pub mod access;
pub mod addresses;
pub mod asset;
pub mod brand;
pub mod checkout;
pub mod credit;
pub mod customers;
pub mod dashboard;
pub mod devnet;
pub mod fields;
pub mod manage;
pub mod merchants;
pub mod payments;
pub mod products;
pub mod quote;
pub mod terms;
pub mod users;
pub mod views;
pub mod webhooks;

pub use payments::{
    cancel_payment, create_payment, expire_due, find, fingerprint, first_tx_hash, CancelError, CreateError,
    Lookup, PaymentRef,
};
pub use quote::{quote, quote_with_fx, QuoteError};

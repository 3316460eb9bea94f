//! MutoPay on the wire: its error body and API description, and its view of a payment
//! (the status object, in responses and webhooks alike).

pub mod error;
pub mod payment;
pub mod schema;
pub mod webhook;

//! Paygentic on the wire: its `Error` and `ValidationError` bodies and API description, and
//! its view of a payment (responses and webhooks alike).

pub mod error;
pub mod payment;
pub mod schema;
pub mod webhook;

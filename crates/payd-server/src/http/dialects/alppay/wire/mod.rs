//! AlpPay on the wire: its error body and API description, the `X-HMAC` body signature,
//! and its view of a payment (responses and webhooks alike).

pub mod error;
pub mod hmac;
pub mod payment;
pub mod schema;
pub mod webhook;

//! AstraPay on the wire: its error body and API description, the success envelope, and
//! its view of a payment (responses and webhooks alike).

pub mod envelope;
pub mod error;
pub mod page;
pub mod payment;
pub mod product;
pub mod schema;
pub mod webhook;

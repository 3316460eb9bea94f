//! The native API on the wire: its [`crate::http::caller::Api`], request and response types
//! (payments, webhook endpoints and deliveries), and its webhook body.

pub mod api;
pub mod types;
pub mod webhook;
pub mod webhook_types;

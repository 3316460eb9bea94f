//! The providers' merchant APIs payd speaks. A dialect only translates: paths, auth headers,
//! field names, amount encodings, status names, envelopes, error bodies and status codes. It
//! calls the same engine as the native API and holds no business rule of its own.
//!
//! Each is a folder: `mod.rs` mounts its routes, `wire/` holds its wire types (error body and
//! [`crate::http::caller::Api`] impl, views and status names, webhook body), the other files
//! its handlers and its OpenAPI document; `http/registry.rs` lists it.

pub mod alppay;
pub mod astrapay;
pub mod mutopay;
pub mod paygentic;

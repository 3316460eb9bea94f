//! Webhooks on the server side, beside the engine's rules (`engine::webhooks`): the bodies
//! each format sends ([`payload`]) and the SSRF guard in the HTTP client's resolver
//! ([`guard`]). The dispatcher that sends them is `workers::webhooks`.

pub mod guard;
pub mod payload;

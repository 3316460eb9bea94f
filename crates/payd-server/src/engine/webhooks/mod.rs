//! Webhook rules: which endpoints a merchant may register and how they change
//! ([`endpoints`]), where deliveries may go ([`targets`]), and what an attempt's answer means
//! for the delivery and its endpoint ([`deliveries`]), and the delivery log as a caller sees
//! it, with replays ([`log`]), and test events ([`test_event`]). The native API, AstraPay's API, the CLI
//! and the dispatcher (`workers::webhooks`) call these; bodies and signatures are
//! `webhooks::payload` and payd-core's.

pub mod deliveries;
pub mod endpoints;
pub mod log;
pub mod targets;
pub mod test_event;

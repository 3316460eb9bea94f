//! payd's server: configuration, the HTTP APIs, background workers and the `payd` command.
//!
//! [`app::Application`] is what `payd serve` runs and what the integration tests boot on a
//! random port.

pub mod app;
pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod config_check;
pub mod config_webhooks;
pub mod devnet_cli;
pub mod engine;
pub mod fx;
pub mod http;
pub mod keys;
pub mod networks;
pub mod webhook_cli;
pub mod webhooks;
pub mod workers;

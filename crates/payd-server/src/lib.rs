//! payd's server: configuration, the HTTP APIs, background workers and the `payd` command.
//!
//! [`app::Application`] is what `payd serve` runs and what the integration tests boot on a
//! random port.

pub mod app;
pub mod bootstrap;
pub mod checkout;
pub mod cli;
pub mod config;
pub mod dashboard;
pub mod engine;
pub mod fx;
pub mod http;
pub mod keys;
pub mod metrics;
pub mod ratelimit;
pub mod state;
pub mod web;
pub mod webhooks;
pub mod workers;

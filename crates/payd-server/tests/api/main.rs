//! The server's integration tests: one binary, each test booting the real server on a random
//! port against its own database, on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;

mod alppay;
mod anvil;
mod astrapay;
mod auth;
mod checkout;
mod choose_asset;
mod cli;
mod dashboard;
mod dashboard_audit;
mod dashboard_auth;
mod dashboard_guards;
mod dashboard_manage;
mod dashboard_roles;
mod dashboard_settings;
mod dashboard_views;
mod devnet;
mod docs_agree;
mod durability;
mod evm;
mod evm_faults;
mod expiry;
mod fx;
mod fx_secrets;
mod fx_sources;
mod fx_upstream;
mod idempotency;
mod metrics;
mod money;
mod mutopay;
mod nodes;
mod openapi;
mod operator;
mod paygentic;
mod payments;
mod receiver;
mod seeds;
mod server_limits;
mod tron;
mod trongrid;
mod trust;
mod validation;
mod webhook_formats;
mod webhooks;

//! The state every request handler and worker can reach: the store, the configuration, the
//! master key, exchange rates and rate limits. Built once by [`crate::app::Application`];
//! handlers depend on this module, never on the application builder.

use std::sync::Arc;

use payd_core::crypto::MasterKey;
use payd_store::Store;

use crate::config::Config;
use crate::fx::FxProvider;
use crate::ratelimit::RateLimits;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The store.
    pub store: Store,
    /// Configuration.
    pub config: Arc<Config>,
    /// The master key (opens signing secrets).
    pub master_key: Arc<MasterKey>,
    /// Exchange rates.
    pub fx: Arc<FxProvider>,
    /// Per-key request limits.
    pub rate_limits: Arc<RateLimits>,
    /// What `/metrics` shows.
    pub metrics: Arc<crate::metrics::Metrics>,
}

//! The application: the server and its workers, built from the configuration.
//!
//! [`Application::build`] connects, migrates and binds (port 0 in tests); `run` serves until
//! the shutdown future completes, then stops the workers and drains in-flight requests.

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use payd_core::registry::Family;
use payd_store::{ConnectOptions, Store};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, FxConfig};
use crate::fx::{FxProvider, Remote};
use crate::ratelimit::{ClientLimits, RateLimits};
use crate::state::AppState;
use crate::{bootstrap, http, keys, workers};

/// A built, bound, not yet running server.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    state: AppState,
    port: u16,
    demo: Option<bootstrap::Demo>,
}

impl Application {
    /// Connects to the database, applies migrations, loads the master key, binds the
    /// listener, and on an empty database creates the demo merchant (when enabled).
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        check_networks(&config).await?;
        let store = connect(&config).await?;
        store.migrate().await.context("applying migrations")?;
        let master_key = keys::load_master_key(&config, true)?;
        let demo =
            if config.bootstrap_demo { bootstrap::ensure_demo(&store, &master_key).await? } else { None };
        let listener =
            TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
        let port = listener.local_addr()?.port();
        let mut config = config;
        if config.public_url.ends_with(":0") {
            // Bound to port 0 with no public URL given: point links at the real port.
            config.public_url = format!("http://{}:{port}", config.listen.ip());
        }
        let fx = Arc::new(fx_provider(&config.fx)?);
        let r = config.rate_limits;
        let clients = ClientLimits::new(r.checkout, r.checkout_forms, crate::ratelimit::DEFAULT_STREAMS);
        let rate_limits = Arc::new(
            RateLimits::new(r.native, r.astrapay, r.mutopay, r.paygentic, r.alppay).with_clients(clients),
        );
        let state = AppState {
            store,
            config: Arc::new(config),
            master_key: Arc::new(master_key),
            fx,
            rate_limits,
            metrics: Arc::new(crate::metrics::Metrics::new()),
        };
        Ok(Application { listener, state, port, demo })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Shared state (tests reach the store through it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The demo merchant and key created at this start, if any.
    pub fn demo(&self) -> Option<&bootstrap::Demo> {
        self.demo.as_ref()
    }

    /// Serves until `shutdown` completes, with the background workers alongside.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let cancel = CancellationToken::new();
        let mut workers = JoinSet::new();
        workers.spawn(workers::expiry::run(
            self.state.store.clone(),
            self.state.config.expiry_poll,
            cancel.clone(),
        ));
        spawn_devnet(&mut workers, &self.state, &cancel);
        if self.state.config.webhooks.concurrency > 0 {
            let s = &self.state;
            let dispatcher = workers::webhooks::Dispatcher::new(
                s.store.clone(),
                Arc::clone(&s.master_key),
                s.config.webhooks.clone(),
                s.config.public_url.clone(),
            )
            .context("webhook HTTP client")?
            .with_metrics(Arc::clone(&s.metrics));
            workers.spawn(dispatcher.run(cancel.clone()));
        }
        spawn_networks(&mut workers, &self.state, &cancel)?;

        let router = http::router(self.state.clone());
        let stop = cancel.clone();
        let limits = http::server::ConnectionLimits {
            header_read_timeout: self.state.config.header_read_timeout,
            max_connections: self.state.config.max_connections,
        };
        http::server::serve(self.listener, router, limits, async move {
            shutdown.await;
            stop.cancel();
        })
        .await;
        cancel.cancel();
        while workers.join_next().await.is_some() {}
        self.state.store.close().await;
        Ok(())
    }
}

/// devnet's producer, watcher and (when configured) auto-pay; none when its interval is zero.
fn spawn_devnet(workers: &mut JoinSet<()>, state: &AppState, cancel: &CancellationToken) {
    let interval = state.config.devnet_block_interval;
    if interval.is_zero() {
        return;
    }
    let store = &state.store;
    let window =
        chrono::Duration::from_std(state.config.monitoring_window).unwrap_or(chrono::Duration::days(1));
    let watch = workers::chain::ChainWatch {
        cfg: crate::engine::devnet::network_config(window),
        interval,
        lease: None,
        wake: None,
        metrics: Arc::clone(&state.metrics),
    };
    let source = crate::engine::devnet::Devnet::new(store.clone());
    workers.spawn(workers::devnet::produce(store.clone(), interval, cancel.clone()));
    workers.spawn(workers::chain::watch(store.clone(), source, watch, cancel.clone()));
    if let Some(after) = state.config.devnet_autopay {
        workers.spawn(workers::devnet::autopay(store.clone(), after, interval, cancel.clone()));
    }
}

/// Refuses to start when a configured network's node is unreachable, is another chain, or a
/// token's `decimals()` differs from configuration: crediting wrong amounts is worse than not
/// starting.
async fn check_networks(config: &Config) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    for net in &config.networks {
        problems.extend(crate::config::networks::check_node(net).await);
    }
    if !problems.is_empty() {
        anyhow::bail!("refusing to start:\n  - {}", problems.join("\n  - "));
    }
    Ok(())
}

/// One chain worker per configured network.
fn spawn_networks(
    workers: &mut JoinSet<()>,
    state: &AppState,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let window =
        chrono::Duration::from_std(state.config.monitoring_window).unwrap_or(chrono::Duration::days(1));
    for net in &state.config.networks {
        let wake = net.ws_url.as_ref().map(|url| {
            let wake = Arc::new(tokio::sync::Notify::new());
            let url = url.expose().to_owned();
            workers.spawn(workers::evm::new_heads(net.name.clone(), url, wake.clone(), cancel.clone()));
            wake
        });
        let watch = workers::chain::ChainWatch {
            cfg: crate::engine::credit::NetworkConfig::live(net, window),
            interval: net.poll_interval,
            lease: Some(workers::chain::Lease {
                holder: state.config.node_id.clone(),
                lifetime: state.config.chain_lease,
            }),
            wake,
            metrics: Arc::clone(&state.metrics),
        };
        // One arm per family payd watches (configuration admits no other).
        match net.family {
            Family::Tron if net.reader == crate::config::networks::Reader::TronGrid => {
                let scope = payd_store::chain::WatchScope::Live(net.name.clone());
                let addresses =
                    crate::engine::credit::WatchedAddresses::new(state.store.clone(), scope, window);
                let source = crate::config::networks::grid_source(net, addresses)?;
                workers.spawn(workers::chain::watch(state.store.clone(), source, watch, cancel.clone()));
            }
            // Tron is otherwise read through java-tron's `/jsonrpc`: the EVM source under
            // Tron's rules.
            Family::Evm | Family::Tron => {
                let source = crate::config::networks::source(net)?;
                workers.spawn(workers::chain::watch(state.store.clone(), source, watch, cancel.clone()));
            }
            Family::Solana | Family::Devnet => {
                anyhow::bail!("network {}: payd has no chain source for {}", net.name, net.family.as_str())
            }
        }
    }
    Ok(())
}

/// Builds the configured exchange-rate provider.
pub fn fx_provider(config: &FxConfig) -> anyhow::Result<FxProvider> {
    Ok(match config {
        FxConfig::Static(table) => FxProvider::fixed(table),
        FxConfig::Remote { source, url, ttl, max_age } => {
            FxProvider::Remote(Remote::new(*source, url.clone(), *ttl, *max_age).context("fx http client")?)
        }
    })
}

/// Opens the configured store.
pub async fn connect(config: &Config) -> anyhow::Result<Store> {
    let opts =
        ConnectOptions { max_connections: config.database_max_connections, ..ConnectOptions::default() };
    Store::connect(config.database_url.expose(), &opts).await.context("connecting to the database")
}

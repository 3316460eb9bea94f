//! The chain worker: one per watched chain (each configured network, and devnet), generic
//! over its [`ChainSource`]. Every poll interval (sooner when a new head is announced) it
//! scans to the head with the engine's crediting step ([`scan_once`]), a bounded range and
//! one commit at a time. A live network is scanned by one node at a time: the worker takes
//! (or renews) the network's lease in the database before scanning, and renews it every
//! third of its lifetime between scans, so a long poll interval never lets it lapse. A node
//! without the lease stands by and takes over when the holder's lease expires (a crashed
//! node) or is released (a clean shutdown).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use payd_chain::source::{ChainSource, SourceError};
use payd_store::chain::WatchScope;
use payd_store::{Store, StoreError};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::every::{every, Pace};
use crate::engine::credit::{scan_once, NetworkConfig, WatchError};
use crate::metrics::{Metrics, NetworkLabels};

/// How one chain is watched.
#[derive(Debug, Clone)]
pub struct ChainWatch {
    /// What the watcher scans and credits.
    pub cfg: NetworkConfig,
    /// Poll interval.
    pub interval: Duration,
    /// The lease that keeps other nodes from scanning at the same time (`None`: every node
    /// scans, as on devnet, whose producer is shared too).
    pub lease: Option<Lease>,
    /// Notified on each new head (WebSocket), to scan before the poll interval is up.
    pub wake: Option<Arc<Notify>>,
    /// Where its lag, transfers and watched payments are reported.
    pub metrics: Arc<Metrics>,
}

/// A chain lease as a node holds it.
#[derive(Debug, Clone)]
pub struct Lease {
    /// This node's holder id.
    pub holder: String,
    /// How long a taken or renewed lease lasts.
    pub lifetime: Duration,
}

/// Why a worker step failed (it is retried after a backoff).
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// Reading or writing the database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A crediting step failed; nothing of it was committed.
    #[error(transparent)]
    Watch(#[from] WatchError),
    /// A configured duration does not fit a timestamp.
    #[error("duration out of range: {0}")]
    Duration(#[from] chrono::OutOfRangeError),
}

/// Watches one chain until cancelled, then gives its lease up.
pub async fn watch<S: ChainSource>(store: Store, source: S, w: ChainWatch, cancel: CancellationToken) {
    let holding = AtomicBool::new(false);
    let counted = std::sync::Mutex::new(None);
    let name = format!("{} watcher", w.cfg.network);
    let scan = every(&name, w.interval, w.wake.as_deref(), &cancel, || async {
        if let Some(lease) = &w.lease {
            if !take_lease(&store, &w.cfg.network, lease, &holding).await? {
                return Ok(Pace::Wait);
            }
        }
        let step = async {
            scan_to_head(&store, &source, &w.cfg, &w.metrics).await?;
            count_watched(&store, &w.cfg, &w.metrics, &counted).await
        }
        .await;
        // The health page shows each network's last error.
        if let Err(e) = &step {
            w.metrics.watcher_failed(&w.cfg.network, e, payd_store::now());
        }
        step?;
        Ok::<_, StepError>(Pace::Wait)
    });
    let Some(lease) = &w.lease else {
        scan.await;
        return;
    };
    let renew_every = (lease.lifetime / 3).max(Duration::from_millis(50));
    let renew = every(&name, renew_every, None, &cancel, || async {
        take_lease(&store, &w.cfg.network, lease, &holding).await.map(|_| Pace::Wait)
    });
    tokio::join!(scan, renew);
    if holding.load(Ordering::SeqCst) {
        if let Err(e) = store.release_lease(&w.cfg.network, &lease.holder).await {
            tracing::warn!(network = %w.cfg.network, error = %e, "could not release the chain lease");
        }
    }
}

/// Takes or renews the network's lease; `false`: another node holds it.
async fn take_lease(
    store: &Store,
    network: &str,
    lease: &Lease,
    holding: &AtomicBool,
) -> Result<bool, StepError> {
    let now = payd_store::now();
    let until = now + chrono::Duration::from_std(lease.lifetime)?;
    let held = match store.acquire_lease(network, &lease.holder, until, now).await {
        Ok(held) => held,
        Err(e) => {
            // Unknown until the database answers again: scan nothing meanwhile.
            holding.store(false, Ordering::SeqCst);
            return Err(e.into());
        }
    };
    if holding.swap(held, Ordering::SeqCst) != held {
        tracing::info!(network, node = %lease.holder, held, "chain lease");
    }
    Ok(held)
}

/// How often the gauge of payments a watcher can credit is counted. The step itself reads
/// only the payments of the recipients it sees; this count, on the same partial index as
/// `watched_payments`, is the operator's view of the live set, so it need not run per step.
const COUNT_EVERY: Duration = Duration::from_secs(5);

/// Sets the `watched_payments` gauge, at most every [`COUNT_EVERY`]: the payments of the
/// watcher's scope that a transfer at the chain time it has reached can still credit.
async fn count_watched(
    store: &Store,
    cfg: &NetworkConfig,
    metrics: &Metrics,
    counted: &std::sync::Mutex<Option<std::time::Instant>>,
) -> Result<(), StepError> {
    {
        let mut last = counted.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.is_some_and(|t| t.elapsed() < COUNT_EVERY) {
            return Ok(());
        }
        *last = Some(std::time::Instant::now());
    }
    let reached = match &cfg.scope {
        WatchScope::Live(network) => store.chain_cursor_time(network).await?,
        WatchScope::Test => None,
    };
    let at = reached.unwrap_or_else(payd_store::now);
    let from = at.checked_sub_signed(cfg.monitoring_window).unwrap_or(at);
    let n = store.count_watched_payments(&cfg.scope, from).await?;
    metrics.watched.get_or_create(&NetworkLabels { network: cfg.network.clone() }).set(n);
    Ok(())
}

/// Scan steps up to the head: catches up in one poll after a pause, each step a bounded
/// range and its own commit.
async fn scan_to_head<S: ChainSource>(
    store: &Store,
    source: &S,
    cfg: &NetworkConfig,
    metrics: &Metrics,
) -> Result<(), StepError> {
    let labels = NetworkLabels { network: cfg.network.clone() };
    for _ in 0..64 {
        let now = payd_store::now();
        let report = match scan_once(store, source, cfg, now).await {
            Ok(report) => report,
            // Nothing mined yet (devnet before its first block): nothing to do.
            Err(WatchError::Source(SourceError::Empty)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        metrics.watcher(&cfg.network, report.head, report.cursor, report.cursor_time.map(|t| now - t));
        metrics.transfers.get_or_create(&labels).inc_by(u64::try_from(report.recorded).unwrap_or(0));
        if report.events > 0 || report.recorded > 0 || report.reorg_to.is_some() {
            tracing::info!(network = %cfg.network, ?report, "chain scan");
        }
        if report.raced || report.reorg_to.is_none() && report.cursor.is_none_or(|c| c >= report.head) {
            break;
        }
    }
    Ok(())
}

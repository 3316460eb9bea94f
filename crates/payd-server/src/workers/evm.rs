//! The EVM watcher of one configured network: every poll interval it takes (or renews) the
//! network's lease in the database, and while it holds it scans to the head with the same
//! [`scan_once`] step devnet uses. A node without the lease stands by and takes over when the
//! holder's lease expires (a crashed node) or is released (a clean shutdown).

use std::sync::Arc;
use std::time::Duration;

use payd_chain::evm::EvmSource;
use payd_chain::watcher::{scan_once, NetworkConfig};
use payd_store::Store;
use tokio_util::sync::CancellationToken;

/// How one network's watcher runs.
#[derive(Debug, Clone)]
pub struct EvmWatch {
    /// What the watcher scans and credits.
    pub cfg: NetworkConfig,
    /// Poll interval.
    pub interval: Duration,
    /// This node's lease holder id.
    pub holder: String,
    /// Lease lifetime (renewed on every poll).
    pub lease: Duration,
}

/// Watches one network until cancelled, then gives its lease up.
pub async fn watch(store: Store, source: Arc<EvmSource>, w: EvmWatch, cancel: CancellationToken) {
    let network = w.cfg.network.clone();
    let mut failures = 0u32;
    let mut holding = false;
    loop {
        match step(&store, &source, &w).await {
            Ok(held) => {
                if held != holding {
                    tracing::info!(network = %network, node = %w.holder, held, "chain lease");
                }
                holding = held;
                failures = 0;
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(network = %network, error = %e, failures, "evm watcher step failed; will retry");
            }
        }
        let wait =
            w.interval.saturating_mul(1 << failures.min(5)).min(Duration::from_secs(60).max(w.interval));
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(wait) => {}
        }
    }
    if holding {
        if let Err(e) = store.release_lease(&network, &w.holder).await {
            tracing::warn!(network = %network, error = %e, "could not release the chain lease");
        }
    }
}

/// One poll: the lease, then scan steps up to the head. `Ok(false)`: another node holds it.
async fn step(store: &Store, source: &EvmSource, w: &EvmWatch) -> Result<bool, String> {
    let now = payd_store::now();
    let until = now + chrono::Duration::from_std(w.lease).map_err(|e| e.to_string())?;
    if !store.acquire_lease(&w.cfg.network, &w.holder, until, now).await.map_err(|e| e.to_string())? {
        return Ok(false);
    }
    // Catch up in one poll after a pause; each step is a bounded range and its own commit.
    for _ in 0..64 {
        let report = scan_once(store, source, &w.cfg, payd_store::now()).await.map_err(|e| e.to_string())?;
        if report.events > 0 || report.recorded > 0 || report.reorg_to.is_some() {
            tracing::info!(network = %w.cfg.network, ?report, "evm scan");
        }
        if report.raced || report.reorg_to.is_none() && report.cursor.is_none_or(|c| c >= report.head) {
            break;
        }
    }
    Ok(true)
}

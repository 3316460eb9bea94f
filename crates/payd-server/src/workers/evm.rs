//! The EVM watcher of one configured network: every poll interval it takes (or renews) the
//! network's lease in the database, and while it holds it scans to the head with the same
//! [`scan_once`] step devnet uses. A node without the lease stands by and takes over when the
//! holder's lease expires (a crashed node) or is released (a clean shutdown). Where the
//! network has a `ws_url`, [`new_heads`] subscribes to `newHeads` and wakes the watcher on
//! each block; polling stays the fallback whenever the socket is down.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message;

use crate::engine::credit::{scan_once, NetworkConfig};
use payd_chain::evm::EvmSource;
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
    /// Notified on each new head (WebSocket), to scan before the poll interval is up.
    pub wake: Option<Arc<Notify>>,
}

/// Watches one network until cancelled, then gives its lease up. Scans every poll interval
/// (sooner when a new head is announced); between scans it still renews the lease often
/// enough (a third of its lifetime) that a long poll interval never lets it lapse.
pub async fn watch(store: Store, source: Arc<EvmSource>, w: EvmWatch, cancel: CancellationToken) {
    let network = w.cfg.network.clone();
    let mut failures = 0u32;
    let mut holding = false;
    let mut next_scan = tokio::time::Instant::now();
    loop {
        let scan = tokio::time::Instant::now() >= next_scan;
        match step(&store, &source, &w, scan).await {
            Ok(held) => {
                if held != holding {
                    tracing::info!(network = %network, node = %w.holder, held, "chain lease");
                }
                holding = held;
                if scan {
                    failures = 0;
                }
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(network = %network, error = %e, failures, "evm watcher step failed; will retry");
            }
        }
        if scan || failures > 0 {
            let wait =
                w.interval.saturating_mul(1 << failures.min(5)).min(Duration::from_secs(60).max(w.interval));
            next_scan = tokio::time::Instant::now() + wait;
        }
        let renew = tokio::time::Instant::now() + (w.lease / 3).max(Duration::from_millis(50));
        let woken = async {
            match &w.wake {
                Some(n) if failures == 0 => n.notified().await,
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep_until(next_scan.min(renew)) => {}
            () = woken => next_scan = tokio::time::Instant::now(),
        }
    }
    if holding {
        if let Err(e) = store.release_lease(&network, &w.holder).await {
            tracing::warn!(network = %network, error = %e, "could not release the chain lease");
        }
    }
}

/// One poll: the lease, then (when `scan`) scan steps up to the head. `Ok(false)`: another
/// node holds it.
async fn step(store: &Store, source: &EvmSource, w: &EvmWatch, scan: bool) -> Result<bool, String> {
    let now = payd_store::now();
    let until = now + chrono::Duration::from_std(w.lease).map_err(|e| e.to_string())?;
    if !store.acquire_lease(&w.cfg.network, &w.holder, until, now).await.map_err(|e| e.to_string())? {
        return Ok(false);
    }
    if !scan {
        return Ok(true);
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

/// Subscribes to `newHeads` at `url` and notifies `wake` on each new block, reconnecting with
/// backoff until cancelled. Only a wake-up signal: the watcher reads blocks over HTTP.
pub async fn new_heads(network: String, url: String, wake: Arc<Notify>, cancel: CancellationToken) {
    let mut failures = 0u32;
    loop {
        match subscribe(&url, &wake, &cancel).await {
            Ok(()) => return, // cancelled
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(network = %network, error = %e, failures, "newHeads subscription lost; polling meanwhile");
            }
        }
        let wait =
            Duration::from_millis(250).saturating_mul(1 << failures.min(8)).min(Duration::from_secs(60));
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

async fn subscribe(url: &str, wake: &Notify, cancel: &CancellationToken) -> Result<(), String> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.map_err(|e| e.to_string())?;
    let req =
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]});
    ws.send(Message::text(req.to_string())).await.map_err(|e| e.to_string())?;
    loop {
        tokio::select! {
            () = cancel.cancelled() => {
                let _ = ws.close(None).await;
                return Ok(());
            }
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    let v: serde_json::Value = serde_json::from_str(text.as_str()).unwrap_or_default();
                    if v.get("error").is_some_and(|e| !e.is_null()) {
                        return Err(format!("eth_subscribe refused: {}", v["error"]));
                    }
                    if v["method"] == "eth_subscription" {
                        wake.notify_one();
                    }
                }
                Some(Ok(Message::Close(_))) | None => return Err("closed by the node".into()),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.to_string()),
            }
        }
    }
}

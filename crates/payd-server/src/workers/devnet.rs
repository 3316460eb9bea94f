//! devnet's workers: the block producer (one block per interval), the devnet watcher (the
//! same [`scan_once`] step real networks use) and, when configured, auto-pay of test
//! payments. Each loop backs off on repeated failures and stops on cancellation.

use std::time::Duration;

use crate::engine::credit::{scan_once, NetworkConfig};
use crate::engine::devnet::{self, Devnet};
use payd_store::Store;
use tokio_util::sync::CancellationToken;

/// Mines a devnet block every `interval` until cancelled.
pub async fn produce(store: Store, interval: Duration, cancel: CancellationToken) {
    run_loop("devnet producer", interval, cancel, || async {
        devnet::produce_block(&store, payd_store::now()).await.map(|_| ()).map_err(|e| e.to_string())
    })
    .await;
}

/// Scans devnet every `interval` until cancelled, to the head each time.
pub async fn watch(store: Store, cfg: NetworkConfig, interval: Duration, cancel: CancellationToken) {
    let source = Devnet::new(store.clone());
    run_loop("devnet watcher", interval, cancel, || async {
        // Until the producer has mined genesis there is nothing to scan (not a failure).
        if store.devnet_head().await.map_err(|e| e.to_string())?.is_none() {
            return Ok(());
        }
        // Catch up to the head in one tick after a pause (each step is a bounded range).
        for _ in 0..64 {
            let report =
                scan_once(&store, &source, &cfg, payd_store::now()).await.map_err(|e| e.to_string())?;
            if report.events > 0 || report.recorded > 0 || report.reorg_to.is_some() {
                tracing::debug!(?report, "devnet scan");
            }
            if report.raced || report.reorg_to.is_none() && report.cursor.is_none_or(|c| c >= report.head) {
                break;
            }
        }
        Ok(())
    })
    .await;
}

/// Pays pending test payments `after` their creation, checked every `interval`.
pub async fn autopay(store: Store, after: Duration, interval: Duration, cancel: CancellationToken) {
    run_loop("devnet auto-pay", interval, cancel, || async {
        let now = payd_store::now();
        let after = chrono::Duration::from_std(after).map_err(|e| e.to_string())?;
        let due = store.devnet_autopay_due(now - after, 100).await.map_err(|e| e.to_string())?;
        for id in due {
            let Some(payment) = store.get_payment(&id).await.map_err(|e| e.to_string())? else { continue };
            match devnet::pay(&store, &payment, None, now).await {
                Ok(t) => tracing::info!(payment = %id, tx = %t.tx_hash, "devnet auto-pay sent"),
                Err(e) => tracing::warn!(payment = %id, error = %e, "devnet auto-pay skipped"),
            }
        }
        Ok(())
    })
    .await;
}

async fn run_loop<F, Fut>(name: &'static str, interval: Duration, cancel: CancellationToken, mut step: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut failures = 0u32;
    loop {
        match step().await {
            Ok(()) => failures = 0,
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(worker = name, error = %e, failures, "step failed; will retry");
            }
        }
        // Back off on repeated failures (a database outage), up to a minute.
        let wait = interval.saturating_mul(1 << failures.min(6)).min(Duration::from_secs(60).max(interval));
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

//! Moves open payments past their expiry to `expired`.

use std::time::Duration;

use payd_store::Store;
use tokio_util::sync::CancellationToken;

use crate::engine;

/// Runs until `cancel` fires: one sweep per `poll`.
pub async fn run(store: Store, poll: Duration, cancel: CancellationToken) {
    let mut failures = 0u32;
    loop {
        match engine::expire_due(&store, payd_store::now()).await {
            Ok(0) => failures = 0,
            Ok(n) => {
                failures = 0;
                tracing::info!(expired = n, "expired payments");
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(error = %e, failures, "expiry sweep failed; will retry");
            }
        }
        // Back off on repeated failures (a database outage), up to a minute.
        let wait = poll.saturating_mul(1 << failures.min(6)).min(Duration::from_secs(60).max(poll));
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

//! Moves open payments past their expiry to `expired`.

use std::time::Duration;

use payd_store::Store;
use tokio_util::sync::CancellationToken;

use super::every::{every, Pace};
use crate::engine;

/// Runs until `cancel` fires: one sweep per `poll`.
pub async fn run(store: Store, poll: Duration, cancel: CancellationToken) {
    every("expiry sweep", poll, None, &cancel, || async {
        let n = engine::expire_due(&store, payd_store::now()).await?;
        if n > 0 {
            tracing::info!(expired = n, "expired payments");
        }
        Ok::<_, payd_store::StoreError>(Pace::Wait)
    })
    .await;
}

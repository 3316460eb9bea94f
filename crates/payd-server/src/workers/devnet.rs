//! devnet's own workers: the block producer (one block per interval) and, when configured,
//! auto-pay of test payments. devnet's watcher is the chain worker ([`super::chain`]) over
//! [`crate::engine::devnet::Devnet`].

use std::time::Duration;

use payd_store::Store;
use tokio_util::sync::CancellationToken;

use super::chain::StepError;
use super::every::{every, Pace};
use crate::engine::devnet;

/// Mines a devnet block every `interval` until cancelled.
pub async fn produce(store: Store, interval: Duration, cancel: CancellationToken) {
    every("devnet producer", interval, None, &cancel, || async {
        devnet::produce_block(&store, payd_store::now()).await.map(|_| Pace::Wait)
    })
    .await;
}

/// Pays pending test payments `after` their creation, checked every `interval`.
pub async fn autopay(store: Store, after: Duration, interval: Duration, cancel: CancellationToken) {
    every("devnet auto-pay", interval, None, &cancel, || async {
        let now = payd_store::now();
        devnet::autopay_due(&store, now - chrono::Duration::from_std(after)?, 100, now).await?;
        Ok::<_, StepError>(Pace::Wait)
    })
    .await;
}

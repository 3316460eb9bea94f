//! EVM new-head announcements: where a network has a `ws_url`, [`new_heads`] subscribes to
//! `eth_subscribe newHeads` and wakes that network's chain worker ([`super::chain`]) on each
//! block; polling stays the fallback whenever the socket is down.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_util::sync::CancellationToken;

/// Why a `newHeads` subscription ended.
#[derive(Debug, thiserror::Error)]
enum SubscribeError {
    /// The socket failed (connect, send or receive).
    #[error(transparent)]
    Socket(#[from] tungstenite::Error),
    /// The node answered the subscription with an error.
    #[error("eth_subscribe refused: {0}")]
    Refused(serde_json::Value),
    /// The node closed the socket.
    #[error("closed by the node")]
    Closed,
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

async fn subscribe(url: &str, wake: &Notify, cancel: &CancellationToken) -> Result<(), SubscribeError> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
    let req =
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]});
    ws.send(Message::text(req.to_string())).await?;
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
                        return Err(SubscribeError::Refused(v["error"].clone()));
                    }
                    if v["method"] == "eth_subscription" {
                        wake.notify_one();
                    }
                }
                Some(Ok(Message::Close(_))) | None => return Err(SubscribeError::Closed),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
            }
        }
    }
}

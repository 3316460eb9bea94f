//! The loop every worker runs ([`every`]): a step every interval, sooner when woken, until
//! cancelled. A failed step is logged with the worker's name and retried after a backoff that
//! doubles with each failure in a row (a database or node outage), up to a minute. A step
//! that reports more work ([`Pace::Again`]) runs again at once.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// What a step asks of the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Wait for the interval (or a wake) before the next step.
    Wait,
    /// There is more to do: run the next step at once.
    Again,
}

/// How long to wait after `failures` failed steps in a row: the interval, doubled per
/// failure, up to a minute (or the interval, when that is longer).
pub fn backoff(interval: Duration, failures: u32) -> Duration {
    interval.saturating_mul(1 << failures.min(6)).min(Duration::from_secs(60).max(interval))
}

/// Runs `step` every `interval` until `cancel` fires; `wake` (when given) starts the next
/// step early, unless the last one failed (its backoff is kept). A step in progress finishes
/// before cancellation is noticed, so no step is cut off mid-way.
pub async fn every<F, Fut, E>(
    name: &str,
    interval: Duration,
    wake: Option<&Notify>,
    cancel: &CancellationToken,
    mut step: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Pace, E>>,
    E: Display,
{
    let mut failures = 0u32;
    loop {
        let wait = match step().await {
            Ok(Pace::Again) => {
                failures = 0;
                if cancel.is_cancelled() {
                    return;
                }
                continue;
            }
            Ok(Pace::Wait) => {
                failures = 0;
                interval
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(worker = name, error = %e, failures, "step failed; will retry");
                backoff(interval, failures)
            }
        };
        let woken = async {
            match wake {
                Some(n) if failures == 0 => n.notified().await,
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
            () = woken => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_minute() {
        let s = Duration::from_secs;
        assert_eq!(backoff(s(2), 0), s(2));
        assert_eq!(backoff(s(2), 1), s(4));
        assert_eq!(backoff(s(2), 20), s(60));
        assert_eq!(backoff(s(90), 3), s(90));
    }

    #[tokio::test]
    async fn a_failing_step_is_retried_and_cancellation_stops_the_loop() {
        let cancel = CancellationToken::new();
        let mut calls = 0u32;
        every("test", Duration::from_millis(1), None, &cancel, || {
            calls += 1;
            let result = match calls {
                1 => Err("down"),
                2 => Ok(Pace::Again),
                _ => {
                    cancel.cancel();
                    Ok(Pace::Wait)
                }
            };
            async move { result }
        })
        .await;
        assert_eq!(calls, 3);
    }
}

//! Group commit of payment creates. [`crate::Store::create_payment`] hands each create to the
//! store's writer, a task that takes every create waiting when it is free (so a batch grows
//! while the previous one commits, and a create arriving at an idle writer runs at once) and
//! runs them in one transaction (`ops_batch.rs`): one fsync, and one counter bump, one insert
//! per table, for many creates. Each create is answered only after that transaction committed.
//!
//! The writer only batches; what must hold across payd nodes sharing one PostgreSQL
//! (an idempotency key claimed once, an address index never reused, unique slugs) is still
//! enforced by the database's constraints and row locks inside each batch's transaction.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use payd_core::event::EventKind;
use payd_core::payment::Payment;
use tokio::sync::{mpsc, oneshot, Notify};

use crate::keycache::KeyCache;
use crate::{AddressPlan, CreateOutcome, IdempotencyRequest, Render, StoreError};

/// The most creates one transaction takes: bounds its statements' parameters and how long
/// its row locks are held.
pub(crate) const MAX_BATCH: usize = 256;

/// One create waiting for the writer, with where to send its outcome.
pub(crate) struct CreateJob {
    /// The payment to write (its address is filled in by the plan, in the transaction).
    pub payment: Payment,
    /// Its events.
    pub events: Vec<EventKind>,
    /// Its idempotency key, if it has one.
    pub idempotency: Option<IdempotencyRequest>,
    /// How it gets its deposit address, if it gets one now.
    pub address: Option<AddressPlan>,
    /// The response saved for replays.
    pub render: Render,
    /// Answered after the batch's commit (or its failure).
    pub reply: oneshot::Sender<Result<CreateOutcome, StoreError>>,
}

/// How many times any transaction of this process wrote webhook deliveries (bumped by
/// `fan_out_many`, before its commit). A store method compares it before and after its
/// transaction to know whether to wake the dispatcher ([`Creates::woken`]): other stores'
/// writes in between (tests run several in one process) only cost a spurious wake.
pub(crate) static DELIVERIES_WRITTEN: AtomicU64 = AtomicU64::new(0);

/// What a store's clones share: the handle of its create writer, the signal that
/// deliveries were queued, and the node's API key cache.
#[derive(Default)]
struct Shared {
    writer: OnceLock<mpsc::UnboundedSender<CreateJob>>,
    queued: Notify,
    keys: Arc<KeyCache>,
}

/// The handle of a store's create writer, shared by the store's clones. The writer is started
/// by the first create (on the runtime that makes it) and stops when the last clone of the
/// store is dropped. It also carries the store's "deliveries queued" signal.
#[derive(Clone, Default)]
pub struct Creates(Arc<Shared>);

impl std::fmt::Debug for Creates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Creates").field("started", &self.0.writer.get().is_some()).finish()
    }
}

impl Creates {
    /// Queues `job` for the writer, which runs batches with `run` on `pool`. When the writer
    /// is gone the job (and its reply) is dropped, which its caller reads as not committed.
    pub(crate) fn submit<P, F, Fut>(&self, job: CreateJob, pool: &P, run: F)
    where
        P: Clone + Send + Sync + 'static,
        F: Fn(P, Vec<CreateJob>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let sender = self.0.writer.get_or_init(|| {
            let (sender, jobs) = mpsc::unbounded_channel();
            tokio::spawn(writer(jobs, pool.clone(), run));
            sender
        });
        drop(sender.send(job));
    }

    /// Runs `op` (a transaction that may write deliveries) and, once it is over (committed or
    /// not), wakes the dispatcher if deliveries were written meanwhile, so that a delivery
    /// goes out at once instead of at the dispatcher's next poll.
    pub(crate) async fn woken<T>(&self, op: impl Future<Output = T>) -> T {
        let before = DELIVERIES_WRITTEN.load(Ordering::Acquire);
        let out = op.await;
        if DELIVERIES_WRITTEN.load(Ordering::Acquire) != before {
            self.wake();
        }
        out
    }

    /// Wakes the dispatcher (a wake with nobody waiting is kept for the next wait).
    pub(crate) fn wake(&self) {
        self.0.queued.notify_one();
    }

    /// The signal [`Creates::wake`] gives.
    pub(crate) fn queued(&self) -> &Notify {
        &self.0.queued
    }

    /// The node's API key cache (used on PostgreSQL only).
    pub(crate) fn keys(&self) -> &Arc<KeyCache> {
        &self.0.keys
    }
}

/// Runs batches one after another: whatever queued while one ran is the next.
async fn writer<P, F, Fut>(mut jobs: mpsc::UnboundedReceiver<CreateJob>, pool: P, run: F)
where
    P: Clone + Send + Sync + 'static,
    F: Fn(P, Vec<CreateJob>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // A task of its own, so that a panic (in a caller's render, say) fails this batch's
        // creates (their replies are dropped unanswered) and not every create after it.
        drop(tokio::spawn(run(pool.clone(), batch)).await);
    }
}

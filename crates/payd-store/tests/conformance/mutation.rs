//! Transitions through `mutate_payment`: optimistic, all-or-nothing, no lost updates.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::Duration;
use payd_core::apikey::Mode;
use payd_core::event::EventKind;
use payd_core::ids::PaymentId;
use payd_core::payment::{Funds, PaymentStatus, TransitionError};
use payd_store::{now, Store, StoreError};

use crate::fixtures::{create, merchant, new_payment, pending, DUE};

conformance!(
    cancelling_writes_the_status_and_a_cancelled_event,
    a_refused_transition_leaves_the_row_unchanged,
    a_transition_that_changes_nothing_writes_nothing,
    twenty_concurrent_mutations_lose_no_update,
    of_many_concurrent_cancels_exactly_one_wins,
    concurrent_mutations_of_different_payments_all_apply,
    mutating_an_unknown_payment_is_not_found,
);

async fn cancelling_writes_the_status_and_a_cancelled_event(store: Store) {
    let m = merchant(&store, "Shop").await;
    let p = create(&store, new_payment(&m.id, Mode::Test), now()).await;
    let at = p.created_at + Duration::seconds(3);

    let (cancelled, events) =
        store.mutate_payment(&p.id, &mut |p| p.cancel(at)).await.expect("mutate").expect("cancel is allowed");
    assert_eq!(cancelled.status, PaymentStatus::Cancelled);
    assert_eq!(cancelled.version, 2);
    assert_eq!(cancelled.updated_at, at);
    assert_eq!(cancelled.created_at, p.created_at);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::Cancelled);
    assert_eq!(events[0].sequence, 2);
    assert_eq!(events[0].created_at, at);
    assert_eq!(events[0].payload["status"], "cancelled");

    assert_eq!(store.get_payment(&p.id).await.expect("get"), Some(cancelled.clone()));
    let stored = store.list_events(&p.id).await.expect("events");
    let kinds: Vec<(EventKind, i64)> = stored.iter().map(|e| (e.kind, e.sequence)).collect();
    assert_eq!(kinds, vec![(EventKind::Created, 1), (EventKind::Cancelled, 2)]);
    assert_eq!(stored[1], events[0]);
    assert_eq!(stored[0].payload["status"], "pending");
}

async fn a_refused_transition_leaves_the_row_unchanged(store: Store) {
    let m = merchant(&store, "Shop").await;
    let p = create(&store, new_payment(&m.id, Mode::Test), now()).await;

    // Not due yet.
    let early = store.mutate_payment(&p.id, &mut |p| p.expire(p.created_at)).await.expect("mutate");
    assert_eq!(early.map(|(p, _)| p.status), Err(TransitionError::NotDue));
    assert_eq!(store.get_payment(&p.id).await.expect("get"), Some(p.clone()));

    // A transition that changes the payment and then fails must not be written either.
    let half_done = store
        .mutate_payment(&p.id, &mut |p| {
            p.status = PaymentStatus::Completed;
            p.funds = Funds { confirmed: DUE, pending: 0, late: 0 };
            p.version += 1;
            Err::<Vec<EventKind>, &str>("changed my mind")
        })
        .await
        .expect("mutate");
    assert_eq!(half_done.map(|(p, _)| p.status), Err("changed my mind"));
    assert_eq!(store.get_payment(&p.id).await.expect("get"), Some(p.clone()));
    assert_eq!(store.list_events(&p.id).await.expect("events").len(), 1);

    // Cancel once, then a second cancel is refused and changes nothing.
    let (cancelled, _) =
        store.mutate_payment(&p.id, &mut |p| p.cancel(now())).await.expect("mutate").expect("cancel");
    let again = store.mutate_payment(&p.id, &mut |p| p.cancel(now())).await.expect("mutate");
    assert_eq!(again.map(|(p, _)| p.version), Err(TransitionError::NotCancellable("cancelled")));
    assert_eq!(store.get_payment(&p.id).await.expect("get"), Some(cancelled));
    assert_eq!(store.list_events(&p.id).await.expect("events").len(), 2);
}

async fn a_transition_that_changes_nothing_writes_nothing(store: Store) {
    let m = merchant(&store, "Shop").await;
    let p = create(&store, new_payment(&m.id, Mode::Test), now()).await;
    let (same, events) = store
        .mutate_payment(&p.id, &mut |p| p.apply_funds(Funds::default(), 0, now()))
        .await
        .expect("mutate")
        .expect("apply");
    assert_eq!(same, p);
    assert_eq!(events, vec![]);
    assert_eq!(store.get_payment(&p.id).await.expect("get"), Some(p.clone()));
    assert_eq!(store.list_events(&p.id).await.expect("events").len(), 1);
}

const MUTATORS: usize = 20;

async fn twenty_concurrent_mutations_lose_no_update(store: Store) {
    let m = merchant(&store, "Shop").await;
    let p = create(&store, new_payment(&m.id, Mode::Test), now()).await;
    let contended = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(tokio::sync::Barrier::new(MUTATORS));
    let mut tasks = Vec::new();
    for _ in 0..MUTATORS {
        let (store, id, contended, barrier) =
            (store.clone(), p.id.clone(), contended.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            loop {
                // Each mutation adds one base unit to what the row holds when it runs.
                let result = store
                    .mutate_payment(&id, &mut |p| p.apply_funds(pending(p.funds.pending + 1), 0, now()))
                    .await;
                match result {
                    Ok(Ok((after, events))) => return (after.version, events),
                    Ok(Err(e)) => panic!("transition refused: {e}"),
                    // The store gave up after its retries; a caller tries again.
                    Err(StoreError::Contended) => {
                        contended.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => panic!("mutate failed: {e}"),
                }
            }
        }));
    }
    let mut versions = Vec::new();
    for task in tasks {
        let (version, events) = task.await.expect("task");
        assert!(!events.is_empty());
        assert!(events.iter().all(|e| e.sequence == version));
        versions.push(version);
    }
    versions.sort_unstable();
    let expected: Vec<i64> = (2..).take(MUTATORS).collect();
    assert_eq!(versions, expected, "each mutation got its own version");

    let after = store.get_payment(&p.id).await.expect("get").expect("payment");
    assert_eq!(after.funds, pending(MUTATORS as u128), "no update was lost");
    assert_eq!(after.version, 1 + MUTATORS as i64);
    assert_eq!(after.status, PaymentStatus::Processing);

    let events = store.list_events(&p.id).await.expect("events");
    let mut sequences: Vec<i64> = events.iter().map(|e| e.sequence).collect();
    sequences.dedup();
    assert_eq!(sequences, (1..=1 + MUTATORS as i64).collect::<Vec<_>>(), "events in version order");
    assert_eq!(events.iter().filter(|e| e.kind == EventKind::Processing).count(), 1);
    assert_eq!(events.iter().filter(|e| e.kind == EventKind::PartiallyPaid).count(), MUTATORS);
    let n = contended.load(Ordering::Relaxed);
    if n > 0 {
        eprintln!(
            "note ({:?}): {n} mutation(s) returned StoreError::Contended and were retried",
            store.backend()
        );
    }
}

async fn of_many_concurrent_cancels_exactly_one_wins(store: Store) {
    let m = merchant(&store, "Shop").await;
    let p = create(&store, new_payment(&m.id, Mode::Test), now()).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(MUTATORS));
    let mut tasks = Vec::new();
    for _ in 0..MUTATORS {
        let (store, id, barrier) = (store.clone(), p.id.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            store.mutate_payment(&id, &mut |p| p.cancel(now())).await.expect("mutate")
        }));
    }
    let mut wins = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok((after, _)) => {
                wins += 1;
                assert_eq!(after.version, 2);
            }
            Err(e) => assert_eq!(e, TransitionError::NotCancellable("cancelled")),
        }
    }
    assert_eq!(wins, 1);
    let after = store.get_payment(&p.id).await.expect("get").expect("payment");
    assert_eq!((after.status, after.version), (PaymentStatus::Cancelled, 2));
    let kinds: Vec<EventKind> =
        store.list_events(&p.id).await.expect("events").iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![EventKind::Created, EventKind::Cancelled]);
}

async fn concurrent_mutations_of_different_payments_all_apply(store: Store) {
    let m = merchant(&store, "Shop").await;
    let mut ids: Vec<PaymentId> = Vec::new();
    for _ in 0..MUTATORS {
        let mut new = new_payment(&m.id, Mode::Test);
        new.expires_at = now() - Duration::seconds(1);
        ids.push(create(&store, new, now()).await.id);
    }
    let mut tasks = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let (store, id) = (store.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            let done = if i % 2 == 0 {
                store.mutate_payment(&id, &mut |p| p.cancel(now())).await
            } else {
                store.mutate_payment(&id, &mut |p| p.expire(now())).await
            };
            done.expect("mutate").expect("transition")
        }));
    }
    for task in tasks {
        let (after, events) = task.await.expect("task");
        assert_eq!(after.version, 2);
        assert_eq!(events.len(), 1);
    }
    for (i, id) in ids.iter().enumerate() {
        let after = store.get_payment(id).await.expect("get").expect("payment");
        let status = if i % 2 == 0 { PaymentStatus::Cancelled } else { PaymentStatus::Expired };
        assert_eq!((after.status, after.version), (status, 2));
        assert_eq!(store.list_events(id).await.expect("events").len(), 2);
    }
}

async fn mutating_an_unknown_payment_is_not_found(store: Store) {
    let mut called = false;
    let result = store
        .mutate_payment(&PaymentId::new(), &mut |p| {
            called = true;
            p.cancel(now())
        })
        .await;
    assert!(matches!(result, Err(StoreError::NotFound("payment"))), "{result:?}");
    assert!(!called, "the transition must not run without a payment");
}

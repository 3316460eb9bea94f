//! Finding payments whose time has run out.

use chrono::{DateTime, Duration, Utc};
use payd_core::apikey::Mode;
use payd_core::ids::PaymentId;
use payd_core::payment::{Funds, PaymentStatus};
use payd_store::chain::{BlockRef, ScanCommit};
use payd_store::{now, Store};

use crate::fixtures::{create, merchant, new_payment, pending, DUE};

conformance!(
    payments_due_for_expiry_are_open_overdue_and_oldest_first,
    an_empty_database_has_nothing_to_expire,
    a_payment_waits_until_its_chain_has_passed_its_expiry,
    a_payment_paid_in_time_is_never_due,
);

/// Moves `network`'s watcher cursor one block on, to a block made at `time`.
async fn chain_passes(store: &Store, network: &str, time: DateTime<Utc>) {
    let expected = store.chain_cursor(network).await.expect("cursor");
    let number = expected.as_ref().map_or(0, |b| b.number + 1);
    let cursor = BlockRef { number, hash: format!("0x{network}{number}") };
    let commit = ScanCommit {
        network: network.into(),
        expected,
        cursor: cursor.clone(),
        cursor_time: time,
        blocks: vec![cursor],
        transfers: vec![],
        head: number,
        finalized: None,
        confirmations: 1,
        keep_blocks: 128,
        now: now(),
    };
    store.commit_scan(&commit).await.expect("commit scan");
}

async fn payments_due_for_expiry_are_open_overdue_and_oldest_first(store: Store) {
    let m = merchant(&store, "Shop").await;
    let other = merchant(&store, "Other").await;
    let t = now();
    let created = t - Duration::hours(1);
    let make = |merchant: &payd_core::ids::MerchantId, mode: Mode, expires_in: Duration| {
        let mut new = new_payment(merchant, mode);
        new.expires_at = t + expires_in;
        new
    };

    // Open and overdue, created in an order unrelated to their expiry.
    let c = create(&store, make(&other.id, Mode::Live, Duration::minutes(-1)), created).await;
    let a = create(&store, make(&m.id, Mode::Test, Duration::minutes(-3)), created).await;
    let due_now = create(&store, make(&m.id, Mode::Test, Duration::zero()), created).await;
    let b = create(&store, make(&m.id, Mode::Test, Duration::minutes(-2)), created).await;
    // b is processing: money seen, not yet confirmed. Still open, so still due.
    let (b_after, _) = store
        .mutate_payment(&b.id, &mut |p| p.apply_funds(pending(DUE / 2), 0, t))
        .await
        .expect("mutate")
        .expect("apply funds");
    assert_eq!(b_after.status, PaymentStatus::Processing);

    // Not due yet.
    let later = create(&store, make(&m.id, Mode::Test, Duration::minutes(10)), created).await;
    let just_later = create(&store, make(&m.id, Mode::Test, Duration::milliseconds(1)), created).await;
    // Overdue but no longer open: cancelled, completed, already expired.
    let cancelled = create(&store, make(&m.id, Mode::Test, Duration::minutes(-5)), created).await;
    store.mutate_payment(&cancelled.id, &mut |p| p.cancel(t)).await.expect("mutate").expect("cancel");
    let completed = create(&store, make(&m.id, Mode::Test, Duration::minutes(-4)), created).await;
    let (done, _) = store
        .mutate_payment(&completed.id, &mut |p| {
            p.apply_funds(Funds { confirmed: DUE, pending: 0, late: 0 }, 0, t)
        })
        .await
        .expect("mutate")
        .expect("apply funds");
    assert_eq!(done.status, PaymentStatus::Completed);
    let expired = create(&store, make(&m.id, Mode::Test, Duration::minutes(-6)), created).await;
    store.mutate_payment(&expired.id, &mut |p| p.expire(t)).await.expect("mutate").expect("expire");

    // Every payment here has an address: each chain's watcher has scanned far past them.
    chain_passes(&store, "devnet", t + Duration::hours(1)).await;
    let due = |at, limit| {
        let store = store.clone();
        async move { store.payments_due_for_expiry(at, limit).await.expect("due for expiry") }
    };
    let ids = |ps: &[&PaymentId]| -> Vec<PaymentId> { ps.iter().map(|&id| id.clone()).collect() };

    assert_eq!(due(t, 100).await, ids(&[&a.id, &b.id, &c.id, &due_now.id]));
    assert_eq!(due(t, 2).await, ids(&[&a.id, &b.id]));
    assert_eq!(due(t, 0).await, vec![]);
    assert_eq!(due(t - Duration::seconds(150), 100).await, ids(&[&a.id]));
    assert_eq!(due(t - Duration::hours(1), 100).await, vec![]);
    assert_eq!(
        due(t + Duration::minutes(20), 100).await,
        ids(&[&a.id, &b.id, &c.id, &due_now.id, &just_later.id, &later.id])
    );

    // Expiring them takes them off the list.
    for id in [&a.id, &b.id] {
        let (after, events) =
            store.mutate_payment(id, &mut |p| p.expire(t)).await.expect("mutate").expect("expire");
        assert_eq!(after.status, PaymentStatus::Expired);
        assert_eq!(events.len(), 1);
    }
    let b_expired = store.get_payment(&b.id).await.expect("get").expect("payment");
    assert!(b_expired.underpaid, "b had received half when it expired");
    assert_eq!(due(t, 100).await, ids(&[&c.id, &due_now.id]));
    assert_eq!(due(t, 1).await, ids(&[&c.id]));
    for id in [&c.id, &due_now.id] {
        store.mutate_payment(id, &mut |p| p.expire(t)).await.expect("mutate").expect("expire");
    }
    assert_eq!(due(t, 100).await, vec![]);
    assert_eq!(due(t + Duration::minutes(20), 100).await, ids(&[&just_later.id, &later.id]));
}

async fn an_empty_database_has_nothing_to_expire(store: Store) {
    assert_eq!(store.payments_due_for_expiry(now() + Duration::days(365), 10).await.expect("due"), vec![]);
}

async fn a_payment_waits_until_its_chain_has_passed_its_expiry(store: Store) {
    let m = merchant(&store, "Shop").await;
    let t = now();
    let mut new = new_payment(&m.id, Mode::Test);
    new.expires_at = t - Duration::minutes(1);
    let p = create(&store, new.clone(), t - Duration::hours(1)).await;
    let mut no_address = new.clone();
    if let Some(a) = no_address.asset.as_mut() {
        a.address = None;
    }
    let q = create(&store, no_address, t - Duration::hours(1)).await;
    // No watcher has read devnet yet: money sent at the last second may be on its way in.
    assert_eq!(store.payments_due_for_expiry(t, 10).await.expect("due"), vec![q.id.clone()]);
    chain_passes(&store, "devnet", p.expires_at).await;
    assert_eq!(
        store.payments_due_for_expiry(t, 10).await.expect("due"),
        vec![q.id.clone()],
        "not past it yet"
    );
    chain_passes(&store, "devnet", p.expires_at + Duration::seconds(1)).await;
    assert_eq!(store.payments_due_for_expiry(t, 10).await.expect("due"), vec![p.id.clone(), q.id.clone()]);
    // Live payments wait for their own network's watcher, not devnet's.
    let mut live = new_payment(&m.id, Mode::Live);
    live.expires_at = t - Duration::minutes(2);
    if let Some(a) = live.asset.as_mut() {
        a.network = "base".into();
        a.address = Some("0x00000000000000000000000000000000000000e1".into());
    }
    let l = create(&store, live, t - Duration::hours(1)).await;
    assert!(!store.payments_due_for_expiry(t, 10).await.expect("due").contains(&l.id));
    chain_passes(&store, "base", t).await;
    assert_eq!(store.payments_due_for_expiry(t, 1).await.expect("due"), vec![l.id]);
}

async fn a_payment_paid_in_time_is_never_due(store: Store) {
    let m = merchant(&store, "Shop").await;
    let t = now();
    let mut new = new_payment(&m.id, Mode::Test);
    new.expires_at = t + Duration::minutes(1);
    let p = create(&store, new, t - Duration::hours(1)).await;
    let (seen, _) = store
        .mutate_payment(&p.id, &mut |p| p.apply_funds(pending(DUE), 0, t))
        .await
        .expect("mutate")
        .expect("apply");
    assert!(seen.paid_in_time);
    chain_passes(&store, "devnet", t + Duration::hours(1)).await;
    assert_eq!(store.payments_due_for_expiry(t + Duration::hours(1), 10).await.expect("due"), vec![]);
    let refused =
        store.mutate_payment(&p.id, &mut |p| p.expire(t + Duration::hours(1))).await.expect("mutate");
    assert_eq!(refused.err(), Some(payd_core::payment::TransitionError::PaidInTime));
}

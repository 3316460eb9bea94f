//! Many writers at once.

use payd_core::apikey::Mode;
use payd_core::payment::NewPayment;
use payd_store::{now, CreateOutcome, PaymentFilter, Store};

use crate::fixtures::{build, idem, merchant, new_payment, render};

conformance!(
    fifty_concurrent_creates_with_one_key_create_one_payment,
    fifty_concurrent_creates_without_a_key_all_succeed,
);

const WRITERS: usize = 50;

fn filter(merchant: &payd_core::ids::MerchantId) -> PaymentFilter {
    PaymentFilter {
        merchant_ids: vec![merchant.clone()],
        mode: Mode::Test,
        status: None,
        reference: None,
        created_gte: None,
        created_lte: None,
        before: None,
        limit: 1000,
        ..PaymentFilter::new(Vec::new(), Mode::Test)
    }
}

async fn fifty_concurrent_creates_with_one_key_create_one_payment(store: Store) {
    let m = merchant(&store, "Shop").await;
    let req = idem(&m.id, Mode::Test, "race", "fp");
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(WRITERS));
    let mut tasks = Vec::with_capacity(WRITERS);
    for _ in 0..WRITERS {
        let (store, req, barrier) = (store.clone(), req.clone(), barrier.clone());
        let new = NewPayment { idempotency_key: Some("race".into()), ..new_payment(&m.id, Mode::Test) };
        tasks.push(tokio::spawn(async move {
            let (p, kinds) = build(new, now());
            barrier.wait().await;
            let outcome = store.create_payment(&p, &kinds, Some(&req), None, render).await.expect("create");
            (p, outcome)
        }));
    }

    let mut created = Vec::new();
    let mut replayed = Vec::new();
    for task in tasks {
        match task.await.expect("task") {
            (p, CreateOutcome::Created { response, .. }) => created.push((p, response)),
            (_, CreateOutcome::Replayed { same_request, response, payment_id }) => {
                replayed.push((same_request, response, payment_id));
            }
        }
    }
    assert_eq!(created.len(), 1, "exactly one request creates");
    assert_eq!(replayed.len(), WRITERS - 1);
    let (winner, winner_response) = &created[0];
    for (same_request, response, payment_id) in &replayed {
        assert!(same_request);
        assert_eq!(response, winner_response);
        assert_eq!(payment_id.as_ref(), Some(&winner.id));
    }

    let listed = store.list_payments(&filter(&m.id)).await.expect("list");
    assert_eq!(listed, vec![winner.clone()]);
    assert_eq!(store.list_events(&winner.id).await.expect("events").len(), 1);
}

async fn fifty_concurrent_creates_without_a_key_all_succeed(store: Store) {
    let m = merchant(&store, "Shop").await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(WRITERS));
    let mut tasks = Vec::with_capacity(WRITERS);
    for _ in 0..WRITERS {
        let (store, barrier) = (store.clone(), barrier.clone());
        let new = new_payment(&m.id, Mode::Test);
        tasks.push(tokio::spawn(async move {
            let (p, kinds) = build(new, now());
            barrier.wait().await;
            let outcome = store.create_payment(&p, &kinds, None, None, render).await.expect("create");
            assert!(matches!(outcome, CreateOutcome::Created { .. }), "{outcome:?}");
            p
        }));
    }
    let mut ids = Vec::with_capacity(WRITERS);
    for task in tasks {
        ids.push(task.await.expect("task").id);
    }
    ids.sort();

    let mut listed: Vec<_> =
        store.list_payments(&filter(&m.id)).await.expect("list").into_iter().map(|p| p.id).collect();
    listed.sort();
    assert_eq!(listed, ids);
}

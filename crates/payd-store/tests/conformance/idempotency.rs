//! Idempotency keys: one payment per (merchant, mode, key), and the first response replayed.

use payd_core::apikey::Mode;
use payd_core::ids::MerchantId;
use payd_core::payment::{NewPayment, Payment};
use payd_store::{now, CreateOutcome, IdempotencyRequest, PaymentFilter, Store, StoredResponse};

use crate::fixtures::{build, idem, merchant, new_payment, render};

conformance!(
    a_repeated_key_replays_the_first_response_and_creates_nothing,
    a_reused_key_with_a_different_request_is_flagged,
    keys_are_scoped_by_merchant_and_mode,
    a_used_key_is_read_back_as_its_replay_without_a_create,
);

fn keyed(merchant: &MerchantId, mode: Mode, key: &str) -> NewPayment {
    NewPayment { idempotency_key: Some(key.to_owned()), ..new_payment(merchant, mode) }
}

/// Creates with `req` and expects `Created`; returns the payment and its saved response.
async fn create_keyed(store: &Store, new: NewPayment, req: &IdempotencyRequest) -> (Payment, StoredResponse) {
    let (p, kinds) = build(new, now());
    match store.create_payment(&p, &kinds, Some(req), None, render).await.expect("create") {
        CreateOutcome::Created { response, events } => {
            assert_eq!(response, render(&p).expect("render"));
            assert_eq!(events.len(), 1);
            (p, response)
        }
        other => panic!("expected Created, got {other:?}"),
    }
}

/// Tries to create a new payment with `req` and expects a replay; returns the new
/// (unwritten) payment and the replay's fields.
async fn replay(
    store: &Store,
    new: NewPayment,
    req: &IdempotencyRequest,
) -> (Payment, bool, StoredResponse, Option<payd_core::ids::PaymentId>) {
    let (p, kinds) = build(new, now());
    match store.create_payment(&p, &kinds, Some(req), None, render).await.expect("create") {
        CreateOutcome::Replayed { same_request, response, payment_id } => {
            (p, same_request, response, payment_id)
        }
        other => panic!("expected Replayed, got {other:?}"),
    }
}

async fn payments_of(store: &Store, merchant: &MerchantId, mode: Mode) -> Vec<Payment> {
    let filter = PaymentFilter {
        merchant_ids: vec![merchant.clone()],
        mode,
        status: None,
        reference: None,
        created_gte: None,
        created_lte: None,
        before: None,
        limit: 100,
        ..PaymentFilter::new(Vec::new(), Mode::Test)
    };
    store.list_payments(&filter).await.expect("list")
}

async fn a_repeated_key_replays_the_first_response_and_creates_nothing(store: Store) {
    let m = merchant(&store, "Shop").await;
    let req = idem(&m.id, Mode::Test, "order-1", "fp-A");
    let (first, first_response) = create_keyed(&store, keyed(&m.id, Mode::Test, "order-1"), &req).await;
    assert_eq!(store.get_payment(&first.id).await.expect("get"), Some(first.clone()));

    for _ in 0..2 {
        let (second, same_request, response, payment_id) =
            replay(&store, keyed(&m.id, Mode::Test, "order-1"), &req).await;
        assert!(same_request);
        assert_eq!(response, first_response);
        assert_eq!(payment_id, Some(first.id.clone()));
        assert_eq!(store.get_payment(&second.id).await.expect("get"), None);
        assert_eq!(store.get_payment_by_slug(&second.slug).await.expect("by slug"), None);
        assert_eq!(store.list_events(&second.id).await.expect("events"), vec![]);
    }
    assert_eq!(payments_of(&store, &m.id, Mode::Test).await, vec![first.clone()]);
    assert_eq!(store.list_events(&first.id).await.expect("events").len(), 1);
}

async fn a_reused_key_with_a_different_request_is_flagged(store: Store) {
    let m = merchant(&store, "Shop").await;
    let req = idem(&m.id, Mode::Test, "order-1", "fp-A");
    let (first, first_response) = create_keyed(&store, keyed(&m.id, Mode::Test, "order-1"), &req).await;

    let other = idem(&m.id, Mode::Test, "order-1", "fp-B");
    let mut different = keyed(&m.id, Mode::Test, "order-1");
    different.reference = Some("something else".into());
    let (second, same_request, response, payment_id) = replay(&store, different, &other).await;
    assert!(!same_request);
    assert_eq!(response, first_response);
    assert_eq!(payment_id, Some(first.id.clone()));
    assert_eq!(store.get_payment(&second.id).await.expect("get"), None);

    // The first fingerprint still matches afterwards: a mismatch does not overwrite it.
    let (_, same_request, response, _) = replay(&store, keyed(&m.id, Mode::Test, "order-1"), &req).await;
    assert!(same_request);
    assert_eq!(response, first_response);
    assert_eq!(payments_of(&store, &m.id, Mode::Test).await, vec![first]);
}

async fn keys_are_scoped_by_merchant_and_mode(store: Store) {
    let a = merchant(&store, "A").await;
    let b = merchant(&store, "B").await;
    let key = "shared-key";

    let a_test_req = idem(&a.id, Mode::Test, key, "fp");
    let a_live_req = idem(&a.id, Mode::Live, key, "fp");
    let b_test_req = idem(&b.id, Mode::Test, key, "fp");
    let (a_test, a_test_response) = create_keyed(&store, keyed(&a.id, Mode::Test, key), &a_test_req).await;
    let (a_live, a_live_response) = create_keyed(&store, keyed(&a.id, Mode::Live, key), &a_live_req).await;
    let (b_test, b_test_response) = create_keyed(&store, keyed(&b.id, Mode::Test, key), &b_test_req).await;
    assert_ne!(a_test.id, a_live.id);
    assert_ne!(a_test.id, b_test.id);

    // Each scope replays its own first response.
    for (req, mode, merchant, first, first_response) in [
        (&a_test_req, Mode::Test, &a.id, &a_test, &a_test_response),
        (&a_live_req, Mode::Live, &a.id, &a_live, &a_live_response),
        (&b_test_req, Mode::Test, &b.id, &b_test, &b_test_response),
    ] {
        let (_, same_request, response, payment_id) = replay(&store, keyed(merchant, mode, key), req).await;
        assert!(same_request);
        assert_eq!(&response, first_response);
        assert_eq!(payment_id.as_ref(), Some(&first.id));
        assert_eq!(payments_of(&store, merchant, mode).await, vec![first.clone()]);
    }
    assert_eq!(payments_of(&store, &b.id, Mode::Live).await, vec![]);
}

/// [`Store::idempotent_replay`]'s answer as the fields of a replay.
async fn read(
    store: &Store,
    req: IdempotencyRequest,
) -> Option<(bool, StoredResponse, Option<payd_core::ids::PaymentId>)> {
    match store.idempotent_replay(&req).await.expect("read") {
        Some(CreateOutcome::Replayed { same_request, response, payment_id }) => {
            Some((same_request, response, payment_id))
        }
        Some(other) => panic!("expected Replayed, got {other:?}"),
        None => None,
    }
}

async fn a_used_key_is_read_back_as_its_replay_without_a_create(store: Store) {
    let m = merchant(&store, "Shop").await;
    let req = idem(&m.id, Mode::Test, "order-1", "fp-A");
    assert!(store.idempotent_replay(&req).await.expect("read").is_none());
    let (first, first_response) = create_keyed(&store, keyed(&m.id, Mode::Test, "order-1"), &req).await;

    // What the create itself would answer: the saved response, flagged on a mismatch.
    assert_eq!(read(&store, req.clone()).await, Some((true, first_response.clone(), Some(first.id.clone()))));
    assert_eq!(
        read(&store, idem(&m.id, Mode::Test, "order-1", "fp-B")).await,
        Some((false, first_response, Some(first.id.clone())))
    );
    // Scoped like the claim: another key, mode, merchant or API has nothing saved.
    let other = merchant(&store, "Other").await;
    assert_eq!(read(&store, idem(&m.id, Mode::Test, "order-2", "fp-A")).await, None);
    assert_eq!(read(&store, idem(&m.id, Mode::Live, "order-1", "fp-A")).await, None);
    assert_eq!(read(&store, idem(&other.id, Mode::Test, "order-1", "fp-A")).await, None);
    let mut astra = req.clone();
    astra.api = payd_core::payment::Dialect::Astrapay;
    assert_eq!(read(&store, astra).await, None);
    // Reading writes nothing.
    assert_eq!(payments_of(&store, &m.id, Mode::Test).await, vec![first]);
}

//! Group commit: creates waiting together share one transaction, each isolated from its
//! batch-mates, and none is acknowledged before (or without) that transaction's commit.
//!
//! To put many creates in one batch for certain, a scenario holds the database's write lock
//! on a connection of its own (`hold_writes`): the writer's first batch waits on it, every
//! create sent meanwhile queues behind, and they all form the next batch once it is let go.

use std::sync::Arc;
use std::time::Duration;

use payd_core::apikey::Mode;
use payd_core::event::EventKind;
use payd_core::payment::{NewPayment, Payment};
use payd_core::webhook::WebhookFormat;
use payd_store::{now, AddressPlan, CreateOutcome, IdempotencyRequest, Store, StoreError};
use tokio::task::JoinHandle;

use crate::fixtures::{build, create, idem, merchant, new_payment, render};
use crate::webhooks::{endpoint, filter};

conformance!(
    a_batch_answers_each_create_alone,
    plain_creates_batched_together_get_their_own_addresses_events_and_deliveries,
    a_batch_that_does_not_commit_acknowledges_none,
);

/// A transaction holding what every create writes, on a connection outside the store's writer.
enum Held {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

async fn hold_writes(store: &Store) -> Held {
    match store {
        Store::Sqlite(pool, _) => Held::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await.expect("lock")),
        Store::Postgres(pool, _) => {
            let mut tx = pool.begin().await.expect("begin");
            sqlx::query("LOCK TABLE payments IN EXCLUSIVE MODE").execute(&mut *tx).await.expect("lock");
            Held::Postgres(tx)
        }
    }
}

async fn release(held: Held) {
    match held {
        Held::Sqlite(tx) => tx.rollback().await.expect("release"),
        Held::Postgres(tx) => tx.rollback().await.expect("release"),
    }
}

async fn raw(store: &Store, sql: &str) {
    match store {
        Store::Sqlite(pool, _) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
        Store::Postgres(pool, _) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
    }
    .expect("raw SQL");
}

type Outcome = Result<CreateOutcome, StoreError>;

fn spawn_create(
    store: &Store,
    new: NewPayment,
    slug: Option<String>,
    idempotency: Option<IdempotencyRequest>,
    plan: Option<AddressPlan>,
) -> JoinHandle<(Payment, Outcome)> {
    let store = store.clone();
    tokio::spawn(async move {
        let (mut p, kinds) = build(new, now());
        if let Some(slug) = slug {
            p.slug = slug;
        }
        let outcome = store.create_payment(&p, &kinds, idempotency.as_ref(), plan.as_ref(), render).await;
        (p, outcome)
    })
}

fn plan(key_id: &str, fail: bool) -> AddressPlan {
    AddressPlan {
        key_id: key_id.into(),
        family: "evm".into(),
        derive: Arc::new(move |i: u64| {
            if fail {
                Err("no such child".into())
            } else {
                Ok(format!("0x{:040x}", 0xba_0000 + i))
            }
        }),
    }
}

/// A payment whose address the plan fills in.
fn unaddressed(m: &payd_core::ids::MerchantId) -> NewPayment {
    let mut new = new_payment(m, Mode::Test);
    if let Some(asset) = new.asset.as_mut() {
        asset.address = None;
    }
    new
}

/// Sends `creates` while the writer waits on the held lock (behind one create of its own),
/// then lets it go: they all meet in one batch. Returns the first create's result and theirs.
async fn in_one_batch(
    store: &Store,
    creates: impl FnOnce() -> Vec<JoinHandle<(Payment, Outcome)>>,
) -> (Outcome, Vec<(Payment, Outcome)>) {
    let m = merchant(store, "Opener").await;
    let held = hold_writes(store).await;
    let first = spawn_create(store, new_payment(&m.id, Mode::Test), None, None, None);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let tasks = creates();
    tokio::time::sleep(Duration::from_millis(400)).await;
    release(held).await;
    let first = first.await.expect("task").1;
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    (first, out)
}

async fn exists(store: &Store, p: &Payment) -> bool {
    store.get_payment(&p.id).await.expect("get").is_some()
}

async fn a_batch_answers_each_create_alone(store: Store) {
    let m = merchant(&store, "Shop").await;
    let taken = create(&store, new_payment(&m.id, Mode::Test), now()).await;
    let shared = idem(&m.id, Mode::Test, "shared", "fp");
    let (first, results) = in_one_batch(&store, || {
        (0..50)
            .map(|i| match i % 5 {
                // One key sent ten times: one create, nine replays of its response.
                0 => spawn_create(
                    &store,
                    NewPayment { idempotency_key: Some("shared".into()), ..new_payment(&m.id, Mode::Test) },
                    None,
                    Some(shared.clone()),
                    None,
                ),
                // A slug that is taken: a conflict for this create alone.
                1 => {
                    spawn_create(&store, new_payment(&m.id, Mode::Test), Some(taken.slug.clone()), None, None)
                }
                // An address plan that cannot derive.
                2 => spawn_create(&store, unaddressed(&m.id), None, None, Some(plan("batch-key", true))),
                3 => spawn_create(&store, unaddressed(&m.id), None, None, Some(plan("batch-key", false))),
                _ => spawn_create(&store, new_payment(&m.id, Mode::Test), None, None, None),
            })
            .collect()
    })
    .await;
    assert!(matches!(first, Ok(CreateOutcome::Created { .. })), "{first:?}");

    let mut created = Vec::new();
    let mut replays = Vec::new();
    let mut addresses = Vec::new();
    for (i, (p, outcome)) in results.into_iter().enumerate() {
        match (i % 5, outcome) {
            (0, Ok(CreateOutcome::Created { response, .. })) => created.push((p, Some(response))),
            (0, Ok(CreateOutcome::Replayed { same_request, response, payment_id })) => {
                assert!(same_request);
                assert!(!exists(&store, &p).await, "a replay writes nothing");
                replays.push((response, payment_id));
            }
            (1, Err(StoreError::Conflict("payments_slug_key"))) | (2, Err(StoreError::Address(_))) => {
                assert!(!exists(&store, &p).await, "a failed create leaves nothing");
            }
            (3 | 4, Ok(CreateOutcome::Created { .. })) => {
                let stored = store.get_payment(&p.id).await.expect("get").expect("acknowledged, so stored");
                if i % 5 == 3 {
                    addresses.push(stored.asset.and_then(|a| a.address).expect("derived address"));
                }
                created.push((p, None));
            }
            (kind, other) => panic!("create {i} (kind {kind}): unexpected {other:?}"),
        }
    }
    let winners: Vec<_> = created.iter().filter_map(|(p, r)| r.as_ref().map(|r| (p, r))).collect();
    assert_eq!(winners.len(), 1, "one create per idempotency key");
    assert_eq!(replays.len(), 9);
    let (winner, winner_response) = winners[0];
    for (response, payment_id) in &replays {
        assert_eq!(response, winner_response);
        assert_eq!(payment_id.as_ref(), Some(&winner.id));
    }
    // Every acknowledged payment is stored once, with its event; nothing else is.
    assert_eq!(created.len(), 1 + 10 + 10);
    let listed = store
        .list_payments(&payd_store::PaymentFilter {
            limit: 1000,
            ..payd_store::PaymentFilter::new(vec![m.id.clone()], Mode::Test)
        })
        .await
        .expect("list");
    assert_eq!(listed.len(), created.len() + 1, "the batch's payments and the one taken before");
    for (p, _) in &created {
        assert_eq!(listed.iter().filter(|l| l.id == p.id).count(), 1);
        assert_eq!(store.list_events(&p.id).await.expect("events").len(), 1);
    }
    addresses.sort();
    addresses.dedup();
    assert_eq!(addresses.len(), 10, "every derived address is its payment's own");
}

async fn plain_creates_batched_together_get_their_own_addresses_events_and_deliveries(store: Store) {
    let m = merchant(&store, "Shop").await;
    let hook = endpoint(&m.id, Mode::Test, WebhookFormat::Native, Vec::new());
    store.insert_webhook_endpoint(&hook).await.expect("endpoint");
    let (first, results) = in_one_batch(&store, || {
        (0..30)
            .map(|_| spawn_create(&store, unaddressed(&m.id), None, None, Some(plan("bulk-key", false))))
            .collect()
    })
    .await;
    assert!(matches!(first, Ok(CreateOutcome::Created { .. })), "{first:?}");
    let mut addresses = Vec::new();
    for (p, outcome) in results {
        let Ok(CreateOutcome::Created { response, events }) = outcome else { panic!("{outcome:?}") };
        let stored = store.get_payment(&p.id).await.expect("get").expect("stored");
        // The saved response is of the payment as written, address included.
        assert_eq!(response.body, serde_json::to_string(&stored).expect("json"));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventKind::Created);
        assert_eq!(store.list_events(&p.id).await.expect("events"), events);
        let mut f = filter(&m.id, Mode::Test);
        f.payment_id = Some(p.id.clone());
        let deliveries = store.list_webhook_deliveries(&f).await.expect("deliveries");
        assert_eq!(deliveries.len(), 1, "one delivery of payment.created per payment");
        assert_eq!(deliveries[0].event_id, events[0].id);
        addresses.push(stored.asset.and_then(|a| a.address).expect("address"));
    }
    addresses.sort();
    let expected: Vec<String> = (0..30u64).map(|i| format!("0x{:040x}", 0xba_0000 + i)).collect();
    assert_eq!(addresses, expected, "the key's indexes 0..30, each once");
}

async fn a_batch_that_does_not_commit_acknowledges_none(store: Store) {
    // A check the database makes only at commit, failing any transaction that wrote a
    // payment with this reference.
    match store.backend() {
        payd_store::Backend::Sqlite => {
            raw(
                &store,
                "CREATE TABLE commit_trap_parent (id TEXT PRIMARY KEY); \
                 CREATE TABLE commit_trap (id TEXT REFERENCES commit_trap_parent (id) DEFERRABLE INITIALLY DEFERRED); \
                 CREATE TRIGGER commit_trap AFTER INSERT ON payments WHEN NEW.reference = 'fail-commit' \
                 BEGIN INSERT INTO commit_trap (id) VALUES (NEW.id); END;",
            )
            .await
        }
        payd_store::Backend::Postgres => {
            raw(
                &store,
                "CREATE FUNCTION commit_trap() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'commit trap'; END $$; \
                 CREATE CONSTRAINT TRIGGER commit_trap AFTER INSERT ON payments DEFERRABLE INITIALLY DEFERRED \
                 FOR EACH ROW WHEN (NEW.reference = 'fail-commit') EXECUTE FUNCTION commit_trap();",
            )
            .await
        }
    }
    let m = merchant(&store, "Shop").await;
    let (first, results) = in_one_batch(&store, || {
        (0..10)
            .map(|i| {
                let mut new = unaddressed(&m.id);
                if i == 4 {
                    new.reference = Some("fail-commit".into());
                }
                let key = (i % 2 == 0).then(|| idem(&m.id, Mode::Test, &format!("k{i}"), "fp"));
                spawn_create(&store, new, None, key, Some(plan("trap-key", false)))
            })
            .collect()
    })
    .await;
    assert!(matches!(first, Ok(CreateOutcome::Created { .. })), "{first:?}");
    for (p, outcome) in &results {
        assert!(matches!(outcome, Err(StoreError::NotCommitted(_))), "{outcome:?}");
        assert!(!exists(&store, p).await, "not acknowledged, not stored");
    }
    // Nothing of the batch stayed: its keys are free and its address indexes untaken.
    let (p, again) = spawn_create(
        &store,
        unaddressed(&m.id),
        None,
        Some(idem(&m.id, Mode::Test, "k0", "fp")),
        Some(plan("trap-key", false)),
    )
    .await
    .expect("task");
    assert!(matches!(again, Ok(CreateOutcome::Created { .. })), "{again:?}");
    let stored = store.get_payment(&p.id).await.expect("get").expect("stored");
    assert_eq!(stored.asset.and_then(|a| a.address), Some(format!("0x{:040x}", 0xba_0000)));
}

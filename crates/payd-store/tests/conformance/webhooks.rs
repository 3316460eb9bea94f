//! Webhook endpoints, the fan-out written with each event, leased claims and the attempt log.

use std::time::Duration;

use chrono::Duration as Span;
use payd_core::apikey::Mode;
use payd_core::event::EventKind;
use payd_core::ids::{MerchantId, WebhookEndpointId};
use payd_core::webhook::{Attempt, DeliveryStatus, WebhookEndpoint, WebhookFormat};
use payd_store::webhooks::{DeliveryFilter, DeliveryOutcome, EndpointHealth};
use payd_store::{now, Store};

use crate::fixtures::{create, merchant, new_payment};

conformance!(
    webhooks_endpoints_round_trip_update_and_delete,
    webhooks_each_event_fans_out_to_the_endpoints_that_want_it,
    webhooks_a_claim_is_exclusive_until_its_lease_lapses,
    webhooks_a_stale_claim_cannot_record,
    webhooks_results_schedule_retries_log_attempts_and_disable_endpoints,
    webhooks_replays_send_failed_deliveries_again,
    webhooks_concurrent_dispatchers_claim_each_delivery_once,
    webhooks_a_locked_endpoint_row_does_not_hide_its_deliveries,
);

pub(crate) fn endpoint(
    merchant: &MerchantId,
    mode: Mode,
    format: WebhookFormat,
    events: Vec<EventKind>,
) -> WebhookEndpoint {
    let t = now();
    WebhookEndpoint {
        id: WebhookEndpointId::new(),
        merchant_id: merchant.clone(),
        mode,
        url: "https://example.test/hook".into(),
        description: Some("orders".into()),
        events,
        format,
        enabled: true,
        disabled_reason: None,
        secret_sealed: "v1.sealed.secret".into(),
        previous_secret_sealed: None,
        previous_secret_expires_at: None,
        failing_since: None,
        created_at: t,
        updated_at: t,
    }
}

pub(crate) fn filter(merchant: &MerchantId, mode: Mode) -> DeliveryFilter {
    DeliveryFilter {
        merchant_id: merchant.clone(),
        mode,
        endpoint_id: None,
        event_id: None,
        payment_id: None,
        status: None,
        before: None,
        limit: 100,
    }
}

fn attempt(code: Option<u16>) -> Attempt {
    Attempt {
        at: now(),
        status_code: code,
        latency_ms: 12,
        error: code.is_none().then(|| "connection refused".to_owned()),
        response_snippet: code.map(|_| "ok".to_owned()),
    }
}

async fn webhooks_endpoints_round_trip_update_and_delete(store: Store) {
    let m = merchant(&store, "Shop").await;
    let e =
        endpoint(&m.id, Mode::Test, WebhookFormat::Native, vec![EventKind::Completed, EventKind::Expired]);
    store.insert_webhook_endpoint(&e).await.unwrap();
    assert_eq!(store.get_webhook_endpoint(&e.id).await.unwrap(), Some(e.clone()));
    assert_eq!(store.list_webhook_endpoints(&m.id, Mode::Test).await.unwrap(), vec![e.clone()]);
    assert!(store.list_webhook_endpoints(&m.id, Mode::Live).await.unwrap().is_empty());

    let mut changed = e.clone();
    changed.url = "https://example.test/other".into();
    changed.events = Vec::new();
    changed.format = WebhookFormat::Astrapay;
    changed.previous_secret_sealed = Some("v1.old.secret".into());
    changed.previous_secret_expires_at = Some(now() + Span::hours(24));
    changed.updated_at = now();
    assert!(store.update_webhook_endpoint(&changed).await.unwrap());
    assert_eq!(store.get_webhook_endpoint(&e.id).await.unwrap(), Some(changed.clone()));

    assert!(store.delete_webhook_endpoint(&e.id, now()).await.unwrap());
    assert!(!store.delete_webhook_endpoint(&e.id, now()).await.unwrap());
    assert_eq!(store.get_webhook_endpoint(&e.id).await.unwrap(), None);
    assert!(!store.update_webhook_endpoint(&changed).await.unwrap(), "a deleted endpoint stays deleted");
}

async fn webhooks_each_event_fans_out_to_the_endpoints_that_want_it(store: Store) {
    let m = merchant(&store, "Shop").await;
    let other = merchant(&store, "Other").await;
    let all = endpoint(&m.id, Mode::Test, WebhookFormat::Native, Vec::new());
    let completed_only = endpoint(&m.id, Mode::Test, WebhookFormat::Native, vec![EventKind::Completed]);
    let astra = endpoint(&m.id, Mode::Test, WebhookFormat::Astrapay, Vec::new());
    let live = endpoint(&m.id, Mode::Live, WebhookFormat::Native, Vec::new());
    let others = endpoint(&other.id, Mode::Test, WebhookFormat::Native, Vec::new());
    let mut disabled = endpoint(&m.id, Mode::Test, WebhookFormat::Native, Vec::new());
    disabled.enabled = false;
    for e in [&all, &completed_only, &astra, &live, &others, &disabled] {
        store.insert_webhook_endpoint(e).await.unwrap();
    }

    let p = create(&store, new_payment(&m.id, Mode::Test), now()).await;
    let (_, events) = store.mutate_payment(&p.id, &mut |p| p.cancel(now())).await.unwrap().unwrap();
    assert_eq!(events.len(), 1);

    let mut f = filter(&m.id, Mode::Test);
    f.payment_id = Some(p.id.clone());
    let ds = store.list_webhook_deliveries(&f).await.unwrap();
    let mut got: Vec<(String, &str, String)> = ds
        .iter()
        .map(|d| {
            let who = if d.endpoint_id == all.id { "all" } else { "astra" };
            (d.kind.as_str().to_owned(), who, d.event_name.clone())
        })
        .collect();
    got.sort();
    // created → all; cancelled → all and AstraPay's `payment.canceled`; the filtered,
    // live, other merchant's and disabled endpoints get nothing.
    assert_eq!(
        got,
        vec![
            ("payment.cancelled".to_owned(), "all", "payment.cancelled".to_owned()),
            ("payment.cancelled".to_owned(), "astra", "payment.canceled".to_owned()),
            ("payment.created".to_owned(), "all", "payment.created".to_owned()),
        ]
    );
    assert!(ds.iter().all(|d| d.status == DeliveryStatus::Pending && d.attempts == 0));
    let mut by_event = filter(&m.id, Mode::Test);
    by_event.event_id = Some(events[0].id.clone());
    assert_eq!(store.list_webhook_deliveries(&by_event).await.unwrap().len(), 2);
    assert!(store.list_webhook_deliveries(&filter(&other.id, Mode::Test)).await.unwrap().is_empty());
}

async fn webhooks_a_claim_is_exclusive_until_its_lease_lapses(store: Store) {
    let m = merchant(&store, "Shop").await;
    let e = endpoint(&m.id, Mode::Test, WebhookFormat::Native, Vec::new());
    store.insert_webhook_endpoint(&e).await.unwrap();
    let p = create(&store, new_payment(&m.id, Mode::Test), now()).await;
    let t = now();
    let first = store.claim_webhook_deliveries(t, Duration::from_secs(60), 10).await.unwrap();
    assert_eq!(first.len(), 1);
    let c = &first[0];
    assert_eq!((c.event.payment_id.clone(), c.endpoint.id.clone()), (p.id.clone(), e.id.clone()));
    assert_eq!(c.delivery.status, DeliveryStatus::Delivering);
    assert!(store.claim_webhook_deliveries(t, Duration::from_secs(60), 10).await.unwrap().is_empty());
    // The holder died: once the lease lapses another dispatcher takes it over.
    let later =
        store.claim_webhook_deliveries(t + Span::seconds(61), Duration::from_secs(60), 10).await.unwrap();
    assert_eq!(later.len(), 1);
    assert_ne!(later[0].lease_token, c.lease_token);
}

async fn webhooks_a_stale_claim_cannot_record(store: Store) {
    let m = merchant(&store, "Shop").await;
    store
        .insert_webhook_endpoint(&endpoint(&m.id, Mode::Test, WebhookFormat::Native, Vec::new()))
        .await
        .unwrap();
    create(&store, new_payment(&m.id, Mode::Test), now()).await;
    let t = now();
    let stale = store.claim_webhook_deliveries(t, Duration::from_secs(1), 10).await.unwrap().remove(0);
    let fresh = store
        .claim_webhook_deliveries(t + Span::seconds(2), Duration::from_secs(60), 10)
        .await
        .unwrap()
        .remove(0);
    let ok = store
        .finish_webhook_delivery(
            &stale,
            &attempt(Some(500)),
            DeliveryOutcome::Dead,
            EndpointHealth::Failing,
            t,
        )
        .await
        .unwrap();
    assert!(!ok, "the lapsed claim records nothing");
    assert!(store.list_webhook_attempts(&stale.delivery.id).await.unwrap().is_empty());
    let ok = store
        .finish_webhook_delivery(
            &fresh,
            &attempt(Some(200)),
            DeliveryOutcome::Delivered,
            EndpointHealth::Healthy,
            t,
        )
        .await
        .unwrap();
    assert!(ok);
    let d = store.get_webhook_delivery(&fresh.delivery.id).await.unwrap().unwrap();
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Delivered, 1));
}

async fn webhooks_results_schedule_retries_log_attempts_and_disable_endpoints(store: Store) {
    let m = merchant(&store, "Shop").await;
    let e = endpoint(&m.id, Mode::Test, WebhookFormat::Native, Vec::new());
    store.insert_webhook_endpoint(&e).await.unwrap();
    create(&store, new_payment(&m.id, Mode::Test), now()).await;
    let t = now();
    let c = store.claim_webhook_deliveries(t, Duration::from_secs(60), 10).await.unwrap().remove(0);
    let retry_at = t + Span::seconds(5);
    store
        .finish_webhook_delivery(
            &c,
            &attempt(None),
            DeliveryOutcome::RetryAt(retry_at),
            EndpointHealth::Failing,
            t,
        )
        .await
        .unwrap();
    let d = store.get_webhook_delivery(&c.delivery.id).await.unwrap().unwrap();
    assert_eq!((d.status, d.attempts, d.next_attempt_at), (DeliveryStatus::Failed, 1, Some(retry_at)));
    let ep = store.get_webhook_endpoint(&e.id).await.unwrap().unwrap();
    assert_eq!(ep.failing_since, Some(t));
    // Not due before its time; due after.
    assert!(store
        .claim_webhook_deliveries(t + Span::seconds(4), Duration::from_secs(60), 10)
        .await
        .unwrap()
        .is_empty());
    let again =
        store.claim_webhook_deliveries(retry_at, Duration::from_secs(60), 10).await.unwrap().remove(0);
    assert_eq!(again.delivery.attempts, 1);
    store
        .finish_webhook_delivery(
            &again,
            &attempt(Some(410)),
            DeliveryOutcome::Dead,
            EndpointHealth::Disable("gone"),
            t,
        )
        .await
        .unwrap();
    let attempts = store.list_webhook_attempts(&c.delivery.id).await.unwrap();
    assert_eq!(attempts.iter().map(|a| a.status_code).collect::<Vec<_>>(), vec![None, Some(410)]);
    assert_eq!(attempts[0].error.as_deref(), Some("connection refused"));
    let ep = store.get_webhook_endpoint(&e.id).await.unwrap().unwrap();
    assert_eq!((ep.enabled, ep.disabled_reason.as_deref()), (false, Some("gone")));
    // A disabled endpoint gets no new deliveries, and its waiting ones are not claimed.
    create(&store, new_payment(&m.id, Mode::Test), now()).await;
    assert_eq!(store.list_webhook_deliveries(&filter(&m.id, Mode::Test)).await.unwrap().len(), 1);
}

async fn webhooks_replays_send_failed_deliveries_again(store: Store) {
    let m = merchant(&store, "Shop").await;
    let e = endpoint(&m.id, Mode::Test, WebhookFormat::Native, Vec::new());
    store.insert_webhook_endpoint(&e).await.unwrap();
    for _ in 0..3 {
        create(&store, new_payment(&m.id, Mode::Test), now()).await;
    }
    let t = now();
    let claims = store.claim_webhook_deliveries(t, Duration::from_secs(60), 10).await.unwrap();
    assert_eq!(claims.len(), 3);
    let outcomes =
        [DeliveryOutcome::Dead, DeliveryOutcome::RetryAt(t + Span::hours(1)), DeliveryOutcome::Delivered];
    for (c, o) in claims.iter().zip(outcomes) {
        store.finish_webhook_delivery(c, &attempt(Some(500)), o, EndpointHealth::Failing, t).await.unwrap();
    }
    assert_eq!(store.replay_failed_webhook_deliveries(&e.id, t).await.unwrap(), 2);
    let due = store.claim_webhook_deliveries(t, Duration::from_secs(60), 10).await.unwrap();
    assert_eq!(due.len(), 2);
    assert!(due.iter().all(|c| c.delivery.attempts == 0), "a replay starts a fresh schedule");
    // A delivered one is replayed on request too, but not while it is being sent.
    assert!(store.replay_webhook_delivery(&claims[2].delivery.id, t).await.unwrap());
    assert!(!store.replay_webhook_delivery(&due[0].delivery.id, t).await.unwrap());
    assert_eq!(store.list_webhook_attempts(&claims[2].delivery.id).await.unwrap().len(), 1, "the log stays");
}

async fn webhooks_concurrent_dispatchers_claim_each_delivery_once(store: Store) {
    let m = merchant(&store, "Shop").await;
    store
        .insert_webhook_endpoint(&endpoint(&m.id, Mode::Test, WebhookFormat::Native, Vec::new()))
        .await
        .unwrap();
    for _ in 0..40 {
        create(&store, new_payment(&m.id, Mode::Test), now()).await;
    }
    let t = now();
    // Four dispatchers claim batches of 3 in lockstep rounds, so each round's claims run at
    // the same time whatever the scheduling. While 12 or more deliveries are due, every claim
    // finds 3 that no other claim holds: 3 full rounds give each dispatcher exactly 9, and the
    // fourth round takes the last 4. A dispatcher that found nothing while rows were due (as
    // when claims locked the shared endpoint row) fails the share.
    let dispatchers = 4;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(dispatchers));
    let mut tasks = Vec::new();
    for _ in 0..dispatchers {
        let s = store.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let mut rounds = Vec::new();
            for _ in 0..5 {
                barrier.wait().await;
                let batch = s.claim_webhook_deliveries(t, Duration::from_secs(60), 3).await.unwrap();
                rounds.push(batch.into_iter().map(|c| c.delivery.id).collect::<Vec<_>>());
            }
            rounds
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        let rounds = task.await.unwrap();
        let sizes: Vec<usize> = rounds.iter().map(Vec::len).collect();
        assert_eq!(&sizes[..3], [3, 3, 3], "a fair share in each full round: {sizes:?}");
        assert_eq!(sizes[4], 0, "nothing is left for a fifth round: {sizes:?}");
        all.extend(rounds.into_iter().flatten());
    }
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!((n, all.len()), (40, 40), "every delivery claimed, each once");
}

/// A transaction that holds the endpoint's row (a result being recorded moves its
/// `failing_since`; an operator edits it) must not hide that endpoint's due deliveries from a
/// dispatcher. SQLite has one writer at a time, so the scenario is PostgreSQL's.
async fn webhooks_a_locked_endpoint_row_does_not_hide_its_deliveries(store: Store) {
    let Store::Postgres(pool, _) = &store else { return };
    let m = merchant(&store, "Shop").await;
    let e = endpoint(&m.id, Mode::Test, WebhookFormat::Native, Vec::new());
    store.insert_webhook_endpoint(&e).await.unwrap();
    for _ in 0..5 {
        create(&store, new_payment(&m.id, Mode::Test), now()).await;
    }
    let mut holder = pool.begin().await.unwrap();
    sqlx::query("UPDATE webhook_endpoints SET failing_since = $2 WHERE id = $1")
        .bind(e.id.to_string())
        .bind(now().timestamp_millis())
        .execute(&mut *holder)
        .await
        .unwrap();
    let claimed = tokio::time::timeout(
        Duration::from_secs(10),
        store.claim_webhook_deliveries(now(), Duration::from_secs(60), 10),
    )
    .await
    .expect("the claim does not wait on the endpoint row")
    .unwrap();
    assert_eq!(claimed.len(), 5, "every due delivery is claimable while the endpoint row is held");
    holder.rollback().await.unwrap();
}

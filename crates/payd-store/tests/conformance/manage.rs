//! The dashboard's management operations: test events (stored beside payment events, claimed,
//! listed and logged like them, never a payment) and endpoint changes, deletions and replays
//! that commit together with their audit line or not at all.

use std::time::Duration;

use payd_core::apikey::Mode;
use payd_core::event::{Event, EventKind};
use payd_core::ids::{DeliveryId, EventId, UserId};
use payd_core::webhook::{Attempt, DeliveryStatus, WebhookEndpoint, WebhookFormat};
use payd_store::users::AuditEntry;
use payd_store::webhooks::{DeliveryOutcome, EndpointHealth};
use payd_store::{now, Store};

use crate::api_keys::key;
use crate::fixtures::{build, create, merchant, new_payment, pending};
use crate::webhooks::{endpoint, filter};

conformance!(
    manage_a_test_event_is_claimed_listed_and_logged_apart_from_payments,
    manage_a_test_event_to_a_disabled_or_deleted_endpoint_writes_nothing,
    manage_changes_and_their_audit_lines_commit_together,
    manage_a_cancel_a_registration_and_a_keys_life_commit_with_their_lines,
);

fn line(e: &WebhookEndpoint, action: &str) -> AuditEntry {
    AuditEntry {
        user_id: None,
        actor: "cli".into(),
        account_id: None,
        action: action.into(),
        target: e.id.to_string(),
        detail: String::new(),
        at: now(),
    }
}

/// A line the database refuses (its user does not exist): whatever it rides with must not
/// be written either.
fn refused_line(e: &WebhookEndpoint) -> AuditEntry {
    AuditEntry { user_id: Some(UserId::new()), ..line(e, "refused") }
}

fn test_event(e: &WebhookEndpoint) -> Event {
    let (sample, _) = build(new_payment(&e.merchant_id, e.mode), now());
    Event {
        id: EventId::new(),
        kind: EventKind::Test,
        payment_id: sample.id.clone(),
        merchant_id: e.merchant_id.clone(),
        mode: e.mode,
        sequence: 0,
        payload: serde_json::to_value(&sample).unwrap(),
        created_at: now(),
    }
}

async fn lines(store: &Store, action: &str) -> usize {
    store.audit_log(None, 500).await.unwrap().iter().filter(|l| l.action == action).count()
}

async fn manage_a_test_event_is_claimed_listed_and_logged_apart_from_payments(store: Store) {
    let m = merchant(&store, "Shop").await;
    // The endpoint wants only completions: a test is sent whatever its filter.
    let e = endpoint(&m.id, Mode::Test, WebhookFormat::Native, vec![EventKind::Completed]);
    store.insert_webhook_endpoint(&e).await.unwrap();
    let paid = create(&store, new_payment(&m.id, Mode::Test), now()).await;
    let event = test_event(&e);
    let delivery = DeliveryId::new();
    assert!(store
        .send_test_webhook_event(&e.id, &event, &delivery, "webhook.test", &line(&e, "webhook_endpoint.test"))
        .await
        .unwrap());
    assert_eq!(lines(&store, "webhook_endpoint.test").await, 1);

    // Listed with the endpoint's deliveries, as a test of its sample payment.
    let mut f = filter(&m.id, Mode::Test);
    f.endpoint_id = Some(e.id.clone());
    let listed = store.list_webhook_deliveries(&f).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let d = &listed[0];
    assert_eq!(
        (d.id.clone(), d.kind, d.event_id.clone()),
        (delivery.clone(), EventKind::Test, event.id.clone())
    );
    assert_eq!((d.payment_id.clone(), d.event_name.as_str()), (event.payment_id.clone(), "webhook.test"));
    assert_eq!(d.status, DeliveryStatus::Pending);
    f.event_id = Some(event.id.clone());
    assert_eq!(store.list_webhook_deliveries(&f).await.unwrap().len(), 1, "found by its event");
    // Not a delivery of any real payment, and the sample is no payment.
    let mut of_payment = filter(&m.id, Mode::Test);
    of_payment.payment_id = Some(paid.id.clone());
    assert!(store.list_webhook_deliveries(&of_payment).await.unwrap().is_empty());
    assert_eq!(store.get_payment(&event.payment_id).await.unwrap(), None);
    assert_eq!(store.get_webhook_delivery(&delivery).await.unwrap().unwrap().kind, EventKind::Test);

    // Claimed with its event (the sample as its snapshot) and endpoint; the attempt is logged.
    let claims = store.claim_webhook_deliveries(now(), Duration::from_secs(60), 10).await.unwrap();
    assert_eq!(claims.len(), 1, "{claims:?}");
    let c = &claims[0];
    assert_eq!(c.event, event, "the stored event comes back as it went in");
    assert_eq!(c.endpoint.id, e.id);
    let attempt =
        Attempt { at: now(), status_code: Some(200), latency_ms: 7, error: None, response_snippet: None };
    assert!(store
        .finish_webhook_delivery(c, &attempt, DeliveryOutcome::Delivered, EndpointHealth::Healthy, now())
        .await
        .unwrap());
    assert_eq!(store.list_webhook_attempts(&delivery).await.unwrap(), vec![attempt]);
    assert_eq!(
        store.get_webhook_delivery(&delivery).await.unwrap().unwrap().status,
        DeliveryStatus::Delivered
    );
    // It can be sent again like any delivery.
    assert!(store.replay_webhook_delivery(&delivery, now()).await.unwrap());
    assert_eq!(store.claim_webhook_deliveries(now(), Duration::from_secs(60), 10).await.unwrap().len(), 1);
}

async fn manage_a_test_event_to_a_disabled_or_deleted_endpoint_writes_nothing(store: Store) {
    let m = merchant(&store, "Shop").await;
    let mut e = endpoint(&m.id, Mode::Live, WebhookFormat::Astrapay, Vec::new());
    e.enabled = false;
    store.insert_webhook_endpoint(&e).await.unwrap();
    let gone = endpoint(&m.id, Mode::Live, WebhookFormat::Mutopay, Vec::new());
    store.insert_webhook_endpoint(&gone).await.unwrap();
    assert!(store.delete_webhook_endpoint(&gone.id, now()).await.unwrap());
    for target in [&e, &gone] {
        let sent = store
            .send_test_webhook_event(
                &target.id,
                &test_event(target),
                &DeliveryId::new(),
                "webhook.test",
                &line(target, "t"),
            )
            .await
            .unwrap();
        assert!(!sent);
    }
    assert!(store.list_webhook_deliveries(&filter(&m.id, Mode::Live)).await.unwrap().is_empty());
    assert_eq!(lines(&store, "t").await, 0);
}

async fn manage_changes_and_their_audit_lines_commit_together(store: Store) {
    let m = merchant(&store, "Shop").await;
    let e = endpoint(&m.id, Mode::Test, WebhookFormat::Native, Vec::new());
    store.insert_webhook_endpoint(&e).await.unwrap();

    // An update and its line.
    let mut changed = e.clone();
    changed.url = "https://example.test/v2".into();
    assert!(store
        .update_webhook_endpoint_audited(&changed, &line(&e, "webhook_endpoint.edit"))
        .await
        .unwrap());
    assert_eq!(store.get_webhook_endpoint(&e.id).await.unwrap().unwrap().url, "https://example.test/v2");
    assert_eq!(lines(&store, "webhook_endpoint.edit").await, 1);
    // A line that cannot be written takes its change with it.
    let mut lost = changed.clone();
    lost.url = "https://example.test/v3".into();
    assert!(store.update_webhook_endpoint_audited(&lost, &refused_line(&e)).await.is_err());
    assert_eq!(store.get_webhook_endpoint(&e.id).await.unwrap().unwrap().url, "https://example.test/v2");
    let sent = store
        .send_test_webhook_event(
            &e.id,
            &test_event(&e),
            &DeliveryId::new(),
            "webhook.test",
            &refused_line(&e),
        )
        .await;
    assert!(sent.is_err());
    assert!(store.list_webhook_deliveries(&filter(&m.id, Mode::Test)).await.unwrap().is_empty());

    // A replay and its line; a failed line leaves the delivery as it was.
    let delivery = DeliveryId::new();
    assert!(store
        .send_test_webhook_event(
            &e.id,
            &test_event(&e),
            &delivery,
            "webhook.test",
            &line(&e, "webhook_endpoint.test")
        )
        .await
        .unwrap());
    let claims = store.claim_webhook_deliveries(now(), Duration::from_secs(60), 10).await.unwrap();
    let failed =
        Attempt { at: now(), status_code: Some(500), latency_ms: 7, error: None, response_snippet: None };
    assert!(store
        .finish_webhook_delivery(&claims[0], &failed, DeliveryOutcome::Dead, EndpointHealth::Failing, now())
        .await
        .unwrap());
    assert!(store.replay_webhook_delivery_audited(&delivery, now(), &refused_line(&e)).await.is_err());
    assert_eq!(store.get_webhook_delivery(&delivery).await.unwrap().unwrap().status, DeliveryStatus::Dead);
    assert!(store
        .replay_webhook_delivery_audited(&delivery, now(), &line(&e, "webhook.redeliver"))
        .await
        .unwrap());
    assert_eq!(store.get_webhook_delivery(&delivery).await.unwrap().unwrap().status, DeliveryStatus::Pending);
    assert_eq!(lines(&store, "webhook.redeliver").await, 1);

    // A deletion and its line; none for an endpoint already gone.
    assert!(store.delete_webhook_endpoint_audited(&e.id, now(), &refused_line(&e)).await.is_err());
    assert!(store.get_webhook_endpoint(&e.id).await.unwrap().is_some());
    assert!(store
        .delete_webhook_endpoint_audited(&e.id, now(), &line(&e, "webhook_endpoint.delete"))
        .await
        .unwrap());
    assert!(store.get_webhook_endpoint(&e.id).await.unwrap().is_none());
    assert!(!store
        .delete_webhook_endpoint_audited(&e.id, now(), &line(&e, "webhook_endpoint.delete"))
        .await
        .unwrap());
    assert!(!store
        .update_webhook_endpoint_audited(&changed, &line(&e, "webhook_endpoint.edit"))
        .await
        .unwrap());
    assert_eq!(lines(&store, "webhook_endpoint.delete").await, 1);
    assert_eq!(lines(&store, "webhook_endpoint.edit").await, 1);
}

async fn manage_a_cancel_a_registration_and_a_keys_life_commit_with_their_lines(store: Store) {
    let m = merchant(&store, "Shop").await;
    let e = endpoint(&m.id, Mode::Test, WebhookFormat::Native, Vec::new());

    // A cancel: refused by the transition, it writes no line; a line that cannot be written
    // keeps the payment open; otherwise both commit.
    let p = create(&store, new_payment(&m.id, Mode::Test), now()).await;
    let cancel = |p: &mut payd_core::payment::Payment| p.cancel(now());
    assert!(store.mutate_payment_audited(&p.id, &refused_line(&e), &mut { cancel }).await.is_err());
    assert_eq!(store.get_payment(&p.id).await.unwrap().unwrap().status.as_str(), "pending");
    let done =
        store.mutate_payment_audited(&p.id, &line(&e, "payment.cancel"), &mut { cancel }).await.unwrap();
    assert_eq!(done.unwrap().0.status.as_str(), "cancelled");
    let again =
        store.mutate_payment_audited(&p.id, &line(&e, "payment.cancel"), &mut { cancel }).await.unwrap();
    assert!(again.is_err(), "a cancelled payment is not cancelled again");
    // Money seen: the transition refuses, nothing is written.
    let funded = create(&store, new_payment(&m.id, Mode::Test), now()).await;
    store
        .mutate_payment(&funded.id, &mut |p: &mut payd_core::payment::Payment| {
            p.apply_funds(pending(1), 0, now())
        })
        .await
        .unwrap()
        .unwrap();
    let refused =
        store.mutate_payment_audited(&funded.id, &line(&e, "payment.cancel"), &mut { cancel }).await;
    assert!(refused.unwrap().is_err());
    assert_eq!(lines(&store, "payment.cancel").await, 1);

    // A registration within the cap has its line; past the cap, or with a refused line,
    // nothing is written.
    assert!(!store.insert_webhook_endpoint_audited(&e, 1, &refused_line(&e)).await.is_ok_and(|x| x));
    assert!(store.get_webhook_endpoint(&e.id).await.unwrap().is_none());
    assert!(store
        .insert_webhook_endpoint_audited(&e, 1, &line(&e, "webhook_endpoint.create"))
        .await
        .unwrap());
    assert!(store.get_webhook_endpoint(&e.id).await.unwrap().is_some());
    let second = endpoint(&m.id, Mode::Test, WebhookFormat::Native, Vec::new());
    assert!(!store
        .insert_webhook_endpoint_audited(&second, 1, &line(&second, "webhook_endpoint.create"))
        .await
        .unwrap());
    assert!(store.get_webhook_endpoint(&second.id).await.unwrap().is_none());
    assert_eq!(lines(&store, "webhook_endpoint.create").await, 1);

    // A key: stored with its line or not at all; revoked with its line once, and found
    // revoked at once (the PostgreSQL node's cache is emptied).
    let (k, hash) = key(&m.account_id, Some(&m.id), Mode::Test, &[]);
    assert!(store.insert_api_key_audited(&k, &hash, &refused_line(&e)).await.is_err());
    assert!(store.get_api_key(&k.id).await.unwrap().is_none());
    store.insert_api_key_audited(&k, &hash, &line(&e, "api_key.create")).await.unwrap();
    assert!(store.find_api_key_by_hash(&hash).await.unwrap().unwrap().revoked_at.is_none());
    assert!(store.revoke_api_key_audited(&k.id, now(), &refused_line(&e)).await.is_err());
    assert!(store.find_api_key_by_hash(&hash).await.unwrap().unwrap().revoked_at.is_none());
    assert!(store.revoke_api_key_audited(&k.id, now(), &line(&e, "api_key.revoke")).await.unwrap());
    assert!(store.find_api_key_by_hash(&hash).await.unwrap().unwrap().revoked_at.is_some());
    assert!(!store.revoke_api_key_audited(&k.id, now(), &line(&e, "api_key.revoke")).await.unwrap());
    assert_eq!(lines(&store, "api_key.create").await, 1);
    assert_eq!(lines(&store, "api_key.revoke").await, 1);
}

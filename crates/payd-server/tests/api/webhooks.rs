//! Webhooks end to end: endpoints managed through the native API, events of payments driven
//! through devnet delivered to a receiver double, retries with the same id, restarts, 410,
//! redirects, the SSRF guard, replays, and a thousand events with nothing lost.

use std::collections::{BTreeMap, BTreeSet};

use payd_core::apikey::{Mode, Scope};
use payd_core::ids::PaymentId;
use payd_core::webhook::{DeliveryStatus, WebhookEndpoint, WebhookFormat};
use payd_server::keys::KeyOwner;
use payd_store::webhooks::DeliveryFilter;
use serde_json::{json, Value};

use crate::devnet::{advance, create, mine, scan, test_pay, usdc};
use crate::helpers::{code, json, TestApp};
use crate::receiver::{Receiver, Reply};

/// Deliveries to 127.0.0.1 allowed, a fast poll and short retries.
pub const HOOK_ENV: &[(&str, &str)] = &[
    ("PAYD_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true"),
    ("PAYD_WEBHOOKS_POLL_MS", "20"),
    ("PAYD_WEBHOOKS_RETRY_SCHEDULE", "50ms,50ms,50ms"),
];

/// Like `backend_tests!`, with [`HOOK_ENV`] (or the given environment).
#[macro_export]
macro_rules! webhook_tests {
    ($env:expr; $($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = $crate::helpers::spawn_app_with(payd_store::Backend::Sqlite, $env).await {
                    super::$name(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::helpers::spawn_app_with(payd_store::Backend::Postgres, $env).await {
                    super::$name(app).await;
                }
            }
        }
    )*};
}

webhook_tests!(super::HOOK_ENV;
    endpoints_are_managed_through_the_native_api,
    every_event_of_payments_driven_through_devnet_is_delivered_once,
    a_failed_delivery_is_retried_with_the_same_id,
    deliveries_due_while_payd_was_down_go_out_after_it_starts,
    an_endpoint_answering_410_is_disabled,
    a_redirect_is_a_failure_and_is_not_followed,
    replays_send_deliveries_again,
    a_thousand_events_reach_one_endpoint_with_nothing_lost,
    the_cli_adds_lists_and_replays_endpoints,
    retry_after_postpones_the_next_attempt,
);

webhook_tests!(&[
        ("PAYD_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true"),
        ("PAYD_WEBHOOKS_POLL_MS", "20"),
        ("PAYD_WEBHOOKS_DISABLE_AFTER_SECS", "60"),
        ("PAYD_WEBHOOKS_RETRY_SCHEDULE", "50ms,50ms,50ms,50ms,50ms,50ms,50ms,50ms,50ms,50ms"),
    ];
    an_endpoint_failing_past_the_grace_period_is_disabled,
);

webhook_tests!(&[
        ("PAYD_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true"),
        ("PAYD_WEBHOOKS_POLL_MS", "20"),
        ("PAYD_WEBHOOKS_TIMEOUT_SECS", "1"),
        // No retry within the test, so exactly one request can have arrived.
        ("PAYD_WEBHOOKS_RETRY_SCHEDULE", "1h"),
    ];
    an_endpoint_that_does_not_answer_in_time_is_a_failure,
);

webhook_tests!(&[("PAYD_WEBHOOKS_POLL_MS", "20")];
    private_targets_are_refused_unless_allowed,
);

// A poll far longer than the test may take: only the wake on commit can deliver in time.
webhook_tests!(&[("PAYD_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true"), ("PAYD_WEBHOOKS_POLL_MS", "60000")];
    a_queued_delivery_goes_out_without_waiting_for_the_poll,
);

/// Registers an endpoint through the API: `(id, secret)`.
pub async fn add_endpoint(app: &TestApp, key: &str, body: Value) -> (String, String) {
    let (s, e) = json(app.post_raw("/v1/webhook_endpoints", key, &body.to_string(), None).await).await;
    assert_eq!(s, 201, "{e}");
    (e["id"].as_str().unwrap().to_owned(), e["secret"].as_str().unwrap().to_owned())
}

fn all_deliveries(m: &payd_core::ids::MerchantId) -> DeliveryFilter {
    DeliveryFilter {
        merchant_id: m.clone(),
        mode: Mode::Test,
        endpoint_id: None,
        event_id: None,
        payment_id: None,
        status: None,
        before: None,
        limit: 100,
    }
}

/// Waits until every delivery of the merchant is in a final state (delivered or dead).
pub async fn settled(app: &TestApp, m: &payd_core::ids::MerchantId) -> Vec<payd_core::webhook::Delivery> {
    for _ in 0..1200 {
        let ds = app.store.list_webhook_deliveries(&all_deliveries(m)).await.unwrap();
        if !ds.is_empty()
            && ds.iter().all(|d| matches!(d.status, DeliveryStatus::Delivered | DeliveryStatus::Dead))
        {
            return ds;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("deliveries did not settle");
}

async fn endpoints_are_managed_through_the_native_api(app: TestApp) {
    let (m, key) = app.merchant_with_key().await;
    let (id, secret) = add_endpoint(
        &app,
        &key,
        json!({"url": "https://shop.example/hooks", "events": ["payment.completed"], "description": "orders"}),
    )
    .await;
    assert!(id.starts_with("hook_"), "{id}");
    assert!(secret.starts_with("whsec_"), "{secret}");

    let (s, got) = app.get(&format!("/v1/webhook_endpoints/{id}"), &key).await;
    assert_eq!(s, 200, "{got}");
    assert_eq!(
        (got["url"].as_str(), got["format"].as_str()),
        (Some("https://shop.example/hooks"), Some("native"))
    );
    assert_eq!(got["events"], json!(["payment.completed"]));
    assert!(got.get("secret").is_none(), "the secret is shown only at creation");
    let (_, list) = app.get("/v1/webhook_endpoints", &key).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(&secret));

    let patch = |body: Value| {
        app.client
            .patch(app.url(&format!("/v1/webhook_endpoints/{id}")))
            .bearer_auth(&key)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
    };
    let (s, up) =
        json(patch(json!({"events": [], "format": "astrapay", "enabled": false})).await.unwrap()).await;
    assert_eq!(s, 200, "{up}");
    assert_eq!(
        (up["events"].clone(), up["format"].as_str(), up["enabled"].as_bool()),
        (json!([]), Some("astrapay"), Some(false))
    );
    let (s, e) = json(patch(json!({"format": "paypal"})).await.unwrap()).await;
    assert_eq!((s, code(&e)), (400, "invalid_format"));
    let (s, e) = json(patch(json!({"events": ["payment.refunded"]})).await.unwrap()).await;
    assert_eq!((s, code(&e), e["error"]["param"].as_str()), (400, "invalid_event", Some("events[0]")));

    // Rotation: a new secret, the old one signing beside it for the overlap.
    let (s, r) =
        json(app.post_raw(&format!("/v1/webhook_endpoints/{id}/rotate_secret"), &key, "", None).await).await;
    assert_eq!(s, 200, "{r}");
    let new_secret = r["secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    assert!(r["previous_secret_expires_at"].is_string());
    let ep = app.store.get_webhook_endpoint(&id.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(ep.signing_secrets_sealed(payd_store::now()).len(), 2);
    assert!(!ep.secret_sealed.contains(new_secret), "stored sealed, never in the clear");

    // Bad input, each in the native error format.
    for (body, expected) in [
        (json!({"url": "ftp://shop.example"}), "invalid_url"),
        (json!({"url": "https://shop.example", "extra": 1}), "unknown_field"),
        (json!({"events": ["payment.completed"]}), "missing_field"),
    ] {
        let (s, e) = json(app.post_raw("/v1/webhook_endpoints", &key, &body.to_string(), None).await).await;
        assert_eq!((s, code(&e)), (400, expected), "{body}: {e}");
    }

    // Scope and reach.
    let no_scope = app.key(KeyOwner::Merchant(m.id.clone()), Mode::Test, &[Scope::PaymentsRead]).await;
    let (s, e) = app.get("/v1/webhook_endpoints", &no_scope).await;
    assert_eq!((s, code(&e)), (403, "insufficient_scope"));
    let live = app.key(KeyOwner::Merchant(m.id.clone()), Mode::Live, &[]).await;
    assert_eq!(app.get(&format!("/v1/webhook_endpoints/{id}"), &live).await.0, 404, "modes are apart");
    let (_, other_key) = app.merchant_with_key().await;
    assert_eq!(app.get(&format!("/v1/webhook_endpoints/{id}"), &other_key).await.0, 404);

    let (s, d) = json(
        app.client
            .delete(app.url(&format!("/v1/webhook_endpoints/{id}")))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, d["deleted"].as_bool()), (200, Some(true)));
    assert_eq!(app.get(&format!("/v1/webhook_endpoints/{id}"), &key).await.0, 404);
}

async fn every_event_of_payments_driven_through_devnet_is_delivered_once(app: TestApp) {
    let rx = Receiver::start().await;
    let (m, key) = app.merchant_with_key().await;
    add_endpoint(&app, &key, json!({"url": rx.url()})).await;
    mine(&app, 1).await;

    // Partial, then the rest: created, processing, partially_paid, completed.
    let (partial, _) = create(&app, &key, usdc("10", "avalanche")).await;
    test_pay(&app, &key, &partial, r#"{"amount": "4"}"#).await;
    advance(&app, 1).await;
    test_pay(&app, &key, &partial, "").await;
    advance(&app, 1).await;
    // More than due: completed, overpaid.
    let (over, _) = create(&app, &key, usdc("10", "avalanche")).await;
    test_pay(&app, &key, &over, r#"{"amount": "15.5"}"#).await;
    advance(&app, 1).await;
    // Too late: expired, paid_late.
    let (late, _) = create(
        &app,
        &key,
        json!({"amount": "10", "currency": "USD", "token": "USDT", "network": "avalanche", "expires_in": 60}),
    )
    .await;
    let later = payd_store::now() + chrono::Duration::minutes(2);
    crate::devnet::advance_to(&app, later).await;
    payd_server::engine::expire_due(&app.store, later).await.unwrap();
    test_pay(&app, &key, &late, "").await;
    advance(&app, 1).await;
    // Cancelled.
    let (cancelled, _) = create(&app, &key, usdc("10", "avalanche")).await;
    assert_eq!(app.post_raw(&format!("/v1/payments/{cancelled}/cancel"), &key, "", None).await.status(), 200);
    // A reorg takes the credit away: reverted.
    let (reorged, _) = create(&app, &key, usdc("10", "avalanche")).await;
    test_pay(&app, &key, &reorged, "").await;
    advance(&app, 1).await;
    payd_server::engine::devnet::reorg(&app.store, 1, true, payd_store::now()).await.unwrap();
    scan(&app).await;

    let mut expected: BTreeMap<String, (String, PaymentId, i64)> = BTreeMap::new();
    for p in [&partial, &over, &late, &cancelled, &reorged] {
        for e in app.store.list_events(p).await.unwrap() {
            expected.insert(e.id.to_string(), (e.kind.as_str().to_owned(), p.clone(), e.sequence));
        }
    }
    let kinds: BTreeSet<&str> = expected.values().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(kinds.len(), 9, "every kind of event happened: {kinds:?}");

    settled(&app, &m.id).await;
    let got = rx.received();
    let mut ids = BTreeSet::new();
    for r in &got {
        let id = r.header("webhook-id").to_owned();
        let (kind, payment, sequence) = expected.get(&id).unwrap_or_else(|| panic!("unknown event {id}"));
        let body = r.json();
        assert_eq!(body["id"].as_str(), Some(id.as_str()));
        assert_eq!(body["type"].as_str(), Some(kind.as_str()));
        assert_eq!(body["data"]["id"].as_str(), Some(payment.to_string().as_str()));
        assert_eq!(r.header("payd-event-id"), id);
        assert_eq!(r.header("payd-event-sequence"), sequence.to_string());
        assert!(r.header("webhook-signature").starts_with("v1,"));
        assert!(r.header("webhook-timestamp").parse::<i64>().is_ok());
        assert_eq!(r.header("content-type"), "application/json");
        ids.insert(id);
    }
    assert_eq!(got.len(), expected.len(), "each event exactly once: nothing failed, so nothing repeats");
    assert_eq!(ids, expected.keys().cloned().collect::<BTreeSet<_>>());
    // The snapshot is the payment at the moment of the event, metadata included.
    let completed = got.iter().find(|r| r.json()["type"] == "payment.completed").unwrap().json();
    assert_eq!(completed["data"]["status"], "completed");
    assert!(completed["data"]["metadata"].is_object());
}

async fn a_queued_delivery_goes_out_without_waiting_for_the_poll(app: TestApp) {
    let rx = Receiver::start().await;
    let (_, key) = app.merchant_with_key().await;
    add_endpoint(&app, &key, json!({"url": rx.url()})).await;
    // Let the dispatcher's first step (at start) pass, so that it is asleep in its poll.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (created, _) = create(&app, &key, usdc("10", "avalanche")).await;
    let got = tokio::time::timeout(std::time::Duration::from_secs(20), rx.wait_for(1))
        .await
        .expect("payment.created arrived while the dispatcher's poll was still minutes away");
    assert_eq!(got[0].json()["type"], "payment.created");
    assert_eq!(got[0].json()["data"]["id"].as_str(), Some(created.to_string().as_str()));
    // A transition (the payment seen on chain) wakes it too.
    test_pay(&app, &key, &created, "").await;
    advance(&app, 1).await;
    let got = tokio::time::timeout(std::time::Duration::from_secs(20), rx.wait_for(2))
        .await
        .expect("the payment's next event arrived while the dispatcher's poll was still minutes away");
    let next = got[1].json();
    // Devnet confirms at once: processing or straight to completed.
    assert!(["payment.processing", "payment.completed"].contains(&next["type"].as_str().unwrap()), "{next}");
    assert_eq!(next["data"]["id"].as_str(), Some(created.to_string().as_str()));
}

async fn a_failed_delivery_is_retried_with_the_same_id(app: TestApp) {
    let rx = Receiver::start().await;
    rx.script(&[Reply::Status(500)]);
    let (m, key) = app.merchant_with_key().await;
    let (endpoint, _) =
        add_endpoint(&app, &key, json!({"url": rx.url(), "events": ["payment.created"]})).await;
    let (pid, _) = create(&app, &key, usdc("10", "avalanche")).await;
    let ds = settled(&app, &m.id).await;
    assert_eq!(ds.len(), 1);
    assert_eq!((ds[0].status, ds[0].attempts), (DeliveryStatus::Delivered, 2));
    let got = rx.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    assert_eq!(got[0].body, got[1].body, "the same message");

    // The log, per endpoint and per event, with both attempts.
    let (_, by_endpoint) = app.get(&format!("/v1/webhook_deliveries?endpoint={endpoint}"), &key).await;
    let (_, by_event) = app.get(&format!("/v1/webhook_deliveries?event={}", ds[0].event_id), &key).await;
    let (_, by_payment) = app.get(&format!("/v1/webhook_deliveries?payment={pid}"), &key).await;
    for list in [&by_endpoint, &by_event, &by_payment] {
        assert_eq!(list["data"].as_array().map(Vec::len), Some(1), "{list}");
    }
    let (s, one) = app.get(&format!("/v1/webhook_deliveries/{}", ds[0].id), &key).await;
    assert_eq!(s, 200, "{one}");
    let codes: Vec<u64> =
        one["attempt_log"].as_array().unwrap().iter().map(|a| a["status_code"].as_u64().unwrap()).collect();
    assert_eq!(codes, [500, 200]);
    assert_eq!(one["attempt_log"][1]["response_snippet"], "ok");
    assert_eq!(one["status"], "delivered");
    let (s, e) = app.get("/v1/webhook_deliveries?status=lost", &key).await;
    assert_eq!((s, code(&e)), (400, "invalid_query"));
}

async fn deliveries_due_while_payd_was_down_go_out_after_it_starts(mut app: TestApp) {
    // A port with nothing listening: the receiver is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (m, key) = app.merchant_with_key().await;
    add_endpoint(&app, &key, json!({"url": format!("http://127.0.0.1:{port}/hooks")})).await;
    create(&app, &key, usdc("10", "avalanche")).await;
    // The first attempt fails…
    first_attempt(&app, &m.id).await;
    // …payd stops, the receiver comes up, payd starts again.
    app.stop_server().await;
    let rx = Receiver::start_on(port).await;
    app.start_server(HOOK_ENV).await;
    let ds = settled(&app, &m.id).await;
    assert_eq!(ds[0].status, DeliveryStatus::Delivered);
    let got = rx.wait_for(1).await;
    assert_eq!(got[0].header("webhook-id"), ds[0].event_id.to_string());
    let attempts = app.store.list_webhook_attempts(&ds[0].id).await.unwrap();
    assert!(attempts.len() >= 2 && attempts[0].status_code.is_none(), "{attempts:?}");
    assert_eq!(attempts[0].error.as_deref(), Some("could not connect"));
}

async fn an_endpoint_answering_410_is_disabled(app: TestApp) {
    let rx = Receiver::start().await;
    rx.script(&[Reply::Status(410)]);
    let (m, key) = app.merchant_with_key().await;
    let (id, _) = add_endpoint(&app, &key, json!({"url": rx.url()})).await;
    let (pid, _) = create(&app, &key, usdc("10", "avalanche")).await;
    let ds = settled(&app, &m.id).await;
    assert_eq!((ds[0].status, ds[0].attempts), (DeliveryStatus::Dead, 1), "410 is not retried");
    let (_, ep) = app.get(&format!("/v1/webhook_endpoints/{id}"), &key).await;
    assert_eq!((ep["enabled"].as_bool(), ep["disabled_reason"].as_str()), (Some(false), Some("gone")));
    // Nothing more goes to it.
    app.post_raw(&format!("/v1/payments/{pid}/cancel"), &key, "", None).await;
    assert_eq!(app.store.list_webhook_deliveries(&all_deliveries(&m.id)).await.unwrap().len(), 1);
    assert_eq!(rx.received().len(), 1);
}

async fn a_redirect_is_a_failure_and_is_not_followed(app: TestApp) {
    let rx = Receiver::start().await;
    rx.respond_with(|_| Reply::Redirect);
    let (m, key) = app.merchant_with_key().await;
    add_endpoint(&app, &key, json!({"url": rx.url(), "events": ["payment.created"]})).await;
    create(&app, &key, usdc("10", "avalanche")).await;
    let ds = settled(&app, &m.id).await;
    // Retried on the schedule (three retries), then dead; the target was never requested.
    assert_eq!((ds[0].status, ds[0].attempts), (DeliveryStatus::Dead, 4));
    let got = rx.received();
    assert_eq!(got.len(), 4);
    assert!(got.iter().all(|r| r.path == "/hooks"), "the redirect was not followed");
    let attempts = app.store.list_webhook_attempts(&ds[0].id).await.unwrap();
    assert_eq!(attempts[0].status_code, Some(302));
    assert_eq!(attempts[0].error.as_deref(), Some("redirect to /moved not followed"));
}

async fn replays_send_deliveries_again(app: TestApp) {
    let rx = Receiver::start().await;
    rx.script(&[Reply::Status(503); 4]);
    let (m, key) = app.merchant_with_key().await;
    let (id, _) = add_endpoint(&app, &key, json!({"url": rx.url(), "events": ["payment.created"]})).await;
    create(&app, &key, usdc("10", "avalanche")).await;
    let ds = settled(&app, &m.id).await;
    assert_eq!(ds[0].status, DeliveryStatus::Dead);
    assert_eq!(rx.received().len(), 4);

    // All failed ones of the endpoint: the receiver now answers 200.
    let (s, r) =
        json(app.post_raw(&format!("/v1/webhook_endpoints/{id}/replay_failed"), &key, "", None).await).await;
    assert_eq!((s, r["replayed"].as_u64()), (200, Some(1)));
    let ds = settled(&app, &m.id).await;
    assert_eq!((ds[0].status, ds[0].attempts), (DeliveryStatus::Delivered, 1));
    assert_eq!(rx.wait_for(5).await.len(), 5);

    // One delivery, even a delivered one.
    let (s, one) =
        json(app.post_raw(&format!("/v1/webhook_deliveries/{}/replay", ds[0].id), &key, "", None).await)
            .await;
    assert_eq!(s, 200, "{one}");
    let got = rx.wait_for(6).await;
    assert_eq!(got[5].header("webhook-id"), got[0].header("webhook-id"));
    assert_eq!(app.post_raw("/v1/webhook_deliveries/dlv_nope/replay", &key, "", None).await.status(), 404);
    // Another merchant's delivery, or one of the other mode, does not exist for a caller:
    // neither to replay nor to read.
    let (_, other_key) = app.merchant_with_key().await;
    let live_key = app.key(KeyOwner::Merchant(m.id.clone()), Mode::Live, &[]).await;
    let path = format!("/v1/webhook_deliveries/{}/replay", ds[0].id);
    let one = format!("/v1/webhook_deliveries/{}", ds[0].id);
    for key in [&other_key, &live_key] {
        assert_eq!(app.post_raw(&path, key, "", None).await.status(), 404);
        let (s, e) = app.get(&one, key).await;
        assert_eq!((s, code(&e)), (404, "not_found"), "{e}");
    }
    // The receiver sees the request before the dispatcher records its answer: wait for the record.
    let mut logged = 0;
    for _ in 0..200 {
        logged = app.store.list_webhook_attempts(&ds[0].id).await.unwrap().len();
        if logged >= 6 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(logged, 6, "every attempt logged");
}

async fn a_thousand_events_reach_one_endpoint_with_nothing_lost(app: TestApp) {
    use futures::StreamExt;
    let rx = Receiver::start().await;
    // The first try of every seventh event fails.
    let seen = std::sync::Mutex::new(BTreeSet::new());
    rx.respond_with(move |r| {
        let id = r.header("webhook-id").to_owned();
        let first = seen.lock().unwrap().insert(id.clone());
        let unlucky = id.bytes().map(u32::from).sum::<u32>() % 7 == 0;
        if first && unlucky {
            Reply::Status(500)
        } else {
            Reply::Status(200)
        }
    });
    let (_, key) = app.merchant_with_key().await;
    add_endpoint(&app, &key, json!({"url": rx.url()})).await;
    let ids: Vec<PaymentId> = futures::stream::iter(0..1000)
        .map(|_| {
            let app = &app;
            let key = &key;
            async move {
                let (s, p) = app.create_payment(key, &json!({"amount": "1", "currency": "USD"})).await;
                assert_eq!(s, 201, "{p}");
                p["id"].as_str().unwrap().parse().unwrap()
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    assert_eq!(ids.len(), 1000);

    let mut events = BTreeSet::new();
    for p in &ids {
        for e in app.store.list_events(p).await.unwrap() {
            events.insert(e.id.to_string());
        }
    }
    assert_eq!(events.len(), 1000);
    let unlucky: BTreeSet<&String> =
        events.iter().filter(|id| id.bytes().map(u32::from).sum::<u32>() % 7 == 0).collect();
    let got = rx.wait_for(1000 + unlucky.len()).await;
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for r in &got {
        *count.entry(r.header("webhook-id").to_owned()).or_default() += 1;
    }
    assert_eq!(count.keys().cloned().collect::<BTreeSet<_>>(), events, "none lost, none unknown");
    for (id, n) in &count {
        let expected = if unlucky.contains(id) { 2 } else { 1 };
        assert_eq!(*n, expected, "{id}: duplicated beyond its retry");
    }
}

async fn private_targets_are_refused_unless_allowed(app: TestApp) {
    let rx = Receiver::start().await;
    let (m, key) = app.merchant_with_key().await;
    for url in [
        rx.url(),
        format!("http://localhost:{}/hooks", rx.port),
        "http://[::1]/h".into(),
        "http://169.254.169.254/latest".into(),
    ] {
        let (s, e) =
            json(app.post_raw("/v1/webhook_endpoints", &key, &json!({"url": url}).to_string(), None).await)
                .await;
        assert_eq!((s, code(&e)), (400, "url_not_allowed"), "{url}: {e}");
    }
    // Endpoints that got in anyway (registered while allowed, or by a name that now
    // resolves inside) are refused when delivering: by literal, and after resolution.
    let master = payd_core::crypto::MasterKey::parse(crate::helpers::MASTER_KEY).unwrap();
    for url in [rx.url(), format!("http://localhost:{}/hooks", rx.port)] {
        let now = payd_store::now();
        let endpoint = WebhookEndpoint {
            id: payd_core::ids::WebhookEndpointId::new(),
            merchant_id: m.id.clone(),
            mode: Mode::Test,
            url,
            description: None,
            events: Vec::new(),
            format: WebhookFormat::Native,
            enabled: true,
            disabled_reason: None,
            secret_sealed: master.seal(&payd_core::webhook::generate_secret().unwrap()).unwrap(),
            previous_secret_sealed: None,
            previous_secret_expires_at: None,
            failing_since: None,
            created_at: now,
            updated_at: now,
        };
        app.store.insert_webhook_endpoint(&endpoint).await.unwrap();
    }
    let (pid, _) = create(&app, &key, json!({"amount": "1", "currency": "USD"})).await;
    // Each of the two deliveries fails its first attempt, refused.
    let mut refused = Vec::new();
    for _ in 0..2400 {
        let ds = app.store.list_webhook_deliveries(&all_deliveries(&m.id)).await.unwrap();
        refused.clear();
        for d in &ds {
            if let Some(a) = app.store.list_webhook_attempts(&d.id).await.unwrap().first() {
                refused.push(a.error.clone().unwrap_or_default());
            }
        }
        if refused.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(refused.len(), 2, "{pid}");
    assert!(refused.iter().all(|e| e.starts_with("refused: ") && e.contains("non-public")), "{refused:?}");
    assert!(rx.received().is_empty(), "nothing reached the private address");
}

/// Runs `payd` against the test database; `(success, stdout, stderr)`.
fn payd(app: &TestApp, env: &[(&str, &str)], args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_payd"))
        .args(["--database-url", &app.db.url])
        .args(args)
        .current_dir(std::env::temp_dir())
        .env("PAYD_MASTER_KEY", crate::helpers::MASTER_KEY)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

fn payd_json(app: &TestApp, env: &[(&str, &str)], args: &[&str]) -> Value {
    let (ok, out, err) = payd(app, env, args);
    assert!(ok, "payd {args:?} failed: {err}");
    serde_json::from_str(out.trim()).unwrap_or_else(|_| panic!("not one JSON object: {out}"))
}

async fn the_cli_adds_lists_and_replays_endpoints(app: TestApp) {
    let rx = Receiver::start().await;
    rx.script(&[Reply::Status(500); 4]);
    let (m, key) = app.merchant_with_key().await;
    let mid = m.id.to_string();
    let allow = [("PAYD_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true")];
    let url = rx.url();
    let args = [
        "webhook",
        "add",
        "--merchant",
        &mid,
        "--url",
        &url,
        "--events",
        "payment.created,payment.cancelled",
        "--format",
        "paygentic",
        "--json",
    ];
    let added = payd_json(&app, &allow, &args);
    let id = added["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("hook_") && added["secret"].as_str().unwrap().starts_with("whsec_"), "{added}");
    assert_eq!(added["events"], json!(["payment.created", "payment.cancelled"]));
    // Without the operator's permission a private address is refused, with a clear error.
    let (ok, _, err) = payd(&app, &[], &args);
    assert!(!ok && err.contains("non-public"), "{err}");
    let (ok, _, err) =
        payd(&app, &allow, &["webhook", "add", "--merchant", &mid, "--url", &url, "--format", "soap"]);
    assert!(!ok && err.contains("--format"), "{err}");

    let listed = payd_json(&app, &[], &["webhook", "list", "--merchant", &mid, "--json"]);
    assert_eq!(listed["data"][0]["id"].as_str(), Some(id.as_str()));
    assert!(
        !listed.to_string().contains(added["secret"].as_str().unwrap()),
        "listing never shows the secret"
    );

    create(&app, &key, json!({"amount": "1", "currency": "USD"})).await;
    let ds = settled(&app, &m.id).await;
    assert_eq!(ds[0].status, DeliveryStatus::Dead);
    let replayed = payd_json(&app, &[], &["webhook", "replay", "--endpoint", &id, "--failed", "--json"]);
    assert_eq!(replayed["replayed"], 1);
    let ds = settled(&app, &m.id).await;
    assert_eq!(ds[0].status, DeliveryStatus::Delivered);
    let delivery = ds[0].id.to_string();
    assert_eq!(
        payd_json(&app, &[], &["webhook", "replay", "--delivery", &delivery, "--json"])["replayed"],
        1
    );
    assert_eq!(rx.wait_for(6).await.len(), 6);
    let (ok, _, err) = payd(&app, &[], &["webhook", "replay", "--delivery", "dlv_nope"]);
    assert!(!ok && err.contains("delivery"), "{err}");
}

/// Waits for the merchant's first delivery to have been tried once; returns it.
async fn first_attempt(app: &TestApp, m: &payd_core::ids::MerchantId) -> payd_core::webhook::Delivery {
    for _ in 0..2400 {
        let ds = app.store.list_webhook_deliveries(&all_deliveries(m)).await.unwrap();
        if let Some(d) = ds.into_iter().find(|d| d.attempts >= 1) {
            return d;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no delivery was attempted");
}

async fn retry_after_postpones_the_next_attempt(app: TestApp) {
    let rx = Receiver::start().await;
    rx.script(&[Reply::RetryAfter(503, 3600)]);
    let (m, key) = app.merchant_with_key().await;
    add_endpoint(&app, &key, json!({"url": rx.url(), "events": ["payment.created"]})).await;
    create(&app, &key, json!({"amount": "1", "currency": "USD"})).await;
    let d = first_attempt(&app, &m.id).await;
    let attempt = app.store.list_webhook_attempts(&d.id).await.unwrap().remove(0);
    assert_eq!((d.status, attempt.status_code), (DeliveryStatus::Failed, Some(503)));
    // The schedule says 50 ms; the endpoint asked for an hour.
    let wait = d.next_attempt_at.unwrap() - attempt.at;
    assert!(wait >= chrono::Duration::seconds(3600), "{wait}");
    assert_eq!(attempt.response_snippet.as_deref(), Some("busy"));
}

async fn an_endpoint_failing_past_the_grace_period_is_disabled(app: TestApp) {
    let rx = Receiver::start().await;
    rx.respond_with(|_| Reply::Status(500));
    let (m, key) = app.merchant_with_key().await;
    let (id, _) = add_endpoint(&app, &key, json!({"url": rx.url(), "events": ["payment.created"]})).await;
    // A first failure starts the run; nothing is disabled yet.
    create(&app, &key, json!({"amount": "1", "currency": "USD"})).await;
    first_attempt(&app, &m.id).await;
    let mut ep = app.store.get_webhook_endpoint(&id.parse().unwrap()).await.unwrap().unwrap();
    assert!(ep.enabled && ep.failing_since.is_some(), "{ep:?}");
    // The run began longer ago than the grace period (60 s here): the next failure disables it.
    ep.failing_since = Some(payd_store::now() - chrono::Duration::minutes(2));
    app.store.update_webhook_endpoint(&ep).await.unwrap();
    let mut disabled = None;
    for _ in 0..2400 {
        let e = app.store.get_webhook_endpoint(&ep.id).await.unwrap().unwrap();
        if !e.enabled {
            disabled = Some(e);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let e = disabled.expect("the endpoint was disabled");
    assert_eq!(e.disabled_reason.as_deref(), Some("failing"));
    // Re-enabled by the merchant: payd's reason and the failure run are cleared.
    let res = app
        .client
        .patch(app.url(&format!("/v1/webhook_endpoints/{id}")))
        .bearer_auth(&key)
        .header("Content-Type", "application/json")
        .body(r#"{"enabled": true}"#)
        .send()
        .await
        .unwrap();
    let (s, out) = json(res).await;
    assert_eq!(
        (s, out["enabled"].as_bool(), out["disabled_reason"].clone(), out["failing_since"].clone()),
        (200, Some(true), Value::Null, Value::Null)
    );
}

async fn an_endpoint_that_does_not_answer_in_time_is_a_failure(app: TestApp) {
    let rx = Receiver::start().await;
    rx.respond_with(|_| Reply::Hang);
    let (m, key) = app.merchant_with_key().await;
    add_endpoint(&app, &key, json!({"url": rx.url(), "events": ["payment.created"]})).await;
    create(&app, &key, json!({"amount": "1", "currency": "USD"})).await;
    let d = first_attempt(&app, &m.id).await;
    let attempt = app.store.list_webhook_attempts(&d.id).await.unwrap().remove(0);
    assert_eq!(
        (d.status, attempt.status_code, attempt.error.as_deref()),
        (DeliveryStatus::Failed, None, Some("timed out"))
    );
    assert_eq!(rx.received().len(), 1, "the request arrived; its answer did not");
}

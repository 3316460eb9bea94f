//! The expiry worker.

use std::time::Duration;

use payd_core::payment::{Funds, Payment};
use serde_json::json;

use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(
    a_sweep_expires_only_payments_past_their_time,
    a_partly_paid_payment_expires_underpaid,
    the_background_worker_expires_due_payments,
);

async fn create(app: &TestApp, key: &str, body: serde_json::Value) -> payd_core::ids::PaymentId {
    let (s, p) = app.create_payment(key, &body).await;
    assert_eq!(s, 201, "{p}");
    p["id"].as_str().unwrap().parse().unwrap()
}

async fn a_sweep_expires_only_payments_past_their_time(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let short = create(&app, &key, json!({"amount": "1", "currency": "USD", "expires_in": 60})).await;
    let long = create(&app, &key, json!({"amount": "1", "currency": "USD", "expires_in": 86400})).await;
    let later = payd_store::now() + chrono::Duration::minutes(5);
    assert_eq!(payd_server::engine::expire_due(&app.store, later).await.unwrap(), 1);
    let (_, p) = app.get(&format!("/v1/payments/{short}"), &key).await;
    assert_eq!((p["status"].as_str(), p["underpaid"].as_bool()), (Some("expired"), Some(false)));
    let (_, p) = app.get(&format!("/v1/payments/{long}"), &key).await;
    assert_eq!(p["status"], "pending");
    let kinds: Vec<_> =
        app.store.list_events(&short).await.unwrap().iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["payment.created", "payment.expired"]);
    // A second sweep finds nothing more to do.
    assert_eq!(payd_server::engine::expire_due(&app.store, later).await.unwrap(), 0);
}

async fn a_partly_paid_payment_expires_underpaid(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let id = create(
        &app,
        &key,
        json!({"amount": "10", "currency": "USD", "token": "USDC", "network": "base", "expires_in": 60}),
    )
    .await;
    let now = payd_store::now();
    app.store
        .mutate_payment(&id, &mut |p: &mut Payment| {
            p.apply_funds(Funds { confirmed: 4_000_000, pending: 0, late: 0 }, 0, now)
        })
        .await
        .unwrap()
        .unwrap();
    // The sweeper waits for devnet to have passed the expiry.
    crate::devnet::advance_to(&app, now + chrono::Duration::minutes(2)).await;
    payd_server::engine::expire_due(&app.store, now + chrono::Duration::minutes(2)).await.unwrap();
    let (_, p) = app.get(&format!("/v1/payments/{id}"), &key).await;
    assert_eq!((p["status"].as_str(), p["underpaid"].as_bool()), (Some("expired"), Some(true)));
    assert_eq!(p["asset"]["amount_received"], "4000000");
}

async fn the_background_worker_expires_due_payments(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let id = create(&app, &key, json!({"amount": "1", "currency": "USD", "expires_in": 60})).await;
    // Move its expiry into the past, as if an hour had gone by.
    app.store
        .mutate_payment(&id, &mut |p: &mut Payment| -> Result<Vec<_>, std::convert::Infallible> {
            p.expires_at = payd_store::now() - chrono::Duration::seconds(1);
            p.version += 1;
            Ok(vec![])
        })
        .await
        .unwrap()
        .unwrap();
    for _ in 0..200 {
        let (_, p) = app.get(&format!("/v1/payments/{id}"), &key).await;
        if p["status"] == "expired" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the worker did not expire the payment within 10 s");
}

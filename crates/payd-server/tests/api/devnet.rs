//! devnet end to end: test payments get a devnet address, transfers sent through the API or
//! the CLI are mined, seen by the watcher and credited through the same path a real chain
//! uses: confirmations, partial, over and late payments, unattributed money and reorgs.
//! Most tests mine and scan by hand (the server runs no devnet workers in tests); the CLI
//! test runs the real worker loops.

use std::time::Duration;

use payd_core::apikey::Mode;
use payd_core::chain::{DevnetTransfer, TransferStatus};
use payd_core::ids::PaymentId;
use payd_core::payment::Payment;
use payd_server::engine::credit::{scan_once, NetworkConfig, ScanReport};
use payd_server::engine::devnet::{self, Devnet};
use payd_server::keys::KeyOwner;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{code, json, TestApp, MASTER_KEY};

backend_tests!(
    a_test_payment_gets_a_devnet_address_and_live_ones_cannot_be_test_paid,
    an_exact_payment_completes_only_at_the_confirmation_depth,
    two_partial_payments_add_up_to_completed,
    an_overpayment_completes_with_the_flag,
    an_underpayment_within_the_merchants_tolerance_completes_flagged,
    money_after_expiry_flags_paid_late,
    transfers_to_unknown_or_lapsed_addresses_are_stored_unattributed,
    a_reorg_reverts_the_payment_and_the_remined_transfer_is_credited_once,
    payd_devnet_pay_from_another_process_completes_a_payment,
    auto_pay_pays_a_pending_test_payment_once_when_it_is_due,
);

pub(crate) fn cfg() -> NetworkConfig {
    devnet::network_config(chrono::Duration::hours(24))
}

pub(crate) async fn mine(app: &TestApp, blocks: usize) {
    for _ in 0..blocks {
        devnet::produce_block(&app.store, payd_store::now()).await.unwrap().unwrap();
    }
}

pub(crate) async fn scan(app: &TestApp) -> ScanReport {
    scan_once(&app.store, &Devnet::new(app.store.clone()), &cfg(), payd_store::now()).await.unwrap()
}

/// Mines one block made at `time` (devnet's clock then stays there until the real one
/// passes it) and scans it, as if the chain had reached that moment.
pub(crate) async fn advance_to(app: &TestApp, time: chrono::DateTime<chrono::Utc>) {
    devnet::produce_block(&app.store, time).await.unwrap().unwrap();
    scan(app).await;
}

/// Mines one block and scans, `n` times.
pub(crate) async fn advance(app: &TestApp, n: usize) {
    for _ in 0..n {
        mine(app, 1).await;
        scan(app).await;
    }
}

pub(crate) async fn create(app: &TestApp, key: &str, body: Value) -> (PaymentId, Value) {
    let (s, p) = app.create_payment(key, &body).await;
    assert_eq!(s, 201, "{p}");
    (p["id"].as_str().unwrap().parse().unwrap(), p)
}

pub(crate) async fn test_pay(app: &TestApp, key: &str, id: &PaymentId, body: &str) -> (u16, Value) {
    json(app.post_raw(&format!("/v1/payments/{id}/test_pay"), key, body, None).await).await
}

async fn payment(app: &TestApp, id: &PaymentId) -> Payment {
    app.store.get_payment(id).await.unwrap().unwrap()
}

async fn kinds(app: &TestApp, id: &PaymentId) -> Vec<&'static str> {
    app.store.list_events(id).await.unwrap().iter().map(|e| e.kind.as_str()).collect()
}

pub(crate) fn usdc(amount: &str, network: &str) -> Value {
    json!({"amount": amount, "currency": "USD", "token": "USDC", "network": network})
}

async fn a_test_payment_gets_a_devnet_address_and_live_ones_cannot_be_test_paid(app: TestApp) {
    let (m, key) = app.merchant_with_key().await;
    let (id, p) = create(&app, &key, usdc("10", "base")).await;
    let address = p["asset"]["address"].as_str().unwrap().to_owned();
    assert!(address.starts_with("0x") && address.len() == 42, "{address}");
    // A Tron test payment gets a devnet address in Tron's own form, never a 0x one.
    let (_, q) = create(&app, &key, usdc("10", "tron")).await;
    let tron = q["asset"]["address"].as_str().unwrap();
    assert!(tron.starts_with('T') && tron.len() == 34, "{tron}");
    let row = app.store.get_deposit_address(&address).await.unwrap().unwrap();
    assert_eq!((row.family.as_str(), row.payment_id.as_ref()), ("devnet", Some(&id)));
    // No asset yet: no address.
    let (_, none) = create(&app, &key, json!({"amount": "1", "currency": "USD"})).await;
    assert!(none["asset"].is_null());

    let live = app.key(KeyOwner::Merchant(m.id.clone()), Mode::Live, &[]).await;
    let (lid, lp) = create(&app, &live, json!({"amount": "10", "currency": "USD"})).await;
    assert!(lp["asset"].is_null());
    let (s, e) = test_pay(&app, &live, &lid, "").await;
    assert_eq!((s, code(&e)), (403, "test_mode_only"));
    let (s, e) = test_pay(&app, &key, &lid, "").await;
    assert_eq!((s, code(&e)), (404, "not_found"), "a test key does not see live payments");
    let (s, e) = test_pay(&app, &key, &id, r#"{"amount": "0.0000001"}"#).await;
    assert_eq!((s, code(&e)), (400, "amount_invalid"));
    let (s, e) = test_pay(&app, &key, &id, r#"{"amount": "1", "extra": true}"#).await;
    assert_eq!(s, 400, "{e}");
}

async fn an_exact_payment_completes_only_at_the_confirmation_depth(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let (id, p) = create(&app, &key, usdc("49.99", "base")).await;
    assert_eq!(p["asset"]["confirmations_required"], 12);
    mine(&app, 1).await;
    scan(&app).await;
    let (s, t) = test_pay(&app, &key, &id, "").await;
    assert_eq!(s, 202, "{t}");
    assert_eq!(t["amount_base_units"], "49990000");
    assert_eq!(t["to"], p["asset"]["address"]);

    // Mined: one confirmation, seen, processing.
    advance(&app, 1).await;
    assert_eq!(payment(&app, &id).await.status.as_str(), "processing");
    // Ten more: eleven confirmations, still short of twelve.
    advance(&app, 10).await;
    let p = payment(&app, &id).await;
    assert_eq!((p.status.as_str(), p.funds.pending, p.funds.confirmed), ("processing", 49_990_000, 0));
    let transfers = app.store.transfers_of_payment(&id).await.unwrap();
    assert_eq!(transfers.len(), 1);
    assert_eq!(transfers[0].status, TransferStatus::Seen);
    // The twelfth.
    advance(&app, 1).await;
    let p = payment(&app, &id).await;
    assert_eq!((p.status.as_str(), p.underpaid, p.overpaid), ("completed", false, false));
    assert_eq!(p.funds.confirmed, 49_990_000);
    assert_eq!(app.store.transfers_of_payment(&id).await.unwrap()[0].status, TransferStatus::Confirmed);
    assert_eq!(kinds(&app, &id).await, ["payment.created", "payment.processing", "payment.completed"]);
    // More blocks change nothing, and nothing more is due.
    advance(&app, 2).await;
    assert_eq!(kinds(&app, &id).await.len(), 3);
    let (s, e) = test_pay(&app, &key, &id, "").await;
    assert_eq!((s, code(&e)), (409, "payment_not_payable"));
    let (_, out) = app.get(&format!("/v1/payments/{id}"), &key).await;
    assert_eq!(
        (out["status"].as_str(), out["asset"]["amount_received"].as_str()),
        (Some("completed"), Some("49990000"))
    );
}

async fn two_partial_payments_add_up_to_completed(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    // Avalanche needs one confirmation: money counts in the block that mines it.
    let (id, _) = create(&app, &key, usdc("10", "avalanche")).await;
    mine(&app, 1).await;
    assert_eq!(test_pay(&app, &key, &id, r#"{"amount": "4"}"#).await.0, 202);
    advance(&app, 1).await;
    let p = payment(&app, &id).await;
    assert_eq!((p.status.as_str(), p.underpaid, p.funds.confirmed), ("processing", true, 4_000_000));
    // The default amount is what is still due.
    let (_, t) = test_pay(&app, &key, &id, "").await;
    assert_eq!(t["amount_base_units"], "6000000");
    advance(&app, 1).await;
    let p = payment(&app, &id).await;
    assert_eq!((p.status.as_str(), p.underpaid, p.funds.confirmed), ("completed", false, 10_000_000));
    assert_eq!(
        kinds(&app, &id).await,
        ["payment.created", "payment.processing", "payment.partially_paid", "payment.completed"]
    );
    assert_eq!(app.store.transfers_of_payment(&id).await.unwrap().len(), 2);
}

async fn an_overpayment_completes_with_the_flag(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let (id, _) = create(&app, &key, usdc("10", "avalanche")).await;
    mine(&app, 1).await;
    test_pay(&app, &key, &id, r#"{"amount": "15.5"}"#).await;
    advance(&app, 1).await;
    let p = payment(&app, &id).await;
    assert_eq!((p.status.as_str(), p.overpaid, p.funds.confirmed), ("completed", true, 15_500_000));
    assert_eq!(kinds(&app, &id).await, ["payment.created", "payment.completed", "payment.overpaid"]);
}

async fn an_underpayment_within_the_merchants_tolerance_completes_flagged(app: TestApp) {
    let (m, key) = app.merchant_with_key().await;
    // 1 %: 10 USDC completes from 9.90 up.
    app.store.set_merchant_underpayment_tolerance(&m.id, 100, payd_store::now()).await.unwrap();
    let (id, _) = create(&app, &key, usdc("10", "avalanche")).await;
    mine(&app, 1).await;
    test_pay(&app, &key, &id, r#"{"amount": "9.89"}"#).await;
    advance(&app, 1).await;
    let p = payment(&app, &id).await;
    assert_eq!((p.status.as_str(), p.underpaid), ("processing", true), "just outside the tolerance");
    test_pay(&app, &key, &id, r#"{"amount": "0.01"}"#).await;
    advance(&app, 1).await;
    let p = payment(&app, &id).await;
    assert_eq!((p.status.as_str(), p.underpaid, p.funds.confirmed), ("completed", true, 9_900_000));
    assert_eq!(
        kinds(&app, &id).await,
        ["payment.created", "payment.processing", "payment.partially_paid", "payment.completed"]
    );
}

async fn money_after_expiry_flags_paid_late(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let (id, _) = create(
        &app,
        &key,
        json!({"amount": "10", "currency": "USD", "token": "USDT",
        "network": "avalanche", "expires_in": 60}),
    )
    .await;
    let later = payd_store::now() + chrono::Duration::minutes(2);
    payd_server::engine::expire_due(&app.store, later).await.unwrap();
    assert_eq!(payment(&app, &id).await.status.as_str(), "pending", "devnet has not passed the expiry yet");
    advance_to(&app, later).await;
    payd_server::engine::expire_due(&app.store, later).await.unwrap();
    assert_eq!(payment(&app, &id).await.status.as_str(), "expired");
    assert_eq!(test_pay(&app, &key, &id, "").await.0, 202);
    advance(&app, 1).await;
    let p = payment(&app, &id).await;
    assert_eq!(
        (p.status.as_str(), p.paid_late, p.underpaid, p.funds.confirmed),
        ("expired", true, false, 10_000_000)
    );
    assert_eq!(kinds(&app, &id).await, ["payment.created", "payment.expired", "payment.paid_late"]);
}

async fn transfers_to_unknown_or_lapsed_addresses_are_stored_unattributed(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    mine(&app, 1).await;
    let stranger = "0x00000000000000000000000000000000000000aa";
    let t = DevnetTransfer {
        tx_hash: payd_chain::devnet::random_hash().unwrap(),
        token: "USDC".into(),
        from: devnet::FAUCET.into(),
        to: stranger.into(),
        amount: 5,
        block: None,
        log_index: None,
    };
    app.store.devnet_submit(&t, payd_store::now()).await.unwrap();

    // A payment whose monitoring window ended a day ago.
    let (id, _) = create(&app, &key, usdc("10", "avalanche")).await;
    app.store
        .mutate_payment(&id, &mut |p: &mut Payment| -> Result<Vec<_>, std::convert::Infallible> {
            p.expires_at = payd_store::now() - chrono::Duration::hours(48);
            p.version += 1;
            Ok(vec![])
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(test_pay(&app, &key, &id, "").await.0, 202);
    advance(&app, 1).await;

    let all = app.store.list_transfers("devnet").await.unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|t| t.transfer.payment_id.is_none()), "{all:?}");
    assert!(all.iter().any(|t| t.transfer.to == stranger && t.transfer.amount == 5));
    let p = payment(&app, &id).await;
    assert_eq!((p.funds.total(), p.paid_late), (0, false));
    // (The expiry worker may have expired it meanwhile; no money event either way.)
    let k = kinds(&app, &id).await;
    assert!(k.iter().all(|k| ["payment.created", "payment.expired"].contains(k)), "{k:?}");
}

async fn a_reorg_reverts_the_payment_and_the_remined_transfer_is_credited_once(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let (id, _) = create(&app, &key, usdc("10", "avalanche")).await;
    mine(&app, 1).await;
    let (_, sent) = test_pay(&app, &key, &id, "").await;
    advance(&app, 1).await;
    assert_eq!(payment(&app, &id).await.status.as_str(), "completed");

    // Depth 1: the block holding the transfer is replaced by an empty one.
    let fork = devnet::reorg(&app.store, 1, false, payd_store::now()).await.unwrap();
    let report = scan(&app).await;
    assert_eq!((report.reorg_to, report.orphaned), (Some(fork), 1));
    let p = payment(&app, &id).await;
    assert_eq!((p.status.as_str(), p.funds.total()), ("pending", 0));
    assert_eq!(app.store.transfers_of_payment(&id).await.unwrap()[0].status, TransferStatus::Orphaned);

    // The next block re-mines it under the same hash: credited again, once.
    advance(&app, 2).await;
    let p = payment(&app, &id).await;
    assert_eq!((p.status.as_str(), p.funds.confirmed), ("completed", 10_000_000));
    let transfers = app.store.transfers_of_payment(&id).await.unwrap();
    assert_eq!(transfers.len(), 1);
    assert_eq!(transfers[0].transfer.tx_hash, sent["tx_hash"].as_str().unwrap());
    assert_eq!(transfers[0].status, TransferStatus::Confirmed);

    // Depth 3 with the transfer three blocks from the tip, dropped this time: it stays gone.
    advance(&app, 1).await;
    devnet::reorg(&app.store, 3, true, payd_store::now()).await.unwrap();
    scan(&app).await;
    advance(&app, 2).await;
    let p = payment(&app, &id).await;
    assert_eq!((p.status.as_str(), p.funds.total()), ("pending", 0));
    assert_eq!(
        kinds(&app, &id).await,
        ["payment.created", "payment.completed", "payment.reverted", "payment.completed", "payment.reverted"]
    );
    let events = app.store.list_events(&id).await.unwrap();
    assert_eq!(events[2].payload["status"], "pending", "the event carries the payment after the reorg");
}

async fn payd_devnet_pay_from_another_process_completes_a_payment(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let cancel = tokio_util::sync::CancellationToken::new();
    let tick = Duration::from_millis(100);
    let producer =
        tokio::spawn(payd_server::workers::devnet::produce(app.store.clone(), tick, cancel.clone()));
    let watcher = tokio::spawn(payd_server::workers::chain::watch(
        app.store.clone(),
        Devnet::new(app.store.clone()),
        payd_server::workers::chain::ChainWatch {
            cfg: cfg(),
            interval: tick,
            lease: None,
            wake: None,
            metrics: Default::default(),
        },
        cancel.clone(),
    ));

    let (id, p) = create(&app, &key, usdc("12.50", "base")).await;
    let slug = p["checkout_url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let url = app.db.url.clone();
    let pay = |args: Vec<String>| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_payd"))
                .args(["--database-url", &url, "devnet", "pay"])
                .args(&args)
                .current_dir(std::env::temp_dir())
                .env("PAYD_MASTER_KEY", MASTER_KEY)
                .output()
                .unwrap()
        })
    };
    let out = pay(vec![id.to_string(), "--amount".into(), "2.5".into(), "--json".into()]).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sent: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (sent["amount"].as_str(), sent["amount_base_units"].as_str()),
        (Some("2.500000"), Some("2500000"))
    );
    // The rest, naming the payment by its checkout slug (an explicit amount: the default,
    // what is still due, counts only credited money, and the first may not be yet).
    let out = pay(vec![slug, "--amount".into(), "10".into()]).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = pay(vec!["pay_00000000000000000000000000000000".into()]).await.unwrap();
    assert!(!out.status.success());

    let mut status = String::new();
    for _ in 0..300 {
        let (_, p) = app.get(&format!("/v1/payments/{id}"), &key).await;
        status = p["status"].as_str().unwrap_or_default().to_owned();
        if status == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cancel.cancel();
    let _ = (producer.await, watcher.await);
    assert_eq!(status, "completed");
    let p = payment(&app, &id).await;
    assert_eq!((p.funds.confirmed, p.overpaid), (12_500_000, false));
    let k = kinds(&app, &id).await;
    assert_eq!(k.first(), Some(&"payment.created"));
    assert_eq!(k.last(), Some(&"payment.completed"));
    assert!(k.contains(&"payment.processing"), "{k:?}");
}

async fn auto_pay_pays_a_pending_test_payment_once_when_it_is_due(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let (id, _) = create(&app, &key, usdc("10", "base")).await;
    // No asset yet: no address to pay, so never a candidate.
    create(&app, &key, json!({"amount": "1", "currency": "USD"})).await;
    let now = payd_store::now();
    let hour = chrono::Duration::hours(1);
    // Created after the cut-off: not yet due.
    assert_eq!(devnet::autopay_due(&app.store, now - hour, 100, now).await.unwrap(), 0);
    assert_eq!(devnet::autopay_due(&app.store, now + hour, 100, now).await.unwrap(), 1);
    // Sent once: a second sweep sends nothing more.
    assert_eq!(devnet::autopay_due(&app.store, now + hour, 100, now).await.unwrap(), 0);
    advance(&app, 12).await;
    let p = payment(&app, &id).await;
    assert_eq!(p.status.as_str(), "completed", "{p:?}");
    assert_eq!(p.funds.confirmed, p.asset.as_ref().unwrap().amount_due);
}

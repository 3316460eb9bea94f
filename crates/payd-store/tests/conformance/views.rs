//! The dashboard's views: payments and USD volume per UTC day for a filter, money received
//! per network and token summed exactly (beyond 64 bits), unattributed transfers paged per
//! mode, and each network's cursor and lease.

use chrono::{Duration, TimeZone, Utc};
use payd_core::apikey::Mode;
use payd_core::money::{Currency, Money};
use payd_store::chain::{BlockRef, NewTransfer, ScanCommit};
use payd_store::users::DashboardFilter;
use payd_store::{now, Store};
use rust_decimal::Decimal;

use crate::fixtures::{create, merchant, new_payment};

conformance!(
    payments_per_day_count_and_sum_each_utc_day_of_the_filter,
    money_received_is_summed_exactly_per_network_and_token,
    unattributed_transfers_are_paged_per_mode,
    chain_positions_name_each_cursor_and_lease,
    failing_endpoints_are_those_failing_or_disabled_for_failing,
);

fn filter(merchants: Vec<payd_core::ids::MerchantId>, mode: Mode) -> DashboardFilter {
    DashboardFilter {
        merchant_ids: merchants,
        mode,
        status: None,
        underpaid: false,
        overpaid: false,
        paid_late: false,
        network: None,
        token: None,
        created_gte: None,
        created_lt: None,
        search: Vec::new(),
        limit: 25,
        offset: 0,
    }
}

fn block(n: u64) -> BlockRef {
    BlockRef { number: n, hash: format!("0xh{n}") }
}

fn transfer(
    network: &str,
    tx: &str,
    amount: u128,
    payment: Option<&payd_core::ids::PaymentId>,
) -> NewTransfer {
    NewTransfer {
        network: network.into(),
        tx_hash: tx.into(),
        log_index: 0,
        token: "USDC".into(),
        from: "0xfrom".into(),
        to: "0x00000000000000000000000000000000000000d1".into(),
        amount,
        block: block(1),
        block_time: now(),
        payment_id: payment.cloned(),
        note: payment.is_none().then(|| "an address payd does not watch".to_owned()),
    }
}

fn commit(network: &str, transfers: Vec<NewTransfer>) -> ScanCommit {
    ScanCommit {
        network: network.into(),
        expected: None,
        cursor: block(1),
        cursor_time: now(),
        blocks: vec![block(0), block(1)],
        transfers,
        head: 1,
        finalized: None,
        confirmations: 1,
        keep_blocks: 128,
        now: now(),
    }
}

async fn payments_per_day_count_and_sum_each_utc_day_of_the_filter(store: Store) {
    let m = merchant(&store, "Shop").await;
    let other = merchant(&store, "Other").await;
    let day1 = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let day2 = Utc.with_ymd_and_hms(2026, 3, 2, 23, 59, 59).unwrap();
    for (at, price) in
        [(day1, "10.00"), (day1 + Duration::hours(23), "0.01"), (day2, "999999999.99"), (day2, "5.5")]
    {
        let mut p = new_payment(&m.id, Mode::Test);
        p.price = Money::parse(price, Currency::USD).unwrap();
        create(&store, p, at).await;
    }
    // Priced in euros without a USD quote: counted, no volume.
    let mut eur = new_payment(&m.id, Mode::Test);
    eur.price = Money::parse("7.00", Currency::from_code("EUR").unwrap()).unwrap();
    create(&store, eur, day2).await;
    // Another merchant's, and a live one: not in the filter.
    create(&store, new_payment(&other.id, Mode::Test), day1).await;
    create(&store, new_payment(&m.id, Mode::Live), day1).await;

    let days = store.payments_per_day(&filter(vec![m.id.clone()], Mode::Test)).await.unwrap();
    let got: Vec<_> =
        days.iter().map(|d| (d.day.to_string(), d.payments, d.usd.to_string(), d.unpriced)).collect();
    assert_eq!(
        got,
        vec![
            ("2026-03-01".to_owned(), 2, "10.01".to_owned(), 0),
            ("2026-03-02".to_owned(), 3, "1000000005.49".to_owned(), 1),
        ]
    );
    // The filter's dates bound it.
    let mut f = filter(vec![m.id.clone()], Mode::Test);
    f.created_gte = Some(day1 + Duration::days(1));
    let days = store.payments_per_day(&f).await.unwrap();
    assert_eq!(days.len(), 1);
    assert_eq!(days[0].usd, "1000000005.49".parse::<Decimal>().unwrap());
    assert!(store.payments_per_day(&filter(Vec::new(), Mode::Test)).await.unwrap().is_empty());
}

async fn money_received_is_summed_exactly_per_network_and_token(store: Store) {
    let m = merchant(&store, "Shop").await;
    let other = merchant(&store, "Other").await;
    let a = create(&store, new_payment(&m.id, Mode::Test), now()).await;
    let mut slow = new_payment(&m.id, Mode::Test);
    if let Some(asset) = slow.asset.as_mut() {
        asset.confirmations = 50;
    }
    let b = create(&store, slow, now()).await;
    let c = create(&store, new_payment(&other.id, Mode::Test), now()).await;
    // Far beyond 64 bits, as 18-decimal tokens reach: the sum must not go through a float.
    let big: u128 = 987_654_321_987_654_321_987_654_321;
    let transfers = vec![
        transfer("devnet", "0xt1", big, Some(&a.id)),
        transfer("devnet", "0xt2", big, Some(&a.id)),
        transfer("devnet", "0xt3", 1, Some(&a.id)),
        transfer("devnet", "0xt4", 5, Some(&b.id)),
        transfer("devnet", "0xt5", 1_000, Some(&c.id)),
        transfer("devnet", "0xt6", 42, None),
    ];
    store.commit_scan(&commit("devnet", transfers)).await.unwrap();

    let totals = store.received_totals(std::slice::from_ref(&m.id), Mode::Test).await.unwrap();
    assert_eq!(totals.len(), 1, "{totals:?}");
    let t = &totals[0];
    assert_eq!((t.network.as_str(), t.token.as_str(), t.transfers), ("devnet", "USDC", 4));
    assert_eq!(t.received, 2 * big + 1 + 5);
    // b waits for 50 confirmations: received, not confirmed.
    assert_eq!(t.confirmed, 2 * big + 1);
    let both = store.received_totals(&[m.id.clone(), other.id.clone()], Mode::Test).await.unwrap();
    assert_eq!(both[0].received, 2 * big + 1 + 5 + 1_000);
    assert!(store.received_totals(std::slice::from_ref(&m.id), Mode::Live).await.unwrap().is_empty());
    assert!(store.received_totals(&[], Mode::Test).await.unwrap().is_empty());
}

async fn unattributed_transfers_are_paged_per_mode(store: Store) {
    let m = merchant(&store, "Shop").await;
    let a = create(&store, new_payment(&m.id, Mode::Test), now()).await;
    let mut transfers: Vec<NewTransfer> =
        (0..5).map(|i| transfer("devnet", &format!("0xu{i}"), 100 + i, None)).collect();
    transfers.push(transfer("devnet", "0xpaid", 7, Some(&a.id)));
    store.commit_scan(&commit("devnet", transfers)).await.unwrap();
    store.commit_scan(&commit("base", vec![transfer("base", "0xlive", 9, None)])).await.unwrap();

    let page = store.unattributed_transfers(Mode::Test, 3, 0).await.unwrap();
    assert_eq!((page.total, page.transfers.len()), (5, 3));
    let rest = store.unattributed_transfers(Mode::Test, 3, 3).await.unwrap();
    assert_eq!(rest.transfers.len(), 2);
    let mut seen: Vec<String> =
        page.transfers.iter().chain(&rest.transfers).map(|t| t.transfer.tx_hash.clone()).collect();
    seen.sort();
    assert_eq!(seen, vec!["0xu0", "0xu1", "0xu2", "0xu3", "0xu4"]);
    assert!(page
        .transfers
        .iter()
        .all(|t| t.transfer.note.as_deref() == Some("an address payd does not watch")));
    let live = store.unattributed_transfers(Mode::Live, 50, 0).await.unwrap();
    assert_eq!(live.total, 1);
    assert_eq!(live.transfers[0].transfer.network, "base");
}

async fn chain_positions_name_each_cursor_and_lease(store: Store) {
    assert!(store.chain_positions().await.unwrap().is_empty());
    store.commit_scan(&commit("devnet", Vec::new())).await.unwrap();
    let until = now() + Duration::minutes(1);
    assert!(store.acquire_lease("base", "node-a", until, now()).await.unwrap());
    let positions = store.chain_positions().await.unwrap();
    let names: Vec<&str> = positions.iter().map(|p| p.network.as_str()).collect();
    assert_eq!(names, vec!["base", "devnet"]);
    assert_eq!(positions[0].cursor, None);
    assert_eq!(positions[0].lease.as_ref().map(|l| l.0.as_str()), Some("node-a"));
    assert_eq!(positions[1].cursor.map(|c| c.0), Some(1));
    assert!(positions[1].lease.is_none() && positions[1].cursor_updated_at.is_some());
    assert!(store.failing_endpoints(10).await.unwrap().is_empty());
}

async fn failing_endpoints_are_those_failing_or_disabled_for_failing(store: Store) {
    use payd_core::webhook::WebhookFormat;
    let m = merchant(&store, "Shop").await;
    let make = |failing: Option<chrono::DateTime<Utc>>, enabled: bool, reason: Option<&str>| {
        let mut e = crate::webhooks::endpoint(&m.id, Mode::Live, WebhookFormat::Native, Vec::new());
        e.failing_since = failing;
        e.enabled = enabled;
        e.disabled_reason = reason.map(str::to_owned);
        e
    };
    let early = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let healthy = make(None, true, None);
    let by_hand = make(None, false, None);
    let failing = make(Some(early + Duration::hours(1)), true, None);
    let gave_up = make(Some(early), false, Some("failed for 5 days"));
    let disabled = make(None, false, Some("410 Gone"));
    for e in [&healthy, &by_hand, &failing, &gave_up, &disabled] {
        store.insert_webhook_endpoint(e).await.unwrap();
    }
    let listed = store.failing_endpoints(10).await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|e| e.id.as_str()).collect();
    let want = [gave_up.id.to_string(), failing.id.to_string(), disabled.id.to_string()];
    assert_eq!(ids, want.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(listed[0].disabled_reason.as_deref(), Some("failed for 5 days"));
    assert_eq!(listed[0].failing_since, Some(early));
    assert!(!listed[0].enabled && listed[1].enabled);
    assert_eq!(store.failing_endpoints(1).await.unwrap().len(), 1);
}

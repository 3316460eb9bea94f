//! The chain engine's storage: index allocation, cursor compare-and-set, credit-once
//! transfers with their payment transitions, rollbacks, and devnet's chain.

use std::collections::BTreeSet;

use payd_core::apikey::Mode;
use payd_core::payment::PaymentStatus;
use payd_core::registry::Family;
use payd_store::chain::{
    BlockRef, DevnetTransfer, NewDepositAddress, NewTransfer, ScanCommit, TransferStatus,
};
use payd_store::{now, Store, StoreError};

use crate::fixtures::{create, merchant, new_payment, DUE};

conformance!(
    address_indexes_are_handed_out_once_even_concurrently,
    a_deposit_address_is_recorded_once,
    a_transfer_is_credited_once_and_a_stale_cursor_commits_nothing,
    a_rollback_orphans_transfers_and_reverts_their_payment,
    devnet_mines_its_mempool_and_reorgs_replace_blocks,
    a_merchant_has_one_xpub_per_family,
    the_watched_set_is_the_payments_still_inside_their_window,
    a_pages_transfers_are_read_in_one_call,
);

/// A list page's transfers come in one call, in chain order, only of the payments asked for.
async fn a_pages_transfers_are_read_in_one_call(store: Store) {
    let m = merchant(&store, "Shop").await;
    let a = create(&store, new_payment(&m.id, Mode::Test), now()).await;
    let b = create(&store, new_payment(&m.id, Mode::Test), now()).await;
    let c = create(&store, new_payment(&m.id, Mode::Test), now()).await;
    let ts = vec![
        transfer("0xb2", 2, "0xb", Some(&b.id)),
        transfer("0xa1", 1, "0xa", Some(&a.id)),
        transfer("0xc1", 1, "0xc", Some(&c.id)),
        transfer("0xb3", 3, "0xb", Some(&b.id)),
    ];
    store.commit_scan(&commit(None, 3, ts)).await.expect("commit");
    let got = store.transfers_of_payments(&[b.id.clone(), a.id.clone()]).await.expect("transfers");
    let hashes: Vec<&str> = got.iter().map(|t| t.transfer.tx_hash.as_str()).collect();
    assert_eq!(hashes, ["0xa1", "0xb2", "0xb3"]);
    assert!(store.transfers_of_payments(&[]).await.expect("none").is_empty());
}

/// What a watcher loads is bounded by the payments still creditable, not by history; an
/// address outside it is still found (its newest payment and network) for the record.
async fn the_watched_set_is_the_payments_still_inside_their_window(store: Store) {
    use chrono::Duration;
    use payd_store::chain::WatchScope;
    let m = merchant(&store, "Shop").await;
    let t0 = now();
    let mut ids = Vec::new();
    // Expiring at t0-3h, t0-1h, t0+1h; live on base, with distinct addresses.
    for (i, hours) in [-3i64, -1, 1].into_iter().enumerate() {
        let mut new = new_payment(&m.id, Mode::Live);
        new.expires_at = t0 + Duration::hours(hours);
        if let Some(a) = new.asset.as_mut() {
            a.network = "base".into();
            a.address = Some(format!("0x00000000000000000000000000000000000000a{i}"));
        }
        ids.push(create(&store, new, t0 - Duration::hours(4)).await.id);
    }
    let base = WatchScope::Live("base".into());
    let watched = |from| {
        let store = store.clone();
        let base = base.clone();
        async move { store.watched_payments(&base, from).await.expect("watched") }
    };
    let got: Vec<_> = watched(t0 - Duration::hours(2)).await.into_iter().map(|w| w.payment_id).collect();
    assert_eq!(got, vec![ids[1].clone(), ids[2].clone()]);
    assert_eq!(watched(t0 + Duration::hours(2)).await.len(), 0);
    assert_eq!(watched(t0 - Duration::hours(5)).await.len(), 3);
    assert!(store
        .watched_payments(&WatchScope::Live("polygon".into()), t0 - Duration::hours(5))
        .await
        .expect("w")
        .is_empty());
    assert!(store.watched_payments(&WatchScope::Test, t0 - Duration::hours(5)).await.expect("w").is_empty());

    // A later payment at the first address (a reused client address) is its newest.
    let mut again = new_payment(&m.id, Mode::Live);
    if let Some(a) = again.asset.as_mut() {
        a.network = "polygon".into();
        a.address = Some("0x00000000000000000000000000000000000000a0".into());
    }
    let newest = create(&store, again, t0).await.id;
    let asked = [
        "0x00000000000000000000000000000000000000a0".to_owned(),
        "0x00000000000000000000000000000000000000ff".to_owned(),
    ];
    // Asked on polygon: its newest payment there. Asked on base: the base payment (the one a
    // transfer on base may credit), though a newer one on polygon shares the address.
    let polygon = WatchScope::Live("polygon".into());
    let found = store.payments_at_addresses(&polygon, &asked).await.expect("found");
    assert_eq!(found.len(), 1);
    assert_eq!((&found[0].0.payment_id, found[0].1.as_str()), (&newest, "polygon"));
    let found = store.payments_at_addresses(&base, &asked).await.expect("found");
    assert_eq!(found.len(), 1);
    assert_eq!((&found[0].0.payment_id, found[0].1.as_str()), (&ids[0], "base"));
    // An address with payments on other networks only: its newest, for the record.
    let asked_b = ["0x00000000000000000000000000000000000000a1".to_owned()];
    let found = store.payments_at_addresses(&polygon, &asked_b).await.expect("found");
    assert_eq!((&found[0].0.payment_id, found[0].1.as_str()), (&ids[1], "base"));
    assert!(store.payments_at_addresses(&WatchScope::Test, &asked).await.expect("found").is_empty());
    // The gauge counts what watched_payments returns, without reading it.
    for hours in [-5, -2, 2] {
        let from = t0 + Duration::hours(hours);
        let n = store.count_watched_payments(&base, from).await.expect("count");
        assert_eq!(usize::try_from(n).unwrap(), watched(from).await.len(), "{hours}");
    }
}

async fn a_merchant_has_one_xpub_per_family(store: Store) {
    let m = merchant(&store, "Shop").await;
    let other = merchant(&store, "Other").await;
    assert_eq!(store.merchant_xpub(&m.id, Family::Evm).await.expect("read"), None);
    assert!(store.set_merchant_xpub(&m.id, Family::Evm, Some("xpub-evm-1"), now()).await.expect("set"));
    assert!(store.set_merchant_xpub(&m.id, Family::Tron, Some("xpub-tron"), now()).await.expect("set"));
    // Setting again replaces the key of that family only.
    assert!(store.set_merchant_xpub(&m.id, Family::Evm, Some("xpub-evm-2"), now()).await.expect("set"));
    assert_eq!(store.merchant_xpub(&m.id, Family::Evm).await.expect("read").as_deref(), Some("xpub-evm-2"));
    assert_eq!(store.merchant_xpub(&m.id, Family::Tron).await.expect("read").as_deref(), Some("xpub-tron"));
    let listed = store.merchant_xpubs(Family::Evm).await.expect("list");
    assert!(listed.contains(&(m.id.clone(), Some("xpub-evm-2".to_owned()))));
    assert!(listed.contains(&(other.id.clone(), None)), "merchants without a key are listed too");
    // Clearing one family leaves the other.
    assert!(store.set_merchant_xpub(&m.id, Family::Evm, None, now()).await.expect("clear"));
    assert_eq!(store.merchant_xpub(&m.id, Family::Evm).await.expect("read"), None);
    assert_eq!(store.merchant_xpub(&m.id, Family::Tron).await.expect("read").as_deref(), Some("xpub-tron"));
    let missing: payd_core::ids::MerchantId = payd_core::ids::MerchantId::new();
    assert!(!store.set_merchant_xpub(&missing, Family::Evm, Some("x"), now()).await.expect("set"));
}

async fn address_indexes_are_handed_out_once_even_concurrently(store: Store) {
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move { s.allocate_address_index("xpub-a").await.expect("allocate") }));
    }
    let mut got = BTreeSet::new();
    for t in tasks {
        assert!(got.insert(t.await.expect("join")), "an index was handed out twice");
    }
    assert_eq!(got, (0..20).collect());
    assert_eq!(store.allocate_address_index("xpub-b").await.expect("allocate"), 0, "one counter per key");
}

async fn a_deposit_address_is_recorded_once(store: Store) {
    let m = merchant(&store, "Shop").await;
    let a = NewDepositAddress {
        address: "0xabc".into(),
        family: "evm".into(),
        key_id: "k".into(),
        index: 7,
        merchant_id: m.id.clone(),
        payment_id: None,
        client_id: Some("client-1".into()),
    };
    store.insert_deposit_address(&a, now()).await.expect("insert");
    assert_eq!(store.get_deposit_address("0xabc").await.expect("get"), Some(a.clone()));
    let same_address = NewDepositAddress { index: 8, ..a.clone() };
    assert!(matches!(store.insert_deposit_address(&same_address, now()).await, Err(StoreError::Conflict(_))));
    let same_index = NewDepositAddress { address: "0xdef".into(), ..a };
    assert!(matches!(store.insert_deposit_address(&same_index, now()).await, Err(StoreError::Conflict(_))));
}

fn block(n: u64) -> BlockRef {
    BlockRef { number: n, hash: format!("0xh{n}") }
}

fn commit(expected: Option<u64>, to: u64, transfers: Vec<NewTransfer>) -> ScanCommit {
    ScanCommit {
        network: "devnet".into(),
        expected: expected.map(block),
        cursor: block(to),
        cursor_time: now(),
        blocks: (expected.map_or(0, |e| e + 1)..=to).map(block).collect(),
        transfers,
        head: to,
        finalized: None,
        confirmations: 1,
        keep_blocks: 128,
        now: now(),
    }
}

fn transfer(tx: &str, n: u64, to: &str, payment: Option<&payd_core::ids::PaymentId>) -> NewTransfer {
    NewTransfer {
        network: "devnet".into(),
        tx_hash: tx.into(),
        log_index: 0,
        token: "USDC".into(),
        from: "0xfrom".into(),
        to: to.into(),
        amount: DUE,
        block: block(n),
        block_time: now(),
        payment_id: payment.cloned(),
        note: None,
    }
}

async fn a_transfer_is_credited_once_and_a_stale_cursor_commits_nothing(store: Store) {
    let m = merchant(&store, "Shop").await;
    let p = create(&store, new_payment(&m.id, Mode::Test), now()).await;
    let t = transfer("0xt1", 1, "0xaddr", Some(&p.id));

    let change = store.commit_scan(&commit(None, 1, vec![t.clone()])).await.expect("commit");
    assert_eq!((change.recorded, change.events.len()), (1, 1));
    let after = store.get_payment(&p.id).await.expect("get").expect("payment");
    assert_eq!((after.status, after.funds.confirmed), (PaymentStatus::Completed, DUE));
    assert_eq!(store.chain_cursor("devnet").await.expect("cursor"), Some(block(1)));

    // A second scanner that read the old cursor: refused, nothing written.
    let stale = store.commit_scan(&commit(None, 1, vec![t.clone()])).await;
    assert!(matches!(stale, Err(StoreError::Conflict("chain_cursor"))), "{stale:?}");
    // The same transfer seen again by a later step: not credited twice.
    let again = store.commit_scan(&commit(Some(1), 2, vec![t])).await.expect("commit");
    assert_eq!((again.recorded, again.events.len()), (0, 0));
    let after = store.get_payment(&p.id).await.expect("get").expect("payment");
    assert_eq!(after.funds.confirmed, DUE);
    assert_eq!(store.transfers_of_payment(&p.id).await.expect("transfers").len(), 1);
    assert_eq!(store.recent_blocks("devnet", 10).await.expect("blocks"), vec![block(2), block(1), block(0)]);
}

async fn a_rollback_orphans_transfers_and_reverts_their_payment(store: Store) {
    let m = merchant(&store, "Shop").await;
    let p = create(&store, new_payment(&m.id, Mode::Test), now()).await;
    store.commit_scan(&commit(None, 0, vec![])).await.expect("commit");
    store
        .commit_scan(&commit(Some(0), 2, vec![transfer("0xt", 2, "0xa", Some(&p.id))]))
        .await
        .expect("commit");
    assert_eq!(store.get_payment(&p.id).await.expect("get").expect("p").status, PaymentStatus::Completed);

    let change =
        store.rollback_chain("devnet", &block(2), &block(1), now(), 2, None, now()).await.expect("rollback");
    assert_eq!(change.orphaned, 1);
    assert_eq!(change.events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), ["payment.reverted"]);
    let after = store.get_payment(&p.id).await.expect("get").expect("p");
    assert_eq!((after.status, after.funds.total()), (PaymentStatus::Pending, 0));
    assert_eq!(store.chain_cursor("devnet").await.expect("cursor"), Some(block(1)));
    assert_eq!(store.recent_blocks("devnet", 10).await.expect("blocks"), vec![block(1), block(0)]);
    let ts = store.transfers_of_payment(&p.id).await.expect("transfers");
    assert_eq!(ts[0].status, TransferStatus::Orphaned);

    // Re-mined in block 3 under the same key: the orphaned row is credited again.
    let remined = BlockRef { number: 3, hash: "0xnew3".into() };
    let t = NewTransfer { block: remined.clone(), ..transfer("0xt", 3, "0xa", Some(&p.id)) };
    let mut c = commit(Some(1), 3, vec![t]);
    c.cursor = remined;
    let change = store.commit_scan(&c).await.expect("commit");
    assert_eq!(change.recorded, 1);
    let ts = store.transfers_of_payment(&p.id).await.expect("transfers");
    assert_eq!((ts.len(), ts[0].status, ts[0].transfer.block.number), (1, TransferStatus::Confirmed, 3));
    assert_eq!(store.get_payment(&p.id).await.expect("get").expect("p").funds.confirmed, DUE);
}

async fn devnet_mines_its_mempool_and_reorgs_replace_blocks(store: Store) {
    assert_eq!(store.devnet_head().await.expect("head"), None);
    assert_eq!(store.devnet_produce_block("0xg", now()).await.expect("genesis"), 0);
    for (i, tx) in ["0x1", "0x2"].iter().enumerate() {
        let t = DevnetTransfer {
            tx_hash: (*tx).into(),
            token: "USDC".into(),
            from: "0xf".into(),
            to: "0xa".into(),
            amount: 1 + i as u128,
            block: None,
            log_index: None,
        };
        store.devnet_submit(&t, now()).await.expect("submit");
    }
    assert_eq!(store.devnet_produce_block("0xb1", now()).await.expect("mine"), 1);
    let mined = store.devnet_transfers(0, 1).await.expect("transfers");
    assert_eq!(
        mined.iter().map(|t| (t.log_index, t.amount)).collect::<Vec<_>>(),
        [(Some(0), 1), (Some(1), 2)]
    );
    assert_eq!(mined[0].block, Some(BlockRef { number: 1, hash: "0xb1".into() }));
    // The same number again (a second producer): refused.
    assert!(store.devnet_produce_block("0xb1", now()).await.is_ok(), "the next number is 2");

    let fork = store.devnet_reorg(&["0xr1".into(), "0xr2".into()], false, now()).await.expect("reorg");
    assert_eq!(fork, 0);
    assert_eq!(store.devnet_block(1).await.expect("block").map(|(h, _)| h), Some("0xr1".into()));
    assert_eq!(store.devnet_head().await.expect("head").map(|b| b.number), Some(2));
    assert!(store.devnet_transfers(0, 2).await.expect("transfers").is_empty(), "back in the mempool");
    store.devnet_produce_block("0xb3", now()).await.expect("mine");
    assert_eq!(store.devnet_transfers(3, 3).await.expect("transfers").len(), 2, "re-mined");
}

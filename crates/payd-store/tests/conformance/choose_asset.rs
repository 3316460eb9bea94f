//! Choosing a payment's asset after it was created (the checkout's "pay with"): the asset,
//! its FX quote and its deposit address are written in one transaction; an address is
//! derived once and kept while the customer switches within its family.

use chrono::Duration;
use payd_core::apikey::Mode;
use payd_core::payment::{AssetQuote, FxQuote, PaymentStatus, TransitionError};
use payd_store::{now, AddressPlan, Store, StoreError};
use rust_decimal::Decimal;

use crate::fixtures::{create, merchant, new_payment, pending};

conformance!(
    choosing_an_asset_writes_it_with_a_derived_address,
    switching_within_a_family_keeps_the_address_and_across_families_takes_a_new_one,
    no_asset_is_chosen_once_money_was_seen,
    a_refused_choice_takes_no_address,
    concurrent_choices_of_one_payment_all_apply_in_turn,
);

fn quote(token: &str, network: &str, due: u128) -> AssetQuote {
    AssetQuote {
        token: token.into(),
        network: network.into(),
        decimals: 6,
        amount_due: due,
        confirmations: 3,
        address: None,
    }
}

fn derive_evm(i: u64) -> Result<String, String> {
    Ok(format!("0x{:040x}", 0xe0_0000 + i))
}

fn derive_tron(i: u64) -> Result<String, String> {
    Ok(format!("T{:033}", i))
}

fn evm_plan() -> AddressPlan {
    AddressPlan { key_id: "evm-key".into(), family: "evm".into(), derive: std::sync::Arc::new(derive_evm) }
}

fn tron_plan() -> AddressPlan {
    AddressPlan { key_id: "tron-key".into(), family: "tron".into(), derive: std::sync::Arc::new(derive_tron) }
}

async fn unpriced(store: &Store) -> payd_core::payment::Payment {
    let m = merchant(store, "Shop").await;
    let mut new = new_payment(&m.id, Mode::Live);
    new.asset = None;
    create(store, new, now()).await
}

async fn choosing_an_asset_writes_it_with_a_derived_address(store: Store) {
    let p = unpriced(&store).await;
    assert_eq!(p.asset, None);
    let fx = FxQuote {
        rate: Decimal::new(108, 2),
        source: "static".into(),
        quote_currency: "USD".into(),
        quote_amount: Decimal::new(1080, 2),
    };
    let at = p.created_at + Duration::seconds(5);
    let (chosen, events) = store
        .choose_payment_asset(&p.id, Some(&evm_plan()), &mut |p| {
            p.choose_asset(quote("USDC", "base", 10_800_000), Some(fx.clone()), at)
        })
        .await
        .expect("store")
        .expect("allowed");
    assert!(events.is_empty());
    let asset = chosen.asset.clone().expect("asset");
    assert_eq!(
        (asset.token.as_str(), asset.network.as_str(), asset.amount_due),
        ("USDC", "base", 10_800_000)
    );
    assert_eq!(asset.address.as_deref(), Some("0x0000000000000000000000000000000000e00000"));
    assert_eq!(chosen.fx, Some(fx));
    assert_eq!(chosen.version, p.version + 1);
    assert_eq!(store.get_payment(&p.id).await.expect("get"), Some(chosen.clone()));
    let recorded =
        store.get_deposit_address("0x0000000000000000000000000000000000e00000").await.expect("get");
    assert_eq!(recorded.and_then(|a| a.payment_id), Some(p.id.clone()));
}

async fn switching_within_a_family_keeps_the_address_and_across_families_takes_a_new_one(store: Store) {
    let p = unpriced(&store).await;
    let at = p.created_at + Duration::seconds(5);
    let choose = |plan: AddressPlan, token: &'static str, network: &'static str| {
        let store = store.clone();
        let id = p.id.clone();
        async move {
            store
                .choose_payment_asset(&id, Some(&plan), &mut |p| {
                    p.choose_asset(quote(token, network, 1), None, at)
                })
                .await
                .expect("store")
                .expect("allowed")
                .0
        }
    };
    let first = choose(evm_plan(), "USDC", "base").await;
    let same_family = choose(evm_plan(), "USDT", "polygon").await;
    let address = |p: &payd_core::payment::Payment| p.asset.as_ref().and_then(|a| a.address.clone());
    assert_eq!(address(&same_family), address(&first));
    assert_eq!(same_family.asset.as_ref().map(|a| a.network.as_str()), Some("polygon"));
    let tron = choose(tron_plan(), "USDT", "tron").await;
    assert_eq!(address(&tron).as_deref(), Some("T000000000000000000000000000000000"));
    // Back to EVM: the EVM address it had is not of the Tron family now on the payment, so
    // the plan's next one is taken; nothing derived is ever handed out twice.
    let back = choose(evm_plan(), "USDC", "base").await;
    assert_eq!(address(&back).as_deref(), Some("0x0000000000000000000000000000000000e00001"));
    assert_eq!(back.version, p.version + 4);
}

async fn no_asset_is_chosen_once_money_was_seen(store: Store) {
    let p = unpriced(&store).await;
    let at = p.created_at + Duration::seconds(5);
    store
        .choose_payment_asset(&p.id, Some(&evm_plan()), &mut |p| {
            p.choose_asset(quote("USDC", "base", 100), None, at)
        })
        .await
        .expect("store")
        .expect("allowed");
    store
        .mutate_payment(&p.id, &mut |p| p.apply_funds(pending(5), 0, at))
        .await
        .expect("store")
        .expect("credit");
    let refused = store
        .choose_payment_asset(&p.id, Some(&evm_plan()), &mut |p| {
            p.choose_asset(quote("USDT", "base", 100), None, at)
        })
        .await
        .expect("store");
    assert_eq!(refused.map(|_| ()), Err(TransitionError::FundsReceived));
    let stored = store.get_payment(&p.id).await.expect("get").expect("payment");
    assert_eq!(stored.asset.map(|a| a.token), Some("USDC".to_owned()));
    assert_eq!(stored.status, PaymentStatus::Processing);
}

async fn a_refused_choice_takes_no_address(store: Store) {
    let p = unpriced(&store).await;
    let late = p.expires_at + Duration::seconds(1);
    let refused = store
        .choose_payment_asset(&p.id, Some(&evm_plan()), &mut |p| {
            p.choose_asset(quote("USDC", "base", 1), None, late)
        })
        .await
        .expect("store");
    assert_eq!(refused.map(|_| ()), Err(TransitionError::NotChoosable("expired")));
    // The index was not taken: the next choice derives index 0.
    let at = p.created_at + Duration::seconds(5);
    let (chosen, _) = store
        .choose_payment_asset(&p.id, Some(&evm_plan()), &mut |p| {
            p.choose_asset(quote("USDC", "base", 1), None, at)
        })
        .await
        .expect("store")
        .expect("allowed");
    assert_eq!(
        chosen.asset.and_then(|a| a.address).as_deref(),
        Some("0x0000000000000000000000000000000000e00000")
    );
    let missing = store
        .choose_payment_asset(&payd_core::ids::PaymentId::new(), None, &mut |p| {
            p.choose_asset(quote("USDC", "base", 1), None, at)
        })
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound(_))));
}

async fn concurrent_choices_of_one_payment_all_apply_in_turn(store: Store) {
    let p = unpriced(&store).await;
    let at = p.created_at + Duration::seconds(5);
    let mut tasks = Vec::new();
    for i in 0..8u128 {
        let store = store.clone();
        let id = p.id.clone();
        tasks.push(tokio::spawn(async move {
            store
                .choose_payment_asset(&id, Some(&evm_plan()), &mut |p| {
                    p.choose_asset(quote("USDC", "base", 100 + i), None, at)
                })
                .await
        }));
    }
    for t in tasks {
        t.await.expect("join").expect("store").expect("allowed");
    }
    let stored = store.get_payment(&p.id).await.expect("get").expect("payment");
    // Eight versions on top of the first, and one address derived for all of them.
    assert_eq!(stored.version, p.version + 8);
    assert_eq!(
        stored.asset.and_then(|a| a.address).as_deref(),
        Some("0x0000000000000000000000000000000000e00000")
    );
    assert_eq!(
        store.get_deposit_address("0x0000000000000000000000000000000000e00001").await.expect("get"),
        None
    );
}

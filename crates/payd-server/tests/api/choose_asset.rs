//! Choosing the asset of a payment created without one (the engine operation the checkout
//! page calls): offered pairs, the quote at the moment of choosing, the address, switching,
//! and the refusals.

use payd_core::apikey::Mode;
use payd_core::ids::PaymentId;
use payd_core::payment::TransitionError;
use payd_server::engine::payments::{choose_asset, payable_assets, ChooseError};
use payd_server::keys::KeyOwner;
use serde_json::json;

use crate::backend_tests;
use crate::devnet::{advance, create, test_pay};
use crate::helpers::{spawn_app_with, TestApp};

backend_tests!(
    a_payment_without_an_asset_is_quoted_and_addressed_when_one_is_chosen,
    the_customer_may_switch_until_money_arrives,
    only_offered_pairs_can_be_chosen,
);

async fn choose(
    app: &TestApp,
    id: &PaymentId,
    token: &str,
    network: &str,
) -> Result<payd_core::payment::Payment, ChooseError> {
    let s = &app.state;
    choose_asset(&s.store, &s.config.networks, &s.fx, id, token, network, payd_store::now()).await
}

async fn a_payment_without_an_asset_is_quoted_and_addressed_when_one_is_chosen(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let (id, p) = create(&app, &key, json!({"amount": "12.34", "currency": "USD"})).await;
    assert!(p["asset"].is_null());
    let chosen = choose(&app, &id, "usdc", "BASE").await.unwrap();
    let asset = chosen.asset.clone().unwrap();
    assert_eq!(
        (asset.token.as_str(), asset.network.as_str(), asset.amount_due),
        ("USDC", "base", 12_340_000)
    );
    assert_eq!(asset.confirmations, 12);
    let address = asset.address.clone().unwrap();
    assert!(address.starts_with("0x") && address.len() == 42, "{address}");
    // What every API shows from now on.
    let (s, shown) = app.get(&format!("/v1/payments/{id}"), &key).await;
    assert_eq!(s, 200);
    assert_eq!(shown["asset"]["address"], address.as_str());
    assert_eq!(shown["asset"]["amount_due"], "12340000");
    // And it is paid like any other payment.
    let (s, t) = test_pay(&app, &key, &id, "").await;
    assert_eq!(s, 202, "{t}");
    advance(&app, 12).await;
    assert_eq!(app.store.get_payment(&id).await.unwrap().unwrap().status.as_str(), "completed");
}

async fn the_customer_may_switch_until_money_arrives(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let (id, _) = create(&app, &key, json!({"amount": "5", "currency": "USD"})).await;
    let first = choose(&app, &id, "USDC", "base").await.unwrap();
    let polygon = choose(&app, &id, "USDT", "polygon").await.unwrap();
    let addr = |p: &payd_core::payment::Payment| p.asset.as_ref().and_then(|a| a.address.clone()).unwrap();
    // One EVM address receives on every EVM network.
    assert_eq!(addr(&polygon), addr(&first));
    assert_eq!(polygon.asset.as_ref().map(|a| a.confirmations), Some(50));
    let tron = choose(&app, &id, "USDT", "tron").await.unwrap();
    assert!(addr(&tron).starts_with('T') && addr(&tron).len() == 34, "{}", addr(&tron));
    // 18 decimals on BSC: the amount follows the token.
    let bsc = choose(&app, &id, "USDT", "bsc").await.unwrap();
    assert_eq!(bsc.asset.as_ref().map(|a| a.amount_due), Some(5_000_000_000_000_000_000));
    let (s, t) = test_pay(&app, &key, &id, r#"{"amount": "1"}"#).await;
    assert_eq!(s, 202, "{t}");
    advance(&app, 1).await;
    let refused = choose(&app, &id, "USDC", "base").await;
    assert!(matches!(refused, Err(ChooseError::Transition(TransitionError::FundsReceived))), "{refused:?}");
    let kept = app.store.get_payment(&id).await.unwrap().unwrap();
    assert_eq!(kept.asset.map(|a| a.network), Some("bsc".to_owned()));
}

async fn only_offered_pairs_can_be_chosen(app: TestApp) {
    let (m, key) = app.merchant_with_key().await;
    let (id, _) = create(&app, &key, json!({"amount": "5", "currency": "USD"})).await;
    for (token, network) in
        [("DOGE", "base"), ("USDC", "solana"), ("USDC", "devnet"), ("USDC", "mars"), ("", "")]
    {
        let r = choose(&app, &id, token, network).await;
        assert!(matches!(r, Err(ChooseError::NotOffered { .. })), "{token}/{network}: {r:?}");
    }
    let missing = choose(&app, &PaymentId::new(), "USDC", "base").await;
    assert!(matches!(missing, Err(ChooseError::NotFound)));
    // A live merchant is offered only what this payd watches and it has a key for: nothing
    // here (no network configured), so nothing can be chosen.
    let live = app.key(KeyOwner::Merchant(m.id.clone()), Mode::Live, &[]).await;
    let (lid, _) = create(&app, &live, json!({"amount": "5", "currency": "USD"})).await;
    let s = &app.state;
    assert!(payable_assets(&s.store, &s.config.networks, &m.id, Mode::Live).await.unwrap().is_empty());
    let r = choose(&app, &lid, "USDC", "base").await;
    assert!(matches!(r, Err(ChooseError::NotOffered { .. })), "{r:?}");
    // A cancelled payment cannot be given an asset.
    let (cid, _) = create(&app, &key, json!({"amount": "5", "currency": "USD"})).await;
    let (s, _) =
        crate::helpers::json(app.post_raw(&format!("/v1/payments/{cid}/cancel"), &key, "", None).await).await;
    assert_eq!(s, 200);
    let r = choose(&app, &cid, "USDC", "base").await;
    assert!(matches!(r, Err(ChooseError::Transition(TransitionError::NotChoosable("cancelled")))), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_price_is_converted_at_the_moment_of_choosing() {
    for backend in [payd_store::Backend::Sqlite, payd_store::Backend::Postgres] {
        let Some(app) = spawn_app_with(backend, &[("PAYD_FX_RATES", "EUR=1.0833")]).await else { continue };
        let (_, key) = app.merchant_with_key().await;
        let (id, _) = create(&app, &key, json!({"amount": "25.00", "currency": "EUR"})).await;
        let chosen = choose(&app, &id, "USDC", "base").await.unwrap();
        let fx = chosen.fx.clone().unwrap();
        assert_eq!((fx.quote_currency.as_str(), fx.source.as_str()), ("USD", "static"));
        assert_eq!(fx.rate.to_string(), "1.0833");
        // 25.00 EUR × 1.0833 = 27.0825 USD, rounded up to the cent (payd_core::fx).
        assert_eq!(chosen.asset.map(|a| a.amount_due), Some(27_090_000));
    }
}

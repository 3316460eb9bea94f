//! Creating and reading payments.

use std::str::FromStr;

use chrono::Duration;
use payd_core::apikey::Mode;
use payd_core::event::EventKind;
use payd_core::ids::PaymentId;
use payd_core::money::{Currency, Money};
use payd_core::payment::{
    AssetQuote, Customer, Dialect, FxQuote, LineItem, NewPayment, PaymentStatus, RedirectUrls,
};
use payd_store::{now, CreateOutcome, Store, StoreError};
use rust_decimal::Decimal;

use crate::fixtures::{build, create, merchant, new_payment, render};

conformance!(
    a_created_payment_reads_back_equal_by_id_and_by_slug,
    creating_a_payment_writes_its_created_event,
    a_duplicate_slug_conflicts_and_writes_nothing,
    a_duplicate_idempotency_key_column_conflicts,
    unknown_payments_are_none,
);

/// A JSON number beyond f64 and u64; `arbitrary_precision` must keep its text.
const BIG_NUMBER: &str = "123456789012345678901234567890.123456789";

/// A token amount beyond u64.
const HUGE_DUE: u128 = (u64::MAX as u128) * 1_000 + 7;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

/// A payment with every optional field set.
fn rich_payment(merchant: &payd_core::ids::MerchantId) -> NewPayment {
    let metadata = format!(
        r#"{{
            "order": {{"id": "A-1", "lines": [1, 2.50, {{"sku": "x\"y", "tags": ["ü", "😀"]}}], "gift": true}},
            "big": {BIG_NUMBER},
            "negative": -0.000000000000000000001,
            "exp": 1e400,
            "null": null,
            "empty": {{}}
        }}"#
    );
    NewPayment {
        merchant_id: merchant.clone(),
        mode: Mode::Live,
        dialect: Dialect::Paygentic,
        price: Money::parse("1234.50", Currency::from_code("EUR").expect("EUR")).expect("price"),
        fx: Some(FxQuote {
            rate: dec("1.0834567891234"),
            source: "ecb".into(),
            quote_currency: "USD".into(),
            quote_amount: dec("1337.56"),
        }),
        asset: Some(AssetQuote {
            token: "DAI".into(),
            network: "ethereum".into(),
            decimals: 18,
            amount_due: HUGE_DUE,
            confirmations: 12,
            address: Some("0x52908400098527886E0F7030069857D2E4169EE7".into()),
        }),
        customer: Customer {
            external_id: Some("cus_42".into()),
            email: Some("jöe@example.com".into()),
            name: Some("Joe O'Brien".into()),
        },
        reference: Some("ref-001".into()),
        external_id: Some("order-9".into()),
        invoice: Some("INV-2024-0001".into()),
        description: Some("Two \"things\"; DROP TABLE payments; --".into()),
        line_items: vec![
            LineItem { description: "Widget".into(), amount: dec("1000.00"), quantity: 1 },
            LineItem { description: "Gadget ✓".into(), amount: dec("117.25"), quantity: 2 },
        ],
        metadata: serde_json::from_str(&metadata).expect("metadata"),
        urls: RedirectUrls {
            success: Some("https://shop.example/ok?o=1&x=2".into()),
            cancel: Some("https://shop.example/cancel".into()),
            failure: Some("https://shop.example/fail".into()),
            back: Some("https://shop.example/".into()),
        },
        idempotency_key: Some("idem-rich".into()),
        client_id: Some("client-7".into()),
        product_id: Some("prod_3".into()),
        expires_at: now() + Duration::hours(2),
    }
}

async fn a_created_payment_reads_back_equal_by_id_and_by_slug(store: Store) {
    let m = merchant(&store, "Shop").await;
    let at = now();
    let p = create(&store, rich_payment(&m.id), at).await;
    assert_eq!(p.status, PaymentStatus::Pending);
    assert_eq!(p.version, 1);

    let got = store.get_payment(&p.id).await.expect("get").expect("payment exists");
    assert_eq!(got, p);
    // Field by field for the ones most likely to lose something on the way.
    assert_eq!(got.asset.as_ref().map(|a| a.amount_due), Some(HUGE_DUE));
    assert!(HUGE_DUE > u128::from(u64::MAX));
    assert_eq!(got.price.amount.to_string(), "1234.50");
    assert_eq!(got.price.currency.code(), "EUR");
    assert_eq!(got.fx, p.fx);
    assert_eq!(got.line_items, p.line_items);
    assert_eq!(got.created_at, at);
    assert_eq!(got.metadata["big"].to_string(), BIG_NUMBER);
    // serde_json itself spells this number `1e+400`; the store must keep that text.
    assert_eq!(got.metadata["exp"].to_string(), p.metadata["exp"].to_string());
    assert_eq!(got.metadata["order"]["lines"][2]["tags"][1], "😀");
    assert_eq!(
        serde_json::to_string(&got.metadata).expect("json"),
        serde_json::to_string(&p.metadata).expect("json")
    );

    let by_slug = store.get_payment_by_slug(&p.slug).await.expect("get by slug");
    assert_eq!(by_slug, Some(p.clone()));

    // A minimal payment (every optional field empty) round-trips as well.
    let (mut plain_new, at) = (new_payment(&m.id, Mode::Test), now());
    plain_new.asset = None;
    let plain = create(&store, plain_new, at).await;
    assert_eq!(store.get_payment(&plain.id).await.expect("get"), Some(plain.clone()));
    assert_eq!(store.get_payment_by_slug(&plain.slug).await.expect("get by slug"), Some(plain));
}

async fn creating_a_payment_writes_its_created_event(store: Store) {
    let m = merchant(&store, "Shop").await;
    let (p, kinds) = build(rich_payment(&m.id), now());
    assert_eq!(kinds, vec![EventKind::Created]);
    let outcome = store.create_payment(&p, &kinds, None, None, render).await.expect("create");
    let CreateOutcome::Created { response, events: written } = outcome else {
        panic!("expected Created, got {outcome:?}");
    };
    assert_eq!(response, render(&p).expect("render"));

    let events = store.list_events(&p.id).await.expect("events");
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.kind, EventKind::Created);
    assert_eq!(e.sequence, 1);
    assert_eq!(e.payment_id, p.id);
    assert_eq!(e.merchant_id, m.id);
    assert_eq!(e.mode, Mode::Live);
    assert_eq!(e.created_at, p.created_at);
    assert_eq!(e.payload, serde_json::to_value(&p).expect("payload"));
    assert_eq!(e.payload["metadata"]["big"].to_string(), BIG_NUMBER);
    assert_eq!(events, written);
}

async fn a_duplicate_slug_conflicts_and_writes_nothing(store: Store) {
    let m = merchant(&store, "Shop").await;
    let first = create(&store, new_payment(&m.id, Mode::Test), now()).await;

    let (mut second, kinds) = build(new_payment(&m.id, Mode::Test), now());
    second.slug = first.slug.clone();
    let err = store.create_payment(&second, &kinds, None, None, render).await;
    assert!(matches!(err, Err(StoreError::Conflict("payments_slug_key"))), "{err:?}");

    assert_eq!(store.get_payment(&second.id).await.expect("get"), None);
    assert_eq!(store.list_events(&second.id).await.expect("events"), vec![]);
    assert_eq!(store.get_payment_by_slug(&first.slug).await.expect("by slug"), Some(first));
}

async fn a_duplicate_idempotency_key_column_conflicts(store: Store) {
    let m = merchant(&store, "Shop").await;
    let mut new = new_payment(&m.id, Mode::Test);
    new.idempotency_key = Some("k-1".into());
    let first = create(&store, new.clone(), now()).await;

    // Written without an IdempotencyRequest, the schema's constraint still holds.
    let (second, kinds) = build(new.clone(), now());
    let err = store.create_payment(&second, &kinds, None, None, render).await;
    assert!(matches!(err, Err(StoreError::Conflict("payments_idempotency_key"))), "{err:?}");
    assert_eq!(store.get_payment(&second.id).await.expect("get"), None);
    assert_eq!(store.get_payment(&first.id).await.expect("get"), Some(first));

    // Other modes and payments without a key are not affected.
    new.mode = Mode::Live;
    create(&store, new, now()).await;
    create(&store, new_payment(&m.id, Mode::Test), now()).await;
    create(&store, new_payment(&m.id, Mode::Test), now()).await;
}

async fn unknown_payments_are_none(store: Store) {
    assert_eq!(store.get_payment(&PaymentId::new()).await.expect("get"), None);
    assert_eq!(store.get_payment_by_slug("nosuchslug").await.expect("get by slug"), None);
    assert_eq!(store.list_events(&PaymentId::new()).await.expect("events"), vec![]);
}

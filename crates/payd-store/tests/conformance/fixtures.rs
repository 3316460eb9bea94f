//! Builders shared by the scenarios.

use chrono::{DateTime, Duration, Utc};
use payd_core::apikey::Mode;
use payd_core::event::EventKind;
use payd_core::ids::MerchantId;
use payd_core::merchant::{Merchant, NewMerchant};
use payd_core::money::{Currency, Money};
use payd_core::payment::{
    generate_slug, AssetQuote, Customer, Dialect, Funds, NewPayment, Payment, RedirectUrls,
};
use payd_store::{CreateOutcome, IdempotencyRequest, Store, StoreError, StoredResponse};

/// Amount due (base units) of [`new_payment`]'s asset: 10 USDC.
pub const DUE: u128 = 10_000_000;

/// A merchant on a new account.
pub async fn merchant(store: &Store, name: &str) -> Merchant {
    let new = NewMerchant { name: name.to_owned(), ..NewMerchant::default() };
    store.create_merchant(&new, payd_store::now()).await.expect("create merchant")
}

/// A plain 10.00 USD payment in USDC on devnet, expiring in 30 minutes.
pub fn new_payment(merchant: &MerchantId, mode: Mode) -> NewPayment {
    NewPayment {
        merchant_id: merchant.clone(),
        mode,
        dialect: Dialect::Native,
        price: Money::parse("10.00", Currency::USD).expect("price"),
        fx: None,
        asset: Some(AssetQuote {
            token: "USDC".into(),
            network: "devnet".into(),
            decimals: 6,
            amount_due: DUE,
            confirmations: 1,
            address: Some("0x00000000000000000000000000000000000000d1".into()),
        }),
        customer: Customer::default(),
        reference: None,
        external_id: None,
        invoice: None,
        description: None,
        line_items: Vec::new(),
        metadata: serde_json::json!({}),
        urls: RedirectUrls::default(),
        idempotency_key: None,
        client_id: None,
        product_id: None,
        expires_at: payd_store::now() + Duration::minutes(30),
    }
}

/// `Payment::create` with a fresh slug.
pub fn build(new: NewPayment, at: DateTime<Utc>) -> (Payment, Vec<EventKind>) {
    Payment::create(new, generate_slug().expect("slug"), at)
}

/// The response saved for idempotent replays: the payment as JSON.
pub fn render(p: &Payment) -> Result<StoredResponse, StoreError> {
    let body = serde_json::to_string(p).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(StoredResponse { status: 201, body })
}

/// Writes a payment without an idempotency key and checks it was created.
pub async fn insert(store: &Store, payment: &Payment, events: &[EventKind]) {
    match store.create_payment(payment, events, None, None, render).await.expect("create payment") {
        CreateOutcome::Created { .. } => {}
        other => panic!("expected Created, got {other:?}"),
    }
}

/// Builds and writes a payment created at `at`.
pub async fn create(store: &Store, new: NewPayment, at: DateTime<Utc>) -> Payment {
    let (payment, events) = build(new, at);
    insert(store, &payment, &events).await;
    payment
}

/// An idempotency request.
pub fn idem(merchant: &MerchantId, mode: Mode, key: &str, fingerprint: &str) -> IdempotencyRequest {
    IdempotencyRequest {
        merchant_id: merchant.clone(),
        mode,
        api: payd_core::payment::Dialect::Native,
        key: key.to_owned(),
        fingerprint: fingerprint.to_owned(),
    }
}

/// Funds with only unconfirmed money.
pub fn pending(amount: u128) -> Funds {
    Funds { confirmed: 0, pending: amount, late: 0 }
}

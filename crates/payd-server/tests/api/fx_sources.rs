//! The rate sources a fresh install can use: the ECB's daily reference rates (the default)
//! and Coinbase's spot prices, each served here from a recorded answer in its real format.
//! Answers are cached; once the newest is older than the staleness limit, creates in its
//! currencies are refused in each dialect's own documented error.

use std::time::Duration;

use payd_store::Backend;
use serde_json::{json, Value};

use crate::fx_upstream::Upstream;
use crate::helpers::{code, json as read, spawn_app_with, TestApp};

crate::on_both_backends!(
    the_providers_eur_examples_price_through_the_ecb_daily_rates,
    a_stale_ecb_answer_refuses_creates_in_each_dialects_format,
    coinbase_spot_prices_are_cached_and_refused_once_too_old,
);

/// MutoPay's own non-USD example, from its Create Payment page.
const MUTOPAY_EUR: &str = r#"{"amount_original": 25.00, "currency": "EUR", "description": "Abonnement Pro"}"#;

/// Paygentic's own example request, priced in EUR (one of its four documented currencies).
fn paygentic(currency: &str) -> String {
    json!({
        "amount": "10.50",
        "currency": currency,
        "reference": "Order #12345",
        "successRedirectUrl": "https://example.com/success",
        "savePaymentMethod": false,
        "expiresIn": "P7D",
        "metadata": {"orderId": "order_12345"}
    })
    .to_string()
}

async fn post(app: &TestApp, path: &str, header: (&str, &str), body: &str) -> (u16, Value) {
    read(
        app.client
            .post(app.url(path))
            .header(header.0, header.1)
            .header("Content-Type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn mutopay(app: &TestApp, key: &str, body: &str) -> (u16, Value) {
    post(app, "/api/payments", ("X-API-Key", key), body).await
}

async fn paygentic_create(app: &TestApp, key: &str, currency: &str) -> (u16, Value) {
    post(app, "/v0/payments", ("Authorization", &format!("Bearer {key}")), &paygentic(currency)).await
}

async fn native(app: &TestApp, key: &str, amount: &str, currency: &str) -> (u16, Value) {
    let body = json!({"amount": amount, "currency": currency, "token": "USDC", "network": "base"});
    app.create_payment(key, &body).await
}

fn text(v: &Value) -> String {
    serde_json::to_string(v).unwrap()
}

async fn ecb_app(backend: Backend, upstream: &Upstream, extra: &[(&str, &str)]) -> Option<TestApp> {
    let url = format!("{}/stats/eurofxref/eurofxref-daily.xml", upstream.base);
    let mut env = vec![("PAYD_FX_PROVIDER", "ecb"), ("PAYD_FX_URL", url.as_str())];
    env.extend_from_slice(extra);
    spawn_app_with(backend, &env).await
}

async fn the_providers_eur_examples_price_through_the_ecb_daily_rates(backend: Backend) {
    let upstream = Upstream::start(&Upstream::today()).await;
    let Some(app) = ecb_app(backend, &upstream, &[]).await else { return };
    let (_, key) = app.merchant_with_key().await;

    // MutoPay: 25.00 EUR × 1.0705 (USD per EUR on the ECB's document) = 26.7625 → 26.77 USD.
    let (s, p) = mutopay(&app, &key, MUTOPAY_EUR).await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(
        (text(&p["amount_usd"]), text(&p["fx_rate"]), p["currency"].as_str()),
        ("26.77".into(), "1.0705".into(), Some("EUR"))
    );

    // Paygentic: 10.50 EUR → 11.24025 → 11.25 USD, source `ecb` kept on the payment.
    let (s, p) = paygentic_create(&app, &key, "EUR").await;
    assert_eq!((s, p["currency"].as_str(), p["amount"].as_str()), (201, Some("EUR"), Some("10.50")), "{p}");
    let stored = app.store.get_payment(&p["id"].as_str().unwrap().parse().unwrap()).await.unwrap().unwrap();
    let fx = stored.fx.unwrap();
    assert_eq!(
        (fx.rate.to_string(), fx.quote_amount.to_string(), fx.source.as_str()),
        ("1.0705".into(), "11.25".into(), "ecb")
    );

    // A cross rate through EUR, exact: 10.50 AUD × 1.0705 / 1.6079 = 6.9906… → 7.00 USD.
    let (s, p) = paygentic_create(&app, &key, "AUD").await;
    assert_eq!(s, 201, "{p}");
    let stored = app.store.get_payment(&p["id"].as_str().unwrap().parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.fx.unwrap().quote_amount.to_string(), "7.00");

    // Native, GBP: 25 × 1.0705 / 0.84638 = 31.6199… → 31.62 USD, 31.62 USDC exactly; the rate
    // shown is the quotient to 28 digits.
    let (s, p) = native(&app, &key, "25.00", "GBP").await;
    assert_eq!(s, 201, "{p}");
    assert_eq!((p["fx"]["quote_amount"].as_str(), p["fx"]["source"].as_str()), (Some("31.62"), Some("ecb")));
    assert!(p["fx"]["rate"].as_str().unwrap().starts_with("1.26479831754058460738675"), "{p}");
    assert_eq!(p["asset"]["amount_due"], "31620000");
    // JPY has no minor unit: 1000 JPY × 1.0705 / 171.94 = 6.226… → 6.23 USD.
    let (s, p) = native(&app, &key, "1000", "JPY").await;
    assert_eq!((s, p["fx"]["quote_amount"].as_str()), (201, Some("6.23")), "{p}");

    // One document priced every pair: the ECB was asked once.
    assert_eq!(upstream.hits(), 1);
    // A currency the ECB does not publish is refused, naming the source.
    let (s, e) = native(&app, &key, "10", "AED").await;
    assert_eq!((s, code(&e)), (422, "fx_unavailable"), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("`ecb` does not quote AED"), "{e}");
}

async fn a_stale_ecb_answer_refuses_creates_in_each_dialects_format(backend: Backend) {
    // Ten days old: past the ECB's default six-day limit (which covers Easter's four-day gap).
    let upstream = Upstream::start(&Upstream::days_ago(10)).await;
    let Some(app) = ecb_app(backend, &upstream, &[]).await else { return };
    let (_, key) = app.merchant_with_key().await;

    let (s, e) = native(&app, &key, "25.00", "EUR").await;
    assert_eq!((s, code(&e), e["error"]["param"].as_str()), (422, "fx_unavailable", Some("currency")), "{e}");
    let message = e["error"]["message"].as_str().unwrap();
    assert!(message.contains("older than the 6-day limit") && message.contains("`ecb`"), "{message}");

    // MutoPay documents 400 `invalid_request` for what it cannot take.
    let (s, e) = mutopay(&app, &key, MUTOPAY_EUR).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_request")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("older than the 6-day limit"), "{e}");

    // Paygentic: its documented `Error` with an UPPER_SNAKE business code.
    let (s, e) = paygentic_create(&app, &key, "EUR").await;
    assert_eq!(
        (s, e["error"].as_str(), e["code"].as_str()),
        (400, Some("bad_request"), Some("FX_UNAVAILABLE")),
        "{e}"
    );

    // USD needs no rate.
    let (s, _) = mutopay(&app, &key, r#"{"amount_usd": 25.00}"#).await;
    assert_eq!(s, 201);
    // A stale document is not asked for again on every create.
    assert_eq!(upstream.hits(), 1);

    // A larger limit, configured, accepts the same document.
    let Some(app) = ecb_app(backend, &upstream, &[("PAYD_FX_MAX_AGE_SECS", "1209600")]).await else { return };
    let (_, key) = app.merchant_with_key().await;
    let (s, p) = mutopay(&app, &key, MUTOPAY_EUR).await;
    assert_eq!((s, text(&p["amount_usd"])), (201, "26.77".into()), "{p}");
}

async fn coinbase_spot_prices_are_cached_and_refused_once_too_old(backend: Backend) {
    let upstream = Upstream::start(&Upstream::today()).await;
    let env = [
        ("PAYD_FX_PROVIDER", "coinbase"),
        ("PAYD_FX_URL", upstream.base.as_str()),
        ("PAYD_FX_TTL_SECS", "1"),
        ("PAYD_FX_MAX_AGE_SECS", "3"),
    ];
    let Some(app) = spawn_app_with(backend, &env).await else { return };
    let (_, key) = app.merchant_with_key().await;
    let fetched = std::time::Instant::now();

    // MutoPay's webhook example: 50 EUR × 1.0846 = 54.23 USD.
    let body = r#"{"amount_original": 50, "currency": "EUR"}"#;
    let (s, p) = mutopay(&app, &key, body).await;
    assert_eq!(
        (s, text(&p["amount_usd"]), text(&p["fx_rate"])),
        (201, "54.23".into(), "1.0846".into()),
        "{p}"
    );
    let (s, p) = native(&app, &key, "50", "EUR").await;
    assert_eq!((s, p["fx"]["source"].as_str()), (201, Some("coinbase")), "{p}");
    assert_eq!(upstream.hits(), 1, "the second create used the cached price");

    // The source fails: past the one-second ttl the cached price still serves (not yet three
    // seconds old), and the failed fetch is not repeated for every create.
    upstream.fail(true);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(mutopay(&app, &key, body).await.0, 201);
    assert_eq!(mutopay(&app, &key, body).await.0, 201);
    assert_eq!(upstream.hits(), 2, "one refetch, which failed");

    // Past the limit, with the source still failing: refused, in MutoPay's format.
    tokio::time::sleep(Duration::from_millis(3300).saturating_sub(fetched.elapsed())).await;
    let (s, e) = mutopay(&app, &key, body).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_request")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("older than the 3-second limit"), "{e}");

    // The source recovers: the next fetch after the retry pause prices again.
    upstream.fail(false);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(mutopay(&app, &key, body).await.0, 201);
    // A pair Coinbase does not answer is refused, not guessed.
    let (s, e) = native(&app, &key, "10", "GBP").await;
    assert_eq!((s, code(&e)), (422, "fx_unavailable"), "{e}");
}

//! Prices in other currencies: the rate and its source are captured on the payment.

use axum::extract::Query;
use axum::routing::get;
use axum::Json;
use payd_store::Backend;
use serde_json::{json, Value};

use crate::helpers::{code, spawn_app_with};

async fn eur_payment(app: &crate::helpers::TestApp) -> (u16, Value) {
    let (_, key) = app.merchant_with_key().await;
    app.create_payment(
        &key,
        &json!({"amount": "25.00", "currency": "EUR", "token": "USDC", "network": "base"}),
    )
    .await
}

#[tokio::test]
async fn a_static_rate_converts_and_rounds_up_to_the_cent() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = spawn_app_with(backend, &[("PAYD_FX_RATES", "EUR=1.0833")]).await else { continue };
        let (s, p) = eur_payment(&app).await;
        assert_eq!(s, 201, "{p}");
        assert_eq!(
            p["fx"],
            json!({"rate": "1.0833", "source": "static", "quote_currency": "USD", "quote_amount": "27.09"})
        );
        // 25 × 1.0833 = 27.0825 → 27.09 USD → 27.09 USDC exactly.
        assert_eq!(p["asset"]["amount_due"], "27090000");
        assert_eq!((p["amount"].as_str(), p["currency"].as_str()), (Some("25.00"), Some("EUR")));
        let (s, e) = app
            .create_payment(
                &app.merchant_with_key().await.1,
                &json!({"amount": "25.00", "currency": "GBP", "token": "USDC", "network": "base"}),
            )
            .await;
        assert_eq!((s, code(&e)), (422, "fx_unavailable"));
    }
}

async fn rates(Query(q): Query<std::collections::HashMap<String, String>>) -> Json<Value> {
    match (q.get("from").map(String::as_str), q.get("to").map(String::as_str)) {
        // A JSON number with more digits than a double holds: read exactly.
        (Some("EUR"), Some("USD")) => {
            Json(serde_json::from_str(r#"{"base":"EUR","rates":{"USD":1.0800000000000000001}}"#).unwrap())
        }
        _ => Json(json!({"rates": {}})),
    }
}

#[tokio::test]
async fn the_http_provider_is_used_and_its_rate_read_exactly() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(
        async move { axum::serve(listener, axum::Router::new().route("/latest", get(rates))).await },
    );
    let url = format!("http://127.0.0.1:{port}/latest?from={{from}}&to={{to}}");
    let app = spawn_app_with(Backend::Sqlite, &[("PAYD_FX_PROVIDER", "http"), ("PAYD_FX_URL", &url)])
        .await
        .unwrap();
    let (s, p) = eur_payment(&app).await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["fx"]["source"], "http");
    assert_eq!(p["fx"]["rate"], "1.0800000000000000001");
    // 25 × 1.0800000000000000001 = 27.0000000000000000025 → rounded up to 27.01.
    assert_eq!(p["fx"]["quote_amount"], "27.01");
    assert_eq!(p["asset"]["amount_due"], "27010000");
    let (_, key) = app.merchant_with_key().await;
    let (s, e) = app
        .create_payment(&key, &json!({"amount": "5", "currency": "GBP", "token": "USDC", "network": "base"}))
        .await;
    assert_eq!((s, code(&e)), (422, "fx_unavailable"));
}

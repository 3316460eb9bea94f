//! Every kind of bad input gets a 4xx with its code; none gets a 500.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::{code, json, TestApp};

backend_tests!(each_bad_input_gets_its_own_4xx_code, bad_list_queries_are_400);

async fn each_bad_input_gets_its_own_4xx_code(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let big_meta =
        json!({"amount": "1", "currency": "USD", "metadata": {"blob": "x".repeat(9000)}}).to_string();
    let big_body = json!({"amount": "1", "currency": "USD", "description": "x".repeat(70_000)}).to_string();
    let many_items: Vec<_> = (0..101).map(|_| json!({"description": "x", "amount": "1"})).collect();
    let many_items = json!({"amount": "1", "currency": "USD", "line_items": many_items}).to_string();
    let cases: Vec<(String, u16, &str)> = vec![
        ("".into(), 400, "missing_body"),
        ("{".into(), 400, "malformed_json"),
        ("[1]".into(), 400, "invalid_body"),
        (r#"{"currency":"USD"}"#.into(), 400, "missing_field"),
        (r#"{"amount":49.99,"currency":"USD"}"#.into(), 400, "invalid_type"),
        (r#"{"amount":"1","currency":"USD","colour":"red"}"#.into(), 400, "unknown_field"),
        (r#"{"amount":"1","currency":"XYZ"}"#.into(), 400, "unknown_currency"),
        (r#"{"amount":"1","currency":"usd"}"#.into(), 400, "unknown_currency"),
        (r#"{"amount":"1.001","currency":"USD"}"#.into(), 400, "amount_too_precise"),
        (r#"{"amount":"1.5","currency":"JPY"}"#.into(), 400, "amount_too_precise"),
        (r#"{"amount":"0","currency":"USD"}"#.into(), 400, "amount_not_positive"),
        (r#"{"amount":"-5","currency":"USD"}"#.into(), 400, "amount_not_positive"),
        (r#"{"amount":"1e3","currency":"USD"}"#.into(), 400, "amount_invalid"),
        (r#"{"amount":"NaN","currency":"USD"}"#.into(), 400, "amount_invalid"),
        (r#"{"amount":"99999999999","currency":"USD"}"#.into(), 400, "amount_too_large"),
        (big_meta, 400, "metadata_too_large"),
        (r#"{"amount":"1","currency":"USD","metadata":[1]}"#.into(), 400, "invalid_metadata"),
        (big_body, 413, "body_too_large"),
        (many_items, 400, "too_many_line_items"),
        (r#"{"amount":"1","currency":"USD","token":"USDC"}"#.into(), 400, "missing_field"),
        (
            r#"{"amount":"1","currency":"USD","token":"USDC","network":"mars"}"#.into(),
            422,
            "unsupported_network",
        ),
        (
            r#"{"amount":"1","currency":"USD","token":"DOGE","network":"base"}"#.into(),
            422,
            "unsupported_asset",
        ),
        (r#"{"amount":"1","currency":"EUR","token":"USDC","network":"base"}"#.into(), 422, "fx_unavailable"),
        (r#"{"amount":"1","currency":"USD","success_url":"javascript:alert(1)"}"#.into(), 400, "invalid_url"),
        (r#"{"amount":"1","currency":"USD","customer":{"email":"nope"}}"#.into(), 400, "invalid_email"),
        (r#"{"amount":"1","currency":"USD","reference":""}"#.into(), 400, "invalid_value"),
        (
            format!(r#"{{"amount":"1","currency":"USD","reference":"{}"}}"#, "r".repeat(256)),
            400,
            "value_too_long",
        ),
        (r#"{"amount":"1","currency":"USD","expires_in":10}"#.into(), 400, "invalid_expiry"),
        (r#"{"amount":"1","currency":"USD","expires_in":-1}"#.into(), 400, "invalid_value"),
        (r#"{"amount":"1","currency":"USD","expires_at":"tomorrow"}"#.into(), 400, "invalid_expiry"),
        (
            r#"{"amount":"1","currency":"USD","expires_in":600,"expires_at":"2030-01-01T00:00:00Z"}"#.into(),
            400,
            "invalid_expiry",
        ),
        (
            r#"{"amount":"1","currency":"USD","line_items":[{"description":"x","amount":"1","quantity":0}]}"#
                .into(),
            400,
            "invalid_value",
        ),
        (r#"{"amount":"1","currency":"USD","customer":{"nickname":"x"}}"#.into(), 400, "unknown_field"),
    ];
    for (body, status, want) in cases {
        let (s, e) = json(app.post_raw("/v1/payments", &key, &body, None).await).await;
        assert_eq!((s, code(&e)), (status, want), "body: {}", &body[..body.len().min(120)]);
        assert!(e["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let res = app
        .client
        .post(app.url("/v1/payments"))
        .bearer_auth(&key)
        .header("Content-Type", "text/plain")
        .body(r#"{"amount":"1","currency":"USD"}"#)
        .send()
        .await
        .unwrap();
    let (s, e) = json(res).await;
    assert_eq!((s, code(&e)), (415, "unsupported_media_type"));
}

async fn bad_list_queries_are_400(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    for q in [
        "limit=0",
        "limit=101",
        "limit=ten",
        "status=paid",
        "created_gte=yesterday",
        "starting_after=pay_x",
        "sort=asc",
    ] {
        let (s, e) = app.get(&format!("/v1/payments?{q}"), &key).await;
        assert_eq!((s, code(&e)), (400, "invalid_query"), "{q}");
    }
    let res = app.client.delete(app.url("/v1/payments")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(json(res).await.0, 405);
}

/// NUL characters (which PostgreSQL cannot store or compare) are refused as bad input, in
/// each API's own error format, on both backends alike.
async fn nul_characters_are_400_in_each_apis_format(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let (s, e) = app.get("/v1/payments?reference=a%00b", &key).await;
    assert_eq!((s, code(&e)), (400, "invalid_query"));
    let body = r#"{"amount":"1.00","currency":"USD","metadata":{"note":"a\u0000b"}}"#;
    let (s, e) = json(app.post_raw("/v1/payments", &key, body, None).await).await;
    assert_eq!((s, code(&e)), (400, "invalid_body"));

    let res = app
        .client
        .get(app.url("/v1/api/payments?search=a%00"))
        .header("X-Api-Key", &key)
        .send()
        .await
        .unwrap();
    let (s, e) = json(res).await;
    assert_eq!((s, e["error"]["code"].as_str()), (400, Some("BAD_REQUEST")), "{e}");
    let res = app.client.get(app.url("/v0/payments?customerId=%00")).bearer_auth(&key).send().await.unwrap();
    let (s, e) = json(res).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("bad_request")), "{e}");
}

backend_tests!(nul_characters_are_400_in_each_apis_format);

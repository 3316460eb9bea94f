//! `/metrics`: off without a token, the token checked, and the figures an operator watches
//! read from a running server (requests, the devnet watcher, webhook attempts and queue,
//! the database pool).

use serde_json::json;

use crate::helpers::spawn_app_with;
use crate::receiver::Receiver;
use crate::webhooks::add_endpoint;

const TOKEN: &str = "prometheus-scrape-token-1";

async fn scrape(app: &crate::helpers::TestApp, token: Option<&str>) -> (u16, String, String) {
    let mut req = app.client.get(app.url("/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, ct, res.text().await.unwrap())
}

/// The value of the sample whose line starts with `prefix` (name and labels).
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_the_operators_token() {
    for backend in [payd_store::Backend::Sqlite, payd_store::Backend::Postgres] {
        let Some(app) = spawn_app_with(backend, &[]).await else { continue };
        assert_eq!(scrape(&app, Some(TOKEN)).await.0, 404, "no token configured: no /metrics");
        let Some(app) = spawn_app_with(backend, &[("PAYD_METRICS_TOKEN", TOKEN)]).await else { continue };
        assert_eq!(scrape(&app, None).await.0, 401);
        assert_eq!(scrape(&app, Some("prometheus-scrape-token-2")).await.0, 401);
        assert_eq!(scrape(&app, Some(&TOKEN[..10])).await.0, 401);
        let (s, ct, text) = scrape(&app, Some(TOKEN)).await;
        assert_eq!(s, 200);
        assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(!text.contains(TOKEN));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_metrics_token_is_refused_at_start() {
    let db = payd_store::testing::TestDatabase::create(payd_store::Backend::Sqlite).await.unwrap().unwrap();
    let overrides =
        payd_server::config::Overrides { database_url: Some(db.url.clone()), ..Default::default() };
    let env = [("PAYD_METRICS_TOKEN".to_owned(), "short".to_owned())];
    let err = payd_server::config::Config::load_from(&overrides, &env).unwrap_err().to_string();
    assert!(err.contains("metrics token must be at least 16 characters"), "{err}");
    assert!(!err.contains("short"), "the token is not echoed: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_the_watcher_and_webhooks_are_counted() {
    for backend in [payd_store::Backend::Sqlite, payd_store::Backend::Postgres] {
        let env = [
            ("PAYD_METRICS_TOKEN", TOKEN),
            ("PAYD_DEVNET_BLOCK_MS", "50"),
            ("PAYD_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true"),
            ("PAYD_WEBHOOKS_POLL_MS", "20"),
        ];
        let Some(app) = spawn_app_with(backend, &env).await else { continue };
        let receiver = Receiver::start().await;
        let (_, key) = app.merchant_with_key().await;
        add_endpoint(&app, &key, json!({"url": receiver.url()})).await;
        for _ in 0..3 {
            let (s, p) = app
                .create_payment(
                    &key,
                    &json!({"amount": "1", "currency": "USD", "token": "USDC", "network": "base"}),
                )
                .await;
            assert_eq!(s, 201, "{p}");
        }
        let (s, _) = app.get("/v1/payments/pay_nope", &key).await;
        assert_eq!(s, 404);
        receiver.wait_for(3).await;

        let mut text = String::new();
        for _ in 0..200 {
            text = scrape(&app, Some(TOKEN)).await.2;
            let watched = sample(&text, "payd_watched_payments{network=\"devnet\"}");
            let delivered = sample(&text, "payd_webhook_attempts_total{outcome=\"delivered\"}");
            // The attempt is counted as it is made, the queue read from the database once the
            // result is recorded.
            let queue = sample(&text, "payd_webhook_queue_depth");
            if watched == Some(3.0) && delivered == Some(3.0) && queue == Some(0.0) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let created =
            "payd_http_requests_total{api=\"native\",route=\"/v1/payments\",method=\"POST\",status=\"201\"}";
        assert_eq!(sample(&text, created), Some(3.0), "{text}");
        let missing = "payd_http_requests_total{api=\"native\",route=\"/v1/payments/{id}\",method=\"GET\",status=\"404\"}";
        assert_eq!(sample(&text, missing), Some(1.0), "{text}");
        assert_eq!(sample(&text, "payd_watched_payments{network=\"devnet\"}"), Some(3.0), "{text}");
        assert!(
            sample(&text, "payd_watcher_lag_blocks{network=\"devnet\"}").is_some_and(|v| v >= 0.0),
            "{text}"
        );
        assert!(sample(&text, "payd_watcher_lag_seconds{network=\"devnet\"}").is_some(), "{text}");
        assert_eq!(sample(&text, "payd_webhook_attempts_total{outcome=\"delivered\"}"), Some(3.0), "{text}");
        assert_eq!(sample(&text, "payd_webhook_attempt_duration_seconds_count"), Some(3.0), "{text}");
        assert_eq!(sample(&text, "payd_webhook_queue_depth"), Some(0.0), "{text}");
        assert!(sample(&text, "payd_db_pool_connections").is_some_and(|v| v >= 1.0), "{text}");
        assert!(sample(
            &text,
            "payd_http_request_duration_seconds_count{api=\"native\",route=\"/v1/payments\"}"
        )
        .is_some_and(|v| v >= 3.0));
        // Ids never become labels: one series per route template.
        assert!(!text.contains("pay_nope"));
    }
}

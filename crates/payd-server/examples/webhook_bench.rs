//! Webhook delivery throughput: N events queued for one endpoint (a local receiver on
//! 127.0.0.1 answering 200), then the dispatcher started and timed until the receiver has
//! them all and the store marks every delivery delivered. Once on SQLite, once on
//! PostgreSQL (at PAYD_TEST_POSTGRES_URL). The floor: the same number of POSTs of a
//! 1.5 KB JSON body to the same kind of receiver, at the same concurrency, from a plain
//! reqwest client (no database, no signing). Run through `bash bench/webhooks/run.sh`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use payd_core::apikey::Mode;
use payd_core::crypto::MasterKey;
use payd_core::merchant::NewMerchant;
use payd_core::webhook::{DeliveryStatus, WebhookFormat};
use payd_server::app::Application;
use payd_server::config::{Config, Overrides};
use payd_server::engine::webhooks::endpoints::{create, NewEndpoint};
use payd_server::engine::webhooks::targets::{Policy, Target};
use payd_server::keys::{issue_key, KeyOwner};
use payd_server::workers::webhooks::Dispatcher;
use payd_store::testing::TestDatabase;
use payd_store::webhooks::DeliveryFilter;
use payd_store::{Backend, Store};
use tokio_util::sync::CancellationToken;

const MASTER_KEY: &str = "0202020202020202020202020202020202020202020202020202020202020202";

fn config(db: &TestDatabase, env: &[(&str, &str)]) -> Config {
    let mut vars: Vec<(String, String)> = vec![
        ("PAYD_MASTER_KEY".into(), MASTER_KEY.into()),
        ("PAYD_BOOTSTRAP_DEMO".into(), "false".into()),
        ("PAYD_DEVNET_BLOCK_MS".into(), "0".into()),
        ("PAYD_RATE_LIMITS".into(), "native=1000000".into()),
        ("PAYD_DATABASE_MAX_CONNECTIONS".into(), "20".into()),
    ];
    vars.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let overrides = Overrides {
        database_url: Some(db.url.clone()),
        listen: Some("127.0.0.1:0".into()),
        ..Overrides::default()
    };
    Config::load_from(&overrides, &vars).expect("config")
}

/// A receiver that counts requests.
async fn receiver() -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&count);
    let app = axum::Router::new().fallback(move || {
        let c = Arc::clone(&c);
        async move {
            c.fetch_add(1, Ordering::SeqCst);
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://127.0.0.1:{}/hooks", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, count)
}

async fn delivered(store: &Store, m: &payd_core::ids::MerchantId) -> usize {
    let mut f = DeliveryFilter {
        merchant_id: m.clone(),
        mode: Mode::Test,
        endpoint_id: None,
        event_id: None,
        payment_id: None,
        status: Some(DeliveryStatus::Delivered),
        before: None,
        limit: 100,
    };
    let mut n = 0;
    loop {
        let page = store.list_webhook_deliveries(&f).await.unwrap();
        n += page.len();
        match page.last() {
            Some(last) if page.len() == 100 => f.before = Some(last.id.clone()),
            _ => return n,
        }
    }
}

/// Queues `events` deliveries, then times the dispatcher. `(milliseconds, deliveries)`.
async fn run(backend: Backend, events: usize, concurrency: usize) -> Option<(u128, usize)> {
    let db = TestDatabase::create(backend).await.expect("database")?;
    // Phase 1: the server without a dispatcher; payments created through the API queue one
    // delivery each (payment.created).
    let app = Application::build(config(&db, &[("PAYD_WEBHOOKS_CONCURRENCY", "0")])).await.expect("app");
    let base = format!("http://127.0.0.1:{}", app.port());
    let store = app.state().store.clone();
    let master = MasterKey::parse(MASTER_KEY).unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(async move {
        let _ = rx.await;
    }));
    let m = store
        .create_merchant(&NewMerchant { name: "Bench".into(), ..Default::default() }, payd_store::now())
        .await
        .unwrap();
    let key = issue_key(&store, &master, KeyOwner::Merchant(m.id.clone()), Mode::Test, vec![]).await.unwrap();
    let key = key.secret.expose().to_owned();
    let (url, count) = receiver().await;
    let new = NewEndpoint {
        merchant_id: m.id.clone(),
        mode: Mode::Test,
        url: Target::check(&url, Policy { allow_private: true, require_https: false }).unwrap(),
        description: None,
        events: vec![payd_core::event::EventKind::Created],
        format: WebhookFormat::Native,
        enabled: true,
    };
    create(&store, &master, new, 1000, payd_store::now()).await.unwrap();
    let client = reqwest::Client::new();
    futures::stream::iter(0..events)
        .map(|_| {
            let req = client
                .post(format!("{base}/v1/payments"))
                .bearer_auth(&key)
                .header("Content-Type", "application/json")
                .body(r#"{"amount": "1", "currency": "USD"}"#)
                .send();
            async move { assert_eq!(req.await.unwrap().status(), 201) }
        })
        .buffer_unordered(8)
        .collect::<Vec<()>>()
        .await;

    // Phase 2: the dispatcher alone, timed.
    let mut cfg =
        config(&db, &[("PAYD_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true"), ("PAYD_WEBHOOKS_POLL_MS", "10")]);
    cfg.webhooks.concurrency = concurrency;
    let dispatcher = Dispatcher::new(store.clone(), Arc::new(master), cfg.webhooks, base).unwrap();
    let cancel = CancellationToken::new();
    let started = Instant::now();
    let task = tokio::spawn(dispatcher.run(cancel.clone()));
    let bound = Instant::now() + Duration::from_secs(600);
    while count.load(Ordering::SeqCst) < events {
        assert!(Instant::now() < bound, "the benchmark did not finish");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    while delivered(&store, &m.id).await < events {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ms = started.elapsed().as_millis();
    cancel.cancel();
    task.await.unwrap();
    let _ = tx.send(());
    server.await.unwrap().unwrap();
    Some((ms, count.load(Ordering::SeqCst)))
}

/// The floor: `events` POSTs of a 1.5 KB JSON body to a fresh receiver, `concurrency` in flight. `(milliseconds, received)`.
async fn floor(events: usize, concurrency: usize) -> (u128, usize) {
    let (url, count) = receiver().await;
    let client = reqwest::Client::new();
    let body = format!(r#"{{"type":"payment.created","data":"{}"}}"#, "x".repeat(1500));
    let started = Instant::now();
    futures::stream::iter(0..events)
        .map(|_| {
            let req = client.post(&url).header("Content-Type", "application/json").body(body.clone()).send();
            async move { assert!(req.await.unwrap().status().is_success()) }
        })
        .buffer_unordered(concurrency.max(1))
        .collect::<Vec<()>>()
        .await;
    (started.elapsed().as_millis(), count.load(Ordering::SeqCst))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let events: usize = args.next().map_or(2000, |a| a.parse().expect("EVENTS is a number"));
    let concurrency: usize = args.next().map_or(16, |a| a.parse().expect("CONCURRENCY is a number"));
    let profile = if cfg!(debug_assertions) { "dev profile" } else { "release profile" };
    println!(
        "payd webhook delivery: {events} events to one local endpoint, {concurrency} in flight, {profile}, {} cores",
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    for backend in [Backend::Sqlite, Backend::Postgres] {
        match run(backend, events, concurrency).await {
            Some((ms, received)) => {
                let per_sec = u128::try_from(received).unwrap_or(0) * 1000 / ms.max(1);
                println!("{backend:?}: {received} delivered in {ms} ms = {per_sec} deliveries/s");
            }
            None => println!("{backend:?}: skipped (PostgreSQL not reachable)"),
        }
    }
    let (ms, received) = floor(events, concurrency).await;
    let per_sec = u128::try_from(received).unwrap_or(0) * 1000 / ms.max(1);
    println!("floor: {received} plain POSTs in {ms} ms = {per_sec} requests/s");
    println!("reproduce: bash bench/webhooks/run.sh {events} {concurrency}");
}

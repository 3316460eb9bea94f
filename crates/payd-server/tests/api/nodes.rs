//! The production shape: three `payd serve` processes on one PostgreSQL database watching one
//! chain (anvil), creates spread across them, and the node holding the chain lease SIGKILLed
//! mid-run. Every payment is created once (an idempotent retry on another node included),
//! every transfer credited once, every webhook delivered at least once and never by two
//! nodes at the same time, and the dead node's watcher lease taken over within its lifetime.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use payd_core::apikey::Mode;
use payd_core::crypto::MasterKey;
use payd_core::ids::PaymentId;
use payd_core::merchant::NewMerchant;
use payd_core::registry::Family;
use payd_server::keys::{issue_key, KeyOwner};
use payd_store::testing::TestDatabase;
use payd_store::{Backend, Store};
use serde_json::{json, Value};

use crate::anvil::Anvil;
use crate::evm::{eventually, networks_json, NETWORK, XPUB};
use crate::evm_faults::{spawn_payd_with, Payd};
use crate::helpers::MASTER_KEY;

const LEASE_SECS: u64 = 3;
const PAYMENTS: usize = 24;

/// A `payd serve` process of the cluster, killed (SIGKILL) on drop.
struct Node {
    name: String,
    url: String,
    _process: Payd,
}

impl Node {
    fn start(name: &str, db: &str, networks: &str) -> Node {
        let lease = LEASE_SECS.to_string();
        let process = spawn_payd_with(
            db,
            networks,
            &[
                ("PAYD_NODE_ID", name),
                ("PAYD_CHAIN_LEASE_SECS", &lease),
                ("PAYD_FX_PROVIDER", "static"),
                ("PAYD_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true"),
                ("PAYD_WEBHOOKS_POLL_MS", "20"),
                ("PAYD_WEBHOOKS_TIMEOUT_SECS", "2"),
                ("PAYD_WEBHOOKS_RETRY_SCHEDULE", "100ms,100ms,100ms,100ms,100ms"),
            ],
        );
        Node { name: name.to_owned(), url: format!("http://127.0.0.1:{}", process.port), _process: process }
    }
}

/// A merchant's endpoint that records every delivery by its `webhook-id` and notices when two
/// requests for one delivery are in flight at once (each answer is held back a little, so
/// an overlap cannot slip between them).
#[derive(Default)]
struct Hooks {
    in_flight: Mutex<BTreeMap<String, u32>>,
    overlaps: Mutex<Vec<String>>,
    delivered: Mutex<BTreeMap<String, Value>>,
}

async fn hook(
    axum::extract::State(h): axum::extract::State<Arc<Hooks>>,
    headers: HeaderMap,
    body: String,
) -> &'static str {
    let id = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    {
        let mut f = h.in_flight.lock().unwrap();
        let n = f.entry(id.clone()).or_default();
        if *n > 0 {
            h.overlaps.lock().unwrap().push(id.clone());
        }
        *n += 1;
    }
    // Leaves the count when the request ends, however it ends: a sender killed mid-request
    // drops the connection, and with it this handler.
    struct Leave(Arc<Hooks>, String);
    impl Drop for Leave {
        fn drop(&mut self) {
            if let Some(n) = self.0.in_flight.lock().unwrap().get_mut(&self.1) {
                *n -= 1;
            }
        }
    }
    let leave = Leave(Arc::clone(&h), id.clone());
    tokio::time::sleep(Duration::from_millis(150)).await;
    drop(leave);
    h.delivered.lock().unwrap().insert(id, serde_json::from_str(&body).unwrap_or(Value::Null));
    "ok"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_on_one_database_survive_losing_the_watcher() {
    let Some(db) = TestDatabase::create(Backend::Postgres).await.expect("test database") else { return };
    let Some(anvil) = Anvil::start(&[]).await else { return };
    let usdc = anvil.deploy_token("USDC", 6).await;
    let usdt = anvil.deploy_token("USDT", 18).await;
    let networks = networks_json(&anvil.url, &usdc, &usdt, 3);

    // The merchant, its xpub and a live key, written before the nodes start (their
    // migrations run on an already migrated database: a no-op).
    let store = Store::connect(&db.url, &payd_store::ConnectOptions::default()).await.expect("connect");
    store.migrate().await.expect("migrate");
    let m = store
        .create_merchant(&NewMerchant { name: "Shop".into(), ..Default::default() }, payd_store::now())
        .await
        .unwrap();
    store.set_merchant_xpub(&m.id, Family::Evm, Some(XPUB), payd_store::now()).await.unwrap();
    let master = MasterKey::parse(MASTER_KEY).unwrap();
    let key =
        issue_key(&store, &master, KeyOwner::Merchant(m.id.clone()), Mode::Live, Vec::new()).await.unwrap();
    let key = key.secret.expose().to_owned();

    let hooks = Arc::new(Hooks::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://127.0.0.1:{}/hooks", listener.local_addr().unwrap().port());
    let router = axum::Router::new().fallback(hook).with_state(Arc::clone(&hooks));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    // Each node has printed its port when started, so it is serving.
    let mut nodes: Vec<Node> =
        (1..=3).map(|i| Node::start(&format!("node-{i}"), &db.url, &networks)).collect();
    let client = reqwest::Client::new();
    let (s, e) =
        post(&client, &key, format!("{}/v1/webhook_endpoints", nodes[0].url), json!({"url": hook_url}), None)
            .await;
    assert_eq!(s, 201, "{e}");

    // Creates spread over the three nodes, concurrently; each retried once on the next node
    // with the same Idempotency-Key, which must answer the same payment.
    let mut tasks = Vec::new();
    for i in 0..PAYMENTS {
        let body = json!({"amount": format!("{}.{:02}", 1 + i, i), "currency": "USD", "token": "USDC", "network": NETWORK});
        let first = format!("{}/v1/payments", nodes[i % 3].url);
        let retry = format!("{}/v1/payments", nodes[(i + 1) % 3].url);
        let idem = format!("order-{i}");
        let (client, key) = (client.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let (s, p) = post(&client, &key, first, body.clone(), Some(idem.clone())).await;
            assert_eq!(s, 201, "{p}");
            let (s2, again) = post(&client, &key, retry, body, Some(idem)).await;
            assert!(s2 == 201 || s2 == 200, "{again}");
            assert_eq!(again["id"], p["id"], "an idempotent retry on another node answers the same payment");
            p
        }));
    }
    let mut created = Vec::new();
    for t in tasks {
        created.push(t.await.unwrap());
    }
    let addresses: BTreeSet<&str> = created.iter().map(|p| p["asset"]["address"].as_str().unwrap()).collect();
    assert_eq!(addresses.len(), PAYMENTS, "every payment has its own address");

    // Pay the first half, then kill the node that holds the watcher's lease.
    let pay = |p: &Value| {
        let to = p["asset"]["address"].as_str().unwrap().to_owned();
        let amount: u128 = p["asset"]["amount_due"].as_str().unwrap().parse().unwrap();
        (to, amount)
    };
    for p in &created[..PAYMENTS / 2] {
        let (to, amount) = pay(p);
        anvil.transfer(&usdc, &to, amount).await;
    }
    let holder = lease_holder(&store).await;
    let victim = nodes.iter().position(|n| n.name == holder).expect("a node holds the lease");
    let killed_at = Instant::now();
    drop(nodes.remove(victim));
    eventually("another node takes the lease", || async { lease_holder(&store).await != holder }).await;
    let takeover = killed_at.elapsed();
    eprintln!("{holder} killed; its lease was taken over after {takeover:?}");
    assert!(
        takeover <= Duration::from_secs(LEASE_SECS + 3),
        "the lease was taken over after {takeover:?}, beyond its {LEASE_SECS} s lifetime and a poll"
    );

    for p in &created[PAYMENTS / 2..] {
        let (to, amount) = pay(p);
        anvil.transfer(&usdc, &to, amount).await;
    }
    anvil.mine(5).await;

    let ids: Vec<PaymentId> = created.iter().map(|p| p["id"].as_str().unwrap().parse().unwrap()).collect();
    for id in &ids {
        eventually(&format!("{id} completes"), || async {
            store.get_payment(id).await.unwrap().is_some_and(|p| p.status.as_str() == "completed")
        })
        .await;
    }
    // Credited once each: one transfer per payment, funds exactly the amount.
    for (id, p) in ids.iter().zip(&created) {
        let transfers = store.transfers_of_payment(id).await.unwrap();
        assert_eq!(transfers.len(), 1, "{id}: {transfers:?}");
        let payment = store.get_payment(id).await.unwrap().unwrap();
        assert_eq!(payment.funds.confirmed.to_string(), p["asset"]["amount_due"].as_str().unwrap());
        assert!(!payment.overpaid);
    }
    let listed = store
        .list_payments(&payd_store::PaymentFilter {
            limit: 1000,
            ..payd_store::PaymentFilter::new(vec![m.id.clone()], Mode::Live)
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), PAYMENTS, "each payment was created once");

    // Every event of every payment reaches the endpoint (created and completed for each;
    // processing when a scan saw the transfer short of its depth), and no delivery was ever
    // in flight from two nodes at once. A delivery the dead node had claimed goes out again
    // once its claim lapses.
    let mut events = BTreeMap::new();
    for id in &ids {
        let kinds: Vec<_> = store.list_events(id).await.unwrap();
        assert_eq!(kinds.iter().filter(|e| e.kind.as_str() == "payment.completed").count(), 1);
        for e in kinds {
            events.insert(e.id.to_string(), (id.to_string(), e.kind.as_str()));
        }
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while hooks.delivered.lock().unwrap().len() < events.len() {
        if Instant::now() >= deadline {
            let got = hooks.delivered.lock().unwrap().len();
            panic!(
                "only {got} of {} deliveries arrived; not delivered: {}",
                events.len(),
                delivery_summary(&store).await
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let delivered = hooks.delivered.lock().unwrap().clone();
    for (event, (payment, kind)) in &events {
        let body = delivered.get(event).unwrap_or_else(|| panic!("{kind} of {payment} was not delivered"));
        assert_eq!(
            (body["type"].as_str(), body["data"]["id"].as_str()),
            (Some(*kind), Some(payment.as_str()))
        );
    }
    assert_eq!(delivered.len(), events.len(), "nothing but these events was delivered");
    assert!(
        hooks.overlaps.lock().unwrap().is_empty(),
        "deliveries in flight twice at once: {:?}",
        hooks.overlaps.lock().unwrap()
    );

    // Every surviving node has the key cached by now (it authenticated creates above). A key
    // revoked elsewhere (here: by another process on the database) is refused by each of them
    // soon after, without a restart: the database's notification empties their caches.
    let key_id =
        store.find_api_key_by_hash(&payd_core::apikey::hash_key_secret(&key)).await.unwrap().unwrap().id;
    for node in &nodes {
        let res = client.get(format!("{}/v1/payments", node.url)).bearer_auth(&key).send().await.unwrap();
        assert_eq!(res.status(), 200, "{}", node.name);
    }
    assert!(store.revoke_api_key(&key_id, payd_store::now()).await.unwrap());
    for node in &nodes {
        eventually(&format!("{} refuses the revoked key", node.name), || async {
            let res = client.get(format!("{}/v1/payments", node.url)).bearer_auth(&key).send().await.unwrap();
            res.status() == 401
        })
        .await;
    }
    drop(nodes);
}

async fn post(
    client: &reqwest::Client,
    key: &str,
    url: String,
    body: Value,
    idem: Option<String>,
) -> (u16, Value) {
    let mut req = client.post(url).bearer_auth(key).json(&body);
    if let Some(k) = idem {
        req = req.header("Idempotency-Key", k);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json::<Value>().await.unwrap())
}

/// Each undelivered delivery's status, attempts and last error, for a failure message.
async fn delivery_summary(store: &Store) -> String {
    let Store::Postgres(pool, _) = store else { return String::new() };
    type Row = (String, String, i64, Option<i64>, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT d.event_name, d.status, d.attempts, d.next_attempt_at, (SELECT a.error FROM webhook_attempts a \
         WHERE a.delivery_id = d.id ORDER BY a.id DESC LIMIT 1) FROM webhook_deliveries d \
         WHERE d.status <> 'delivered'",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_default();
    let total: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries").fetch_one(pool).await.unwrap_or(-1);
    format!("{total} deliveries in all; {rows:?}")
}

async fn lease_holder(store: &Store) -> String {
    match store {
        Store::Postgres(pool, _) => sqlx::query_scalar::<_, String>(
            "SELECT holder FROM chain_leases WHERE network = $1 AND expires_at > $2",
        )
        .bind(NETWORK)
        .bind(payd_store::now().timestamp_millis())
        .fetch_optional(pool)
        .await
        .unwrap()
        .unwrap_or_default(),
        Store::Sqlite(..) => unreachable!("PostgreSQL only"),
    }
}

//! EVM end to end against a real anvil: live payments on a configured network get an
//! address derived from the merchant's xpub, real ERC-20 transfers are found by the server's
//! own watcher worker (JSON-RPC, leases, confirmations) and credited through the same engine
//! as devnet: exact, partial, over and late payments, lapsed addresses, fake tokens, reorgs.
//! Tests poll for eventual states with generous deadlines; nothing asserts on timing.

use std::future::Future;
use std::time::Duration;

use payd_core::apikey::Mode;
use payd_core::ids::PaymentId;
use payd_core::payment::Payment;
use payd_core::registry::Family;
use payd_server::keys::KeyOwner;
use payd_store::Backend;
use serde_json::{json, Value};

use crate::anvil::Anvil;
use crate::helpers::{code, spawn_app_with, TestApp};

/// An account-level xpub (BIP-32 test vector 1, m/0H): any valid xpub derives addresses.
pub const XPUB: &str = "xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw";
pub const NETWORK: &str = "anvil";
pub const CONFIRMATIONS: u32 = 3;

/// Runs each test on SQLite and PostgreSQL, each with its own anvil.
macro_rules! evm_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(env) = super::EvmEnv::start(payd_store::Backend::Sqlite).await {
                    super::$name(env).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(env) = super::EvmEnv::start(payd_store::Backend::Postgres).await {
                    super::$name(env).await;
                }
            }
        }
    )*};
}

evm_tests!(
    an_exact_erc20_payment_completes_only_at_the_confirmation_depth,
    live_payments_need_the_merchants_xpub,
    two_partial_erc20_payments_add_up_to_completed,
    an_erc20_overpayment_completes_with_the_flag,
    an_erc20_payment_after_expiry_flags_paid_late,
    transfers_to_lapsed_addresses_are_unattributed_and_strangers_ignored,
    a_fake_token_with_the_same_symbol_is_ignored,
    a_depth_1_reorg_reverts_and_the_remined_transfer_is_credited_once,
    a_depth_3_reorg_takes_a_completed_payment_back,
    a_client_keeps_one_deposit_address_across_payments,
);

/// anvil with USDC (6 decimals) and USDT (18 decimals) deployed, and payd watching it.
pub struct EvmEnv {
    pub app: TestApp,
    pub anvil: Anvil,
    pub usdc: String,
    pub usdt: String,
    pub key: String,
}

pub fn networks_json(rpc_url: &str, usdc: &str, usdt: &str, confirmations: u32) -> String {
    json!([{
        "name": NETWORK, "chain_id": 31337, "rpc_url": rpc_url, "confirmations": confirmations,
        "block_range": 20, "poll_interval_ms": 100, "start_block": 0,
        "tokens": [
            {"symbol": "USDC", "contract": usdc, "decimals": 6},
            {"symbol": "USDT", "contract": usdt, "decimals": 18}
        ]
    }])
    .to_string()
}

impl EvmEnv {
    pub async fn start(backend: Backend) -> Option<EvmEnv> {
        Self::start_with(backend, &[]).await
    }

    pub async fn start_with(backend: Backend, extra_env: &[(&str, &str)]) -> Option<EvmEnv> {
        let anvil = Anvil::start(&[]).await?;
        let usdc = anvil.deploy_token("USDC", 6).await;
        let usdt = anvil.deploy_token("USDT", 18).await;
        let networks = networks_json(&anvil.url, &usdc, &usdt, CONFIRMATIONS);
        Self::start_on_with(backend, anvil, usdc, usdt, &networks, extra_env).await
    }

    /// payd on an anvil already running, with these networks.
    pub async fn start_on(
        backend: Backend,
        anvil: Anvil,
        usdc: String,
        usdt: String,
        networks: &str,
    ) -> Option<EvmEnv> {
        Self::start_on_with(backend, anvil, usdc, usdt, networks, &[]).await
    }

    async fn start_on_with(
        backend: Backend,
        anvil: Anvil,
        usdc: String,
        usdt: String,
        networks: &str,
        extra_env: &[(&str, &str)],
    ) -> Option<EvmEnv> {
        let mut env = vec![("PAYD_NETWORKS", networks), ("PAYD_CHAIN_LEASE_SECS", "5")];
        env.extend_from_slice(extra_env);
        let app = spawn_app_with(backend, &env).await?;
        let m = app.merchant("Shop").await;
        app.store.set_merchant_xpub(&m.id, Family::Evm, Some(XPUB), payd_store::now()).await.unwrap();
        let key = app.key(KeyOwner::Merchant(m.id.clone()), Mode::Live, &[]).await;
        Some(EvmEnv { app, anvil, usdc, usdt, key })
    }

    pub async fn create(&self, body: Value) -> (PaymentId, Value) {
        let (s, p) = self.app.create_payment(&self.key, &body).await;
        assert_eq!(s, 201, "{p}");
        (p["id"].as_str().unwrap().parse().unwrap(), p)
    }

    pub async fn payment(&self, id: &PaymentId) -> Payment {
        self.app.store.get_payment(id).await.unwrap().unwrap()
    }

    pub async fn kinds(&self, id: &PaymentId) -> Vec<&'static str> {
        self.app.store.list_events(id).await.unwrap().iter().map(|e| e.kind.as_str()).collect()
    }

    /// Waits until the watcher has processed the chain up to its current head.
    pub async fn synced(&self) {
        let head = self.anvil.head().await;
        eventually("the watcher reaches the head", || async {
            self.app.store.chain_cursor(NETWORK).await.unwrap().is_some_and(|c| c.number >= head)
        })
        .await;
    }

    /// Waits until the payment has `status`.
    pub async fn status_becomes(&self, id: &PaymentId, status: &str) -> Payment {
        eventually(&format!("payment becomes {status}"), || async {
            self.payment(id).await.status.as_str() == status
        })
        .await;
        self.payment(id).await
    }
}

/// Polls `check` until it holds; fails after a generous deadline (a hang, not a slow run).
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn usdc(amount: &str) -> Value {
    json!({"amount": amount, "currency": "USD", "token": "USDC", "network": NETWORK})
}

pub fn address(p: &Value) -> String {
    p["asset"]["address"].as_str().unwrap_or_else(|| panic!("no address in {p}")).to_owned()
}

async fn an_exact_erc20_payment_completes_only_at_the_confirmation_depth(env: EvmEnv) {
    let (id, p) = env.create(usdc("12.34")).await;
    assert_eq!(p["asset"]["confirmations_required"], CONFIRMATIONS);
    assert_eq!(p["asset"]["network"], NETWORK);
    let to = address(&p);
    let row = env.app.store.get_deposit_address(&to).await.unwrap().unwrap();
    assert_eq!(row.family, "evm");

    let tx = env.anvil.transfer(&env.usdc, &to, 12_340_000).await;
    // Mined: one confirmation, processing.
    let p = env.status_becomes(&id, "processing").await;
    assert_eq!((p.funds.pending, p.funds.confirmed), (12_340_000, 0));
    // Two confirmations: still processing.
    env.anvil.mine(1).await;
    env.synced().await;
    assert_eq!(env.payment(&id).await.status.as_str(), "processing");
    // The third completes it.
    env.anvil.mine(1).await;
    let p = env.status_becomes(&id, "completed").await;
    assert_eq!((p.funds.confirmed, p.underpaid, p.overpaid), (12_340_000, false, false));
    assert_eq!(env.kinds(&id).await, ["payment.created", "payment.processing", "payment.completed"]);
    let transfers = env.app.store.transfers_of_payment(&id).await.unwrap();
    assert_eq!(transfers.len(), 1);
    assert_eq!(transfers[0].transfer.tx_hash, tx);
    assert_eq!(transfers[0].transfer.token, env.usdc.to_ascii_lowercase());

    // The API shows it.
    let (s, got) = env.app.get(&format!("/v1/payments/{id}"), &env.key).await;
    assert_eq!((s, got["status"].as_str()), (200, Some("completed")), "{got}");
}

async fn live_payments_need_the_merchants_xpub(env: EvmEnv) {
    let m = env.app.merchant("No xpub").await;
    let key = env.app.key(KeyOwner::Merchant(m.id.clone()), Mode::Live, &[]).await;
    let (s, e) = env.app.create_payment(&key, &usdc("5")).await;
    assert_eq!((s, code(&e)), (400, "network_not_enabled"), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("xpub"), "{e}");
    // Two payments of the configured merchant never share an address.
    let (_, a) = env.create(usdc("1")).await;
    let (bid, b) =
        env.create(json!({"amount": "1", "currency": "USD", "token": "USDT", "network": NETWORK})).await;
    assert_ne!(address(&a), address(&b));
    // USDT here has 18 decimals: the amount due is in its own base units.
    assert_eq!(b["asset"]["amount_due"], "1000000000000000000", "{b}");
    env.anvil.transfer(&env.usdt, &address(&b), 1_000_000_000_000_000_000).await;
    env.anvil.mine(u64::from(CONFIRMATIONS)).await;
    let p = env.status_becomes(&bid, "completed").await;
    assert_eq!(p.funds.confirmed, 1_000_000_000_000_000_000);
}

async fn two_partial_erc20_payments_add_up_to_completed(env: EvmEnv) {
    let (id, p) = env.create(usdc("10")).await;
    let to = address(&p);
    env.anvil.transfer(&env.usdc, &to, 4_000_000).await;
    env.anvil.mine(u64::from(CONFIRMATIONS)).await;
    env.synced().await;
    let p = env.payment(&id).await;
    assert_eq!((p.status.as_str(), p.underpaid, p.funds.confirmed), ("processing", true, 4_000_000));
    env.anvil.transfer(&env.usdc, &to, 6_000_000).await;
    env.anvil.mine(u64::from(CONFIRMATIONS)).await;
    let p = env.status_becomes(&id, "completed").await;
    assert_eq!((p.underpaid, p.overpaid, p.funds.confirmed), (false, false, 10_000_000));
    assert_eq!(env.app.store.transfers_of_payment(&id).await.unwrap().len(), 2);
}

async fn an_erc20_overpayment_completes_with_the_flag(env: EvmEnv) {
    let (id, p) = env.create(usdc("10")).await;
    env.anvil.transfer(&env.usdc, &address(&p), 15_000_000).await;
    env.anvil.mine(u64::from(CONFIRMATIONS)).await;
    let p = env.status_becomes(&id, "completed").await;
    assert_eq!((p.overpaid, p.underpaid, p.funds.confirmed), (true, false, 15_000_000));
}

async fn an_erc20_payment_after_expiry_flags_paid_late(env: EvmEnv) {
    let mut body = usdc("10");
    body["expires_in"] = json!(60);
    let (id, p) = env.create(body).await;
    let later = payd_store::now() + chrono::Duration::minutes(2);
    payd_server::engine::expire_due(&env.app.store, later).await.unwrap();
    assert_eq!(env.payment(&id).await.status.as_str(), "pending", "the chain has not passed the expiry");
    // Two minutes pass on the chain: the sweeper may expire it once the watcher has seen that.
    env.anvil.increase_time(120).await;
    env.anvil.mine(1).await;
    env.synced().await;
    payd_server::engine::expire_due(&env.app.store, later).await.unwrap();
    assert_eq!(env.payment(&id).await.status.as_str(), "expired");
    env.anvil.transfer(&env.usdc, &address(&p), 10_000_000).await;
    env.anvil.mine(u64::from(CONFIRMATIONS)).await;
    eventually("the late money is confirmed", || async {
        let p = env.payment(&id).await;
        p.paid_late && p.funds.confirmed == 10_000_000
    })
    .await;
    assert_eq!(env.payment(&id).await.status.as_str(), "expired");
    let k = env.kinds(&id).await;
    assert_eq!(k, ["payment.created", "payment.expired", "payment.paid_late"]);
}

async fn transfers_to_lapsed_addresses_are_unattributed_and_strangers_ignored(env: EvmEnv) {
    let (id, p) = env.create(usdc("10")).await;
    env.app
        .store
        .mutate_payment(&id, &mut |p: &mut Payment| -> Result<Vec<_>, std::convert::Infallible> {
            p.expires_at = payd_store::now() - chrono::Duration::hours(48);
            p.version += 1;
            Ok(vec![])
        })
        .await
        .unwrap()
        .unwrap();
    env.anvil.transfer(&env.usdc, &address(&p), 10_000_000).await;
    // Someone else's address: a real chain's other transfers are not payd's business.
    env.anvil.transfer(&env.usdc, "0x00000000000000000000000000000000000000aa", 5).await;
    env.anvil.mine(u64::from(CONFIRMATIONS)).await;
    env.synced().await;
    let all = env.app.store.list_transfers(NETWORK).await.unwrap();
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].transfer.payment_id, None, "recorded for the operator, credited to nothing");
    assert_eq!(all[0].transfer.amount, 10_000_000);
    let p = env.payment(&id).await;
    assert_eq!((p.funds.total(), p.paid_late), (0, false));
}

async fn a_fake_token_with_the_same_symbol_is_ignored(env: EvmEnv) {
    let fake = env.anvil.deploy_token("USDC", 6).await;
    assert_ne!(fake, env.usdc);
    let (id, p) = env.create(usdc("10")).await;
    env.anvil.transfer(&fake, &address(&p), 10_000_000).await;
    env.anvil.mine(u64::from(CONFIRMATIONS)).await;
    env.synced().await;
    assert!(env.app.store.list_transfers(NETWORK).await.unwrap().is_empty());
    let p = env.payment(&id).await;
    assert_eq!((p.status.as_str(), p.funds.total()), ("pending", 0));
}

async fn a_depth_1_reorg_reverts_and_the_remined_transfer_is_credited_once(env: EvmEnv) {
    let (id, p) = env.create(usdc("10")).await;
    let to = address(&p);
    env.anvil.transfer(&env.usdc, &to, 10_000_000).await;
    env.status_becomes(&id, "processing").await;

    // Depth 1: the block holding the transfer is replaced by an empty one.
    env.anvil.reorg(1, json!([])).await;
    let p = env.status_becomes(&id, "pending").await;
    assert_eq!(p.funds.total(), 0);
    assert_eq!(env.kinds(&id).await, ["payment.created", "payment.processing", "payment.reverted"]);

    // Paid again; then that block is replaced by one holding the very same signed
    // transaction: same hash and log index, another block hash.
    let tx = env.anvil.transfer(&env.usdc, &to, 10_000_000).await;
    env.status_becomes(&id, "processing").await;
    let raw = env.anvil.rpc("eth_getRawTransactionByHash", json!([tx])).await;
    env.anvil.reorg(1, json!([[raw, 0]])).await;
    eventually("the second reorg is seen", || async {
        env.kinds(&id).await.iter().filter(|k| **k == "payment.reverted").count() == 2
    })
    .await;
    env.anvil.mine(u64::from(CONFIRMATIONS)).await;
    let p = env.status_becomes(&id, "completed").await;
    env.synced().await;
    assert_eq!(p.funds.confirmed, 10_000_000, "credited once");
    assert_eq!(env.payment(&id).await.funds.confirmed, 10_000_000);
    let live: Vec<_> = env
        .app
        .store
        .transfers_of_payment(&id)
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.status != payd_store::chain::TransferStatus::Orphaned)
        .collect();
    assert_eq!(live.len(), 1, "{live:?}");
    assert_eq!(live[0].transfer.tx_hash, tx);
    assert_eq!(env.kinds(&id).await.last(), Some(&"payment.completed"));
}

async fn a_depth_3_reorg_takes_a_completed_payment_back(env: EvmEnv) {
    let (id, p) = env.create(usdc("10")).await;
    env.anvil.transfer(&env.usdc, &address(&p), 10_000_000).await;
    env.anvil.mine(u64::from(CONFIRMATIONS) - 1).await;
    env.status_becomes(&id, "completed").await;

    // The transfer's block and the two above it are replaced by empty blocks.
    env.anvil.reorg(3, json!([])).await;
    let p = env.status_becomes(&id, "pending").await;
    assert_eq!(p.funds.total(), 0);
    let transfers = env.app.store.transfers_of_payment(&id).await.unwrap();
    assert_eq!(transfers[0].status, payd_store::chain::TransferStatus::Orphaned);
    // (`payment.processing` shows only when a scan saw the transfer before its depth.)
    let k: Vec<_> = env.kinds(&id).await.into_iter().filter(|k| *k != "payment.processing").collect();
    assert_eq!(k, ["payment.created", "payment.completed", "payment.reverted"]);
    // More blocks do not bring it back.
    env.anvil.mine(3).await;
    env.synced().await;
    assert_eq!(env.payment(&id).await.status.as_str(), "pending");
}

async fn a_client_keeps_one_deposit_address_across_payments(env: EvmEnv) {
    // AlpPay's clientId: one persistent address per (merchant, client).
    let m = env.app.store.merchant_xpubs(Family::Evm).await.unwrap()[0].0.clone();
    let (key, secret) = env.app.key_with_signing_secret(KeyOwner::Merchant(m), Mode::Live).await;
    let create = |client: &'static str| {
        let body = json!({"amount": "1.00", "asset": {"short": "USDC", "network": NETWORK},
            "customer": {"id": 1}, "clientId": client})
        .to_string();
        let sig = payd_server::http::dialects::alppay::wire::hmac::sign(&secret, body.as_bytes()).unwrap();
        let req = env
            .app
            .client
            .post(env.app.url("/v2/payment"))
            .header("Content-Type", "application/json")
            .header("API-KEY", &key)
            .header("X-HMAC", sig)
            .body(body);
        async move {
            let (s, p) = crate::helpers::json(req.send().await.unwrap()).await;
            assert_eq!(s, 200, "{p}");
            (p["id"].as_str().unwrap().to_owned(), p["addressTo"].as_str().unwrap().to_owned())
        }
    };
    let a = create("client-7").await;
    let b = create("client-7").await;
    let c = create("client-8").await;
    assert_eq!(a.1, b.1, "the client's address is reused");
    assert_ne!(a.1, c.1);
    // Money to the shared address credits the client's newest payment.
    env.anvil.transfer(&env.usdc, &b.1, 1_000_000).await;
    env.anvil.mine(u64::from(CONFIRMATIONS)).await;
    env.synced().await;
    let transfers = env.app.store.list_transfers(NETWORK).await.unwrap();
    assert_eq!(transfers.len(), 1);
    let credited = transfers[0].transfer.payment_id.clone().unwrap();
    let p = env.status_becomes(&credited, "completed").await;
    assert_eq!(p.client_id.as_deref(), Some("client-7"));
}

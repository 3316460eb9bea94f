//! The storage conformance suite: one set of scenarios, run unchanged against every backend.
//!
//! Each scenario is an `async fn(store: Store)` listed in a [`conformance!`] invocation, which
//! generates a module named after it with two tests, `sqlite` and `postgres`. Every test gets
//! its own, freshly migrated database (see `harness.rs`): a SQLite file in the temp dir, or a
//! `payd_test_…` database on the PostgreSQL server at `PAYD_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), dropped afterwards even when the test fails.
//! Without a reachable PostgreSQL the `postgres` tests print a skip notice and pass, unless
//! `CI=true`, where they fail.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// Generates, for each listed scenario function of the current module, a module of the same
/// name holding one `#[tokio::test]` per backend.
macro_rules! conformance {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    crate::harness::run(payd_store::Backend::Sqlite, super::$scenario).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    crate::harness::run(payd_store::Backend::Postgres, super::$scenario).await;
                }
            }
        )*
    };
}

#[path = "conformance/harness.rs"]
mod harness;

#[path = "conformance/fixtures.rs"]
mod fixtures;

#[path = "conformance/basics.rs"]
mod basics;

#[path = "conformance/merchants.rs"]
mod merchants;

#[path = "conformance/api_keys.rs"]
mod api_keys;

#[path = "conformance/payments.rs"]
mod payments;

#[path = "conformance/idempotency.rs"]
mod idempotency;

#[path = "conformance/concurrency.rs"]
mod concurrency;

#[path = "conformance/listing.rs"]
mod listing;

#[path = "conformance/mutation.rs"]
mod mutation;

#[path = "conformance/expiry.rs"]
mod expiry;

#[path = "conformance/chain.rs"]
mod chain;

#[path = "conformance/webhooks.rs"]
mod webhooks;

#[path = "conformance/webhook_endpoints.rs"]
mod webhook_endpoints;

#[path = "conformance/choose_asset.rs"]
mod choose_asset;

#[path = "conformance/batch.rs"]
mod batch;

#[path = "conformance/dashboard_auth.rs"]
mod dashboard_auth;
#[path = "conformance/manage.rs"]
mod manage;
#[path = "conformance/settings.rs"]
mod settings;
#[path = "conformance/views.rs"]
mod views;

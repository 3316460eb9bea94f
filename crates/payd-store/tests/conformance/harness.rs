//! One fresh, migrated database per test, on either backend, removed afterwards (also when
//! the scenario panics): `payd_store::testing::TestDatabase` does the work.

use std::future::Future;

use payd_store::testing::TestDatabase;
use payd_store::{Backend, ConnectOptions, Store};

/// Runs `scenario` against a fresh database of `backend`, after `Store::migrate`. Returns
/// without running when PostgreSQL is unreachable outside CI.
pub async fn run<F, Fut>(backend: Backend, scenario: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(db) = TestDatabase::create(backend).await.unwrap_or_else(|e| panic!("{e}")) else {
        return;
    };
    let store = Store::connect(&db.url, &ConnectOptions::default())
        .await
        .unwrap_or_else(|e| panic!("connecting to {}: {e}", db.url));
    store.migrate().await.unwrap_or_else(|e| panic!("migrating: {e}"));
    scenario(store.clone()).await;
    store.close().await;
    drop(db);
}

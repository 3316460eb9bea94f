//! The database every test starts from.

use payd_store::{Backend, Store};

conformance!(a_fresh_database_is_empty_and_migrations_can_run_again);

async fn a_fresh_database_is_empty_and_migrations_can_run_again(store: Store) {
    assert!(matches!(store.backend(), Backend::Sqlite | Backend::Postgres));
    store.ping().await.expect("ping");
    assert_eq!(store.count_merchants().await.expect("count"), 0);
    // Migrating an up-to-date database is a no-op, not an error.
    store.migrate().await.expect("second migrate");
    store.ping().await.expect("ping after second migrate");
    assert_eq!(store.count_merchants().await.expect("count"), 0);
}

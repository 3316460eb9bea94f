//! An acknowledged write survives power loss: on SQLite every connection of the server's pool
//! commits with `synchronous=FULL` in WAL mode (NORMAL could lose the last commits, such as
//! the address-counter bump that keeps a deposit address to one payment).

use payd_store::{Backend, Store};

use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sqlite_connection_of_the_server_syncs_each_commit() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    // A write through the API first, so the pool is the one that serves requests.
    let (_, key) = app.merchant_with_key().await;
    let (s, _) = app.create_payment(&key, &serde_json::json!({"amount": "10.00", "currency": "USD"})).await;
    assert_eq!(s, 201);
    let Store::Sqlite(pool, _) = &app.store else { panic!("SQLite expected") };
    // Hold every connection the pool will open, so each one is asked.
    let mut held = Vec::new();
    for _ in 0..10 {
        held.push(pool.acquire().await.unwrap());
    }
    for conn in &mut held {
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&mut **conn).await.unwrap();
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut **conn).await.unwrap();
        assert_eq!((sync, journal.as_str()), (2, "wal"), "2 is FULL");
    }
}

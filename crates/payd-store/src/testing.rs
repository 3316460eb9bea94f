//! Test support (feature `testing`): a fresh database per test on either backend, dropped
//! afterwards, also when the test panics.
//!
//! PostgreSQL is reached at `PAYD_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). When it cannot be reached, tests skip with
//! a message, except under `CI=true`, where a missing PostgreSQL fails the run.

use sqlx::Connection;

use crate::Backend;

/// The server that holds per-test PostgreSQL databases.
pub fn postgres_admin_url() -> String {
    std::env::var("PAYD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Whether a missing component must fail the run rather than skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDatabase {
    /// Its URL.
    pub url: String,
    /// Its backend.
    pub backend: Backend,
    name: String,
    sqlite_path: Option<std::path::PathBuf>,
}

/// Why a test database could not be made.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TestDbError(pub String);

impl TestDatabase {
    /// Creates an empty database. `Ok(None)` means "skip": PostgreSQL is unreachable and this
    /// is not CI.
    pub async fn create(backend: Backend) -> Result<Option<TestDatabase>, TestDbError> {
        let name = format!("payd_test_{}", uuid::Uuid::new_v4().simple());
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                Ok(Some(TestDatabase {
                    url: format!("sqlite:{}", path.display()),
                    backend,
                    name,
                    sqlite_path: Some(path),
                }))
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let mut conn = match sqlx::PgConnection::connect(&admin).await {
                    Ok(c) => c,
                    Err(e) if !in_ci() => {
                        eprintln!("skipping: PostgreSQL not reachable at {admin}: {e}");
                        return Ok(None);
                    }
                    Err(e) => {
                        return Err(TestDbError(format!(
                            "PostgreSQL not reachable at {admin} (CI=true): {e}"
                        )))
                    }
                };
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .map_err(|e| TestDbError(format!("creating {name}: {e}")))?;
                let _ = conn.close().await;
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b).to_owned();
                Ok(Some(TestDatabase { url: format!("{base}/{name}"), backend, name, sqlite_path: None }))
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(path) = &self.sqlite_path {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            return;
        }
        // Drop runs outside any async context we can rely on: use a thread with its own
        // runtime, and FORCE so connections a test left open do not block the drop.
        let name = self.name.clone();
        let admin = postgres_admin_url();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async move {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

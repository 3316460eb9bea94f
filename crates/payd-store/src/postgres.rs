//! The PostgreSQL backend (production). Transactions run at READ COMMITTED; concurrent
//! writers are caught by unique constraints and by the version check on every update.

type Db = sqlx::Postgres;
const BEGIN: &str = "BEGIN";

include!("ops.rs");

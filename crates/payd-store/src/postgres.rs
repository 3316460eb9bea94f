//! The PostgreSQL backend (production). Transactions run at READ COMMITTED; concurrent
//! writers are caught by unique constraints and by the version check on every update.

type Db = sqlx::Postgres;
const BEGIN: &str = "BEGIN";

// Writers of one payment queue on its row instead of racing and retrying.
const LOCK_ROW: &str = " FOR UPDATE";

include!("ops.rs");
include!("ops_chain.rs");

/// Products, customers and merchant settings.
pub(crate) mod catalog {
    use super::Db;

    include!("ops_catalog.rs");
}

/// EVM networks: merchant xpubs, watcher leases, client addresses.
pub(crate) mod evm {
    use super::Db;

    include!("ops_evm.rs");
}

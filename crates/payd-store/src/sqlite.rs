//! The SQLite backend (the embedded default). Write transactions start with
//! `BEGIN IMMEDIATE`: a deferred transaction that reads before it writes cannot upgrade once
//! another connection has committed, and fails with SQLITE_BUSY despite the busy timeout.

type Db = sqlx::Sqlite;
const BEGIN: &str = "BEGIN IMMEDIATE";

// BEGIN IMMEDIATE already holds the write lock.
const LOCK_ROW: &str = "";

// SQLite has one writer at a time: a claim cannot race another.
const SKIP_LOCKED: &str = "";

include!("ops.rs");
include!("ops_chain.rs");
include!("ops_batch.rs");
include!("bulk_sqlite.rs");

/// Products, customers and merchant settings.
pub(crate) mod catalog {
    use super::Db;

    include!("ops_catalog.rs");
}

/// Webhook endpoints, deliveries and attempts.
pub(crate) mod webhooks {
    use super::{Db, BEGIN, SKIP_LOCKED};

    include!("ops_webhooks.rs");
}

/// Live chains: merchant xpubs per family, watcher leases, derived addresses.
pub(crate) mod evm {
    use super::Db;

    include!("ops_evm.rs");
}

/// The merchant dashboard: users, sessions, the audit log, the payment search.
pub(crate) mod users {
    use super::{Db, BEGIN, KEY_COLUMNS, MERCHANT_COLUMNS, PAYMENT_COLUMNS};

    include!("ops_users.rs");
}

/// The dashboard's account security and user management: TOTP, recovery codes, login
/// challenges, invitations, removing and unlocking users.
pub(crate) mod auth {
    use super::{Db, BEGIN, LOCK_ROW};

    include!("ops_auth.rs");
}

/// The dashboard's views: payments per day, money received, unattributed transfers, health.
pub(crate) mod views {
    use super::Db;

    include!("ops_views.rs");
}

/// The dashboard's management pages: changes written with their audit line, test events.
pub(crate) mod manage {
    use super::{Db, BEGIN};

    include!("ops_manage.rs");
}

/// A merchant's checkout settings: the assets it offers, its profile; each with its audit line.
pub(crate) mod settings {
    use super::{Db, BEGIN};

    include!("ops_settings.rs");
}

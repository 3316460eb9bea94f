//! The PostgreSQL backend (production). Transactions run at READ COMMITTED; concurrent
//! writers are caught by unique constraints and by the version check on every update.

type Db = sqlx::Postgres;
const BEGIN: &str = "BEGIN";

// Writers of one payment queue on its row instead of racing and retrying.
const LOCK_ROW: &str = " FOR UPDATE";

// Dispatchers on several nodes claim disjoint rows without waiting on each other.
const SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";

include!("ops.rs");
include!("ops_chain.rs");
include!("ops_batch.rs");
include!("bulk_postgres.rs");

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

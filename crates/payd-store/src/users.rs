//! The store's API for the merchant dashboard: users (with their failed-login count and
//! lock), server-side sessions (kept under the SHA-256 of their token), the audit log, and
//! the payment search the dashboard's list runs (every field a person may paste in).

use chrono::{DateTime, Utc};
use payd_core::apikey::{ApiKey, Mode};
use payd_core::ids::{AccountId, MerchantId, UserId};
use payd_core::merchant::Merchant;
use payd_core::payment::{Payment, PaymentStatus};
use payd_core::user::{Role, User};

use crate::rows::{corrupt, from_ms};
use crate::{postgres, sqlite, Store, StoreError};

/// One line of the audit log, as written.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// The user who acted (`None`: the CLI, or a login attempt by nobody known).
    pub user_id: Option<UserId>,
    /// Who, in words (the user's email, or `cli`).
    pub actor: String,
    /// The account the target belongs to, when it belongs to one.
    pub account_id: Option<AccountId>,
    /// What was done (`payment.cancel`, `session.login`, …).
    pub action: String,
    /// What it was done to (an id).
    pub target: String,
    /// Anything else worth keeping (never a secret).
    pub detail: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A dashboard session, as read back with its user.
#[derive(Debug, Clone)]
pub struct Session {
    /// The SHA-256 of its token (hex), the row's key.
    pub token_hash: String,
    /// Its user.
    pub user: User,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it was last used (updated at most once a minute).
    pub last_seen_at: DateTime<Utc>,
    /// When it ends, used or not.
    pub expires_at: DateTime<Utc>,
}

/// The dashboard's payment list: its filters and page, newest first.
#[derive(Debug, Clone)]
pub struct DashboardFilter {
    /// Merchants whose payments to include (the user's reach).
    pub merchant_ids: Vec<MerchantId>,
    /// Test or live.
    pub mode: Mode,
    /// Only this status.
    pub status: Option<PaymentStatus>,
    /// Only payments with the `underpaid` flag.
    pub underpaid: bool,
    /// Only payments with the `overpaid` flag.
    pub overpaid: bool,
    /// Only payments with the `paid_late` flag.
    pub paid_late: bool,
    /// Only on this network.
    pub network: Option<String>,
    /// Only in this token.
    pub token: Option<String>,
    /// Created at or after.
    pub created_gte: Option<DateTime<Utc>>,
    /// Created before.
    pub created_lt: Option<DateTime<Utc>>,
    /// Only payments one of these texts names exactly: payd's id, the short id, the
    /// reference, the order id (`external_id`), the invoice, the customer's email, the
    /// deposit address, or the hash of a transfer to it.
    pub search: Vec<String>,
    /// Page size.
    pub limit: u32,
    /// Rows to skip.
    pub offset: u32,
}

impl Store {
    /// Writes a new user, with the audit line saying who created it, in one transaction.
    /// `Conflict("users_email_key")`: the email is taken.
    pub async fn create_user(
        &self,
        user: &User,
        password_hash: &str,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        dispatch!(self, users::create_user(user, password_hash, audit))
    }

    /// A user and their password hash, by email (as stored: lowercased).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>, StoreError> {
        match dispatch!(self, users::user_by_email(email))? {
            Some((row, hash)) => Ok(Some((user_from_row(row)?, hash))),
            None => Ok(None),
        }
    }

    /// Whether an account exists.
    pub async fn account_exists(&self, account: &AccountId) -> Result<bool, StoreError> {
        dispatch!(self, users::account_exists(account))
    }

    /// Counts a wrong password: the user's count goes up by one, and on reaching
    /// `max_failures` the user is locked until `lock_until` (the count starts over then).
    /// Returns the user as it is now. The audit line is written in the same transaction.
    pub async fn record_failed_login(
        &self,
        user: &UserId,
        max_failures: u32,
        lock_until: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<User, StoreError> {
        let row = dispatch!(self, users::record_failed_login(user, max_failures, lock_until, audit))?;
        user_from_row(row)
    }

    /// Opens a session for a user who gave the right password: the failed-login count is
    /// reset, the session row and the audit line written, in one transaction.
    pub async fn open_session(
        &self,
        user: &UserId,
        token_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        dispatch!(self, users::open_session(user, token_hash, now, expires_at, audit))
    }

    /// The live session under `token_hash` at `now` with its user; an expired one is `None`
    /// (and deleted). Marks it seen when it was last seen over a minute ago.
    pub async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>, StoreError> {
        let Some((row, created, seen, expires)) = dispatch!(self, users::session(token_hash, now))? else {
            return Ok(None);
        };
        Ok(Some(Session {
            token_hash: token_hash.to_owned(),
            user: user_from_row(row)?,
            created_at: from_ms(created)?,
            last_seen_at: from_ms(seen)?,
            expires_at: from_ms(expires)?,
        }))
    }

    /// Ends one session (logout), with its audit line, in one transaction.
    pub async fn close_session(&self, token_hash: &str, audit: &AuditEntry) -> Result<(), StoreError> {
        dispatch!(self, users::close_session(token_hash, audit))
    }

    /// Ends every session of a user ("log out everywhere"), with its audit line, in one
    /// transaction; returns how many there were.
    pub async fn close_user_sessions(&self, user: &UserId, audit: &AuditEntry) -> Result<u64, StoreError> {
        dispatch!(self, users::close_user_sessions(user, audit))
    }

    /// Writes one audit line on its own (for changes made by another store call, whose
    /// transaction the line could not join).
    pub async fn record_audit(&self, audit: &AuditEntry) -> Result<(), StoreError> {
        dispatch!(self, users::record_audit(audit))
    }

    /// The newest audit lines, of one account or (`None`) of the whole instance.
    pub async fn audit_log(
        &self,
        account: Option<&AccountId>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = dispatch!(self, users::audit_log(account, limit))?;
        rows.into_iter()
            .map(|r| {
                Ok(AuditEntry {
                    user_id: r.user_id.map(|u| u.parse().map_err(|_| corrupt("user id", &u))).transpose()?,
                    actor: r.actor,
                    account_id: r
                        .account_id
                        .map(|a| a.parse().map_err(|_| corrupt("account id", &a)))
                        .transpose()?,
                    action: r.action,
                    target: r.target,
                    detail: r.detail,
                    at: from_ms(r.at)?,
                })
            })
            .collect()
    }

    /// The API keys in `mode` of these accounts (`None`: of every account), newest first,
    /// revoked ones included.
    pub async fn dashboard_api_keys(
        &self,
        accounts: Option<&[AccountId]>,
        mode: Mode,
    ) -> Result<Vec<ApiKey>, StoreError> {
        if accounts.is_some_and(<[AccountId]>::is_empty) {
            return Ok(Vec::new());
        }
        dispatch!(self, users::dashboard_api_keys(accounts, mode))
    }

    /// Every merchant of the instance (an operator's reach).
    pub async fn all_merchants(&self) -> Result<Vec<Merchant>, StoreError> {
        dispatch!(self, users::all_merchants())
    }

    /// The payments the dashboard's list shows for `filter`, newest first.
    pub async fn dashboard_payments(&self, filter: &DashboardFilter) -> Result<Vec<Payment>, StoreError> {
        if filter.merchant_ids.is_empty() {
            return Ok(Vec::new());
        }
        dispatch!(self, users::dashboard_payments(filter))
    }

    /// How many payments `filter` selects, all pages together.
    pub async fn count_dashboard_payments(&self, filter: &DashboardFilter) -> Result<i64, StoreError> {
        if filter.merchant_ids.is_empty() {
            return Ok(0);
        }
        dispatch!(self, users::count_dashboard_payments(filter))
    }
}

/// A `users` row as read.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UserRow {
    pub id: String,
    pub account_id: Option<String>,
    pub email: String,
    pub role: String,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    pub created_at: i64,
}

/// An `audit_log` row as read.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub at: i64,
    pub user_id: Option<String>,
    pub actor: String,
    pub account_id: Option<String>,
    pub action: String,
    pub target: String,
    pub detail: String,
}

pub(crate) fn user_from_row(r: UserRow) -> Result<User, StoreError> {
    Ok(User {
        id: r.id.parse().map_err(|_| corrupt("user id", &r.id))?,
        account_id: r.account_id.map(|a| a.parse().map_err(|_| corrupt("account id", &a))).transpose()?,
        email: r.email,
        role: Role::parse(&r.role).ok_or_else(|| corrupt("user role", &r.role))?,
        failed_logins: u32::try_from(r.failed_logins)
            .map_err(|_| corrupt("failed logins", r.failed_logins))?,
        locked_until: r.locked_until.map(from_ms).transpose()?,
        created_at: from_ms(r.created_at)?,
    })
}

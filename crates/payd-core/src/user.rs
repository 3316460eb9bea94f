//! Dashboard users: people who log in to the merchant dashboard, each with one role. The
//! instance's operators see every account; admins and viewers belong to one account.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::ids::{AccountId, UserId};

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The instance's operator: every account, every change.
    Operator,
    /// Everything within one account.
    Admin,
    /// Reads one account; changes nothing.
    Viewer,
}

impl Role {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "operator" => Some(Role::Operator),
            "admin" => Some(Role::Admin),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    /// Whether the role may change anything (cancel, redeliver, …).
    pub fn can_change(self) -> bool {
        !matches!(self, Role::Viewer)
    }
}

/// Whose data a user sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Every account (operators).
    Everything,
    /// One account.
    Account(AccountId),
}

/// A dashboard user (the password hash stays in the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// The account for admins and viewers; `None` for operators.
    pub account_id: Option<AccountId>,
    /// Login name, stored lowercased.
    pub email: String,
    /// Role.
    pub role: Role,
    /// Wrong passwords in a row since the last successful login.
    pub failed_logins: u32,
    /// Logins are refused until then, right password or not.
    pub locked_until: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl User {
    /// Whose data the user sees.
    pub fn reach(&self) -> Reach {
        match (&self.account_id, self.role) {
            (_, Role::Operator) => Reach::Everything,
            (Some(a), _) => Reach::Account(a.clone()),
            // Refused by the schema (admins and viewers have an account); seeing nothing is
            // the safe reading of such a row.
            (None, _) => Reach::Account(AccountId::from_uuid(uuid::Uuid::nil())),
        }
    }

    /// Whether logins are refused at `now`.
    pub fn locked_at(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }
}

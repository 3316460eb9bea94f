//! The store's API for the dashboard's account security and user management: TOTP set-ups
//! (their secret sealed by the caller), recovery codes (kept as the caller's MACs), the
//! pending state between a login's password and its second factor, password changes,
//! invitations, and removing or unlocking users. Every change writes its audit line in the
//! transaction that makes it.

use chrono::{DateTime, Utc};
use payd_core::ids::{AccountId, UserId};
use payd_core::user::{Role, User};

use crate::rows::{corrupt, from_ms};
use crate::users::{user_from_row, AuditEntry};
use crate::{postgres, sqlite, Store, StoreError};

/// A user's TOTP set-up.
#[derive(Debug, Clone)]
pub struct TotpRecord {
    /// The secret, sealed under the master key.
    pub secret_sealed: String,
    /// Whether logins ask for a code (`false`: set up, first code not given yet).
    pub enabled: bool,
    /// The newest time step a code was accepted for (-1: none yet).
    pub last_step: i64,
}

/// A second factor offered at login, as the store checks and consumes it.
#[derive(Debug, Clone)]
pub enum SecondFactor {
    /// A TOTP code was right for this time step: accepted once, and only if newer than the
    /// last accepted step.
    TotpStep(i64),
    /// The MAC of a recovery code: accepted if it is one of the user's unused codes.
    RecoveryCode(String),
}

/// A login waiting for its second factor.
#[derive(Debug, Clone)]
pub struct Challenge {
    /// Whose.
    pub user: User,
    /// Wrong codes given to it so far.
    pub failures: u32,
    /// When it ends.
    pub expires_at: DateTime<Utc>,
}

/// An invitation to become a user.
#[derive(Debug, Clone)]
pub struct Invitation {
    /// Id (`inv_…`).
    pub id: String,
    /// The account (`None` for an operator).
    pub account_id: Option<AccountId>,
    /// Who is invited (lowercased).
    pub email: String,
    /// With which role.
    pub role: Role,
    /// The inviter's email.
    pub invited_by: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When its link stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was used.
    pub accepted_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Invitation {
    /// Whether its link still works at `now`.
    pub fn pending_at(&self, now: DateTime<Utc>) -> bool {
        self.accepted_at.is_none() && self.revoked_at.is_none() && self.expires_at > now
    }
}

/// A user as the users page lists them.
#[derive(Debug, Clone)]
pub struct UserEntry {
    /// The user.
    pub user: User,
    /// Whether logins ask for a second factor.
    pub totp_enabled: bool,
}

/// A new session to open, as a completed login or an accepted invitation hands it in.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    /// The SHA-256 of its token (hex).
    pub token_hash: &'a str,
    /// When it was opened.
    pub now: DateTime<Utc>,
    /// When it ends.
    pub expires_at: DateTime<Utc>,
}

impl Store {
    /// A user's TOTP set-up, if any.
    pub async fn totp(&self, user: &UserId) -> Result<Option<TotpRecord>, StoreError> {
        let row = dispatch!(self, auth::totp(user))?;
        Ok(row.map(|(secret_sealed, enabled_at, last_step)| TotpRecord {
            secret_sealed,
            enabled: enabled_at.is_some(),
            last_step,
        }))
    }

    /// Starts (or starts over) a TOTP set-up with a sealed secret, not enabled yet.
    /// `Conflict("totp_enabled")`: TOTP is on already.
    pub async fn begin_totp(
        &self,
        user: &UserId,
        secret_sealed: &str,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        dispatch!(self, auth::begin_totp(user, secret_sealed, audit))
    }

    /// Switches a set-up TOTP on, after a right code for `step`, and replaces the user's
    /// recovery codes with `code_hashes`. `false`: there is no set-up waiting, or the step
    /// was used already.
    pub async fn enable_totp(
        &self,
        user: &UserId,
        step: i64,
        code_hashes: &[String],
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        dispatch!(self, auth::enable_totp(user, step, code_hashes, audit))
    }

    /// Switches TOTP off: the set-up, the recovery codes and pending logins go. `false`: it
    /// was not on.
    pub async fn disable_totp(&self, user: &UserId, audit: &AuditEntry) -> Result<bool, StoreError> {
        dispatch!(self, auth::disable_totp(user, audit))
    }

    /// How many of a user's recovery codes are unused.
    pub async fn unused_recovery_codes(&self, user: &UserId) -> Result<i64, StoreError> {
        dispatch!(self, auth::unused_recovery_codes(user))
    }

    /// Opens a login challenge (the password was right; the second factor is awaited).
    pub async fn open_challenge(
        &self,
        user: &UserId,
        token_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        dispatch!(self, auth::open_challenge(user, token_hash, now, expires_at, audit))
    }

    /// The live challenge under `token_hash` at `now`, with its user.
    pub async fn challenge(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Challenge>, StoreError> {
        let Some((row, failures, expires)) = dispatch!(self, auth::challenge(token_hash, now))? else {
            return Ok(None);
        };
        Ok(Some(Challenge {
            user: user_from_row(row)?,
            failures: u32::try_from(failures).map_err(|_| corrupt("challenge failures", failures))?,
            expires_at: from_ms(expires)?,
        }))
    }

    /// Completes a login: consumes the second factor (a TOTP step newer than the last, or an
    /// unused recovery code), ends the challenge, resets the failed-login count and opens the
    /// session, with the audit line, in one transaction. `false` (nothing written): the
    /// factor was not accepted (a replayed step, a used or unknown recovery code).
    pub async fn complete_challenge(
        &self,
        challenge_hash: &str,
        user: &UserId,
        factor: &SecondFactor,
        session: &NewSession<'_>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        dispatch!(self, auth::complete_challenge(challenge_hash, user, factor, session, audit))
    }

    /// Counts a wrong second factor: against the challenge (ended after `max_challenge`) and
    /// towards the user's lockout like a wrong password. Returns the user as it is now.
    pub async fn fail_challenge(
        &self,
        challenge_hash: &str,
        user: &UserId,
        max_challenge: u32,
        max_failures: u32,
        lock_until: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<User, StoreError> {
        let row = dispatch!(
            self,
            auth::fail_challenge(challenge_hash, user, max_challenge, max_failures, lock_until, audit)
        )?;
        user_from_row(row)
    }

    /// Replaces a user's password hash and ends every other session of theirs (and pending
    /// logins), keeping `keep_session`.
    pub async fn change_password(
        &self,
        user: &UserId,
        password_hash: &str,
        keep_session: &str,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        dispatch!(self, auth::change_password(user, password_hash, keep_session, audit))
    }

    /// Writes an invitation under the SHA-256 of its link's token.
    pub async fn create_invitation(
        &self,
        invitation: &Invitation,
        token_hash: &str,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        dispatch!(self, auth::create_invitation(invitation, token_hash, audit))
    }

    /// The invitations still pending at `now`, of one account or (`None`) of every account and
    /// the operators', newest first.
    pub async fn pending_invitations(
        &self,
        account: Option<&AccountId>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Invitation>, StoreError> {
        dispatch!(self, auth::pending_invitations(account, now))?
            .into_iter()
            .map(invitation_from_row)
            .collect()
    }

    /// An invitation by id, in any state.
    pub async fn invitation(&self, id: &str) -> Result<Option<Invitation>, StoreError> {
        dispatch!(self, auth::invitation(id))?.map(invitation_from_row).transpose()
    }

    /// An invitation by the SHA-256 of its token, in any state.
    pub async fn invitation_by_token(&self, token_hash: &str) -> Result<Option<Invitation>, StoreError> {
        dispatch!(self, auth::invitation_by_token(token_hash))?.map(invitation_from_row).transpose()
    }

    /// Revokes a pending invitation. `false`: it was not pending.
    pub async fn revoke_invitation(
        &self,
        id: &str,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        dispatch!(self, auth::revoke_invitation(id, now, audit))
    }

    /// Uses an invitation: marks it accepted (only if pending at `session.now`), creates its
    /// user with `password_hash` and opens a session, with the audit lines, in one
    /// transaction. `NotFound("invitation")`: not pending; `Conflict("users_email_key")`:
    /// someone has the email now.
    pub async fn accept_invitation(
        &self,
        token_hash: &str,
        user: &User,
        password_hash: &str,
        session: &NewSession<'_>,
        audit: &[AuditEntry],
    ) -> Result<(), StoreError> {
        dispatch!(self, auth::accept_invitation(token_hash, user, password_hash, session, audit))
    }

    /// The users of one account or (`None`) of the instance, by email.
    pub async fn users_of(&self, account: Option<&AccountId>) -> Result<Vec<UserEntry>, StoreError> {
        dispatch!(self, auth::users_of(account))?
            .into_iter()
            .map(|(row, totp)| Ok(UserEntry { user: user_from_row(row)?, totp_enabled: totp }))
            .collect()
    }

    /// A user by id.
    pub async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        dispatch!(self, auth::user(id))?.map(user_from_row).transpose()
    }

    /// Removes a user: their sessions, pending logins and second factor go, their audit lines
    /// keep their email (as the actor) but lose the link to the row. `Conflict("last_admin")`
    /// / `Conflict("last_operator")`: they are the last admin of their account / the last
    /// operator; `NotFound("user")`.
    pub async fn remove_user(&self, id: &UserId, audit: &AuditEntry) -> Result<(), StoreError> {
        dispatch!(self, auth::remove_user(id, audit))
    }

    /// Makes an admin a viewer or a viewer an admin (`role`), with `audit`, in one
    /// transaction. `actor` must still be an admin of the user's account or an operator when
    /// it runs (`Conflict("actor_role")` otherwise). `Ok(false)`, and no line: the user has
    /// that role already. `Conflict("last_admin")`: they are their account's last admin;
    /// `Conflict("role")`: an operator, or `role` is not admin or viewer; `NotFound("user")`.
    /// Sessions read their user's row at each request, so the new role applies at once.
    pub async fn set_user_role(
        &self,
        id: &UserId,
        role: Role,
        actor: &UserId,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        if role == Role::Operator {
            return Err(StoreError::Conflict("role"));
        }
        dispatch!(self, auth::set_user_role(id, role.as_str(), actor, audit))
    }

    /// Stores a password reset link for `user` (the SHA-256 of its token) with `audit`, in
    /// one transaction; the user's older unused links stop working.
    pub async fn create_password_reset(
        &self,
        user: &UserId,
        token_hash: &str,
        created_by: &str,
        expires_at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        dispatch!(self, auth::create_password_reset(user, token_hash, created_by, expires_at, audit))
    }

    /// The user a pending (unused, unexpired at `now`) reset link's token hash is for.
    pub async fn password_reset_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        dispatch!(self, auth::password_reset_user(token_hash, now))?.map(user_from_row).transpose()
    }

    /// Uses a reset link at `audit.at`: marks it used, sets `user`'s password hash, clears
    /// their lockout, ends their sessions and pending logins, and writes `audit`, in one
    /// transaction. `NotFound("password_reset")`: the link is not pending (used, replaced,
    /// expired, unknown, or another user's).
    pub async fn use_password_reset(
        &self,
        token_hash: &str,
        user: &UserId,
        password_hash: &str,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        dispatch!(self, auth::use_password_reset(token_hash, user, password_hash, audit))
    }

    /// Lifts a user's lock and zeroes their failed-login count. `false`: no such user.
    pub async fn unlock_user(&self, id: &UserId, audit: &AuditEntry) -> Result<bool, StoreError> {
        dispatch!(self, auth::unlock_user(id, audit))
    }
}

/// An `invitations` row as read.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct InvitationRow {
    pub id: String,
    pub account_id: Option<String>,
    pub email: String,
    pub role: String,
    pub invited_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

fn invitation_from_row(r: InvitationRow) -> Result<Invitation, StoreError> {
    Ok(Invitation {
        account_id: r.account_id.map(|a| a.parse().map_err(|_| corrupt("account id", &a))).transpose()?,
        role: Role::parse(&r.role).ok_or_else(|| corrupt("invitation role", &r.role))?,
        id: r.id,
        email: r.email,
        invited_by: r.invited_by,
        created_at: from_ms(r.created_at)?,
        expires_at: from_ms(r.expires_at)?,
        accepted_at: r.accepted_at.map(from_ms).transpose()?,
        revoked_at: r.revoked_at.map(from_ms).transpose()?,
    })
}

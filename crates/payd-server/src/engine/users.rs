//! Dashboard users and their sessions: creating a user (email, role, account, a password
//! hashed with Argon2id), logging in (with the lockout after repeated wrong passwords),
//! sessions kept server-side under the SHA-256 of their token, logging out (one session or
//! every one), whose merchants a user reaches, changing a user's role (admin or viewer), the
//! password reset link an admin or operator makes for a user (payd sends no email), and the
//! audit line each change writes.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use payd_core::ids::{AccountId, UserId};
use payd_core::merchant::Merchant;
use payd_core::secret::Secret;
use payd_core::user::{Reach, Role, User};
use payd_store::users::{AuditEntry, Session};
use payd_store::{Store, StoreError};
use sha2::{Digest, Sha256};

use super::access::{check_new_password, hash_off_thread, target_in_reach, AccessError};
use super::fields::{self, FieldError};

/// Wrong passwords in a row before a user is locked out.
pub const MAX_FAILURES: u32 = 5;
/// How long a lockout lasts.
pub const LOCK_FOR: Duration = Duration::minutes(15);
/// How long a session lasts from login, used or not.
pub const SESSION_TTL: Duration = Duration::hours(12);
/// Shortest password accepted (NIST SP 800-63B asks for at least 8; payd asks a little more).
pub const MIN_PASSWORD: usize = 10;
/// Longest password accepted (bounds the hashing work one request can cause).
pub const MAX_PASSWORD: usize = 256;
/// How long a password reset link works (shorter than an invitation's: it opens an account
/// that exists).
pub const RESET_TTL: Duration = Duration::hours(24);

/// Why a user could not be created.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// A bad email.
    #[error(transparent)]
    Field(#[from] FieldError),
    /// A bad password, role or account combination.
    #[error("{0}")]
    Invalid(String),
    /// Someone has that email already.
    #[error("a user with that email exists")]
    EmailTaken,
    /// The account does not exist.
    #[error("no account {0}")]
    NoAccount(AccountId),
    /// Hashing failed (no randomness for the salt).
    #[error("could not hash the password: {0}")]
    Hash(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new user as a surface (the CLI, later the dashboard's invitations) hands it in.
#[derive(Debug)]
pub struct NewUserIn {
    /// Login email.
    pub email: String,
    /// Role.
    pub role: Role,
    /// The account (admins and viewers need one; operators have none).
    pub account: Option<AccountId>,
    /// The password, in clear, never logged.
    pub password: Secret,
}

/// Who is acting, for the audit log.
#[derive(Debug, Clone)]
pub enum Actor<'a> {
    /// The `payd` command.
    Cli,
    /// A dashboard user.
    User(&'a User),
}

/// An audit line for `action` on `target` (in `account`) by `actor` at `now`.
pub fn audit(
    actor: &Actor<'_>,
    action: &str,
    target: impl Into<String>,
    account: Option<AccountId>,
    now: DateTime<Utc>,
) -> AuditEntry {
    let (user_id, name) = match actor {
        Actor::Cli => (None, "cli".to_owned()),
        Actor::User(u) => (Some(u.id.clone()), u.email.clone()),
    };
    AuditEntry {
        user_id,
        actor: name,
        account_id: account,
        action: action.to_owned(),
        target: target.into(),
        detail: String::new(),
        at: now,
    }
}

/// Emails are compared as written by the user, lowercased and trimmed.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn argon2() -> Argon2<'static> {
    // Argon2id with the crate's defaults (19 MiB, two passes, one lane): OWASP's recommended
    // minimum for Argon2id.
    Argon2::default()
}

/// Hashes a password with Argon2id into a PHC string (blocking: call off the async threads).
pub fn hash_password(password: &str) -> Result<String, UserError> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| UserError::Hash(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| UserError::Hash(e.to_string()))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| UserError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `hash` (the comparison is constant-time).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash no password matches by chance, checked against when the email is unknown, so a
/// login takes as long whether or not the email exists.
static DECOY: LazyLock<String> = LazyLock::new(|| hash_password("payd decoy password").unwrap_or_default());

/// Creates a user, with its audit line.
pub async fn create_user(
    store: &Store,
    input: NewUserIn,
    actor: &Actor<'_>,
    now: DateTime<Utc>,
) -> Result<User, UserError> {
    let email = fields::email("email", Some(normalize_email(&input.email)))?
        .ok_or_else(|| UserError::Invalid("an email is required".into()))?;
    let chars = input.password.expose().chars().count();
    if chars < MIN_PASSWORD {
        return Err(UserError::Invalid(format!("the password must have at least {MIN_PASSWORD} characters")));
    }
    if chars > MAX_PASSWORD {
        return Err(UserError::Invalid(format!("the password must have at most {MAX_PASSWORD} characters")));
    }
    match (input.role, &input.account) {
        (Role::Operator, Some(_)) => {
            return Err(UserError::Invalid("an operator sees every account: give no account".into()))
        }
        (Role::Admin, None) => return Err(UserError::Invalid("an admin needs an account".into())),
        (Role::Viewer, None) => return Err(UserError::Invalid("a viewer needs an account".into())),
        (_, Some(a)) if !store.account_exists(a).await? => return Err(UserError::NoAccount(a.clone())),
        _ => {}
    }
    let password = input.password;
    let hash = tokio::task::spawn_blocking(move || hash_password(password.expose()))
        .await
        .map_err(|e| UserError::Hash(e.to_string()))??;
    let user = User {
        id: UserId::new(),
        account_id: input.account,
        email,
        role: input.role,
        failed_logins: 0,
        locked_until: None,
        created_at: now,
    };
    let line = audit(actor, "user.create", user.id.to_string(), user.account_id.clone(), now);
    match store.create_user(&user, &hash, &line).await {
        Ok(()) => Ok(user),
        Err(StoreError::Conflict("users_email_key")) => Err(UserError::EmailTaken),
        Err(e) => Err(e.into()),
    }
}

/// Why a login was refused.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown email, wrong password, or a locked user: one answer for all three, so a
    /// login form tells nobody which emails exist.
    #[error("wrong email or password, or too many attempts")]
    Refused,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A session's token, as the browser holds it (its cookie); the store keeps its digest.
#[derive(Debug)]
pub struct SessionToken(pub Secret);

/// The digest a session is stored under.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// What a right password leads to.
#[derive(Debug)]
pub enum Login {
    /// A session: its user and token.
    Session(User, SessionToken),
    /// The user has a second factor: the login waits for it (see [`super::access`]).
    SecondFactor(super::access::ChallengeToken),
}

/// Checks an email and password; on success opens a session and returns its user and token,
/// or, for a user with a second factor, the challenge waiting for it. A wrong password counts
/// towards the lockout; a locked user is refused even with the right password.
pub async fn login(
    store: &Store,
    email: &str,
    password: Secret,
    now: DateTime<Utc>,
) -> Result<Login, LoginError> {
    let email = normalize_email(email);
    if password.expose().chars().count() > MAX_PASSWORD {
        return Err(LoginError::Refused);
    }
    let found = store.user_by_email(&email).await?;
    let (user, hash) = match found {
        Some((u, h)) => (Some(u), h),
        None => (None, DECOY.clone()),
    };
    let matches =
        tokio::task::spawn_blocking(move || verify_password(password.expose(), &hash)).await.unwrap_or(false);
    let Some(user) = user else { return Err(LoginError::Refused) };
    if user.locked_at(now) {
        let line = audit(
            &Actor::User(&user),
            "login.refused_locked",
            user.id.to_string(),
            user.account_id.clone(),
            now,
        );
        store.record_audit(&line).await?;
        return Err(LoginError::Refused);
    }
    if !matches {
        let line =
            audit(&Actor::User(&user), "login.failed", user.id.to_string(), user.account_id.clone(), now);
        let after = store.record_failed_login(&user.id, MAX_FAILURES, now + LOCK_FOR, &line).await?;
        if after.locked_at(now) {
            tracing::warn!(user = %user.id, "dashboard user locked out after repeated wrong passwords");
        }
        return Err(LoginError::Refused);
    }
    if let Some(challenge) = super::access::second_factor_challenge(store, &user, now).await? {
        return Ok(Login::SecondFactor(challenge));
    }
    let token =
        payd_core::apikey::random_hex(32).map_err(|e| StoreError::Corrupt(format!("random source: {e}")))?;
    let line = audit(&Actor::User(&user), "session.login", user.id.to_string(), user.account_id.clone(), now);
    store.open_session(&user.id, &token_hash(&token), now, now + SESSION_TTL, &line).await?;
    Ok(Login::Session(user, SessionToken(Secret::new(token))))
}

/// The live session a token opens at `now`, if any.
pub async fn session(store: &Store, token: &str, now: DateTime<Utc>) -> Result<Option<Session>, StoreError> {
    store.session(&token_hash(token), now).await
}

/// Ends one session.
pub async fn logout(store: &Store, session: &Session, now: DateTime<Utc>) -> Result<(), StoreError> {
    let u = &session.user;
    let line = audit(&Actor::User(u), "session.logout", u.id.to_string(), u.account_id.clone(), now);
    store.close_session(&session.token_hash, &line).await
}

/// Ends every session of the session's user, this one included.
pub async fn logout_everywhere(
    store: &Store,
    session: &Session,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let u = &session.user;
    let line =
        audit(&Actor::User(u), "session.logout_everywhere", u.id.to_string(), u.account_id.clone(), now);
    store.close_user_sessions(&u.id, &line).await
}

/// The merchants a user's data comes from: every one for an operator, their account's for
/// the others. Every dashboard read and change is bounded by this list.
pub async fn merchants_in_reach(store: &Store, user: &User) -> Result<Vec<Merchant>, StoreError> {
    match user.reach() {
        Reach::Everything => store.all_merchants().await,
        Reach::Account(a) => store.merchants_of_account(&a).await,
    }
}

/// Makes a user the actor reaches an admin or a viewer (`role`), with the audit line
/// `user.role` in the same transaction. Never one's own role (another admin or an operator
/// changes it), never an operator's, never the account's last admin to viewer. The user's
/// sessions read their role at each request, so it applies at once. `Ok(false)`: the user had
/// that role already (nothing written).
pub async fn change_role(
    store: &Store,
    actor: &User,
    id: &str,
    role: Role,
    now: DateTime<Utc>,
) -> Result<bool, AccessError> {
    let target = target_in_reach(store, actor, id).await?;
    if target.id == actor.id {
        return Err(AccessError::Invalid("You cannot change your own role; another admin can.".into()));
    }
    if role == Role::Operator || target.role == Role::Operator {
        return Err(AccessError::Invalid("Roles change between admin and viewer only.".into()));
    }
    let mut line =
        audit(&Actor::User(actor), "user.role", target.id.to_string(), target.account_id.clone(), now);
    line.detail = format!("{}: {} to {}", target.email, target.role.as_str(), role.as_str());
    match store.set_user_role(&target.id, role, &actor.id, &line).await {
        Ok(changed) => Ok(changed),
        Err(StoreError::Conflict("last_admin")) => Err(AccessError::Invalid(
            "This is the account's last admin: make another user admin first.".into(),
        )),
        Err(StoreError::Conflict("role")) => {
            Err(AccessError::Invalid("Roles change between admin and viewer only.".into()))
        }
        Err(StoreError::Conflict("actor_role")) => Err(AccessError::Forbidden),
        Err(StoreError::NotFound(_)) => Err(AccessError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// Makes a password reset link's token for a user the actor reaches (never themselves: they
/// change theirs on the Account page). The token is 256 random bits, returned this once; the
/// store keeps its SHA-256; it works once, for [`RESET_TTL`], and replaces the user's older
/// links. Returns the user and the token.
pub async fn create_password_reset(
    store: &Store,
    actor: &User,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(User, Secret), AccessError> {
    let target = target_in_reach(store, actor, id).await?;
    if target.id == actor.id {
        return Err(AccessError::Invalid("Change your own password on the Account page.".into()));
    }
    let token = payd_core::apikey::random_hex(32).map_err(|e| AccessError::Internal(e.to_string()))?;
    let mut line = audit(
        &Actor::User(actor),
        "user.password_reset_link",
        target.id.to_string(),
        target.account_id.clone(),
        now,
    );
    line.detail = target.email.clone();
    store
        .create_password_reset(&target.id, &token_hash(&token), &actor.email, now + RESET_TTL, &line)
        .await?;
    Ok((target, Secret::new(token)))
}

fn well_formed_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The user a pending reset link's token is for, if any (unknown, used, replaced, expired
/// and malformed tokens: `None`).
pub async fn password_reset_for(
    store: &Store,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<User>, StoreError> {
    if !well_formed_token(token) {
        return Ok(None);
    }
    store.password_reset_user(&token_hash(token), now).await
}

/// Uses a reset link: the user's new password (checked like any new password), their lockout
/// lifted, every session and pending login of theirs ended, the link used, with the audit
/// line `user.password_reset`, in one transaction. Nobody is logged in: the user logs in
/// with the new password (and their second factor, if they have one). `NotFound`: the link
/// is not pending.
pub async fn reset_password(
    store: &Store,
    token: &str,
    password: Secret,
    now: DateTime<Utc>,
) -> Result<User, AccessError> {
    let Some(user) = password_reset_for(store, token, now).await? else { return Err(AccessError::NotFound) };
    check_new_password(&password)?;
    let hash = hash_off_thread(password).await?;
    let line =
        audit(&Actor::User(&user), "user.password_reset", user.id.to_string(), user.account_id.clone(), now);
    match store.use_password_reset(&token_hash(token), &user.id, &hash, &line).await {
        Ok(()) => Ok(user),
        Err(StoreError::NotFound(_)) => Err(AccessError::NotFound),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse battery").unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterz", &hash));
        assert!(!verify_password("correct horse battery", "not a phc string"));
    }
}

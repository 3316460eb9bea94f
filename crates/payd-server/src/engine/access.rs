//! Account security and user management for the dashboard: the optional TOTP second factor
//! (RFC 6238, via `totp-rs`; its secret sealed under the master key; a code accepted once),
//! recovery codes (kept as MACs under a key derived from the master key; each used once), the
//! second step of a login, changing a password, invitations (a random link token kept as its
//! SHA-256; seven days; used once), and removing or unlocking users within the actor's reach.
//! Every change writes its audit line in the store's transaction that makes it.

use chrono::{DateTime, Duration, Utc};
use payd_core::crypto::MasterKey;
use payd_core::ids::{AccountId, UserId};
use payd_core::secret::Secret;
use payd_core::user::{Reach, Role, User};
use payd_store::auth::{Invitation, NewSession, SecondFactor, UserEntry};
use payd_store::users::Session;
use payd_store::{Store, StoreError};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

use super::fields;
use super::users::{
    audit, hash_password, normalize_email, token_hash, verify_password, Actor, SessionToken, LOCK_FOR,
    MAX_FAILURES, MAX_PASSWORD, MIN_PASSWORD, SESSION_TTL,
};

/// Seconds in a TOTP time step (RFC 6238's default, which every authenticator app uses).
pub const STEP_SECS: u64 = 30;
/// Digits in a TOTP code.
const DIGITS: usize = 6;
/// Bytes of a TOTP secret (160 bits, RFC 4226's recommendation).
const SECRET_BYTES: usize = 20;
/// How long a login may wait for its second factor.
pub const CHALLENGE_TTL: Duration = Duration::minutes(5);
/// Wrong codes one login may take before it must start over with the password.
pub const CHALLENGE_TRIES: u32 = 3;
/// Recovery codes handed out when TOTP is switched on.
pub const RECOVERY_CODES: usize = 10;
/// Characters of a recovery code (each of 32: 50 bits).
const RECOVERY_LEN: usize = 10;
const RECOVERY_ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
/// How long an invitation's link works.
pub const INVITATION_TTL: Duration = Duration::days(7);
/// The issuer an authenticator app shows beside the account.
const ISSUER: &str = "payd";

/// Why an account or user change was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// A bad value, or a change that does not apply (in words for the user).
    #[error("{0}")]
    Invalid(String),
    /// The code is wrong, or was used already.
    #[error("wrong code")]
    WrongCode,
    /// The password given to confirm is wrong.
    #[error("wrong password")]
    WrongPassword,
    /// Not there, or not the actor's to see (one answer for both).
    #[error("not found")]
    NotFound,
    /// The role may not do this.
    #[error("not allowed")]
    Forbidden,
    /// No randomness, a secret that does not open, a hash that failed.
    #[error("{0}")]
    Internal(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn internal(e: impl std::fmt::Display) -> AccessError {
    AccessError::Internal(e.to_string())
}

fn random_bytes(n: usize) -> Result<Vec<u8>, AccessError> {
    let mut buf = vec![0u8; n];
    getrandom::getrandom(&mut buf).map_err(internal)?;
    Ok(buf)
}

fn totp_of(secret: &[u8]) -> Result<TOTP, AccessError> {
    // SHA-1, six digits, 30 s, one step of skew each way: what authenticator apps assume.
    TOTP::new(Algorithm::SHA1, DIGITS, 1, STEP_SECS, secret.to_vec()).map_err(internal)
}

fn totp_from_sealed(key: &MasterKey, sealed: &str) -> Result<TOTP, AccessError> {
    let b32 = key.open(sealed).map_err(internal)?;
    let bytes = totp_rs::Secret::Encoded(b32.expose().to_owned())
        .to_bytes()
        .map_err(|e| internal(format!("{e:?}")))?;
    totp_of(&bytes)
}

/// The time step `code` is right for at `now` (the step before, the current one or the next,
/// for clocks a little apart). Every candidate is computed and compared in constant time.
pub fn matching_step(totp: &TOTP, code: &str, now: DateTime<Utc>) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = u64::try_from(now.timestamp()).ok()? / STEP_SECS;
    let mut found = None;
    for step in current.saturating_sub(1)..=current + 1 {
        let same: bool = totp.generate(step * STEP_SECS).as_bytes().ct_eq(code.as_bytes()).into();
        if same && found.is_none() {
            found = Some(step);
        }
    }
    found.and_then(|s| i64::try_from(s).ok())
}

/// The `otpauth://` URI an authenticator app reads (from its QR code or pasted).
pub fn otpauth_uri(secret_b32: &str, email: &str) -> String {
    let label: String = url::form_urlencoded::byte_serialize(email.as_bytes()).collect();
    format!(
        "otpauth://totp/{ISSUER}:{label}?secret={secret_b32}&issuer={ISSUER}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}"
    )
}

/// A TOTP set-up waiting for its first code: the secret (base32) and its URI.
#[derive(Debug)]
pub struct TotpSetup {
    /// The secret in base32, for typing into an app.
    pub secret: Secret,
    /// The `otpauth://` URI (holds the secret).
    pub uri: Secret,
}

/// A user's second-factor state, for the account page.
#[derive(Debug, Clone, Copy)]
pub struct TotpState {
    /// Logins ask for a code.
    pub enabled: bool,
    /// Unused recovery codes.
    pub recovery_left: i64,
}

/// Whether TOTP is on for a user, and how many recovery codes are left.
pub async fn totp_state(store: &Store, user: &UserId) -> Result<TotpState, StoreError> {
    let enabled = store.totp(user).await?.is_some_and(|t| t.enabled);
    let recovery_left = if enabled { store.unused_recovery_codes(user).await? } else { 0 };
    Ok(TotpState { enabled, recovery_left })
}

/// Starts a TOTP set-up with a fresh secret (sealed in the store); logins do not ask for a
/// code until [`enable_totp`] saw a right one.
pub async fn begin_totp(
    store: &Store,
    key: &MasterKey,
    user: &User,
    now: DateTime<Utc>,
) -> Result<TotpSetup, AccessError> {
    let bytes = random_bytes(SECRET_BYTES)?;
    let b32 = match totp_rs::Secret::Raw(bytes).to_encoded() {
        totp_rs::Secret::Encoded(s) => s,
        totp_rs::Secret::Raw(_) => return Err(internal("the secret was not encoded")),
    };
    let sealed = key.seal(&Secret::new(b32.clone())).map_err(internal)?;
    let line = audit(&Actor::User(user), "totp.setup", user.id.to_string(), user.account_id.clone(), now);
    match store.begin_totp(&user.id, &sealed, &line).await {
        Ok(()) => {}
        Err(StoreError::Conflict("totp_enabled")) => {
            return Err(AccessError::Invalid("Two-factor authentication is on already.".into()))
        }
        Err(e) => return Err(e.into()),
    }
    let uri = otpauth_uri(&b32, &user.email);
    Ok(TotpSetup { secret: Secret::new(b32), uri: Secret::new(uri) })
}

/// The set-up waiting for its first code, if any (to show it again after a wrong code).
pub async fn pending_totp(
    store: &Store,
    key: &MasterKey,
    user: &User,
) -> Result<Option<TotpSetup>, AccessError> {
    let Some(t) = store.totp(&user.id).await? else { return Ok(None) };
    if t.enabled {
        return Ok(None);
    }
    let b32 = key.open(&t.secret_sealed).map_err(internal)?;
    let uri = otpauth_uri(b32.expose(), &user.email);
    Ok(Some(TotpSetup { secret: b32, uri: Secret::new(uri) }))
}

fn new_recovery_code() -> Result<String, AccessError> {
    let bytes = random_bytes(RECOVERY_LEN)?;
    let chars: String = bytes.iter().map(|b| char::from(RECOVERY_ALPHABET[usize::from(b & 31)])).collect();
    Ok(format!("{}-{}", &chars[..5], &chars[5..]))
}

/// A recovery code as typed (any case, with or without its hyphen and spaces), in the form it
/// is MAC'd; `None` when it cannot be one.
fn normalize_recovery(code: &str) -> Option<String> {
    let c: String =
        code.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_lowercase()).collect();
    (c.len() == RECOVERY_LEN && c.bytes().all(|b| RECOVERY_ALPHABET.contains(&b))).then_some(c)
}

fn recovery_hash(key: &MasterKey, user: &UserId, normalized: &str) -> String {
    hex::encode(key.mac("dashboard-recovery-code", format!("{user}:{normalized}").as_bytes()))
}

/// Switches TOTP on after a right code for the waiting set-up; returns the recovery codes,
/// to be shown this once (the store keeps only their MACs).
pub async fn enable_totp(
    store: &Store,
    key: &MasterKey,
    user: &User,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Secret>, AccessError> {
    let Some(t) = store.totp(&user.id).await?.filter(|t| !t.enabled) else {
        return Err(AccessError::Invalid("There is no set-up waiting for a code: start again.".into()));
    };
    let totp = totp_from_sealed(key, &t.secret_sealed)?;
    let Some(step) = matching_step(&totp, code, now) else { return Err(AccessError::WrongCode) };
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    let mut hashes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let c = new_recovery_code()?;
        hashes.push(recovery_hash(key, &user.id, &normalize_recovery(&c).unwrap_or_default()));
        codes.push(Secret::new(c));
    }
    let line = audit(&Actor::User(user), "totp.enable", user.id.to_string(), user.account_id.clone(), now);
    if !store.enable_totp(&user.id, step, &hashes, &line).await? {
        return Err(AccessError::WrongCode);
    }
    Ok(codes)
}

async fn password_matches(store: &Store, user: &User, password: Secret) -> Result<bool, AccessError> {
    if password.expose().chars().count() > MAX_PASSWORD {
        return Ok(false);
    }
    let Some((_, hash)) = store.user_by_email(&user.email).await? else { return Ok(false) };
    tokio::task::spawn_blocking(move || verify_password(password.expose(), &hash)).await.map_err(internal)
}

/// Switches TOTP off, once the user's password confirms it; the recovery codes go too.
pub async fn disable_totp(
    store: &Store,
    user: &User,
    password: Secret,
    now: DateTime<Utc>,
) -> Result<(), AccessError> {
    if !password_matches(store, user, password).await? {
        return Err(AccessError::WrongPassword);
    }
    let line = audit(&Actor::User(user), "totp.disable", user.id.to_string(), user.account_id.clone(), now);
    if store.disable_totp(&user.id, &line).await? {
        Ok(())
    } else {
        Err(AccessError::Invalid("Two-factor authentication is not on.".into()))
    }
}

/// The token of a login waiting for its second factor (held by the browser in a cookie; the
/// store keeps its SHA-256).
#[derive(Debug)]
pub struct ChallengeToken(pub Secret);

/// After a right password: when the user has TOTP on, opens a challenge (with its audit line)
/// and returns its token; otherwise `None` (the login opens a session at once).
pub async fn second_factor_challenge(
    store: &Store,
    user: &User,
    now: DateTime<Utc>,
) -> Result<Option<ChallengeToken>, StoreError> {
    if !store.totp(&user.id).await?.is_some_and(|t| t.enabled) {
        return Ok(None);
    }
    let token =
        payd_core::apikey::random_hex(32).map_err(|e| StoreError::Corrupt(format!("random source: {e}")))?;
    let line =
        audit(&Actor::User(user), "login.password_ok", user.id.to_string(), user.account_id.clone(), now);
    store.open_challenge(&user.id, &token_hash(&token), now, now + CHALLENGE_TTL, &line).await?;
    Ok(Some(ChallengeToken(Secret::new(token))))
}

/// Why a second factor was refused.
#[derive(Debug, thiserror::Error)]
pub enum SecondFactorError {
    /// No live challenge under that token (expired, ended by wrong codes, or never opened):
    /// log in again.
    #[error("log in again")]
    Expired,
    /// A wrong (or replayed) code, or a locked user; `retry`: the challenge takes more codes.
    #[error("wrong code")]
    Wrong {
        /// Whether the same challenge takes another code.
        retry: bool,
    },
    /// Anything else.
    #[error(transparent)]
    Access(#[from] AccessError),
}

impl From<StoreError> for SecondFactorError {
    fn from(e: StoreError) -> Self {
        Self::Access(e.into())
    }
}

/// Whose login a challenge token belongs to, while it is live.
pub async fn challenge_user(
    store: &Store,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<User>, StoreError> {
    Ok(store.challenge(&token_hash(token), now).await?.map(|c| c.user))
}

/// The second step of a login: a TOTP code (newer than the last accepted one) or an unused
/// recovery code opens the session. A wrong code counts towards the user's lockout and
/// against the challenge; a locked user is refused whatever the code.
pub async fn complete_login(
    store: &Store,
    key: &MasterKey,
    challenge: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<(User, SessionToken), SecondFactorError> {
    let challenge_hash = token_hash(challenge);
    let Some(c) = store.challenge(&challenge_hash, now).await? else {
        return Err(SecondFactorError::Expired);
    };
    let user = c.user;
    let factor = if user.locked_at(now) {
        None
    } else if let Some(recovery) = normalize_recovery(code) {
        Some(SecondFactor::RecoveryCode(recovery_hash(key, &user.id, &recovery)))
    } else {
        match store.totp(&user.id).await? {
            Some(t) if t.enabled => {
                let totp = totp_from_sealed(key, &t.secret_sealed)?;
                matching_step(&totp, code, now).filter(|s| *s > t.last_step).map(SecondFactor::TotpStep)
            }
            _ => None,
        }
    };
    if let Some(factor) = factor {
        let token = payd_core::apikey::random_hex(32).map_err(internal)?;
        let th = token_hash(&token);
        let session = NewSession { token_hash: &th, now, expires_at: now + SESSION_TTL };
        let mut line =
            audit(&Actor::User(&user), "session.login", user.id.to_string(), user.account_id.clone(), now);
        line.detail = match &factor {
            SecondFactor::TotpStep(_) => "with a TOTP code".into(),
            SecondFactor::RecoveryCode(_) => "with a recovery code".into(),
        };
        if store.complete_challenge(&challenge_hash, &user.id, &factor, &session, &line).await? {
            return Ok((user, SessionToken(Secret::new(token))));
        }
    }
    let mut line =
        audit(&Actor::User(&user), "login.failed", user.id.to_string(), user.account_id.clone(), now);
    line.detail = "second factor".into();
    let after = store
        .fail_challenge(&challenge_hash, &user.id, CHALLENGE_TRIES, MAX_FAILURES, now + LOCK_FOR, &line)
        .await?;
    if after.locked_at(now) && !user.locked_at(now) {
        tracing::warn!(user = %user.id, "dashboard user locked out after repeated wrong codes");
    }
    Err(SecondFactorError::Wrong { retry: c.failures + 1 < CHALLENGE_TRIES && !after.locked_at(now) })
}

/// A new password's bounds (the same for every way of setting one).
pub(crate) fn check_new_password(password: &Secret) -> Result<(), AccessError> {
    let chars = password.expose().chars().count();
    if chars < MIN_PASSWORD {
        return Err(AccessError::Invalid(format!(
            "The new password must have at least {MIN_PASSWORD} characters."
        )));
    }
    if chars > MAX_PASSWORD {
        return Err(AccessError::Invalid(format!(
            "The new password must have at most {MAX_PASSWORD} characters."
        )));
    }
    Ok(())
}

/// Hashes a password off the async threads (Argon2id takes tens of milliseconds).
pub(crate) async fn hash_off_thread(password: Secret) -> Result<String, AccessError> {
    tokio::task::spawn_blocking(move || hash_password(password.expose()))
        .await
        .map_err(internal)?
        .map_err(internal)
}

/// Changes the session user's password, once the current one confirms it; every other
/// session of theirs ends.
pub async fn change_password(
    store: &Store,
    session: &Session,
    current: Secret,
    new: Secret,
    now: DateTime<Utc>,
) -> Result<(), AccessError> {
    check_new_password(&new)?;
    let user = &session.user;
    if !password_matches(store, user, current).await? {
        return Err(AccessError::WrongPassword);
    }
    let hash = hash_off_thread(new).await?;
    let line =
        audit(&Actor::User(user), "user.password_change", user.id.to_string(), user.account_id.clone(), now);
    store.change_password(&user.id, &hash, &session.token_hash, &line).await?;
    Ok(())
}

/// An invitation as asked for by the form.
#[derive(Debug)]
pub struct InviteIn {
    /// The invitee's email.
    pub email: String,
    /// The role.
    pub role: Role,
    /// The account (an operator chooses; an admin's own is used).
    pub account: Option<AccountId>,
}

/// Invites someone: an admin to its own account (admin or viewer), an operator to any account
/// or as an operator. Returns the invitation and its link's token (shown once).
pub async fn invite(
    store: &Store,
    actor: &User,
    input: InviteIn,
    now: DateTime<Utc>,
) -> Result<(Invitation, Secret), AccessError> {
    let email = fields::email("email", Some(normalize_email(&input.email)))
        .map_err(|e| AccessError::Invalid(e.to_string()))?
        .ok_or_else(|| AccessError::Invalid("An email is required.".into()))?;
    let account = match (actor.role, input.role) {
        (Role::Viewer, _) => return Err(AccessError::Forbidden),
        (Role::Admin, Role::Operator) => return Err(AccessError::Forbidden),
        (Role::Admin, _) => actor.account_id.clone(),
        (Role::Operator, Role::Operator) => None,
        (Role::Operator, _) => {
            let Some(a) = input.account else {
                return Err(AccessError::Invalid("Choose the account the user joins.".into()));
            };
            if !store.account_exists(&a).await? {
                return Err(AccessError::Invalid("There is no such account.".into()));
            }
            Some(a)
        }
    };
    if store.user_by_email(&email).await?.is_some() {
        return Err(AccessError::Invalid("A user with that email exists.".into()));
    }
    let token = payd_core::apikey::random_hex(32).map_err(internal)?;
    let id = format!("inv_{}", payd_core::apikey::random_hex(12).map_err(internal)?);
    let invitation = Invitation {
        id,
        account_id: account,
        email,
        role: input.role,
        invited_by: actor.email.clone(),
        created_at: now,
        expires_at: now + INVITATION_TTL,
        accepted_at: None,
        revoked_at: None,
    };
    let mut line = audit(
        &Actor::User(actor),
        "invitation.create",
        invitation.id.clone(),
        invitation.account_id.clone(),
        now,
    );
    line.detail = format!("{} as {}", invitation.email, invitation.role.as_str());
    store.create_invitation(&invitation, &token_hash(&token), &line).await?;
    Ok((invitation, Secret::new(token)))
}

fn in_reach(actor: &User, account: Option<&AccountId>) -> bool {
    match actor.reach() {
        Reach::Everything => true,
        Reach::Account(a) => account == Some(&a),
    }
}

/// The pending invitations the actor reaches.
pub async fn pending_invitations(
    store: &Store,
    actor: &User,
    now: DateTime<Utc>,
) -> Result<Vec<Invitation>, StoreError> {
    match actor.reach() {
        Reach::Everything => store.pending_invitations(None, now).await,
        Reach::Account(a) => store.pending_invitations(Some(&a), now).await,
    }
}

/// Revokes a pending invitation the actor reaches (another account's answers `NotFound`).
pub async fn revoke_invitation(
    store: &Store,
    actor: &User,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), AccessError> {
    if !actor.role.can_change() {
        return Err(AccessError::Forbidden);
    }
    let Some(inv) = store.invitation(id).await? else { return Err(AccessError::NotFound) };
    if !in_reach(actor, inv.account_id.as_ref()) {
        return Err(AccessError::NotFound);
    }
    let mut line =
        audit(&Actor::User(actor), "invitation.revoke", inv.id.clone(), inv.account_id.clone(), now);
    line.detail = inv.email.clone();
    if store.revoke_invitation(id, now, &line).await? {
        Ok(())
    } else {
        Err(AccessError::NotFound)
    }
}

fn well_formed_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The pending invitation a link's token opens, if any.
pub async fn invitation_for(
    store: &Store,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Invitation>, StoreError> {
    if !well_formed_token(token) {
        return Ok(None);
    }
    Ok(store.invitation_by_token(&token_hash(token)).await?.filter(|i| i.pending_at(now)))
}

/// Uses an invitation: creates its user with the chosen password and opens a session.
/// `NotFound`: the link is unknown, expired, revoked or used.
pub async fn accept_invitation(
    store: &Store,
    token: &str,
    password: Secret,
    now: DateTime<Utc>,
) -> Result<(User, SessionToken), AccessError> {
    let Some(inv) = invitation_for(store, token, now).await? else { return Err(AccessError::NotFound) };
    check_new_password(&password)?;
    let hash = hash_off_thread(password).await?;
    let user = User {
        id: UserId::new(),
        account_id: inv.account_id.clone(),
        email: inv.email.clone(),
        role: inv.role,
        failed_logins: 0,
        locked_until: None,
        created_at: now,
    };
    let session_token = payd_core::apikey::random_hex(32).map_err(internal)?;
    let th = token_hash(&session_token);
    let actor = Actor::User(&user);
    let mut accepted = audit(&actor, "invitation.accept", inv.id.clone(), user.account_id.clone(), now);
    accepted.detail = format!("invited by {}", inv.invited_by);
    let mut created = audit(&actor, "user.create", user.id.to_string(), user.account_id.clone(), now);
    created.detail = format!("{} by invitation {}", user.role.as_str(), inv.id);
    let login = audit(&actor, "session.login", user.id.to_string(), user.account_id.clone(), now);
    let session = NewSession { token_hash: &th, now, expires_at: now + SESSION_TTL };
    match store
        .accept_invitation(&token_hash(token), &user, &hash, &session, &[accepted, created, login])
        .await
    {
        Ok(()) => Ok((user, SessionToken(Secret::new(session_token)))),
        Err(StoreError::NotFound("invitation")) => Err(AccessError::NotFound),
        Err(StoreError::Conflict("users_email_key")) => {
            Err(AccessError::Invalid("A user with this email exists already: log in instead.".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// The users the actor reaches (an operator: every one), each with their second-factor state.
pub async fn users_in_reach(store: &Store, actor: &User) -> Result<Vec<UserEntry>, StoreError> {
    match actor.reach() {
        Reach::Everything => store.users_of(None).await,
        Reach::Account(a) => store.users_of(Some(&a)).await,
    }
}

/// The user `id` names if the actor may change them: a viewer is `Forbidden`; another
/// account's user, an operator to an admin, and a malformed or unknown id are `NotFound`.
pub(crate) async fn target_in_reach(store: &Store, actor: &User, id: &str) -> Result<User, AccessError> {
    if !actor.role.can_change() {
        return Err(AccessError::Forbidden);
    }
    let Ok(id) = id.parse::<UserId>() else { return Err(AccessError::NotFound) };
    let Some(target) = store.user(&id).await? else { return Err(AccessError::NotFound) };
    // An admin reaches its account's admins and viewers; operators have no account.
    let reachable = match actor.reach() {
        Reach::Everything => true,
        Reach::Account(a) => target.role != Role::Operator && target.account_id.as_ref() == Some(&a),
    };
    if reachable {
        Ok(target)
    } else {
        Err(AccessError::NotFound)
    }
}

/// Removes a user the actor reaches (never themselves, the last admin of an account or the
/// last operator); their sessions end with them.
pub async fn remove_user(
    store: &Store,
    actor: &User,
    id: &str,
    now: DateTime<Utc>,
) -> Result<User, AccessError> {
    let target = target_in_reach(store, actor, id).await?;
    if target.id == actor.id {
        return Err(AccessError::Invalid("You cannot remove yourself; another admin can.".into()));
    }
    let mut line =
        audit(&Actor::User(actor), "user.remove", target.id.to_string(), target.account_id.clone(), now);
    line.detail = format!("{} ({})", target.email, target.role.as_str());
    match store.remove_user(&target.id, &line).await {
        Ok(()) => Ok(target),
        Err(StoreError::Conflict("last_admin")) => {
            Err(AccessError::Invalid("This is the account's last admin: make another admin first.".into()))
        }
        Err(StoreError::Conflict("last_operator")) => {
            Err(AccessError::Invalid("This is the last operator: invite another operator first.".into()))
        }
        Err(StoreError::NotFound(_)) => Err(AccessError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// Lifts a user's lockout early.
pub async fn unlock_user(
    store: &Store,
    actor: &User,
    id: &str,
    now: DateTime<Utc>,
) -> Result<User, AccessError> {
    let target = target_in_reach(store, actor, id).await?;
    let mut line =
        audit(&Actor::User(actor), "user.unlock", target.id.to_string(), target.account_id.clone(), now);
    line.detail = target.email.clone();
    if store.unlock_user(&target.id, &line).await? {
        Ok(target)
    } else {
        Err(AccessError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_matches_its_own_step_and_its_neighbours_only() {
        let totp = totp_of(&[7u8; SECRET_BYTES]).unwrap();
        let now = DateTime::from_timestamp(1_700_000_015, 0).unwrap();
        let step = 1_700_000_015 / 30;
        let code = totp.generate(step * 30);
        assert_eq!(matching_step(&totp, &code, now), i64::try_from(step).ok());
        let before = totp.generate((step - 1) * 30);
        assert_eq!(matching_step(&totp, &before, now), i64::try_from(step - 1).ok());
        let far = totp.generate((step - 3) * 30);
        assert_ne!(far, code);
        assert_eq!(matching_step(&totp, &far, now), None);
        assert_eq!(matching_step(&totp, "12345", now), None);
        assert_eq!(matching_step(&totp, "abcdef", now), None);
    }

    #[test]
    fn recovery_codes_normalize_and_refuse_what_cannot_be_one() {
        let c = new_recovery_code().unwrap();
        assert_eq!(c.len(), RECOVERY_LEN + 1);
        let n = normalize_recovery(&c).unwrap();
        assert_eq!(normalize_recovery(&c.to_uppercase()), Some(n.clone()));
        assert_eq!(normalize_recovery(&format!(" {n} ")), Some(n));
        assert_eq!(normalize_recovery("123456"), None);
        assert_eq!(normalize_recovery("abcde-fghi1"), None);
    }

    #[test]
    fn the_uri_names_the_issuer_and_the_account() {
        let u = otpauth_uri("ABC", "ann@example.com");
        assert!(u.starts_with("otpauth://totp/payd:ann%40example.com?secret=ABC&issuer=payd"), "{u}");
    }
}

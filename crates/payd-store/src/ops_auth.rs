// Queries for the dashboard's account security and user management (TOTP, recovery codes,
// login challenges, password changes, invitations, removing and unlocking users), compiled
// for each backend like ops_users.rs (included into an `auth` submodule of sqlite.rs and
// postgres.rs, which supply `Db`, `BEGIN` and `LOCK_ROW`).

use chrono::{DateTime, Utc};
use payd_core::ids::{AccountId, UserId};
use payd_core::user::User;
use sqlx::{Pool, QueryBuilder};

use super::users::insert_audit;
use crate::auth::{Invitation, InvitationRow, NewSession, SecondFactor};
use crate::rows::ms;
use crate::users::{AuditEntry, UserRow};
use crate::StoreError;

type Tx = sqlx::Transaction<'static, Db>;

const AUTH_USER_COLUMNS: &str = "id, account_id, email, role, failed_logins, locked_until, created_at";
const INVITATION_COLUMNS: &str =
    "id, account_id, email, role, invited_by, created_at, expires_at, accepted_at, revoked_at";

pub(crate) async fn totp(pool: &Pool<Db>, user: &UserId) -> Result<Option<(String, Option<i64>, i64)>, StoreError> {
    Ok(sqlx::query_as("SELECT secret_sealed, enabled_at, last_step FROM user_totp WHERE user_id = $1")
        .bind(user.to_string())
        .fetch_optional(pool)
        .await?)
}

pub(crate) async fn begin_totp(
    pool: &Pool<Db>,
    user: &UserId,
    secret_sealed: &str,
    audit: &AuditEntry,
) -> Result<(), StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    let enabled: Option<Option<i64>> = sqlx::query_scalar(&format!(
        "SELECT enabled_at FROM user_totp WHERE user_id = $1{LOCK_ROW}"
    ))
    .bind(user.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    if matches!(enabled, Some(Some(_))) {
        return Err(StoreError::Conflict("totp_enabled"));
    }
    sqlx::query("DELETE FROM user_totp WHERE user_id = $1").bind(user.to_string()).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO user_totp (user_id, secret_sealed, enabled_at, last_step, created_at) VALUES ($1, $2, NULL, -1, $3)")
        .bind(user.to_string())
        .bind(secret_sealed)
        .bind(ms(audit.at))
        .execute(&mut *tx)
        .await?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(())
}

async fn replace_recovery_codes(tx: &mut Tx, user: &UserId, code_hashes: &[String]) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM user_recovery_codes WHERE user_id = $1")
        .bind(user.to_string())
        .execute(&mut **tx)
        .await?;
    for h in code_hashes {
        sqlx::query("INSERT INTO user_recovery_codes (user_id, code_hash, used_at) VALUES ($1, $2, NULL)")
            .bind(user.to_string())
            .bind(h)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

pub(crate) async fn enable_totp(
    pool: &Pool<Db>,
    user: &UserId,
    step: i64,
    code_hashes: &[String],
    audit: &AuditEntry,
) -> Result<bool, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    let n = sqlx::query(
        "UPDATE user_totp SET enabled_at = $2, last_step = $3 \
         WHERE user_id = $1 AND enabled_at IS NULL AND last_step < $3",
    )
    .bind(user.to_string())
    .bind(ms(audit.at))
    .bind(step)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Ok(false);
    }
    replace_recovery_codes(&mut tx, user, code_hashes).await?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(true)
}

pub(crate) async fn disable_totp(pool: &Pool<Db>, user: &UserId, audit: &AuditEntry) -> Result<bool, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    let n = sqlx::query("DELETE FROM user_totp WHERE user_id = $1 AND enabled_at IS NOT NULL")
        .bind(user.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n != 1 {
        return Ok(false);
    }
    replace_recovery_codes(&mut tx, user, &[]).await?;
    sqlx::query("DELETE FROM login_challenges WHERE user_id = $1").bind(user.to_string()).execute(&mut *tx).await?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(true)
}

pub(crate) async fn unused_recovery_codes(pool: &Pool<Db>, user: &UserId) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM user_recovery_codes WHERE user_id = $1 AND used_at IS NULL")
        .bind(user.to_string())
        .fetch_one(pool)
        .await?)
}

pub(crate) async fn open_challenge(
    pool: &Pool<Db>,
    user: &UserId,
    token_hash: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    audit: &AuditEntry,
) -> Result<(), StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    // A user's ended challenges go with each new one, so the table stays small.
    sqlx::query("DELETE FROM login_challenges WHERE user_id = $1 AND expires_at <= $2")
        .bind(user.to_string())
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO login_challenges (token_hash, user_id, failures, created_at, expires_at) VALUES ($1, $2, 0, $3, $4)",
    )
    .bind(token_hash)
    .bind(user.to_string())
    .bind(ms(now))
    .bind(ms(expires_at))
    .execute(&mut *tx)
    .await?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn challenge(
    pool: &Pool<Db>,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(UserRow, i64, i64)>, StoreError> {
    let found: Option<(String, i64, i64)> =
        sqlx::query_as("SELECT user_id, failures, expires_at FROM login_challenges WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(pool)
            .await?;
    let Some((user_id, failures, expires)) = found else { return Ok(None) };
    if expires <= ms(now) {
        sqlx::query("DELETE FROM login_challenges WHERE token_hash = $1").bind(token_hash).execute(pool).await?;
        return Ok(None);
    }
    let sql = format!("SELECT {AUTH_USER_COLUMNS} FROM users WHERE id = $1");
    let user: Option<UserRow> = sqlx::query_as(&sql).bind(&user_id).fetch_optional(pool).await?;
    Ok(user.map(|u| (u, failures, expires)))
}

pub(crate) async fn complete_challenge(
    pool: &Pool<Db>,
    challenge_hash: &str,
    user: &UserId,
    factor: &SecondFactor,
    session: &NewSession<'_>,
    audit: &AuditEntry,
) -> Result<bool, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    // The challenge is ended first: of two requests racing with one challenge, one wins.
    let ended = sqlx::query("DELETE FROM login_challenges WHERE token_hash = $1 AND user_id = $2 AND expires_at > $3")
        .bind(challenge_hash)
        .bind(user.to_string())
        .bind(ms(session.now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if ended != 1 {
        return Ok(false);
    }
    // Each factor is consumed by one conditional update: a step no newer than the last
    // accepted one, or a used code, changes no row.
    let consumed = match factor {
        SecondFactor::TotpStep(step) => sqlx::query(
            "UPDATE user_totp SET last_step = $2 WHERE user_id = $1 AND enabled_at IS NOT NULL AND last_step < $2",
        )
        .bind(user.to_string())
        .bind(*step)
        .execute(&mut *tx)
        .await?
        .rows_affected(),
        SecondFactor::RecoveryCode(hash) => sqlx::query(
            "UPDATE user_recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
        )
        .bind(user.to_string())
        .bind(hash)
        .bind(ms(session.now))
        .execute(&mut *tx)
        .await?
        .rows_affected(),
    };
    if consumed != 1 {
        return Ok(false);
    }
    sqlx::query("UPDATE users SET failed_logins = 0, updated_at = $2 WHERE id = $1")
        .bind(user.to_string())
        .bind(ms(session.now))
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $3, $4)",
    )
    .bind(session.token_hash)
    .bind(user.to_string())
    .bind(ms(session.now))
    .bind(ms(session.expires_at))
    .execute(&mut *tx)
    .await?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(true)
}

pub(crate) async fn fail_challenge(
    pool: &Pool<Db>,
    challenge_hash: &str,
    user: &UserId,
    max_challenge: u32,
    max_failures: u32,
    lock_until: DateTime<Utc>,
    audit: &AuditEntry,
) -> Result<UserRow, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    sqlx::query("UPDATE login_challenges SET failures = failures + 1 WHERE token_hash = $1")
        .bind(challenge_hash)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM login_challenges WHERE token_hash = $1 AND failures >= $2")
        .bind(challenge_hash)
        .bind(i64::from(max_challenge))
        .execute(&mut *tx)
        .await?;
    // The same single statement as a wrong password's: a wrong code counts towards the lockout.
    sqlx::query(
        "UPDATE users SET \
           locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END, \
           failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END, \
           updated_at = $4 \
         WHERE id = $1",
    )
    .bind(user.to_string())
    .bind(i64::from(max_failures))
    .bind(ms(lock_until))
    .bind(ms(audit.at))
    .execute(&mut *tx)
    .await?;
    // A locked user's pending logins end with the lock.
    sqlx::query(
        "DELETE FROM login_challenges WHERE user_id = $1 \
         AND EXISTS (SELECT 1 FROM users WHERE id = $1 AND locked_until > $2)",
    )
    .bind(user.to_string())
    .bind(ms(audit.at))
    .execute(&mut *tx)
    .await?;
    let sql = format!("SELECT {AUTH_USER_COLUMNS} FROM users WHERE id = $1");
    let row: UserRow = sqlx::query_as(&sql)
        .bind(user.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("user"))?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(row)
}

pub(crate) async fn change_password(
    pool: &Pool<Db>,
    user: &UserId,
    password_hash: &str,
    keep_session: &str,
    audit: &AuditEntry,
) -> Result<(), StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    let n = sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
        .bind(user.to_string())
        .bind(password_hash)
        .bind(ms(audit.at))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n != 1 {
        return Err(StoreError::NotFound("user"));
    }
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
        .bind(user.to_string())
        .bind(keep_session)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM login_challenges WHERE user_id = $1").bind(user.to_string()).execute(&mut *tx).await?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn create_invitation(
    pool: &Pool<Db>,
    i: &Invitation,
    token_hash: &str,
    audit: &AuditEntry,
) -> Result<(), StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    sqlx::query(
        "INSERT INTO invitations (id, token_hash, account_id, email, role, invited_by, created_at, expires_at, accepted_at, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL)",
    )
    .bind(&i.id)
    .bind(token_hash)
    .bind(i.account_id.as_ref().map(ToString::to_string))
    .bind(&i.email)
    .bind(i.role.as_str())
    .bind(&i.invited_by)
    .bind(ms(i.created_at))
    .bind(ms(i.expires_at))
    .execute(&mut *tx)
    .await?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn pending_invitations(
    pool: &Pool<Db>,
    account: Option<&AccountId>,
    now: DateTime<Utc>,
) -> Result<Vec<InvitationRow>, StoreError> {
    let mut q: QueryBuilder<Db> = QueryBuilder::new(format!(
        "SELECT {INVITATION_COLUMNS} FROM invitations WHERE accepted_at IS NULL AND revoked_at IS NULL AND expires_at > "
    ));
    q.push_bind(ms(now));
    if let Some(a) = account {
        q.push(" AND account_id = ").push_bind(a.to_string());
    }
    q.push(" ORDER BY created_at DESC, id DESC");
    Ok(q.build_query_as().fetch_all(pool).await?)
}

pub(crate) async fn invitation(pool: &Pool<Db>, id: &str) -> Result<Option<InvitationRow>, StoreError> {
    let sql = format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?)
}

pub(crate) async fn invitation_by_token(pool: &Pool<Db>, token_hash: &str) -> Result<Option<InvitationRow>, StoreError> {
    let sql = format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE token_hash = $1");
    Ok(sqlx::query_as(&sql).bind(token_hash).fetch_optional(pool).await?)
}

pub(crate) async fn revoke_invitation(
    pool: &Pool<Db>,
    id: &str,
    now: DateTime<Utc>,
    audit: &AuditEntry,
) -> Result<bool, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    let n = sqlx::query(
        "UPDATE invitations SET revoked_at = $2 \
         WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(id)
    .bind(ms(now))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Ok(false);
    }
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(true)
}

pub(crate) async fn accept_invitation(
    pool: &Pool<Db>,
    token_hash: &str,
    user: &User,
    password_hash: &str,
    session: &NewSession<'_>,
    audit: &[AuditEntry],
) -> Result<(), StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    // Used once: of two requests racing with one link, one changes the row.
    let n = sqlx::query(
        "UPDATE invitations SET accepted_at = $2 \
         WHERE token_hash = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(ms(session.now))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(StoreError::NotFound("invitation"));
    }
    let inserted = sqlx::query(
        "INSERT INTO users (id, account_id, email, role, password_hash, failed_logins, locked_until, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 0, NULL, $6, $6)",
    )
    .bind(user.id.to_string())
    .bind(user.account_id.as_ref().map(ToString::to_string))
    .bind(&user.email)
    .bind(user.role.as_str())
    .bind(password_hash)
    .bind(ms(user.created_at))
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => {}
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            return Err(StoreError::Conflict("users_email_key"));
        }
        Err(e) => return Err(e.into()),
    }
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $3, $4)",
    )
    .bind(session.token_hash)
    .bind(user.id.to_string())
    .bind(ms(session.now))
    .bind(ms(session.expires_at))
    .execute(&mut *tx)
    .await?;
    for a in audit {
        insert_audit(&mut tx, a).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn users_of(pool: &Pool<Db>, account: Option<&AccountId>) -> Result<Vec<(UserRow, bool)>, StoreError> {
    let mut q: QueryBuilder<Db> = QueryBuilder::new(format!("SELECT {AUTH_USER_COLUMNS} FROM users"));
    if let Some(a) = account {
        q.push(" WHERE account_id = ").push_bind(a.to_string());
    }
    q.push(" ORDER BY email");
    let rows: Vec<UserRow> = q.build_query_as().fetch_all(pool).await?;
    let on: Vec<String> = sqlx::query_scalar("SELECT user_id FROM user_totp WHERE enabled_at IS NOT NULL")
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let totp = on.contains(&r.id);
            (r, totp)
        })
        .collect())
}

pub(crate) async fn user(pool: &Pool<Db>, id: &UserId) -> Result<Option<UserRow>, StoreError> {
    let sql = format!("SELECT {AUTH_USER_COLUMNS} FROM users WHERE id = $1");
    Ok(sqlx::query_as(&sql).bind(id.to_string()).fetch_optional(pool).await?)
}

pub(crate) async fn remove_user(pool: &Pool<Db>, id: &UserId, audit: &AuditEntry) -> Result<(), StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    let found: Option<(String, Option<String>)> =
        sqlx::query_as(&format!("SELECT role, account_id FROM users WHERE id = $1{LOCK_ROW}"))
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
    let Some((role, account)) = found else { return Err(StoreError::NotFound("user")) };
    // The peers' rows are locked (PostgreSQL; SQLite's BEGIN IMMEDIATE holds the write lock),
    // so two admins removing each other at once cannot leave the account without one.
    let peers: Vec<String> = match (role.as_str(), &account) {
        ("admin", Some(a)) => {
            sqlx::query_scalar(&format!("SELECT id FROM users WHERE account_id = $1 AND role = 'admin'{LOCK_ROW}"))
                .bind(a)
                .fetch_all(&mut *tx)
                .await?
        }
        ("operator", _) => {
            sqlx::query_scalar(&format!("SELECT id FROM users WHERE role = 'operator'{LOCK_ROW}"))
                .fetch_all(&mut *tx)
                .await?
        }
        _ => Vec::new(),
    };
    let others = peers.iter().filter(|p| **p != id.to_string()).count();
    match role.as_str() {
        "admin" if others == 0 => return Err(StoreError::Conflict("last_admin")),
        "operator" if others == 0 => return Err(StoreError::Conflict("last_operator")),
        _ => {}
    }
    for sql in [
        "DELETE FROM sessions WHERE user_id = $1",
        "DELETE FROM login_challenges WHERE user_id = $1",
        "DELETE FROM user_recovery_codes WHERE user_id = $1",
        "DELETE FROM user_totp WHERE user_id = $1",
        "DELETE FROM password_resets WHERE user_id = $1",
        // The lines stay, with the user's email as their actor.
        "UPDATE audit_log SET user_id = NULL WHERE user_id = $1",
        "DELETE FROM users WHERE id = $1",
    ] {
        sqlx::query(sql).bind(id.to_string()).execute(&mut *tx).await?;
    }
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn unlock_user(pool: &Pool<Db>, id: &UserId, audit: &AuditEntry) -> Result<bool, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    let n = sqlx::query("UPDATE users SET locked_until = NULL, failed_logins = 0, updated_at = $2 WHERE id = $1")
        .bind(id.to_string())
        .bind(ms(audit.at))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n != 1 {
        return Ok(false);
    }
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(true)
}

pub(crate) async fn set_user_role(
    pool: &Pool<Db>,
    id: &UserId,
    role: &str,
    actor: &UserId,
    audit: &AuditEntry,
) -> Result<bool, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    let found: Option<(Option<String>,)> = sqlx::query_as("SELECT account_id FROM users WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
    let account = match found {
        None => return Err(StoreError::NotFound("user")),
        // Operators belong to no account and are not given roles here.
        Some((None,)) => return Err(StoreError::Conflict("role")),
        Some((Some(a),)) => a,
    };
    // Every user of the account, locked in one order (PostgreSQL; SQLite's BEGIN IMMEDIATE
    // holds the write lock): two admins demoting each other at once queue instead of both
    // seeing another admin, and cannot lock each other out.
    let peers: Vec<(String, String)> =
        sqlx::query_as(&format!("SELECT id, role FROM users WHERE account_id = $1 ORDER BY id{LOCK_ROW}"))
            .bind(&account)
            .fetch_all(&mut *tx)
            .await?;
    let target = id.to_string();
    let Some((_, current)) = peers.iter().find(|(p, _)| *p == target) else {
        return Err(StoreError::NotFound("user"));
    };
    // The actor's right is checked again under the lock: an admin demoted a moment ago no
    // longer changes roles.
    let actor_id = actor.to_string();
    let allowed = match peers.iter().find(|(p, _)| *p == actor_id) {
        Some((_, r)) => r == "admin",
        None => {
            let r: Option<String> = sqlx::query_scalar("SELECT role FROM users WHERE id = $1")
                .bind(&actor_id)
                .fetch_optional(&mut *tx)
                .await?;
            r.as_deref() == Some("operator")
        }
    };
    if !allowed {
        return Err(StoreError::Conflict("actor_role"));
    }
    if current == role {
        return Ok(false);
    }
    let admins_left = peers.iter().filter(|(p, r)| *p != target && r == "admin").count();
    if current == "admin" && admins_left == 0 {
        return Err(StoreError::Conflict("last_admin"));
    }
    sqlx::query("UPDATE users SET role = $2, updated_at = $3 WHERE id = $1")
        .bind(&target)
        .bind(role)
        .bind(ms(audit.at))
        .execute(&mut *tx)
        .await?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(true)
}

pub(crate) async fn create_password_reset(
    pool: &Pool<Db>,
    user: &UserId,
    token_hash: &str,
    created_by: &str,
    expires_at: DateTime<Utc>,
    audit: &AuditEntry,
) -> Result<(), StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    // Only the newest link works: one handed to the wrong person is undone by making another.
    sqlx::query("DELETE FROM password_resets WHERE user_id = $1 AND used_at IS NULL")
        .bind(user.to_string())
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO password_resets (token_hash, user_id, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user.to_string())
    .bind(created_by)
    .bind(ms(audit.at))
    .bind(ms(expires_at))
    .execute(&mut *tx)
    .await?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn password_reset_user(
    pool: &Pool<Db>,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<UserRow>, StoreError> {
    let sql = format!(
        "SELECT {AUTH_USER_COLUMNS} FROM users WHERE id = (SELECT user_id FROM password_resets \
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2)"
    );
    Ok(sqlx::query_as(&sql).bind(token_hash).bind(ms(now)).fetch_optional(pool).await?)
}

pub(crate) async fn use_password_reset(
    pool: &Pool<Db>,
    token_hash: &str,
    user: &UserId,
    password_hash: &str,
    audit: &AuditEntry,
) -> Result<(), StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    // Claimed by the update itself: of two uses racing, the second finds it used.
    let n = sqlx::query(
        "UPDATE password_resets SET used_at = $3 WHERE token_hash = $1 AND user_id = $2 \
         AND used_at IS NULL AND expires_at > $3",
    )
    .bind(token_hash)
    .bind(user.to_string())
    .bind(ms(audit.at))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(StoreError::NotFound("password_reset"));
    }
    sqlx::query(
        "UPDATE users SET password_hash = $2, failed_logins = 0, locked_until = NULL, updated_at = $3 WHERE id = $1",
    )
    .bind(user.to_string())
    .bind(password_hash)
    .bind(ms(audit.at))
    .execute(&mut *tx)
    .await?;
    // Whoever knew the old password is logged out everywhere.
    for sql in ["DELETE FROM sessions WHERE user_id = $1", "DELETE FROM login_challenges WHERE user_id = $1"] {
        sqlx::query(sql).bind(user.to_string()).execute(&mut *tx).await?;
    }
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(())
}

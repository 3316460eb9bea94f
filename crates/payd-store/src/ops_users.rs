// Queries for the merchant dashboard (users, sessions, the audit log, the payment search),
// compiled for each backend like ops.rs (included into a `users` submodule of sqlite.rs and
// postgres.rs, which supply `Db`, `BEGIN` and the payment columns).

use chrono::{DateTime, Utc};
use payd_core::apikey::{ApiKey, Mode};
use payd_core::ids::{AccountId, UserId};
use payd_core::merchant::Merchant;
use payd_core::payment::Payment;
use payd_core::user::User;
use sqlx::{Pool, QueryBuilder};

use crate::rows::{ms, ApiKeyRow, MerchantRow, PaymentRow};
use crate::users::{AuditEntry, AuditRow, DashboardFilter, UserRow};
use crate::StoreError;

type Tx = sqlx::Transaction<'static, Db>;

const USER_COLUMNS: &str = "id, account_id, email, role, failed_logins, locked_until, created_at";

/// Sessions are marked seen at most this often (ms): a page view is not a write.
const SEEN_EVERY_MS: i64 = 60_000;

pub(crate) async fn insert_audit(tx: &mut Tx, a: &AuditEntry) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (at, user_id, actor, account_id, action, target, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(ms(a.at))
    .bind(a.user_id.as_ref().map(ToString::to_string))
    .bind(&a.actor)
    .bind(a.account_id.as_ref().map(ToString::to_string))
    .bind(&a.action)
    .bind(&a.target)
    .bind(&a.detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) async fn create_user(
    pool: &Pool<Db>,
    user: &User,
    password_hash: &str,
    audit: &AuditEntry,
) -> Result<(), StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
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
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn user_by_email(pool: &Pool<Db>, email: &str) -> Result<Option<(UserRow, String)>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
    let Some(row) = sqlx::query_as::<_, UserRow>(&sql).bind(email).fetch_optional(pool).await? else {
        return Ok(None);
    };
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(&row.id)
        .fetch_one(pool)
        .await?;
    Ok(Some((row, hash)))
}

pub(crate) async fn account_exists(pool: &Pool<Db>, account: &AccountId) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE id = $1")
        .bind(account.to_string())
        .fetch_one(pool)
        .await?;
    Ok(n > 0)
}

pub(crate) async fn record_failed_login(
    pool: &Pool<Db>,
    user: &UserId,
    max_failures: u32,
    lock_until: DateTime<Utc>,
    audit: &AuditEntry,
) -> Result<UserRow, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    // One statement reads and bumps the count, so concurrent wrong guesses all count.
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
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    let row: UserRow = sqlx::query_as(&sql)
        .bind(user.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("user"))?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(row)
}

pub(crate) async fn open_session(
    pool: &Pool<Db>,
    user: &UserId,
    token_hash: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    audit: &AuditEntry,
) -> Result<(), StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    sqlx::query("UPDATE users SET failed_logins = 0, updated_at = $2 WHERE id = $1")
        .bind(user.to_string())
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $3, $4)",
    )
    .bind(token_hash)
    .bind(user.to_string())
    .bind(ms(now))
    .bind(ms(expires_at))
    .execute(&mut *tx)
    .await?;
    // Expired sessions of this user go with each login, so the table stays the size of the
    // sessions in use.
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND expires_at <= $2")
        .bind(user.to_string())
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(())
}

type SessionRow = (UserRow, i64, i64, i64);

pub(crate) async fn session(
    pool: &Pool<Db>,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<SessionRow>, StoreError> {
    let found: Option<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT user_id, created_at, last_seen_at, expires_at FROM sessions WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    let Some((user_id, created, seen, expires)) = found else { return Ok(None) };
    let now_ms = ms(now);
    if expires <= now_ms {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(pool).await?;
        return Ok(None);
    }
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    let Some(user) = sqlx::query_as::<_, UserRow>(&sql).bind(&user_id).fetch_optional(pool).await? else {
        return Ok(None);
    };
    let mut seen = seen;
    if now_ms - seen > SEEN_EVERY_MS {
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
            .bind(token_hash)
            .bind(now_ms)
            .execute(pool)
            .await?;
        seen = now_ms;
    }
    Ok(Some((user, created, seen, expires)))
}

pub(crate) async fn close_session(pool: &Pool<Db>, token_hash: &str, audit: &AuditEntry) -> Result<(), StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *tx).await?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn close_user_sessions(
    pool: &Pool<Db>,
    user: &UserId,
    audit: &AuditEntry,
) -> Result<u64, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    let n = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(n)
}

pub(crate) async fn record_audit(pool: &Pool<Db>, audit: &AuditEntry) -> Result<(), StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn audit_log(
    pool: &Pool<Db>,
    account: Option<&AccountId>,
    limit: u32,
) -> Result<Vec<AuditRow>, StoreError> {
    let mut q: QueryBuilder<Db> =
        QueryBuilder::new("SELECT at, user_id, actor, account_id, action, target, detail FROM audit_log");
    if let Some(a) = account {
        q.push(" WHERE account_id = ").push_bind(a.to_string());
    }
    q.push(" ORDER BY at DESC, id DESC LIMIT ").push_bind(i64::from(limit));
    Ok(q.build_query_as().fetch_all(pool).await?)
}

pub(crate) async fn all_merchants(pool: &Pool<Db>) -> Result<Vec<Merchant>, StoreError> {
    let sql = format!("SELECT {MERCHANT_COLUMNS} FROM merchants ORDER BY id");
    let rows: Vec<MerchantRow> = sqlx::query_as(&sql).fetch_all(pool).await?;
    rows.into_iter().map(Merchant::try_from).collect()
}

fn push_dashboard_filter(q: &mut QueryBuilder<'_, Db>, f: &DashboardFilter) {
    q.push(" WHERE mode = ").push_bind(f.mode.as_str());
    q.push(" AND merchant_id IN (");
    let mut sep = q.separated(", ");
    for m in &f.merchant_ids {
        sep.push_bind(m.to_string());
    }
    q.push(")");
    if let Some(status) = f.status {
        q.push(" AND status = ").push_bind(status.as_str());
    }
    for (column, on) in [("underpaid", f.underpaid), ("overpaid", f.overpaid), ("paid_late", f.paid_late)] {
        if on {
            q.push(format!(" AND {column} = ")).push_bind(true);
        }
    }
    if let Some(network) = &f.network {
        q.push(" AND network = ").push_bind(network.clone());
    }
    if let Some(token) = &f.token {
        q.push(" AND token = ").push_bind(token.clone());
    }
    if let Some(gte) = f.created_gte {
        q.push(" AND created_at >= ").push_bind(ms(gte));
    }
    if let Some(lt) = f.created_lt {
        q.push(" AND created_at < ").push_bind(ms(lt));
    }
    if !f.search.is_empty() {
        q.push(" AND (FALSE");
        for column in ["id", "slug", "reference", "external_id", "invoice", "customer_email", "deposit_address"] {
            q.push(format!(" OR {column} IN ("));
            let mut sep = q.separated(", ");
            for s in &f.search {
                sep.push_bind(s.clone());
            }
            q.push(")");
        }
        q.push(" OR id IN (SELECT payment_id FROM chain_transfers WHERE payment_id IS NOT NULL AND tx_hash IN (");
        let mut sep = q.separated(", ");
        for s in &f.search {
            sep.push_bind(s.clone());
        }
        q.push(")))");
    }
}

pub(crate) async fn dashboard_payments(pool: &Pool<Db>, f: &DashboardFilter) -> Result<Vec<Payment>, StoreError> {
    let mut q: QueryBuilder<Db> = QueryBuilder::new(format!("SELECT {PAYMENT_COLUMNS} FROM payments"));
    push_dashboard_filter(&mut q, f);
    q.push(" ORDER BY created_at DESC, id DESC LIMIT ").push_bind(i64::from(f.limit));
    q.push(" OFFSET ").push_bind(i64::from(f.offset));
    let rows: Vec<PaymentRow> = q.build_query_as().fetch_all(pool).await?;
    rows.into_iter().map(Payment::try_from).collect()
}

pub(crate) async fn count_dashboard_payments(pool: &Pool<Db>, f: &DashboardFilter) -> Result<i64, StoreError> {
    let mut q: QueryBuilder<Db> = QueryBuilder::new("SELECT COUNT(*) FROM payments");
    push_dashboard_filter(&mut q, f);
    let (n,): (i64,) = q.build_query_as().fetch_one(pool).await?;
    Ok(n)
}

pub(crate) async fn dashboard_api_keys(
    pool: &Pool<Db>,
    accounts: Option<&[AccountId]>,
    mode: Mode,
) -> Result<Vec<ApiKey>, StoreError> {
    let mut q: QueryBuilder<Db> = QueryBuilder::new(format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE mode = "));
    q.push_bind(mode.as_str());
    if let Some(accounts) = accounts {
        q.push(" AND account_id IN (");
        let mut sep = q.separated(", ");
        for a in accounts {
            sep.push_bind(a.to_string());
        }
        q.push(")");
    }
    q.push(" ORDER BY created_at DESC, id DESC");
    let rows: Vec<ApiKeyRow> = q.build_query_as().fetch_all(pool).await?;
    rows.into_iter().map(ApiKey::try_from).collect()
}

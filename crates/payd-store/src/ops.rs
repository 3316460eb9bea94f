// Every query of the store, written once and compiled for each backend: `sqlite.rs` and
// `postgres.rs` include this file with their own `Db` and `BEGIN`. Placeholders are `$N`,
// which both drivers accept, and the SQL keeps to what SQLite and PostgreSQL share.
// (No inner doc comment here: this file is `include!`d.)

use chrono::{DateTime, Utc};
use payd_core::apikey::ApiKey;
use payd_core::event::{Event, EventKind};
use payd_core::ids::{AccountId, ApiKeyId, EventId, MerchantId, PaymentId};
use payd_core::merchant::{Merchant, MerchantStatus, NewMerchant};
use payd_core::payment::Payment;
use sqlx::{Pool, QueryBuilder};

use crate::rows::{ms, scopes_text, ApiKeyRow, EventRow, MerchantRow, PaymentRow};
use crate::batch::CreateJob;
use crate::{
    AddressPlan, CreateOutcome, IdempotencyRequest, PaymentFilter, StoreError, StoredResponse, MUTATE_RETRIES,
};

type Tx = sqlx::Transaction<'static, Db>;

const MERCHANT_COLUMNS: &str = "id, account_id, name, email, site_url, logo_url, status, \
     settlement_token, settlement_network, created_at, updated_at";

const PAYMENT_COLUMNS: &str = "id, merchant_id, mode, dialect, slug, status, underpaid, overpaid, \
     paid_late, price_amount, price_currency, fx_rate, fx_source, fx_quote_currency, fx_quote_amount, \
     token, network, token_decimals, amount_due, confirmations, deposit_address, received_confirmed, \
     received_pending, customer_external_id, customer_email, customer_name, reference, external_id, \
     invoice, description, line_items, metadata, success_url, cancel_url, failure_url, back_url, \
     idempotency_key, client_id, product_id, expires_at, created_at, updated_at, completed_at, version, \
     partial_seen, paid_in_time, received_late";

const KEY_COLUMNS: &str =
    "id, account_id, merchant_id, mode, scopes, prefix, signing_secret_sealed, created_at, revoked_at, \
     last_used_at";

pub(crate) async fn ping(pool: &Pool<Db>) -> Result<(), StoreError> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}

// ---- accounts and merchants ----

pub(crate) async fn create_merchant(
    pool: &Pool<Db>,
    new: &NewMerchant,
    now: DateTime<Utc>,
) -> Result<Merchant, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    let account_id = match &new.account_id {
        Some(id) => {
            let found: Option<(String,)> = sqlx::query_as("SELECT id FROM accounts WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                return Err(StoreError::NotFound("account"));
            }
            id.clone()
        }
        None => {
            let id = AccountId::new();
            sqlx::query("INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3)")
                .bind(id.to_string())
                .bind(&new.name)
                .bind(ms(now))
                .execute(&mut *tx)
                .await?;
            id
        }
    };
    let id = MerchantId::new();
    sqlx::query(
        "INSERT INTO merchants (id, account_id, name, email, site_url, logo_url, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $7)",
    )
    .bind(id.to_string())
    .bind(account_id.to_string())
    .bind(&new.name)
    .bind(&new.email)
    .bind(&new.site_url)
    .bind(&new.logo_url)
    .bind(ms(now))
    .execute(&mut *tx)
    .await?;
    let merchant = get_merchant_in(&mut tx, &id).await?.ok_or(StoreError::NotFound("merchant"))?;
    tx.commit().await?;
    Ok(merchant)
}

async fn get_merchant_in(tx: &mut Tx, id: &MerchantId) -> Result<Option<Merchant>, StoreError> {
    let sql = format!("SELECT {MERCHANT_COLUMNS} FROM merchants WHERE id = $1");
    let row: Option<MerchantRow> = sqlx::query_as(&sql).bind(id.to_string()).fetch_optional(&mut **tx).await?;
    row.map(Merchant::try_from).transpose()
}

pub(crate) async fn get_merchant(pool: &Pool<Db>, id: &MerchantId) -> Result<Option<Merchant>, StoreError> {
    let sql = format!("SELECT {MERCHANT_COLUMNS} FROM merchants WHERE id = $1");
    let row: Option<MerchantRow> = sqlx::query_as(&sql).bind(id.to_string()).fetch_optional(pool).await?;
    row.map(Merchant::try_from).transpose()
}

pub(crate) async fn merchants_of_account(
    pool: &Pool<Db>,
    account: &AccountId,
) -> Result<Vec<Merchant>, StoreError> {
    let sql = format!("SELECT {MERCHANT_COLUMNS} FROM merchants WHERE account_id = $1 ORDER BY id");
    let rows: Vec<MerchantRow> = sqlx::query_as(&sql).bind(account.to_string()).fetch_all(pool).await?;
    rows.into_iter().map(Merchant::try_from).collect()
}

pub(crate) async fn count_merchants(pool: &Pool<Db>) -> Result<i64, StoreError> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM merchants").fetch_one(pool).await?;
    Ok(n)
}

pub(crate) async fn set_merchant_status(
    pool: &Pool<Db>,
    id: &MerchantId,
    status: MerchantStatus,
    now: DateTime<Utc>,
) -> Result<Merchant, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    let done = sqlx::query("UPDATE merchants SET status = $2, updated_at = $3 WHERE id = $1")
        .bind(id.to_string())
        .bind(status.as_str())
        .bind(ms(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if done == 0 {
        return Err(StoreError::NotFound("merchant"));
    }
    let merchant = get_merchant_in(&mut tx, id).await?.ok_or(StoreError::NotFound("merchant"))?;
    tx.commit().await?;
    Ok(merchant)
}

// ---- API keys ----

pub(crate) async fn insert_api_key<'e, E>(exec: E, key: &ApiKey, key_hash: &str) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    sqlx::query(
        "INSERT INTO api_keys (id, account_id, merchant_id, mode, scopes, key_hash, prefix, \
         signing_secret_sealed, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)",
    )
    .bind(key.id.to_string())
    .bind(key.account_id.to_string())
    .bind(key.merchant_id.as_ref().map(ToString::to_string))
    .bind(key.mode.as_str())
    .bind(scopes_text(&key.scopes))
    .bind(key_hash)
    .bind(&key.prefix)
    .bind(&key.signing_secret_sealed)
    .bind(ms(key.created_at))
    .execute(exec)
    .await?;
    Ok(())
}

pub(crate) async fn find_api_key_by_hash(pool: &Pool<Db>, hash: &str) -> Result<Option<ApiKey>, StoreError> {
    let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = $1");
    let row: Option<ApiKeyRow> = sqlx::query_as(&sql).bind(hash).fetch_optional(pool).await?;
    row.map(ApiKey::try_from).transpose()
}

pub(crate) async fn get_api_key(pool: &Pool<Db>, id: &ApiKeyId) -> Result<Option<ApiKey>, StoreError> {
    let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1");
    let row: Option<ApiKeyRow> = sqlx::query_as(&sql).bind(id.to_string()).fetch_optional(pool).await?;
    row.map(ApiKey::try_from).transpose()
}

pub(crate) async fn revoke_api_key<'e, E>(exec: E, id: &ApiKeyId, now: DateTime<Utc>) -> Result<bool, StoreError>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let n = sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(id.to_string())
        .bind(ms(now))
        .execute(exec)
        .await?
        .rows_affected();
    Ok(n > 0)
}

/// Records that `id` authenticated a request at `at`; a recorded time never moves back (two
/// nodes noting uses out of order keep the later).
pub(crate) async fn note_api_key_use(pool: &Pool<Db>, id: &ApiKeyId, at: DateTime<Utc>) -> Result<(), StoreError> {
    sqlx::query("UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)")
        .bind(id.to_string())
        .bind(ms(at))
        .execute(pool)
        .await?;
    Ok(())
}

// ---- payments ----

async fn insert_payment(tx: &mut Tx, p: &Payment) -> Result<(), StoreError> {
    insert_payments(tx, std::slice::from_ref(p)).await
}

/// Writes the mutable part of a payment, only if nobody changed it since `expected_version`.
async fn update_payment(tx: &mut Tx, p: &Payment, expected_version: i64) -> Result<bool, StoreError> {
    let r = PaymentRow::from_payment(p)?;
    let n = sqlx::query(
        "UPDATE payments SET status = $2, underpaid = $3, overpaid = $4, paid_late = $5, \
         token = $6, network = $7, token_decimals = $8, amount_due = $9, confirmations = $10, \
         deposit_address = $11, received_confirmed = $12, received_pending = $13, expires_at = $14, \
         updated_at = $15, completed_at = $16, version = $17, fx_rate = $18, fx_source = $19, \
         fx_quote_currency = $20, fx_quote_amount = $21, partial_seen = $23, paid_in_time = $24, \
         received_late = $25 WHERE id = $1 AND version = $22",
    )
    .bind(r.id)
    .bind(r.status)
    .bind(r.underpaid)
    .bind(r.overpaid)
    .bind(r.paid_late)
    .bind(r.token)
    .bind(r.network)
    .bind(r.token_decimals)
    .bind(r.amount_due)
    .bind(r.confirmations)
    .bind(r.deposit_address)
    .bind(r.received_confirmed)
    .bind(r.received_pending)
    .bind(r.expires_at)
    .bind(r.updated_at)
    .bind(r.completed_at)
    .bind(r.version)
    .bind(r.fx_rate)
    .bind(r.fx_source)
    .bind(r.fx_quote_currency)
    .bind(r.fx_quote_amount)
    .bind(expected_version)
    .bind(r.partial_seen)
    .bind(r.paid_in_time)
    .bind(r.received_late)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Writes the events of one change of `p` (from `before`, `None` at creation) and, in the same
/// transaction, the webhook deliveries they fan out to.
async fn insert_events(
    tx: &mut Tx,
    before: Option<&Payment>,
    p: &Payment,
    kinds: &[EventKind],
) -> Result<Vec<Event>, StoreError> {
    let (text, out) = build_events(p, kinds)?;
    insert_event_rows(tx, &[(text.as_str(), out.as_slice())]).await?;
    // The deliveries of these events commit or roll back with them: none is lost, none is
    // sent for a change that did not happen.
    webhooks::fan_out(tx, before, p, &out).await?;
    Ok(out)
}

/// The events of one change of `p`, and the payload text they share (the payment as it is now).
fn build_events(p: &Payment, kinds: &[EventKind]) -> Result<(String, Vec<Event>), StoreError> {
    let payload = serde_json::to_value(p).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let text = payload.to_string();
    let events = kinds
        .iter()
        .map(|kind| Event {
            id: EventId::new(),
            kind: *kind,
            payment_id: p.id.clone(),
            merchant_id: p.merchant_id.clone(),
            mode: p.mode,
            sequence: p.version,
            payload: payload.clone(),
            created_at: p.updated_at,
        })
        .collect();
    Ok((text, events))
}

async fn find_idempotency<'e, E>(
    exec: E,
    req: &IdempotencyRequest,
) -> Result<Option<(String, StoredResponse, Option<String>)>, StoreError>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let row: Option<(String, i64, String, Option<String>)> = sqlx::query_as(
        "SELECT fingerprint, response_status, response_body, payment_id FROM idempotency_keys \
         WHERE merchant_id = $1 AND mode = $2 AND key = $3 AND api = $4",
    )
    .bind(req.merchant_id.to_string())
    .bind(req.mode.as_str())
    .bind(&req.key)
    .bind(req.api.as_str())
    .fetch_optional(exec)
    .await?;
    row.map(|(fp, status, body, pid)| {
        let status = u16::try_from(status).map_err(|_| crate::rows::corrupt("response status", status))?;
        Ok((fp, StoredResponse { status, body }, pid))
    })
    .transpose()
}

/// The replay a create with `req` would get, read outside any create: a key claimed by a
/// create still in flight is not visible yet (its claim commits with its response).
pub(crate) async fn idempotent_replay(
    pool: &Pool<Db>,
    req: &IdempotencyRequest,
) -> Result<Option<CreateOutcome>, StoreError> {
    Ok(find_idempotency(pool, req).await?.map(|found| replay(req, found)))
}

fn replay(req: &IdempotencyRequest, found: (String, StoredResponse, Option<String>)) -> CreateOutcome {
    let (fingerprint, response, payment_id) = found;
    CreateOutcome::Replayed {
        same_request: fingerprint == req.fingerprint,
        response,
        payment_id: payment_id.and_then(|p| p.parse().ok()),
    }
}

/// One create inside a transaction the caller owns (the writer's batch, within a savepoint):
/// the idempotency key claimed first, then the address, the payment, its events, and the
/// response saved for the key.
async fn create_in(tx: &mut Tx, job: &CreateJob) -> Result<CreateOutcome, StoreError> {
    let idempotency = job.idempotency.as_ref();
    if let Some(req) = idempotency {
        // Claim the key; a key already claimed inserts nothing and its saved response is
        // read instead. A concurrent request holding the same key makes this wait for it
        // (PostgreSQL) or is serialised by BEGIN IMMEDIATE (SQLite); either way, if it
        // committed, its saved response is now visible.
        let claimed = sqlx::query(
            "INSERT INTO idempotency_keys (merchant_id, mode, api, key, fingerprint, payment_id, response_status, \
             response_body, created_at) VALUES ($1, $2, $3, $4, $5, NULL, 0, '', $6) ON CONFLICT DO NOTHING",
        )
        .bind(req.merchant_id.to_string())
        .bind(req.mode.as_str())
        .bind(req.api.as_str())
        .bind(&req.key)
        .bind(&req.fingerprint)
        .bind(ms(job.payment.created_at))
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            let found =
                find_idempotency(&mut **tx, req).await?.ok_or(StoreError::Conflict("idempotency_key"))?;
            return Ok(replay(req, found));
        }
    }
    // Only now, with the key claimed, is an address taken: a replay never allocates one.
    let mut payment = job.payment.clone();
    if let Some(plan) = &job.address {
        let addr = assign_address(tx, plan, &payment).await?;
        if let Some(asset) = payment.asset.as_mut() {
            asset.address = Some(addr);
        }
    }
    insert_payment(tx, &payment).await?;
    let mut events = insert_events(tx, None, &payment, &job.events).await?;
    if let Some(client) = &payment.client_id {
        events.extend(supersede_client_payments(tx, &payment, client).await?);
    }
    let response = (job.render)(&payment)?;
    if let Some(req) = idempotency {
        sqlx::query(
            "UPDATE idempotency_keys SET payment_id = $4, response_status = $5, response_body = $6 \
             WHERE merchant_id = $1 AND mode = $2 AND key = $3 AND api = $7",
        )
        .bind(req.merchant_id.to_string())
        .bind(req.mode.as_str())
        .bind(&req.key)
        .bind(payment.id.to_string())
        .bind(i64::from(response.status))
        .bind(&response.body)
        .bind(req.api.as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(CreateOutcome::Created { response, events })
}

/// A customer (AlpPay `clientId`) has one open payment at a time: a new one expires the
/// earlier open ones, in the transaction that creates it.
async fn supersede_client_payments(tx: &mut Tx, new: &Payment, client: &str) -> Result<Vec<Event>, StoreError> {
    let ids: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM payments WHERE merchant_id = $1 AND mode = $2 AND client_id = $3 AND id <> $4 \
         AND status IN ('pending', 'processing')",
    )
    .bind(new.merchant_id.to_string())
    .bind(new.mode.as_str())
    .bind(client)
    .bind(new.id.to_string())
    .fetch_all(&mut **tx)
    .await?;
    let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = $1{LOCK_ROW}");
    let mut out = Vec::new();
    for (id,) in ids {
        let row: Option<PaymentRow> = sqlx::query_as(&sql).bind(&id).fetch_optional(&mut **tx).await?;
        let Some(row) = row else { continue };
        let mut old = Payment::try_from(row)?;
        let before = old.clone();
        let Ok(kinds) = old.expire_now(new.created_at) else { continue };
        if !update_payment(tx, &old, before.version).await? {
            return Err(StoreError::Contended);
        }
        out.extend(insert_events(tx, Some(&before), &old, &kinds).await?);
    }
    Ok(out)
}

pub(crate) async fn get_payment(pool: &Pool<Db>, id: &PaymentId) -> Result<Option<Payment>, StoreError> {
    let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = $1");
    let row: Option<PaymentRow> = sqlx::query_as(&sql).bind(id.to_string()).fetch_optional(pool).await?;
    row.map(Payment::try_from).transpose()
}

pub(crate) async fn get_payment_by_slug(pool: &Pool<Db>, slug: &str) -> Result<Option<Payment>, StoreError> {
    let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE slug = $1");
    let row: Option<PaymentRow> = sqlx::query_as(&sql).bind(slug).fetch_optional(pool).await?;
    row.map(Payment::try_from).transpose()
}

/// Appends the WHERE conditions of `f` (everything but the cursor and paging).
fn push_filter(q: &mut QueryBuilder<Db>, f: &PaymentFilter) {
    q.push(" WHERE mode = ");
    q.push_bind(f.mode.as_str());
    q.push(" AND merchant_id IN (");
    let mut sep = q.separated(", ");
    for m in &f.merchant_ids {
        sep.push_bind(m.to_string());
    }
    q.push(")");
    if let Some(status) = f.status {
        q.push(" AND status = ").push_bind(status.as_str());
    }
    if !f.any_status.is_empty() {
        q.push(" AND status IN (");
        let mut sep = q.separated(", ");
        for s in &f.any_status {
            sep.push_bind(s.as_str());
        }
        q.push(")");
    }
    if !f.cases.is_empty() {
        q.push(" AND (");
        for (i, c) in f.cases.iter().enumerate() {
            q.push(if i == 0 { "(TRUE" } else { " OR (TRUE" });
            if let Some(s) = c.status {
                q.push(" AND status = ").push_bind(s.as_str());
            }
            for (column, want) in [
                ("partial_seen", c.partial_seen),
                ("paid_late", c.paid_late),
                ("underpaid", c.underpaid),
                ("overpaid", c.overpaid),
            ] {
                if let Some(want) = want {
                    q.push(format!(" AND {column} = ")).push_bind(want);
                }
            }
            match c.has_address {
                Some(true) => q.push(" AND deposit_address IS NOT NULL"),
                Some(false) => q.push(" AND deposit_address IS NULL"),
                None => q,
            };
            q.push(")");
        }
        q.push(")");
    }
    if let Some(underpaid) = f.underpaid {
        q.push(" AND underpaid = ").push_bind(underpaid);
    }
    if let Some(overpaid) = f.overpaid {
        q.push(" AND overpaid = ").push_bind(overpaid);
    }
    if !f.invoices.is_empty() {
        q.push(" AND invoice IN (");
        let mut sep = q.separated(", ");
        for i in &f.invoices {
            sep.push_bind(i.clone());
        }
        q.push(")");
    }
    if let Some(search) = &f.search {
        let like = format!("%{}%", search.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        q.push(" AND (id = ").push_bind(search.clone());
        q.push(" OR slug = ").push_bind(search.clone());
        q.push(" OR customer_email = ").push_bind(search.clone());
        q.push(" OR customer_name LIKE ").push_bind(like);
        q.push(" ESCAPE '\\')");
    }
    if let Some(reference) = &f.reference {
        q.push(" AND reference = ").push_bind(reference.clone());
    }
    if let Some(customer) = &f.customer_external_id {
        q.push(" AND customer_external_id = ").push_bind(customer.clone());
    }
    if let Some(gte) = f.created_gte {
        q.push(" AND created_at >= ").push_bind(ms(gte));
    }
    if let Some(lte) = f.created_lte {
        q.push(" AND created_at <= ").push_bind(ms(lte));
    }
}

pub(crate) async fn list_payments(pool: &Pool<Db>, f: &PaymentFilter) -> Result<Vec<Payment>, StoreError> {
    if f.merchant_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q: QueryBuilder<Db> = QueryBuilder::new(format!("SELECT {PAYMENT_COLUMNS} FROM payments"));
    push_filter(&mut q, f);
    if let Some((at, id)) = &f.before {
        // Keyset pagination: strictly after the cursor in (created_at DESC, id DESC) order.
        q.push(" AND (created_at < ").push_bind(ms(*at));
        q.push(" OR (created_at = ").push_bind(ms(*at));
        q.push(" AND id < ").push_bind(id.to_string());
        q.push("))");
    }
    q.push(" ORDER BY created_at DESC, id DESC LIMIT ").push_bind(i64::from(f.limit));
    q.push(" OFFSET ").push_bind(i64::from(f.offset));
    let rows: Vec<PaymentRow> = q.build_query_as().fetch_all(pool).await?;
    rows.into_iter().map(Payment::try_from).collect()
}

pub(crate) async fn count_payments(pool: &Pool<Db>, f: &PaymentFilter) -> Result<i64, StoreError> {
    if f.merchant_ids.is_empty() {
        return Ok(0);
    }
    let mut q: QueryBuilder<Db> = QueryBuilder::new("SELECT COUNT(*) FROM payments");
    push_filter(&mut q, f);
    let (n,): (i64,) = q.build_query_as().fetch_one(pool).await?;
    Ok(n)
}

/// The one read-modify-write of a payment: `f` on the locked row, then (with a plan, for a
/// transition that fixes the asset) its address, the row and its events, and (with `audit`,
/// for a person's change) its audit line, in one transaction, started over from the newer
/// row when another writer got there first.
pub(crate) async fn mutate_payment<E>(
    pool: &Pool<Db>,
    id: &PaymentId,
    plan: Option<&AddressPlan>,
    audit: Option<&crate::users::AuditEntry>,
    f: &mut (dyn FnMut(&mut Payment) -> Result<Vec<EventKind>, E> + Send),
) -> Result<Result<(Payment, Vec<Event>), E>, StoreError> {
    let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = $1{LOCK_ROW}");
    for _ in 0..MUTATE_RETRIES {
        let mut tx: Tx = pool.begin_with(BEGIN).await?;
        let row: Option<PaymentRow> = sqlx::query_as(&sql).bind(id.to_string()).fetch_optional(&mut *tx).await?;
        let mut payment = Payment::try_from(row.ok_or(StoreError::NotFound("payment"))?)?;
        let before = payment.clone();
        let version = payment.version;
        let kinds = match f(&mut payment) {
            Ok(kinds) => kinds,
            Err(e) => return Ok(Err(e)),
        };
        if payment.version == version {
            // The transition changed nothing.
            tx.commit().await?;
            return Ok(Ok((payment, Vec::new())));
        }
        if let Some(plan) = plan {
            let address = chosen_asset_address(&mut tx, plan, &before, &payment).await?;
            if let Some(asset) = payment.asset.as_mut() {
                asset.address = Some(address);
            }
        }
        if !update_payment(&mut tx, &payment, version).await? {
            // Another writer got there first: start over from the row it left.
            tx.rollback().await?;
            continue;
        }
        let events = insert_events(&mut tx, Some(&before), &payment, &kinds).await?;
        if let Some(line) = audit {
            users::insert_audit(&mut tx, line).await?;
        }
        tx.commit().await?;
        return Ok(Ok((payment, events)));
    }
    Err(StoreError::Contended)
}

pub(crate) async fn payments_due_for_expiry(
    pool: &Pool<Db>,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<PaymentId>, StoreError> {
    // Open, past its time, not already paid in time, and, when it has an address, only once
    // the watcher of its chain (devnet for every test payment) has scanned a block
    // timestamped after its expiry: until then, money sent at the last second may still be
    // on its way in.
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT p.id FROM payments p WHERE p.status IN ('pending', 'processing') AND p.expires_at <= $1 \
         AND p.paid_in_time = FALSE AND (p.deposit_address IS NULL OR EXISTS (SELECT 1 FROM chain_cursors c \
         WHERE c.network = CASE WHEN p.mode = 'test' THEN 'devnet' ELSE p.network END \
         AND c.block_time > p.expires_at)) \
         ORDER BY p.expires_at, p.id LIMIT $2",
    )
    .bind(ms(now))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(id,)| id.parse().map_err(|_| crate::rows::corrupt("payment id", id)))
        .collect()
}

pub(crate) async fn list_events(pool: &Pool<Db>, payment: &PaymentId) -> Result<Vec<Event>, StoreError> {
    let rows: Vec<EventRow> = sqlx::query_as(
        "SELECT id, payment_id, merchant_id, mode, kind, sequence, payload, created_at FROM payment_events \
         WHERE payment_id = $1 ORDER BY sequence, id",
    )
    .bind(payment.to_string())
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Event::try_from).collect()
}

// Queries for webhook endpoints, deliveries and attempts, compiled for each backend like
// ops.rs (included into a `webhooks` submodule of sqlite.rs and postgres.rs, which supply
// `Db`, `BEGIN` and `SKIP_LOCKED`). The fan-out runs inside the transaction that writes the
// events (`insert_events` in ops.rs calls `fan_out`).

use chrono::{DateTime, Utc};
use payd_core::apikey::Mode;
use payd_core::event::{Event, EventKind};
use payd_core::ids::{DeliveryId, MerchantId, WebhookEndpointId};
use payd_core::payment::Payment;
use payd_core::webhook::{Attempt, Delivery, DeliveryStatus, WebhookEndpoint, WebhookFormat};
use sqlx::{Pool, QueryBuilder};

use super::Tx;
use crate::rows::{corrupt, from_ms, ms, EventRow};
use crate::webhooks::{ClaimedDelivery, DeliveryFilter, DeliveryOutcome, EndpointFilter, EndpointHealth};
use crate::StoreError;

const ENDPOINT_COLUMNS: &str = "id, merchant_id, mode, url, description, events, format, enabled, \
     disabled_reason, secret_sealed, previous_secret_sealed, previous_secret_expires_at, failing_since, \
     created_at, updated_at";

// A delivery is of a payment's event or of a test event (exactly one; migration 0013): both
// are read through outer joins, a test event's kind being `webhook.test`.
const DELIVERY_COLUMNS: &str = "d.id, COALESCE(d.event_id, d.test_event_id) AS event_id, d.endpoint_id, \
     COALESCE(e.kind, 'webhook.test') AS kind, COALESCE(e.payment_id, t.payment_id) AS payment_id, d.event_name, \
     d.status, d.attempts, d.next_attempt_at, d.created_at, d.updated_at";

const DELIVERY_FROM: &str = "webhook_deliveries d LEFT JOIN payment_events e ON e.id = d.event_id \
     LEFT JOIN webhook_test_events t ON t.id = d.test_event_id";

#[derive(Debug, sqlx::FromRow)]
struct EndpointRow {
    id: String,
    merchant_id: String,
    mode: String,
    url: String,
    description: Option<String>,
    events: String,
    format: String,
    enabled: bool,
    disabled_reason: Option<String>,
    secret_sealed: String,
    previous_secret_sealed: Option<String>,
    previous_secret_expires_at: Option<i64>,
    failing_since: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

fn endpoint(r: EndpointRow) -> Result<WebhookEndpoint, StoreError> {
    let events = r
        .events
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| EventKind::parse(s).ok_or_else(|| corrupt("event kind", s)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(WebhookEndpoint {
        id: r.id.parse().map_err(|_| corrupt("endpoint id", &r.id))?,
        merchant_id: r.merchant_id.parse().map_err(|_| corrupt("merchant id", &r.merchant_id))?,
        mode: Mode::parse(&r.mode).ok_or_else(|| corrupt("mode", &r.mode))?,
        url: r.url,
        description: r.description,
        events,
        format: WebhookFormat::parse(&r.format).ok_or_else(|| corrupt("webhook format", &r.format))?,
        enabled: r.enabled,
        disabled_reason: r.disabled_reason,
        secret_sealed: r.secret_sealed,
        previous_secret_sealed: r.previous_secret_sealed,
        previous_secret_expires_at: r.previous_secret_expires_at.map(from_ms).transpose()?,
        failing_since: r.failing_since.map(from_ms).transpose()?,
        created_at: from_ms(r.created_at)?,
        updated_at: from_ms(r.updated_at)?,
    })
}

fn events_text(events: &[EventKind]) -> String {
    events.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(",")
}

#[derive(Debug, sqlx::FromRow)]
struct DeliveryRow {
    id: String,
    event_id: String,
    endpoint_id: String,
    kind: String,
    payment_id: String,
    event_name: String,
    status: String,
    attempts: i64,
    next_attempt_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

fn delivery(r: DeliveryRow) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        id: r.id.parse().map_err(|_| corrupt("delivery id", &r.id))?,
        event_id: r.event_id.parse().map_err(|_| corrupt("event id", &r.event_id))?,
        endpoint_id: r.endpoint_id.parse().map_err(|_| corrupt("endpoint id", &r.endpoint_id))?,
        kind: EventKind::parse_stored(&r.kind).ok_or_else(|| corrupt("event kind", &r.kind))?,
        payment_id: r.payment_id.parse().map_err(|_| corrupt("payment id", &r.payment_id))?,
        event_name: r.event_name,
        status: DeliveryStatus::parse(&r.status).ok_or_else(|| corrupt("delivery status", &r.status))?,
        attempts: u32::try_from(r.attempts).map_err(|_| corrupt("attempts", r.attempts))?,
        next_attempt_at: r.next_attempt_at.map(from_ms).transpose()?,
        created_at: from_ms(r.created_at)?,
        updated_at: from_ms(r.updated_at)?,
    })
}

/// `(at, status_code, latency_ms, error, response_snippet)`.
type AttemptRow = (i64, Option<i64>, i64, Option<String>, Option<String>);

// ---- endpoints ----

pub(crate) async fn insert_endpoint<'e, E>(exec: E, e: &WebhookEndpoint) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let sql = format!(
        "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    );
    sqlx::query(&sql)
        .bind(e.id.to_string())
        .bind(e.merchant_id.to_string())
        .bind(e.mode.as_str())
        .bind(&e.url)
        .bind(&e.description)
        .bind(events_text(&e.events))
        .bind(e.format.as_str())
        .bind(e.enabled)
        .bind(&e.disabled_reason)
        .bind(&e.secret_sealed)
        .bind(&e.previous_secret_sealed)
        .bind(e.previous_secret_expires_at.map(ms))
        .bind(e.failing_since.map(ms))
        .bind(ms(e.created_at))
        .bind(ms(e.updated_at))
        .execute(exec)
        .await?;
    Ok(())
}

pub(crate) async fn insert_endpoint_within(
    pool: &Pool<Db>,
    e: &WebhookEndpoint,
    max: u32,
) -> Result<bool, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    if !insert_endpoint_capped(&mut tx, e, max).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    tx.commit().await?;
    Ok(true)
}

/// Inserts `e` in `tx` unless its merchant already has `max` endpoints in its mode; `false`
/// then, and nothing is written.
pub(crate) async fn insert_endpoint_capped(tx: &mut Tx, e: &WebhookEndpoint, max: u32) -> Result<bool, StoreError> {
    // Creates for one merchant queue on its row, so two of them cannot both see room for one
    // more (SQLite's BEGIN IMMEDIATE already serialises writers).
    let lock = format!("SELECT id FROM merchants WHERE id = $1{}", super::LOCK_ROW);
    sqlx::query(&lock).bind(e.merchant_id.to_string()).fetch_optional(&mut **tx).await?;
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM webhook_endpoints WHERE merchant_id = $1 AND mode = $2 AND deleted = FALSE",
    )
    .bind(e.merchant_id.to_string())
    .bind(e.mode.as_str())
    .fetch_one(&mut **tx)
    .await?;
    if n >= i64::from(max) {
        return Ok(false);
    }
    insert_endpoint(&mut **tx, e).await?;
    Ok(true)
}

pub(crate) async fn get_endpoint(
    pool: &Pool<Db>,
    id: &WebhookEndpointId,
) -> Result<Option<WebhookEndpoint>, StoreError> {
    let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND deleted = FALSE");
    let row: Option<EndpointRow> = sqlx::query_as(&sql).bind(id.to_string()).fetch_optional(pool).await?;
    row.map(endpoint).transpose()
}

pub(crate) async fn list_endpoints(
    pool: &Pool<Db>,
    merchant: &MerchantId,
    mode: Mode,
) -> Result<Vec<WebhookEndpoint>, StoreError> {
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE merchant_id = $1 AND mode = $2 \
         AND deleted = FALSE ORDER BY created_at, id"
    );
    let rows: Vec<EndpointRow> =
        sqlx::query_as(&sql).bind(merchant.to_string()).bind(mode.as_str()).fetch_all(pool).await?;
    rows.into_iter().map(endpoint).collect()
}

pub(crate) async fn page_endpoints(
    pool: &Pool<Db>,
    f: &EndpointFilter,
) -> Result<(Vec<WebhookEndpoint>, i64), StoreError> {
    let scope = |q: &mut QueryBuilder<Db>| {
        q.push(" FROM webhook_endpoints WHERE merchant_id = ")
            .push_bind(f.merchant_id.to_string())
            .push(" AND mode = ")
            .push_bind(f.mode.as_str())
            .push(" AND deleted = FALSE");
        if let Some(format) = f.format {
            q.push(" AND format = ").push_bind(format.as_str());
        }
    };
    let mut q: QueryBuilder<Db> = QueryBuilder::new(format!("SELECT {ENDPOINT_COLUMNS}"));
    scope(&mut q);
    if let Some(after) = &f.after {
        q.push(" AND (created_at, id) > (SELECT created_at, id FROM webhook_endpoints WHERE id = ")
            .push_bind(after.to_string())
            .push(")");
    }
    q.push(" ORDER BY created_at, id LIMIT ")
        .push_bind(i64::from(f.limit))
        .push(" OFFSET ")
        .push_bind(i64::from(f.offset));
    let rows: Vec<EndpointRow> = q.build_query_as().fetch_all(pool).await?;
    let mut c: QueryBuilder<Db> = QueryBuilder::new("SELECT COUNT(*)");
    scope(&mut c);
    let (total,): (i64,) = c.build_query_as().fetch_one(pool).await?;
    Ok((rows.into_iter().map(endpoint).collect::<Result<_, _>>()?, total))
}

pub(crate) async fn update_endpoint<'e, E>(exec: E, e: &WebhookEndpoint) -> Result<bool, StoreError>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let n = sqlx::query(
        "UPDATE webhook_endpoints SET url = $2, description = $3, events = $4, format = $5, enabled = $6, \
         disabled_reason = $7, secret_sealed = $8, previous_secret_sealed = $9, \
         previous_secret_expires_at = $10, failing_since = $11, updated_at = $12 \
         WHERE id = $1 AND deleted = FALSE",
    )
    .bind(e.id.to_string())
    .bind(&e.url)
    .bind(&e.description)
    .bind(events_text(&e.events))
    .bind(e.format.as_str())
    .bind(e.enabled)
    .bind(&e.disabled_reason)
    .bind(&e.secret_sealed)
    .bind(&e.previous_secret_sealed)
    .bind(e.previous_secret_expires_at.map(ms))
    .bind(e.failing_since.map(ms))
    .bind(ms(e.updated_at))
    .execute(exec)
    .await?
    .rows_affected();
    Ok(n == 1)
}

pub(crate) async fn delete_endpoint<'e, E>(
    exec: E,
    id: &WebhookEndpointId,
    now: DateTime<Utc>,
) -> Result<bool, StoreError>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    // Soft: the delivery log keeps pointing at it. Nothing more is sent.
    let n = sqlx::query(
        "UPDATE webhook_endpoints SET deleted = TRUE, enabled = FALSE, updated_at = $2 \
         WHERE id = $1 AND deleted = FALSE",
    )
    .bind(id.to_string())
    .bind(ms(now))
    .execute(exec)
    .await?
    .rows_affected();
    Ok(n == 1)
}

// ---- fan-out ----

/// The deliveries one change of `p` (from `before`) sends to each endpoint that wants it, in
/// the caller's transaction; each endpoint's format decides how many and under which name.
pub(crate) async fn fan_out(
    tx: &mut Tx,
    before: Option<&Payment>,
    p: &Payment,
    events: &[Event],
) -> Result<(), StoreError> {
    fan_out_many(tx, &[(before, p, events)]).await
}

/// [`fan_out`] for many changes at once (a batch of creates): each merchant's endpoints read
/// once, every delivery written in as few statements as the parameter limit allows.
pub(crate) async fn fan_out_many(
    tx: &mut Tx,
    changes: &[(Option<&Payment>, &Payment, &[Event])],
) -> Result<(), StoreError> {
    // Due at once, by the clock rather than the event's time, which a caller may set ahead
    // (expiring payments "as of" a later moment).
    let now = ms(crate::now());
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE merchant_id = $1 AND mode = $2 \
         AND enabled = TRUE AND deleted = FALSE"
    );
    let mut endpoints: Vec<((&MerchantId, Mode), Vec<WebhookEndpoint>)> = Vec::new();
    let mut rows: Vec<(String, String, String, String)> = Vec::new();
    for (before, p, events) in changes {
        if events.is_empty() {
            continue;
        }
        let scope = (&p.merchant_id, p.mode);
        let at = match endpoints.iter().position(|(s, _)| *s == scope) {
            Some(at) => at,
            None => {
                let found: Vec<EndpointRow> = sqlx::query_as(&sql)
                    .bind(p.merchant_id.to_string())
                    .bind(p.mode.as_str())
                    .fetch_all(&mut **tx)
                    .await?;
                endpoints.push((scope, found.into_iter().map(endpoint).collect::<Result<_, _>>()?));
                endpoints.len() - 1
            }
        };
        let Some((_, eps)) = endpoints.get(at) else { continue };
        let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
        for ep in eps {
            for (i, name) in ep.deliveries(*before, p, &kinds) {
                let Some(event) = events.get(i) else { continue };
                rows.push((DeliveryId::new().to_string(), event.id.to_string(), ep.id.to_string(), name));
            }
        }
    }
    if !rows.is_empty() {
        crate::batch::DELIVERIES_WRITTEN.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }
    super::insert_deliveries(tx, &rows, now).await
}

// ---- dispatch ----

pub(crate) async fn claim(
    pool: &Pool<Db>,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<ClaimedDelivery>, StoreError> {
    let token = uuid_token();
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    // Due: pending or failed and their time has come, or claimed by a dispatcher whose lease
    // ran out (it died mid-send). Endpoints that are disabled or deleted wait. The endpoints
    // are read in a sub-select, not joined: `FOR UPDATE` then locks only the delivery rows, so
    // a claim (or a result being recorded on the endpoint) in flight never hides the other
    // deliveries of that endpoint from a second dispatcher.
    let sql = format!(
        "UPDATE webhook_deliveries SET status = 'delivering', lease_token = $1, lease_expires_at = $2, \
         updated_at = $3 WHERE id IN (SELECT d.id FROM webhook_deliveries d \
         WHERE d.endpoint_id IN (SELECT w.id FROM webhook_endpoints w \
           WHERE w.enabled = TRUE AND w.deleted = FALSE) AND ( \
           (d.status IN ('pending', 'failed') AND d.next_attempt_at <= $3) \
           OR (d.status = 'delivering' AND d.lease_expires_at <= $3)) \
         ORDER BY d.next_attempt_at, d.id LIMIT $4{SKIP_LOCKED})"
    );
    let n = sqlx::query(&sql)
        .bind(&token)
        .bind(ms(lease_until))
        .bind(ms(now))
        .bind(i64::from(limit))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        tx.rollback().await?;
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM {DELIVERY_FROM} WHERE d.lease_token = $1 ORDER BY d.next_attempt_at, d.id"
    );
    let rows: Vec<DeliveryRow> = sqlx::query_as(&sql).bind(&token).fetch_all(&mut *tx).await?;
    // The batch's events and endpoints in one query each, not one per delivery: a claim costs
    // four statements whatever its size.
    let events: Vec<EventRow> = sqlx::query_as(
        "SELECT id, payment_id, merchant_id, mode, kind, sequence, payload, created_at FROM payment_events \
         WHERE id IN (SELECT event_id FROM webhook_deliveries WHERE lease_token = $1) \
         UNION ALL SELECT id, payment_id, merchant_id, mode, 'webhook.test', 0, payload, created_at \
         FROM webhook_test_events WHERE id IN (SELECT test_event_id FROM webhook_deliveries WHERE lease_token = $1)",
    )
    .bind(&token)
    .fetch_all(&mut *tx)
    .await?;
    let events: std::collections::HashMap<String, Event> = events
        .into_iter()
        .map(|row| Event::try_from(row).map(|e| (e.id.to_string(), e)))
        .collect::<Result<_, _>>()?;
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints \
         WHERE id IN (SELECT endpoint_id FROM webhook_deliveries WHERE lease_token = $1)"
    );
    let endpoints: Vec<EndpointRow> = sqlx::query_as(&sql).bind(&token).fetch_all(&mut *tx).await?;
    let endpoints: std::collections::HashMap<String, WebhookEndpoint> = endpoints
        .into_iter()
        .map(|row| endpoint(row).map(|e| (e.id.to_string(), e)))
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let d = delivery(row)?;
        // One event may go to several endpoints: each delivery gets its copy.
        let event = events
            .get(&d.event_id.to_string())
            .cloned()
            .ok_or_else(|| corrupt("delivery event", d.event_id.to_string()))?;
        let ep = endpoints
            .get(&d.endpoint_id.to_string())
            .cloned()
            .ok_or_else(|| corrupt("delivery endpoint", d.endpoint_id.to_string()))?;
        out.push(ClaimedDelivery { delivery: d, lease_token: token.clone(), event, endpoint: ep });
    }
    tx.commit().await?;
    Ok(out)
}

fn uuid_token() -> String {
    // A v7 id is unique per claim; the prefix only makes it readable in a database dump.
    format!("lease_{}", DeliveryId::new())
}

pub(crate) async fn finish(
    pool: &Pool<Db>,
    claim: &ClaimedDelivery,
    attempt: &Attempt,
    outcome: DeliveryOutcome,
    health: EndpointHealth,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    let (status, next) = match outcome {
        DeliveryOutcome::Delivered => (DeliveryStatus::Delivered, None),
        DeliveryOutcome::RetryAt(at) => (DeliveryStatus::Failed, Some(ms(at))),
        DeliveryOutcome::Dead => (DeliveryStatus::Dead, None),
    };
    // Only the holder of the lease records: a dispatcher whose lease ran out and was
    // re-claimed by another must not overwrite the newer state.
    let n = sqlx::query(
        "UPDATE webhook_deliveries SET status = $3, attempts = attempts + 1, next_attempt_at = $4, \
         lease_token = NULL, lease_expires_at = NULL, updated_at = $5 \
         WHERE id = $1 AND lease_token = $2 AND status = 'delivering'",
    )
    .bind(claim.delivery.id.to_string())
    .bind(&claim.lease_token)
    .bind(status.as_str())
    .bind(next)
    .bind(ms(now))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO webhook_attempts (delivery_id, at, status_code, latency_ms, error, response_snippet) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(claim.delivery.id.to_string())
    .bind(ms(attempt.at))
    .bind(attempt.status_code.map(i64::from))
    .bind(i64::try_from(attempt.latency_ms).unwrap_or(i64::MAX))
    .bind(&attempt.error)
    .bind(&attempt.response_snippet)
    .execute(&mut *tx)
    .await?;
    let ep = claim.endpoint.id.to_string();
    match health {
        EndpointHealth::Healthy => {
            sqlx::query("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL")
                .bind(&ep)
                .execute(&mut *tx)
                .await?;
        }
        EndpointHealth::Failing => {
            sqlx::query("UPDATE webhook_endpoints SET failing_since = $2 WHERE id = $1 AND failing_since IS NULL")
                .bind(&ep)
                .bind(ms(now))
                .execute(&mut *tx)
                .await?;
        }
        EndpointHealth::Disable(reason) => {
            sqlx::query(
                "UPDATE webhook_endpoints SET enabled = FALSE, disabled_reason = $2, updated_at = $3 \
                 WHERE id = $1",
            )
            .bind(&ep)
            .bind(reason)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}

// ---- the delivery log ----

pub(crate) async fn list_deliveries(pool: &Pool<Db>, f: &DeliveryFilter) -> Result<Vec<Delivery>, StoreError> {
    let mut q: QueryBuilder<Db> = QueryBuilder::new(format!(
        "SELECT {DELIVERY_COLUMNS} FROM {DELIVERY_FROM} \
         JOIN webhook_endpoints w ON w.id = d.endpoint_id WHERE w.merchant_id = "
    ));
    q.push_bind(f.merchant_id.to_string()).push(" AND w.mode = ").push_bind(f.mode.as_str());
    if let Some(ep) = &f.endpoint_id {
        q.push(" AND d.endpoint_id = ").push_bind(ep.to_string());
    }
    if let Some(ev) = &f.event_id {
        q.push(" AND COALESCE(d.event_id, d.test_event_id) = ").push_bind(ev.to_string());
    }
    if let Some(p) = &f.payment_id {
        q.push(" AND e.payment_id = ").push_bind(p.to_string());
    }
    if let Some(s) = f.status {
        q.push(" AND d.status = ").push_bind(s.as_str());
    }
    if let Some(before) = &f.before {
        q.push(" AND d.id < ").push_bind(before.to_string());
    }
    q.push(" ORDER BY d.id DESC LIMIT ").push_bind(i64::from(f.limit));
    let rows: Vec<DeliveryRow> = q.build_query_as().fetch_all(pool).await?;
    rows.into_iter().map(delivery).collect()
}

pub(crate) async fn get_delivery(pool: &Pool<Db>, id: &DeliveryId) -> Result<Option<Delivery>, StoreError> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM {DELIVERY_FROM} WHERE d.id = $1"
    );
    let row: Option<DeliveryRow> = sqlx::query_as(&sql).bind(id.to_string()).fetch_optional(pool).await?;
    row.map(delivery).transpose()
}

pub(crate) async fn list_attempts(pool: &Pool<Db>, id: &DeliveryId) -> Result<Vec<Attempt>, StoreError> {
    let rows: Vec<AttemptRow> = sqlx::query_as(
        "SELECT at, status_code, latency_ms, error, response_snippet FROM webhook_attempts \
         WHERE delivery_id = $1 ORDER BY id",
    )
    .bind(id.to_string())
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(at, code, latency, error, snippet)| {
            Ok(Attempt {
                at: from_ms(at)?,
                status_code: code.map(|c| u16::try_from(c).map_err(|_| corrupt("status code", c))).transpose()?,
                latency_ms: u64::try_from(latency).map_err(|_| corrupt("latency", latency))?,
                error,
                response_snippet: snippet,
            })
        })
        .collect()
}

pub(crate) async fn replay_delivery<'e, E>(exec: E, id: &DeliveryId, now: DateTime<Utc>) -> Result<bool, StoreError>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    // A delivery being sent right now is left to finish; any other goes out again with a
    // fresh schedule. Its attempt log stays.
    let n = sqlx::query(
        "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $2, updated_at = $2 \
         WHERE id = $1 AND status <> 'delivering'",
    )
    .bind(id.to_string())
    .bind(ms(now))
    .execute(exec)
    .await?
    .rows_affected();
    Ok(n == 1)
}

pub(crate) async fn replay_failed(
    pool: &Pool<Db>,
    endpoint: &WebhookEndpointId,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let n = sqlx::query(
        "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $2, updated_at = $2 \
         WHERE endpoint_id = $1 AND status IN ('failed', 'dead')",
    )
    .bind(endpoint.to_string())
    .bind(ms(now))
    .execute(pool)
    .await?
    .rows_affected();
    Ok(n)
}

pub(crate) async fn webhook_queue_depth(pool: &Pool<Db>) -> Result<u64, StoreError> {
    // The predicate of `webhook_deliveries_due`, so the count reads only the queue.
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM webhook_deliveries WHERE status IN ('pending', 'failed', 'delivering') \
         AND next_attempt_at IS NOT NULL",
    )
    .fetch_one(pool)
    .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

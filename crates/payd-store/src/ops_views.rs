// Queries for the dashboard's views (the payments-per-day chart, the money received, the
// unattributed transfers, the instance's health), compiled for each backend like ops.rs
// (included into a `views` submodule of sqlite.rs and postgres.rs, which supply `Db`).
//
// Amounts are decimal text in the database. Summing them as numbers would go through REAL on
// SQLite (inexact) and overflow BIGINT for 18-decimal tokens, so every sum here adds
// fixed-width limbs of the text (plain `substr`/`length`/`ltrim`, the same SQL on both
// backends) and the caller puts the limbs back together exactly.

use payd_core::apikey::Mode;
use payd_core::ids::MerchantId;
use sqlx::{Pool, QueryBuilder};

use crate::users::DashboardFilter;
use crate::views::{DayRow, ReceivedRow};
use crate::StoreError;

/// A payment's price in USD as text: the price when in USD, else the FX quote when in USD.
const USD: &str = "CASE WHEN price_currency = 'USD' THEN price_amount \
                   WHEN fx_quote_currency = 'USD' THEN fx_quote_amount END";

pub(crate) async fn payments_per_day(pool: &Pool<Db>, f: &DashboardFilter) -> Result<Vec<DayRow>, StoreError> {
    // `w`: the digits before the point. USD amounts have at most 2 decimals (Money scales
    // to the currency's exponent); 6 are kept, padded, so the sum is exact either way.
    let mut q: QueryBuilder<Db> = QueryBuilder::new(format!(
        "SELECT day, CAST(COUNT(*) AS BIGINT) AS payments, \
         CAST(SUM(CASE WHEN u IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS unpriced, \
         CAST(COALESCE(SUM(CASE WHEN u IS NULL THEN 0 ELSE CAST(substr(u, 1, w) AS BIGINT) END), 0) AS BIGINT) AS whole, \
         CAST(COALESCE(SUM(CASE WHEN u IS NULL OR w >= length(u) THEN 0 \
              ELSE CAST(substr(substr(u, w + 2) || '000000', 1, 6) AS BIGINT) END), 0) AS BIGINT) AS micros \
         FROM (SELECT created_at / 86400000 AS day, u, length(u) - length(ltrim(u, '0123456789')) AS w \
               FROM (SELECT created_at, {USD} AS u FROM payments"
    ));
    super::users::push_dashboard_filter(&mut q, f);
    q.push(") p) d GROUP BY day ORDER BY day");
    Ok(q.build_query_as().fetch_all(pool).await?)
}

/// Limbs of a base-unit amount `a` (decimal text, up to 36 digits): the last 9 digits, the 9
/// before, and the rest. Each fits a BIGINT, and so do their sums over billions of rows.
const LIMBS: &str = "CAST(CASE WHEN length(a) > 9 THEN substr(a, length(a) - 8, 9) ELSE a END AS BIGINT) AS lo, \
     CAST(CASE WHEN length(a) > 18 THEN substr(a, length(a) - 17, 9) \
          WHEN length(a) > 9 THEN substr(a, 1, length(a) - 9) ELSE '0' END AS BIGINT) AS mid, \
     CAST(CASE WHEN length(a) > 18 THEN substr(a, 1, length(a) - 18) ELSE '0' END AS BIGINT) AS hi";

pub(crate) async fn received_totals(
    pool: &Pool<Db>,
    merchants: &[MerchantId],
    mode: Mode,
) -> Result<Vec<ReceivedRow>, StoreError> {
    let mut q: QueryBuilder<Db> = QueryBuilder::new(format!(
        "SELECT network, token, CAST(COUNT(*) AS BIGINT) AS transfers, \
         CAST(SUM(lo) AS BIGINT) AS lo, CAST(SUM(mid) AS BIGINT) AS mid, CAST(SUM(hi) AS BIGINT) AS hi, \
         CAST(SUM(CASE WHEN confirmed THEN lo ELSE 0 END) AS BIGINT) AS c_lo, \
         CAST(SUM(CASE WHEN confirmed THEN mid ELSE 0 END) AS BIGINT) AS c_mid, \
         CAST(SUM(CASE WHEN confirmed THEN hi ELSE 0 END) AS BIGINT) AS c_hi \
         FROM (SELECT t.network, t.token, t.status = 'confirmed' AS confirmed, {LIMBS} \
               FROM (SELECT ct.network, ct.token, ct.status, ct.amount AS a FROM chain_transfers ct \
                     JOIN payments p ON p.id = ct.payment_id \
                     WHERE ct.status <> 'orphaned' AND p.mode = "
    ));
    q.push_bind(mode.as_str());
    q.push(" AND p.merchant_id IN (");
    let mut sep = q.separated(", ");
    for m in merchants {
        sep.push_bind(m.to_string());
    }
    q.push(")) t) l GROUP BY network, token ORDER BY network, token");
    Ok(q.build_query_as().fetch_all(pool).await?)
}

pub(crate) async fn unattributed_transfers(
    pool: &Pool<Db>,
    mode: Mode,
    limit: u32,
    offset: u32,
) -> Result<(Vec<crate::chain::TransferRow>, i64), StoreError> {
    // Test mode's chain is devnet; every other network is live money.
    let network = match mode {
        Mode::Test => "network = 'devnet'",
        Mode::Live => "network <> 'devnet'",
    };
    let rows = sqlx::query_as(&format!(
        "SELECT network, tx_hash, log_index, token, from_address, to_address, amount, block_number, \
         block_hash, status, payment_id, block_time, created_at, note FROM chain_transfers \
         WHERE payment_id IS NULL AND {network} \
         ORDER BY created_at DESC, network, tx_hash, log_index LIMIT $1 OFFSET $2"
    ))
    .bind(i64::from(limit))
    .bind(i64::from(offset))
    .fetch_all(pool)
    .await?;
    let (n,): (i64,) =
        sqlx::query_as(&format!("SELECT COUNT(*) FROM chain_transfers WHERE payment_id IS NULL AND {network}"))
            .fetch_one(pool)
            .await?;
    Ok((rows, n))
}

pub(crate) async fn chain_positions(
    pool: &Pool<Db>,
) -> Result<Vec<(String, i64, Option<i64>, i64, Option<String>, Option<i64>)>, StoreError> {
    // Every network with a cursor or a lease, with both when there are both.
    Ok(sqlx::query_as(
        "SELECT c.network, c.block_number, c.block_time, c.updated_at, l.holder, l.expires_at \
         FROM chain_cursors c LEFT JOIN chain_leases l ON l.network = c.network \
         UNION ALL \
         SELECT l.network, -1, NULL, -1, l.holder, l.expires_at FROM chain_leases l \
         WHERE l.network NOT IN (SELECT network FROM chain_cursors) \
         ORDER BY 1",
    )
    .fetch_all(pool)
    .await?)
}

// NULLs sort first on SQLite and last on PostgreSQL: `failing_since IS NULL` orders them alike.
pub(crate) async fn failing_endpoints(
    pool: &Pool<Db>,
    limit: u32,
) -> Result<Vec<(String, String, String, String, bool, Option<String>, Option<i64>)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, merchant_id, mode, url, enabled, disabled_reason, failing_since FROM webhook_endpoints \
         WHERE NOT deleted AND (failing_since IS NOT NULL OR (NOT enabled AND disabled_reason IS NOT NULL)) \
         ORDER BY failing_since IS NULL, failing_since, id LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?)
}

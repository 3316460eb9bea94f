//! The store's API for the dashboard's views: payments and their USD volume per UTC day for
//! the list's filter, the money received per network and token for a set of merchants, the
//! transfers payd credited to no payment (with why), and what the instance's health page
//! reads (each network's cursor and lease, the webhook endpoints that fail). Every sum is
//! made in SQL, exactly (see ops_views.rs), and every list is bounded.

use chrono::{DateTime, NaiveDate, Utc};
use payd_core::apikey::Mode;
use payd_core::chain::StoredTransfer;
use payd_core::ids::MerchantId;
use rust_decimal::Decimal;

use crate::rows::{corrupt, from_ms};
use crate::users::DashboardFilter;
use crate::{postgres, sqlite, Store, StoreError};

/// Days the chart covers at most: its query reads no more than a year of payments.
pub const MAX_CHART_DAYS: i64 = 366;

/// Unattributed transfers a page shows at most.
pub const MAX_PAGE: u32 = 200;

/// One UTC day of the list's filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayTotal {
    /// The day (UTC).
    pub day: NaiveDate,
    /// Payments created that day.
    pub payments: u64,
    /// Their prices in USD (a price in another currency counts through its USD quote).
    pub usd: Decimal,
    /// Of the payments, those with no USD value (priced in another currency, no USD quote).
    pub unpriced: u64,
}

/// Money received on one network in one token, in the token's smallest unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedTotal {
    /// Network id.
    pub network: String,
    /// Token ticker.
    pub token: String,
    /// Transfers counted (not orphaned).
    pub transfers: u64,
    /// Every transfer not orphaned, confirmed or not.
    pub received: u128,
    /// Of which confirmed.
    pub confirmed: u128,
}

/// A page of unattributed transfers, and how many there are in all.
#[derive(Debug, Clone)]
pub struct UnattributedPage {
    /// Newest first; each one's `note` says why it credited no payment.
    pub transfers: Vec<StoredTransfer>,
    /// All of them in the mode.
    pub total: u64,
}

/// A network's watcher position and lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainPosition {
    /// Network id.
    pub network: String,
    /// The last block processed and its time (none yet: the watcher only holds the lease).
    pub cursor: Option<(u64, Option<DateTime<Utc>>)>,
    /// When the cursor last moved.
    pub cursor_updated_at: Option<DateTime<Utc>>,
    /// The node holding the watcher lease and until when.
    pub lease: Option<(String, DateTime<Utc>)>,
}

/// A webhook endpoint that fails or was disabled for failing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailingEndpoint {
    /// Its id.
    pub id: String,
    /// Its merchant.
    pub merchant_id: String,
    /// `test` or `live`.
    pub mode: String,
    /// Where it is.
    pub url: String,
    /// Whether payd still sends to it.
    pub enabled: bool,
    /// Why payd stopped.
    pub disabled_reason: Option<String>,
    /// Failing since.
    pub failing_since: Option<DateTime<Utc>>,
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct DayRow {
    day: i64,
    payments: i64,
    unpriced: i64,
    whole: i64,
    micros: i64,
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ReceivedRow {
    network: String,
    token: String,
    transfers: i64,
    lo: i64,
    mid: i64,
    hi: i64,
    c_lo: i64,
    c_mid: i64,
    c_hi: i64,
}

/// `hi·10¹⁸ + mid·10⁹ + lo`, checked: the limbs' sums put back together.
fn join_limbs(lo: i64, mid: i64, hi: i64) -> Result<u128, StoreError> {
    let part = |v: i64| u128::try_from(v).map_err(|_| corrupt("amount sum", v));
    let (lo, mid, hi) = (part(lo)?, part(mid)?, part(hi)?);
    hi.checked_mul(1_000_000_000_000_000_000)
        .and_then(|h| h.checked_add(mid.checked_mul(1_000_000_000)?))
        .and_then(|h| h.checked_add(lo))
        .ok_or_else(|| corrupt("amount sum", (lo, mid, hi)))
}

impl Store {
    /// Payments and their USD volume per UTC day for the list's filter (its page ignored),
    /// oldest day first; days without payments are left out. The caller bounds the filter's
    /// dates (at most [`MAX_CHART_DAYS`]).
    pub async fn payments_per_day(&self, filter: &DashboardFilter) -> Result<Vec<DayTotal>, StoreError> {
        if filter.merchant_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = dispatch!(self, views::payments_per_day(filter))?;
        rows.into_iter()
            .map(|r| {
                let day = DateTime::from_timestamp(r.day.saturating_mul(86_400), 0)
                    .ok_or_else(|| corrupt("day", r.day))?
                    .date_naive();
                // Exact; shown with at least the cents.
                let mut usd = (Decimal::from(r.whole) + Decimal::new(r.micros, 6)).normalize();
                if usd.scale() < 2 {
                    usd.rescale(2);
                }
                Ok(DayTotal {
                    day,
                    payments: u64::try_from(r.payments).map_err(|_| corrupt("count", r.payments))?,
                    usd,
                    unpriced: u64::try_from(r.unpriced).map_err(|_| corrupt("count", r.unpriced))?,
                })
            })
            .collect()
    }

    /// Money received by these merchants' payments in `mode`, per network and token (orphaned
    /// transfers left out), in each token's smallest unit.
    pub async fn received_totals(
        &self,
        merchants: &[MerchantId],
        mode: Mode,
    ) -> Result<Vec<ReceivedTotal>, StoreError> {
        if merchants.is_empty() {
            return Ok(Vec::new());
        }
        let rows = dispatch!(self, views::received_totals(merchants, mode))?;
        rows.into_iter()
            .map(|r| {
                Ok(ReceivedTotal {
                    received: join_limbs(r.lo, r.mid, r.hi)?,
                    confirmed: join_limbs(r.c_lo, r.c_mid, r.c_hi)?,
                    transfers: u64::try_from(r.transfers).map_err(|_| corrupt("count", r.transfers))?,
                    network: r.network,
                    token: r.token,
                })
            })
            .collect()
    }

    /// Transfers payd recorded in `mode` (devnet: test; every other network: live) that
    /// credit no payment, newest first, `limit` (at most [`MAX_PAGE`]) from `offset`.
    pub async fn unattributed_transfers(
        &self,
        mode: Mode,
        limit: u32,
        offset: u32,
    ) -> Result<UnattributedPage, StoreError> {
        let (rows, total) =
            dispatch!(self, views::unattributed_transfers(mode, limit.min(MAX_PAGE), offset))?;
        Ok(UnattributedPage {
            transfers: rows.into_iter().map(StoredTransfer::try_from).collect::<Result<_, _>>()?,
            total: u64::try_from(total).map_err(|_| corrupt("count", total))?,
        })
    }

    /// Every network with a watcher cursor or lease: where it is and who scans it.
    pub async fn chain_positions(&self) -> Result<Vec<ChainPosition>, StoreError> {
        let rows = dispatch!(self, views::chain_positions())?;
        rows.into_iter()
            .map(|(network, block, block_time, updated, holder, until)| {
                let cursor = if block < 0 {
                    None
                } else {
                    let n = u64::try_from(block).map_err(|_| corrupt("block number", block))?;
                    Some((n, block_time.map(from_ms).transpose()?))
                };
                let lease = match (holder, until) {
                    (Some(h), Some(u)) => Some((h, from_ms(u)?)),
                    _ => None,
                };
                let cursor_updated_at = if updated < 0 { None } else { Some(from_ms(updated)?) };
                Ok(ChainPosition { network, cursor, cursor_updated_at, lease })
            })
            .collect()
    }

    /// Webhook endpoints (not deleted) failing now or disabled for failing, longest failing
    /// first, at most `limit`.
    pub async fn failing_endpoints(&self, limit: u32) -> Result<Vec<FailingEndpoint>, StoreError> {
        let rows = dispatch!(self, views::failing_endpoints(limit))?;
        rows.into_iter()
            .map(|(id, merchant_id, mode, url, enabled, disabled_reason, since)| {
                Ok(FailingEndpoint {
                    id,
                    merchant_id,
                    mode,
                    url,
                    enabled,
                    disabled_reason,
                    failing_since: since.map(from_ms).transpose()?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::join_limbs;

    #[test]
    fn limbs_join_to_the_exact_sum() {
        assert_eq!(join_limbs(123_456_789, 2, 3).unwrap(), 3_000_000_002_123_456_789);
        assert_eq!(join_limbs(0, 0, 0).unwrap(), 0);
        assert!(join_limbs(-1, 0, 0).is_err());
    }
}

//! What the dashboard's views read, bounded by the user's reach: the payments-per-day chart's
//! window and totals for the list's filter, the money received per network and token, and —
//! for operators only — the transfers payd credited to no payment.

use chrono::{Days, NaiveDate, TimeZone, Utc};
use payd_core::apikey::Mode;
use payd_core::merchant::Merchant;
use payd_core::user::{Reach, User};
use payd_store::users::DashboardFilter;
use payd_store::views::{DayTotal, ReceivedTotal, UnattributedPage, MAX_CHART_DAYS};
use payd_store::{Store, StoreError};

/// Days the chart shows when the filter names no date.
pub const DEFAULT_CHART_DAYS: u64 = 30;

/// The days a chart covers, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First day (UTC).
    pub first: NaiveDate,
    /// Last day (UTC).
    pub last: NaiveDate,
    /// Whether the filter asked for more than [`MAX_CHART_DAYS`] (its last days are shown).
    pub clamped: bool,
}

impl Window {
    /// The chart's days for a filter's dates: the last 30 days up to `to` (or `today`), from
    /// `from` when given; at most [`MAX_CHART_DAYS`], the latest ones.
    pub fn of(from: Option<NaiveDate>, to: Option<NaiveDate>, today: NaiveDate) -> Window {
        let last = to.unwrap_or(today);
        let first = from
            .unwrap_or_else(|| last.checked_sub_days(Days::new(DEFAULT_CHART_DAYS - 1)).unwrap_or(last))
            .min(last);
        let span = (last - first).num_days() + 1;
        if span > MAX_CHART_DAYS {
            let first = last.checked_sub_days(Days::new(MAX_CHART_DAYS as u64 - 1)).unwrap_or(last);
            return Window { first, last, clamped: true };
        }
        Window { first, last, clamped: false }
    }

    /// Every day of the window, in order.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.first.iter_days().take_while(|d| d <= &self.last)
    }
}

/// Payments and USD volume for each day of `window` (days without any: zero), for the list's
/// filter narrowed to the window.
pub async fn per_day(
    store: &Store,
    filter: &DashboardFilter,
    window: Window,
) -> Result<Vec<DayTotal>, StoreError> {
    let start = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| Utc.from_utc_datetime(&t));
    let mut f = filter.clone();
    let gte = start(window.first);
    let lt = window.last.succ_opt().and_then(start);
    f.created_gte = f.created_gte.max(gte);
    f.created_lt = match (f.created_lt, lt) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let found = store.payments_per_day(&f).await?;
    Ok(window
        .days()
        .map(|day| {
            found.iter().find(|t| t.day == day).cloned().unwrap_or(DayTotal {
                day,
                payments: 0,
                usd: rust_decimal::Decimal::new(0, 2),
                unpriced: 0,
            })
        })
        .collect())
}

/// Money received by the merchants in reach in `mode`, per network and token.
pub async fn received(
    store: &Store,
    merchants: &[Merchant],
    mode: Mode,
) -> Result<Vec<ReceivedTotal>, StoreError> {
    let ids: Vec<_> = merchants.iter().map(|m| m.id.clone()).collect();
    store.received_totals(&ids, mode).await
}

/// Transfers in `mode` that credited no payment, newest first; `None` for anyone but an
/// operator (they belong to no account, so only the instance's operator may see them).
pub async fn unattributed(
    store: &Store,
    user: &User,
    mode: Mode,
    limit: u32,
    offset: u32,
) -> Result<Option<UnattributedPage>, StoreError> {
    if !matches!(user.reach(), Reach::Everything) {
        return Ok(None);
    }
    store.unattributed_transfers(mode, limit, offset).await.map(Some)
}

/// A payment's transfers in chain order with how deep each is, for the payment page's live
/// status: the same reading as the page's ([`super::dashboard::detail`]) without its events
/// and deliveries, so a poll every few seconds costs two small queries.
pub async fn transfers(
    store: &Store,
    payment: &payd_core::payment::Payment,
) -> Result<Vec<super::dashboard::TransferView>, StoreError> {
    let head = match (&payment.asset, payment.mode) {
        (_, Mode::Test) => store.devnet_head().await?,
        (Some(a), Mode::Live) => store.chain_cursor(&a.network).await?,
        (None, _) => None,
    };
    Ok(super::payments::transfers(store, &payment.id)
        .await?
        .into_iter()
        .map(|t| {
            let confirmations = match (&head, t.status) {
                (_, payd_store::chain::TransferStatus::Orphaned) => 0,
                (Some(h), _) => h.number.saturating_add(1).saturating_sub(t.transfer.block.number),
                (None, _) => 1,
            };
            super::dashboard::TransferView { transfer: t, confirmations }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_window_is_thirty_days_by_default_and_at_most_a_year() {
        let w = Window::of(None, None, d("2026-12-05"));
        assert_eq!((w.first, w.last, w.clamped), (d("2026-11-06"), d("2026-12-05"), false));
        assert_eq!(w.days().count(), 30);
        let w = Window::of(Some(d("2020-01-01")), Some(d("2026-12-05")), d("2026-12-05"));
        assert_eq!((w.first, w.clamped), (d("2025-12-05"), true));
        assert_eq!(w.days().count(), 366);
        let w = Window::of(Some(d("2026-12-01")), Some(d("2026-11-01")), d("2026-12-05"));
        assert_eq!(w.days().count(), 1);
    }
}

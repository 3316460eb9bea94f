//! The payment list's query string: parsed and checked (a bad value is refused with its
//! name), turned into the store's filter, and written back into links (paging, the CSV
//! export, the test/live switch).

use chrono::{NaiveDate, TimeZone, Utc};
use payd_core::apikey::Mode;
use payd_core::ids::MerchantId;
use payd_core::payment::PaymentStatus;
use payd_store::users::DashboardFilter;

/// Rows per page.
pub const PAGE_SIZE: u32 = 25;
/// The furthest page (bounds the offset a query can ask the database to skip).
pub const MAX_PAGE: u32 = 4_000;

/// The list's query, checked.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Test or live (`None`: live).
    pub mode: Option<Mode>,
    /// The search box.
    pub q: Option<String>,
    /// Status.
    pub status: Option<PaymentStatus>,
    /// Flags.
    pub underpaid: bool,
    /// Flags.
    pub overpaid: bool,
    /// Flags.
    pub paid_late: bool,
    /// Network.
    pub network: Option<String>,
    /// Token symbol.
    pub token: Option<String>,
    /// Created on or after this day (UTC).
    pub from: Option<NaiveDate>,
    /// Created on or before this day (UTC).
    pub to: Option<NaiveDate>,
    /// Page number, from 1.
    pub page: u32,
}

fn flag(v: &str) -> Result<bool, ()> {
    match v {
        "1" | "on" | "true" => Ok(true),
        "" | "0" | "false" => Ok(false),
        _ => Err(()),
    }
}

impl ListQuery {
    /// Parses a query string; `Err` names the parameter that is wrong.
    pub fn parse(raw: Option<&str>) -> Result<ListQuery, String> {
        let mut q = ListQuery { page: 1, ..ListQuery::default() };
        let text = |v: String, name: &str| -> Result<Option<String>, String> {
            let v = v.trim().to_owned();
            if v.chars().count() > 255 || v.chars().any(char::is_control) {
                return Err(format!("`{name}` is too long or holds control characters"));
            }
            Ok((!v.is_empty()).then_some(v))
        };
        for (k, v) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            let v = v.into_owned();
            let bad = || format!("`{k}` has a value it cannot take");
            match k.as_ref() {
                "mode" => {
                    q.mode = match v.as_str() {
                        "test" => Some(Mode::Test),
                        "live" => Some(Mode::Live),
                        "" => None,
                        _ => return Err(bad()),
                    }
                }
                "q" => q.q = text(v, "q")?,
                "status" if v.is_empty() => q.status = None,
                "status" => q.status = Some(PaymentStatus::parse(&v).ok_or_else(bad)?),
                "underpaid" => q.underpaid = flag(&v).map_err(|()| bad())?,
                "overpaid" => q.overpaid = flag(&v).map_err(|()| bad())?,
                "paid_late" => q.paid_late = flag(&v).map_err(|()| bad())?,
                "network" => q.network = text(v, "network")?,
                "token" => q.token = text(v, "token")?.map(|t| t.to_uppercase()),
                "from" if v.is_empty() => q.from = None,
                "from" => q.from = Some(NaiveDate::parse_from_str(&v, "%Y-%m-%d").map_err(|_| bad())?),
                "to" if v.is_empty() => q.to = None,
                "to" => q.to = Some(NaiveDate::parse_from_str(&v, "%Y-%m-%d").map_err(|_| bad())?),
                "page" => {
                    q.page = v.parse().ok().filter(|p| (1..=MAX_PAGE).contains(p)).ok_or_else(bad)?;
                }
                // Unknown parameters (a tracking tag, a bookmark from a later version) change
                // nothing; ignoring them is safe because every filter is opt-in.
                _ => {}
            }
        }
        Ok(q)
    }

    /// The mode shown.
    pub fn mode(&self) -> Mode {
        self.mode.unwrap_or(Mode::Live)
    }

    /// Rows skipped before this page.
    pub fn offset(&self) -> u32 {
        (self.page.max(1) - 1).saturating_mul(PAGE_SIZE)
    }

    /// The store's filter for these merchants, with `search` (the search box's texts, as
    /// [`crate::engine::dashboard::search_terms`] expands them).
    pub fn filter(&self, merchant_ids: Vec<MerchantId>, search: Vec<String>) -> DashboardFilter {
        let day = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| Utc.from_utc_datetime(&t));
        DashboardFilter {
            merchant_ids,
            mode: self.mode(),
            status: self.status,
            underpaid: self.underpaid,
            overpaid: self.overpaid,
            paid_late: self.paid_late,
            network: self.network.clone(),
            token: self.token.clone(),
            created_gte: self.from.and_then(day),
            created_lt: self.to.and_then(|d| d.succ_opt()).and_then(day),
            search,
            limit: PAGE_SIZE,
            offset: self.offset(),
        }
    }

    /// A link to `path` with this query in `mode` (none: without one, for the test/live
    /// switch to add) and `page`, when given.
    pub fn to_link(&self, path: &str, mode: Option<Mode>, page: Option<u32>) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        if let Some(m) = mode {
            s.append_pair("mode", m.as_str());
        }
        if let Some(v) = &self.q {
            s.append_pair("q", v);
        }
        if let Some(v) = self.status {
            s.append_pair("status", v.as_str());
        }
        for (on, name) in
            [(self.underpaid, "underpaid"), (self.overpaid, "overpaid"), (self.paid_late, "paid_late")]
        {
            if on {
                s.append_pair(name, "1");
            }
        }
        if let Some(v) = &self.network {
            s.append_pair("network", v);
        }
        if let Some(v) = &self.token {
            s.append_pair("token", v);
        }
        if let Some(v) = self.from {
            s.append_pair("from", &v.to_string());
        }
        if let Some(v) = self.to {
            s.append_pair("to", &v.to_string());
        }
        if let Some(p) = page {
            s.append_pair("page", &p.to_string());
        }
        let query = s.finish();
        if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_survives_its_own_link() {
        let q =
            ListQuery::parse(Some("mode=test&q=ord%201&status=completed&overpaid=1&from=2026-01-02&page=3"))
                .unwrap_or_default();
        assert_eq!(q.mode(), Mode::Test);
        assert_eq!(q.offset(), 2 * PAGE_SIZE);
        let again =
            ListQuery::parse(q.to_link("/x", Some(Mode::Test), Some(3)).split_once('?').map(|(_, r)| r))
                .unwrap_or_default();
        assert_eq!(again.q.as_deref(), Some("ord 1"));
        assert_eq!(again.status, Some(PaymentStatus::Completed));
        assert!(again.overpaid && !again.underpaid);
        assert_eq!(again.page, 3);
    }

    #[test]
    fn bad_values_are_named() {
        assert!(ListQuery::parse(Some("status=paid")).err().is_some_and(|e| e.contains("status")));
        assert!(ListQuery::parse(Some("page=0")).err().is_some_and(|e| e.contains("page")));
        assert!(ListQuery::parse(Some("from=yesterday")).err().is_some_and(|e| e.contains("from")));
    }
}

//! Exchange rates: where they come from, how long an answer is reused, and when it is too old
//! to price a payment with. Whichever source answers, the rate and its source's name are
//! captured on the payment at creation and never looked up again for it.
//!
//! Sources: a `static` table from configuration; the European Central Bank's daily reference
//! rates ([`ecb`], the default); Coinbase's public spot prices ([`coinbase`]); and a generic
//! JSON endpoint ([`http_json`]). A remote answer is cached (`ttl`), refetched when due, and
//! used while it is younger than the staleness limit (`max_age`, measured from the source's
//! own date where it gives one); past that, creates in the currencies it prices are refused.
//!
//! Nothing an upstream sent or was sent — its URL, which may carry an API key, its headers,
//! its body — reaches a client or a log line: clients read the source's name and why it
//! could not be used; logs add a description of the failure written by payd.

pub mod coinbase;
pub mod ecb;
pub mod http_json;
mod remote;

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use payd_core::fx::{FxError, FxRate};
use payd_core::money::Currency;
use rust_decimal::Decimal;

pub use remote::Remote;

/// A rate source that answers over HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteSource {
    /// The ECB's `eurofxref-daily.xml` (EUR base, one table for every pair).
    Ecb,
    /// Coinbase's `GET /v2/prices/{FROM}-{TO}/spot`.
    Coinbase,
    /// `{"rates": {"<TO>": <rate>}}` from a URL template with `{from}` and `{to}`.
    Http,
}

impl RemoteSource {
    /// The name kept on payments (`fx.source`) and written in configuration.
    pub fn name(self) -> &'static str {
        match self {
            RemoteSource::Ecb => "ecb",
            RemoteSource::Coinbase => "coinbase",
            RemoteSource::Http => "http",
        }
    }

    /// The source named `name` in configuration.
    pub fn from_name(name: &str) -> Option<RemoteSource> {
        [RemoteSource::Ecb, RemoteSource::Coinbase, RemoteSource::Http].into_iter().find(|s| s.name() == name)
    }

    /// Where the source is reached when configuration names no URL (`http` has none).
    pub fn default_url(self) -> Option<&'static str> {
        match self {
            RemoteSource::Ecb => Some(ecb::DEFAULT_URL),
            RemoteSource::Coinbase => Some(coinbase::DEFAULT_URL),
            RemoteSource::Http => None,
        }
    }

    /// How long an answer is reused before the source is asked again.
    pub fn default_ttl(self) -> Duration {
        match self {
            // The ECB publishes once a working day, around 16:00 CET.
            RemoteSource::Ecb => Duration::from_secs(3600),
            RemoteSource::Coinbase => Duration::from_secs(60),
            RemoteSource::Http => Duration::from_secs(600),
        }
    }

    /// How old a rate may be and still price a payment. The ECB's is dated by its reference
    /// day: six days cover a weekend with the Easter holidays (Thursday's rates until
    /// Tuesday's) and a late publication. Spot prices are as old as their fetch.
    pub fn default_max_age(self) -> Duration {
        match self {
            RemoteSource::Ecb => Duration::from_secs(6 * 86400),
            RemoteSource::Coinbase => Duration::from_secs(600),
            RemoteSource::Http => Duration::from_secs(3600),
        }
    }

    /// Whether one answer prices every pair (fetched once, cached once) or one pair.
    fn whole_table(self) -> bool {
        matches!(self, RemoteSource::Ecb)
    }
}

/// How a [`Table`]'s numbers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quote {
    /// Units of each currency per one unit of the base (the ECB: USD per EUR).
    PerBase,
    /// Units of the base per one unit of each currency (a static table: USD per EUR).
    InBase,
}

/// One answer of a source: currencies valued against a base (which is in `units` as 1), as
/// of a time.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// How `units` reads.
    pub quote: Quote,
    /// Each currency's number.
    pub units: HashMap<Currency, Decimal>,
    /// When these rates held: the source's own date where it gives one, else the fetch.
    pub as_of: DateTime<Utc>,
}

impl Table {
    /// The rate from `from` to `to`, exact (a cross rate keeps its terms); `None` when either
    /// currency is missing.
    pub fn rate(&self, from: Currency, to: Currency, source: &str) -> Option<Result<FxRate, FxError>> {
        let (f, t) = (*self.units.get(&from)?, *self.units.get(&to)?);
        Some(match self.quote {
            Quote::PerBase => FxRate::cross(from, to, t, f, source),
            Quote::InBase => FxRate::cross(from, to, f, t, source),
        })
    }
}

/// Why no rate can be used, in words fit for an API client (no upstream detail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The static table has no such currency.
    NotConfigured,
    /// The source's answer has no such currency.
    NotQuoted,
    /// The source could not be reached, or did not answer in its format, and no earlier answer
    /// is at hand.
    Unavailable,
    /// The newest answer at hand is past the staleness limit.
    Stale {
        /// When its rates held.
        as_of: DateTime<Utc>,
        /// The limit.
        max_age: Duration,
    },
    /// The rate cannot convert (out of range).
    Unusable,
}

/// No usable rate for a pair.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no exchange rate from {from} to {to}: {}", self.explain())]
pub struct FxUnavailable {
    /// From.
    pub from: &'static str,
    /// To.
    pub to: &'static str,
    /// The source's name (`ecb`, `static`…).
    pub provider: &'static str,
    /// Why.
    pub reason: Reason,
}

impl FxUnavailable {
    fn explain(&self) -> String {
        let source = self.provider;
        match &self.reason {
            Reason::NotConfigured => format!("none is configured (fx.provider = \"{source}\")"),
            Reason::NotQuoted => format!("the exchange-rate source `{source}` does not quote {}", self.from),
            Reason::Unavailable => format!(
                "the exchange-rate source `{source}` is not answering; payments in {} cannot be taken \
                 until it does",
                self.from
            ),
            Reason::Stale { as_of, max_age } => format!(
                "the newest rate from `{source}` is as of {}, older than the {} limit; payments in {} \
                 cannot be taken until the source answers again",
                as_of.format("%Y-%m-%d %H:%M UTC"),
                span(*max_age),
                self.from
            ),
            Reason::Unusable => "the converted amount is out of range".to_owned(),
        }
    }
}

/// A duration as an operator wrote it: whole days, hours or minutes where it is one.
fn span(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s >= 86400 && s % 86400 == 0 => format!("{}-day", s / 86400),
        s if s >= 3600 && s % 3600 == 0 => format!("{}-hour", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{}-minute", s / 60),
        s => format!("{s}-second"),
    }
}

/// Where rates come from.
#[derive(Debug)]
pub enum FxProvider {
    /// A fixed table from configuration.
    Static(Table),
    /// A source over HTTP, cached.
    Remote(Remote),
}

impl FxProvider {
    /// A static table: USD per unit of each listed currency.
    pub fn fixed(rates: &[(Currency, Decimal)]) -> FxProvider {
        let mut units: HashMap<Currency, Decimal> = rates.iter().copied().collect();
        units.insert(Currency::USD, Decimal::ONE);
        FxProvider::Static(Table { quote: Quote::InBase, units, as_of: DateTime::<Utc>::MIN_UTC })
    }

    /// The source's name.
    pub fn name(&self) -> &'static str {
        match self {
            FxProvider::Static(_) => "static",
            FxProvider::Remote(r) => r.source().name(),
        }
    }

    /// The rate from `from` to `to`. The same currency converts at exactly 1.
    pub async fn rate(&self, from: Currency, to: Currency) -> Result<FxRate, FxUnavailable> {
        if from == to {
            return Ok(FxRate::direct(from, to, Decimal::ONE, "identity"));
        }
        let unavailable =
            |reason| FxUnavailable { from: from.code(), to: to.code(), provider: self.name(), reason };
        match self {
            FxProvider::Static(table) => match table.rate(from, to, "static") {
                Some(Ok(rate)) => Ok(rate),
                Some(Err(_)) => Err(unavailable(Reason::Unusable)),
                None => Err(unavailable(Reason::NotConfigured)),
            },
            FxProvider::Remote(remote) => remote.rate(from, to).await.map_err(unavailable),
        }
    }
}

/// Parses a rate: a positive plain decimal (exponent notation accepted from providers).
pub fn parse_rate(text: &str) -> Option<Decimal> {
    let d = Decimal::from_str_exact(text).ok().or_else(|| Decimal::from_scientific(text).ok())?;
    (d > Decimal::ZERO).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(code: &str) -> Currency {
        Currency::from_code(code).unwrap_or(Currency::USD)
    }

    #[tokio::test]
    async fn a_static_table_prices_its_currencies_only() {
        let p = FxProvider::fixed(&[(c("EUR"), Decimal::new(10833, 4))]);
        let r = p.rate(c("EUR"), Currency::USD).await.map(|r| (r.rate.to_string(), r.source));
        assert_eq!(r, Ok(("1.0833".to_owned(), "static".to_owned())));
        let e = p.rate(c("GBP"), Currency::USD).await.err().map(|e| e.reason);
        assert_eq!(e, Some(Reason::NotConfigured));
    }

    #[test]
    fn limits_read_as_an_operator_wrote_them() {
        assert_eq!(span(Duration::from_secs(6 * 86400)), "6-day");
        assert_eq!(span(Duration::from_secs(7200)), "2-hour");
        assert_eq!(span(Duration::from_secs(600)), "10-minute");
        assert_eq!(span(Duration::from_secs(90)), "90-second");
    }
}

//! Exchange-rate providers: a static table from configuration (the default) and an HTTP
//! provider for production. Whichever answers, the rate and its source are captured on the
//! payment at creation and never looked up again for it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use payd_core::fx::FxRate;
use payd_core::money::Currency;
use rust_decimal::Decimal;

/// No usable rate for a pair.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no exchange rate from {from} to {to} is available{}", .reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default())]
pub struct FxUnavailable {
    /// From.
    pub from: &'static str,
    /// To.
    pub to: &'static str,
    /// Why, when a provider failed (never secrets).
    pub reason: Option<String>,
}

/// Where rates come from.
#[derive(Debug)]
pub enum FxProvider {
    /// A fixed table: units of the target per unit of each listed currency.
    Static(HashMap<(Currency, Currency), Decimal>),
    /// An HTTP endpoint answering `{"rates": {"<TO>": <rate>}}` for a URL with `{from}` and
    /// `{to}` placeholders, cached per pair for `ttl`.
    Http(HttpRates),
}

/// The HTTP provider's state.
#[derive(Debug)]
pub struct HttpRates {
    url_template: String,
    ttl: Duration,
    client: reqwest::Client,
    cache: Mutex<HashMap<(Currency, Currency), (Instant, Decimal)>>,
}

impl HttpRates {
    /// A provider for `url_template` (which must contain `{from}` and `{to}`).
    pub fn new(url_template: String, ttl: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()?;
        Ok(Self { url_template, ttl, client, cache: Mutex::new(HashMap::new()) })
    }
}

impl FxProvider {
    /// The rate from `from` to `to`. The same currency converts at exactly 1.
    pub async fn rate(&self, from: Currency, to: Currency) -> Result<FxRate, FxUnavailable> {
        if from == to {
            return Ok(FxRate { from, to, rate: Decimal::ONE, source: "identity".into() });
        }
        let unavailable = |reason: Option<String>| FxUnavailable { from: from.code(), to: to.code(), reason };
        match self {
            FxProvider::Static(table) => table
                .get(&(from, to))
                .map(|rate| FxRate { from, to, rate: *rate, source: "static".into() })
                .ok_or_else(|| unavailable(None)),
            FxProvider::Http(http) => {
                if let Some(rate) = http.cached(from, to) {
                    return Ok(FxRate { from, to, rate, source: "http".into() });
                }
                let rate = http.fetch(from, to).await.map_err(|e| unavailable(Some(e)))?;
                Ok(FxRate { from, to, rate, source: "http".into() })
            }
        }
    }
}

impl HttpRates {
    fn cached(&self, from: Currency, to: Currency) -> Option<Decimal> {
        let cache = self.cache.lock().ok()?;
        cache.get(&(from, to)).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, r)| *r)
    }

    async fn fetch(&self, from: Currency, to: Currency) -> Result<Decimal, String> {
        let url = self.url_template.replace("{from}", from.code()).replace("{to}", to.code());
        let res = self.client.get(&url).send().await.map_err(|e| format!("provider unreachable: {e}"))?;
        if !res.status().is_success() {
            return Err(format!("provider answered {}", res.status()));
        }
        let body = res.bytes().await.map_err(|e| format!("provider body: {e}"))?;
        // Numbers keep their text (arbitrary_precision): the rate is read exactly.
        let v: serde_json::Value =
            serde_json::from_slice(&body).map_err(|_| "provider answered non-JSON".to_owned())?;
        let raw = &v["rates"][to.code()];
        let text = match raw {
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) => s.clone(),
            _ => return Err(format!("provider answer has no rates.{}", to.code())),
        };
        let rate =
            parse_rate(&text).ok_or_else(|| format!("provider rate `{text}` is not a positive decimal"))?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert((from, to), (Instant::now(), rate));
        }
        Ok(rate)
    }
}

/// Parses a rate: a positive plain decimal (exponent notation accepted from providers).
pub fn parse_rate(text: &str) -> Option<Decimal> {
    let d = Decimal::from_str_exact(text).ok().or_else(|| Decimal::from_scientific(text).ok())?;
    (d > Decimal::ZERO).then_some(d)
}

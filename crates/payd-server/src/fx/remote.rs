//! A rate source over HTTP: one cached answer per pair (or one for every pair, where the
//! source publishes a whole table), refetched when its `ttl` has passed, and used while its
//! rates are younger than `max_age`. A failed fetch is not retried for `retry`, so a source
//! that is down costs each create nothing while an answer is still fresh enough, and fails
//! fast once none is. Concurrent requests for the same answer wait for one fetch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use payd_core::fx::FxRate;
use payd_core::money::Currency;
use payd_core::secret::Secret;

use super::{Reason, RemoteSource, Table};

/// The largest answer read from a source; the ECB's document is about 1.5 KB.
const MAX_BODY: usize = 1 << 20;

/// Which cached answer: one pair's, or (`None`) the whole table's.
type SlotKey = Option<(Currency, Currency)>;

/// A configured remote source and its cache.
#[derive(Debug)]
pub struct Remote {
    source: RemoteSource,
    /// May carry an API key: never logged, never answered.
    url: Secret,
    ttl: Duration,
    max_age: Duration,
    retry: Duration,
    client: reqwest::Client,
    slots: Mutex<HashMap<SlotKey, Arc<Slot>>>,
}

#[derive(Debug, Default)]
struct Slot {
    state: Mutex<State>,
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default)]
struct State {
    table: Option<Table>,
    fetched_at: Option<Instant>,
    failed_at: Option<Instant>,
}

/// A fetch that failed, described by payd for the log (never upstream text).
#[derive(Debug)]
pub struct FetchError(pub String);

impl Remote {
    /// A source at `url`: the document (ECB), the API base (Coinbase) or the template with
    /// `{from}` and `{to}` (http).
    pub fn new(
        source: RemoteSource,
        url: Secret,
        ttl: Duration,
        max_age: Duration,
    ) -> Result<Remote, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            // A redirect would be followed to a URL nobody configured, and reqwest logs both
            // ends of it: configure the final URL instead.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("payd/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let retry = ttl.min(Duration::from_secs(30));
        Ok(Remote { source, url, ttl, max_age, retry, client, slots: Mutex::new(HashMap::new()) })
    }

    /// Which source this is.
    pub fn source(&self) -> RemoteSource {
        self.source
    }

    /// The rate from `from` to `to`, from the cache or a fetch.
    pub async fn rate(&self, from: Currency, to: Currency) -> Result<FxRate, Reason> {
        let key = (!self.source.whole_table()).then_some((from, to));
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(slots.entry(key).or_default())
        };
        if let Some(answer) = self.answer(&slot, from, to, false) {
            return answer;
        }
        let _one_fetch = slot.fetching.lock().await;
        // Another request may have fetched while this one waited.
        if let Some(answer) = self.answer(&slot, from, to, false) {
            return answer;
        }
        let fetched = self.fetch(from, to).await;
        {
            let mut state = slot.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            match fetched {
                Ok(table) => {
                    state.table = Some(table);
                    state.fetched_at = Some(Instant::now());
                    state.failed_at = None;
                }
                Err(FetchError(why)) => {
                    tracing::warn!(source = self.source.name(), error = %why, "exchange-rate source failed");
                    state.failed_at = Some(Instant::now());
                }
            }
        }
        self.answer(&slot, from, to, true).unwrap_or(Err(Reason::Unavailable))
    }

    /// The answer from the cache, or `None` when a fetch is due first (never after one).
    fn answer(
        &self,
        slot: &Slot,
        from: Currency,
        to: Currency,
        fetched: bool,
    ) -> Option<Result<FxRate, Reason>> {
        let state = slot.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let since_fetch = state.fetched_at.map(|t| t.elapsed());
        let backing_off = state.failed_at.is_some_and(|t| t.elapsed() < self.retry);
        let age = state.table.as_ref().map(|t| (Utc::now() - t.as_of).to_std().unwrap_or_default());
        let stale = age.is_some_and(|a| a > self.max_age);
        // Due when the answer is older than `ttl`, or stale (a source whose own date lags)
        // and not asked within `retry`.
        let due = since_fetch.is_none_or(|s| s >= self.ttl || (stale && s >= self.retry));
        if due && !backing_off && !fetched {
            return None;
        }
        Some(match &state.table {
            None => Err(Reason::Unavailable),
            Some(t) if stale => Err(Reason::Stale { as_of: t.as_of, max_age: self.max_age }),
            Some(t) => match t.rate(from, to, self.source.name()) {
                None => Err(Reason::NotQuoted),
                Some(Ok(rate)) => Ok(rate),
                Some(Err(_)) => Err(Reason::Unusable),
            },
        })
    }

    async fn fetch(&self, from: Currency, to: Currency) -> Result<Table, FetchError> {
        match self.source {
            RemoteSource::Ecb => {
                let body = self.get(self.url.expose()).await?;
                super::ecb::parse(&body, Utc::now())
                    .map_err(|e| FetchError(format!("answer is not the ECB's format: {e}")))
            }
            RemoteSource::Coinbase => {
                let url = super::coinbase::spot_url(self.url.expose(), from, to);
                let body = self.get(&url).await?;
                super::coinbase::parse(&body, from, to, Utc::now())
                    .map_err(|e| FetchError(format!("answer is not Coinbase's format: {e}")))
            }
            RemoteSource::Http => {
                let url = self.url.expose().replace("{from}", from.code()).replace("{to}", to.code());
                let body = self.get(&url).await?;
                super::http_json::parse(&body, from, to, Utc::now())
                    .map_err(|e| FetchError(format!("answer is not the expected JSON: {e}")))
            }
        }
    }

    /// GETs `url`, with errors that name neither the URL nor anything the upstream sent.
    async fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let mut res = self.client.get(url).send().await.map_err(|e| FetchError(describe(e)))?;
        let status = res.status();
        if !status.is_success() {
            return Err(FetchError(format!("answered HTTP {}", status.as_u16())));
        }
        if res.content_length().is_some_and(|n| n > MAX_BODY as u64) {
            return Err(FetchError(format!("answer larger than {MAX_BODY} bytes")));
        }
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| FetchError(describe(e)))? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(FetchError(format!("answer larger than {MAX_BODY} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// What went wrong with a request, in payd's words: the URL, and any cause text that could
/// name the host (TLS errors do), stay out.
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    if e.is_timeout() {
        return "timed out".to_owned();
    }
    let (mut os_kind, mut dns) = (None, false);
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if io.raw_os_error().is_some() {
                os_kind.get_or_insert(io.kind());
            }
        }
        dns |= cause.to_string().starts_with("dns error");
        source = cause.source();
    }
    if dns {
        "could not resolve the host name".to_owned()
    } else if let Some(kind) = os_kind {
        format!("could not connect ({kind})")
    } else if e.is_connect() {
        "could not connect (TLS or proxy)".to_owned()
    } else if e.is_body() || e.is_decode() {
        "answer cut short".to_owned()
    } else {
        "request failed".to_owned()
    }
}

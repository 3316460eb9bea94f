//! Configuration: built-in defaults, then `payd.toml` (when present), then `PAYD_*`
//! environment variables, then command-line flags. [`Config::validate`] reports every problem
//! at once, so an operator fixes a file in one pass.

pub mod check;
pub mod explorer;
pub mod networks;
pub mod settings;
pub mod webhooks;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use payd_core::secret::Secret;

use crate::config::settings::Values;

/// The embedded default: SQLite under `./payd-data/`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite:payd-data/payd.db";
/// Where `payd serve` listens by default.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// payd's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite:…` or `postgres://…`. Redacted in `Debug` (it may hold a password).
    pub database_url: Secret,
    /// Database pool size.
    pub database_max_connections: u32,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Base of checkout links, without a trailing slash.
    pub public_url: String,
    /// The master key (64 hex characters) that encrypts signing secrets, when given directly.
    pub master_key: Option<Secret>,
    /// The file holding the master key. Defaults to `master.key` beside the SQLite file.
    pub master_key_file: Option<PathBuf>,
    /// The bearer token Prometheus sends for `/metrics`; `None`: `/metrics` is not served.
    pub metrics_token: Option<Secret>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Time a client has to send a request's headers (and, between requests, how long an
    /// idle keep-alive connection stays open).
    pub header_read_timeout: Duration,
    /// Time a request has, from its headers to the answer, its body included: a body
    /// trickled slower than that is cut off.
    pub request_timeout: Duration,
    /// Open connections at most; more wait in the listen backlog until one closes.
    pub max_connections: usize,
    /// Largest `metadata` object accepted, in bytes of JSON.
    pub max_metadata_bytes: usize,
    /// Lifetime of a payment that names none.
    pub default_expiry: Duration,
    /// Longest lifetime a payment may ask for.
    pub max_expiry: Duration,
    /// How often the expiry worker looks for payments past their time.
    pub expiry_poll: Duration,
    /// Create a demo merchant and test key on an empty database.
    pub bootstrap_demo: bool,
    /// devnet's block interval (and its watcher's poll); zero runs no devnet workers (tests
    /// then mine and scan by hand).
    pub devnet_block_interval: Duration,
    /// Pay test payments on devnet automatically this long after creation; `None`: never.
    pub devnet_autopay: Option<Duration>,
    /// How long after expiry a payment's address still records late money against it.
    pub monitoring_window: Duration,
    /// Where exchange rates come from.
    pub fx: FxConfig,
    /// Requests per minute per API key, by API surface (the checkout page's per client).
    pub rate_limits: RateLimitConfig,
    /// The header a reverse proxy in front of payd puts the client's address in
    /// (`X-Forwarded-For`: its last entry); `None`: the connection's peer address.
    pub client_ip_header: Option<axum::http::HeaderName>,
    /// Webhook delivery.
    pub webhooks: crate::config::webhooks::WebhooksConfig,
    /// Configured EVM networks (`[[networks]]`, `PAYD_NETWORKS`).
    pub networks: Vec<crate::config::networks::EvmNetwork>,
    /// This node's name in chain leases (default: random per process). A node restarted
    /// under the same id takes its own lease back at once.
    pub node_id: String,
    /// How long a chain watcher's lease lasts without renewal.
    pub chain_lease: Duration,
}

/// Requests per minute per key on each API surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// payd's own API.
    pub native: u32,
    /// AstraPay (its documented limit: 100).
    pub astrapay: u32,
    /// MutoPay.
    pub mutopay: u32,
    /// Paygentic.
    pub paygentic: u32,
    /// AlpPay.
    pub alppay: u32,
    /// The checkout page: views and live-status streams opened, per client address.
    pub checkout: u32,
    /// The checkout page's forms (simulate, choose, cancel), per client address.
    pub checkout_forms: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            native: 1200,
            astrapay: 100,
            mutopay: 600,
            paygentic: 600,
            alppay: 600,
            checkout: crate::ratelimit::DEFAULT_CHECKOUT,
            checkout_forms: crate::ratelimit::DEFAULT_CHECKOUT_FORMS,
        }
    }
}

/// Exchange-rate settings. Rates convert into USD, the peg of every stablecoin payd ships.
#[derive(Debug, Clone, PartialEq)]
pub enum FxConfig {
    /// A fixed table: USD per unit of each listed currency.
    Static(Vec<(payd_core::money::Currency, rust_decimal::Decimal)>),
    /// A source over HTTP (the ECB's daily rates by default).
    Remote {
        /// Which source.
        source: crate::fx::RemoteSource,
        /// Its document, API base or template. Redacted in `Debug`: it may carry a key.
        url: Secret,
        /// How long an answer is reused.
        ttl: Duration,
        /// How old a rate may be and still price a payment.
        max_age: Duration,
    },
}

/// Values given on the command line, which win over everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--config`: a file that must exist.
    pub config_file: Option<PathBuf>,
    /// `--database-url`.
    pub database_url: Option<String>,
    /// `--listen`.
    pub listen: Option<String>,
    /// `--public-url`.
    pub public_url: Option<String>,
}

/// Everything wrong with a configuration.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .0.join("\n  - "))]
pub struct ConfigError(pub Vec<String>);

impl Config {
    /// Loads from `./payd.toml` (or `--config`), the environment and the flags.
    pub fn load(overrides: &Overrides) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with("PAYD_")).collect();
        Self::load_from(overrides, &env)
    }

    /// Like [`Config::load`], with the environment given explicitly (tests).
    pub fn load_from(overrides: &Overrides, env: &[(String, String)]) -> Result<Config, ConfigError> {
        let mut errors = Vec::new();
        let values = gather(overrides, env, &mut errors);
        validate(values, errors)
    }

    /// Only the networks that validate, from the same sources as [`Config::load`]: `payd
    /// config check` still checks their nodes when something else in the file is wrong.
    pub fn load_networks(overrides: &Overrides) -> Vec<crate::config::networks::EvmNetwork> {
        let env: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k == "PAYD_NETWORKS").collect();
        let mut values = gather(overrides, &env, &mut Vec::new());
        crate::config::networks::validate(values.networks(), &mut Vec::new())
    }

    /// Whether the database is the embedded SQLite.
    pub fn is_sqlite(&self) -> bool {
        self.database_url.expose().starts_with("sqlite:")
    }

    /// The SQLite file's directory, where the default master key file lives.
    pub fn sqlite_dir(&self) -> Option<PathBuf> {
        let path = self.sqlite_path()?;
        Some(path.parent().map(Path::to_path_buf).unwrap_or_default())
    }

    /// The SQLite file, as configured (relative to the working directory when relative).
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        let rest = self.database_url.expose().strip_prefix("sqlite:")?;
        let path = rest.trim_start_matches("//").split('?').next().unwrap_or_default();
        if path.is_empty() || path == ":memory:" {
            return None;
        }
        Some(PathBuf::from(path))
    }

    /// The database, for messages: the SQLite file's absolute path (a relative path
    /// resolves against the working directory, so two directories mean two databases), or
    /// the PostgreSQL URL without its password and query (which may hold one).
    pub fn database_location(&self) -> String {
        if let Some(path) = self.sqlite_path() {
            let abs = std::path::absolute(&path).unwrap_or(path);
            return format!("sqlite:{}", abs.display());
        }
        let url = self.database_url.expose();
        if url.starts_with("sqlite:") {
            return "sqlite::memory:".to_owned();
        }
        match url::Url::parse(url) {
            Ok(mut u) => {
                let _ = u.set_password(None);
                u.set_query(None);
                u.set_fragment(None);
                u.to_string()
            }
            Err(_) => "the configured PostgreSQL database".to_owned(),
        }
    }
}

/// The file (`--config`, else `./payd.toml` when it exists), then the environment, then the
/// flags: each later source wins.
fn gather(overrides: &Overrides, env: &[(String, String)], errors: &mut Vec<String>) -> Values {
    let mut values = Values::default();
    let file = match &overrides.config_file {
        Some(path) => Some(path.clone()),
        None => Some(PathBuf::from("payd.toml")).filter(|p| p.exists()),
    };
    if let Some(path) = file {
        match std::fs::read_to_string(&path) {
            Ok(text) => values.read_file(&path.display().to_string(), &text, errors),
            Err(e) => errors.push(format!("cannot read {}: {e}", path.display())),
        }
    }
    values.read_env(env, errors);
    for (setting, flag) in [
        (&settings::DATABASE_URL, &overrides.database_url),
        (&settings::LISTEN, &overrides.listen),
        (&settings::PUBLIC_URL, &overrides.public_url),
    ] {
        if let Some(v) = flag {
            values.set(setting, v.clone());
        }
    }
    values
}

/// A key's path as the operator writes it: `server.colour`, `networks[0].tokens[1].colour`.
pub(crate) fn key_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", key_path(parent)),
        Path::Map { parent, key } => match key_path(parent) {
            p if p.is_empty() => key.clone(),
            p => format!("{p}.{key}"),
        },
        Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => {
            key_path(parent)
        }
    }
}

/// `[fx]`: the provider defaults to the ECB's daily rates, or to `static` when a table of
/// rates is given. Errors never repeat a URL (it may carry a key).
fn validate_fx(v: &mut Values, errors: &mut Vec<String>) -> FxConfig {
    let rates = v.pairs(&settings::FX_RATES);
    let url = v.text(&settings::FX_URL);
    let provider = v.text(&settings::FX_PROVIDER).unwrap_or_else(|| {
        if rates.is_some() { "static" } else { crate::fx::RemoteSource::Ecb.name() }.to_owned()
    });
    if provider == "static" {
        let mut table = Vec::new();
        for (code, rate) in rates.unwrap_or_default() {
            match (payd_core::money::Currency::from_code(&code), crate::fx::parse_rate(&rate)) {
                (Some(c), Some(r)) => table.push((c, r)),
                (None, _) => errors.push(format!("fx rates: `{code}` is not an ISO-4217 currency code")),
                (_, None) => errors.push(format!("fx rates: {code} = `{rate}` is not a positive decimal")),
            }
        }
        if url.is_some() {
            errors.push("fx url does nothing with fx provider `static` (set fx provider too)".to_owned());
        }
        return FxConfig::Static(table);
    }
    let Some(source) = crate::fx::RemoteSource::from_name(&provider) else {
        errors.push(format!("fx provider must be ecb, coinbase, http or static (got `{provider}`)"));
        return FxConfig::Static(Vec::new());
    };
    if rates.is_some() {
        errors.push(format!("fx rates are a static table; they do nothing with fx provider `{provider}`"));
    }
    let ttl = v.int_or(&settings::FX_TTL_SECS, source.default_ttl().as_secs(), errors);
    let max_age = v.int_or(&settings::FX_MAX_AGE_SECS, source.default_max_age().as_secs(), errors);
    let url = url.or_else(|| source.default_url().map(str::to_owned));
    let valid = url.as_deref().is_some_and(|u| {
        let filled = u.replace("{from}", "EUR").replace("{to}", "USD");
        let templated = u.contains("{from}") && u.contains("{to}");
        let parsed = url::Url::parse(&filled)
            .is_ok_and(|p| matches!(p.scheme(), "http" | "https") && p.host().is_some());
        parsed && (templated || source != crate::fx::RemoteSource::Http)
    });
    match url {
        Some(url) if valid => FxConfig::Remote {
            source,
            url: Secret::new(url),
            ttl: Duration::from_secs(ttl),
            max_age: Duration::from_secs(max_age),
        },
        _ => {
            errors.push(match source {
                crate::fx::RemoteSource::Http => {
                    "fx url must be an http(s) URL containing {from} and {to}".to_owned()
                }
                _ => format!("fx url must be an absolute http(s) URL for fx provider `{provider}`"),
            });
            FxConfig::Static(Vec::new())
        }
    }
}

/// `[rate_limits]`: requests per minute per key, per API (the checkout's: per client address).
fn validate_rate_limits(v: &mut Values, errors: &mut Vec<String>) -> RateLimitConfig {
    let mut rate_limits = RateLimitConfig::default();
    for (surface, n) in v.pairs(&settings::RATE_LIMITS).unwrap_or_default() {
        let slot = match surface.as_str() {
            "native" => &mut rate_limits.native,
            "astrapay" => &mut rate_limits.astrapay,
            "mutopay" => &mut rate_limits.mutopay,
            "paygentic" => &mut rate_limits.paygentic,
            "alppay" => &mut rate_limits.alppay,
            "checkout" => &mut rate_limits.checkout,
            "checkout_forms" => &mut rate_limits.checkout_forms,
            other => {
                errors.push(format!(
                    "rate limits: unknown API `{other}` (native, astrapay, mutopay, paygentic, alppay, checkout, \
                     checkout_forms)"
                ));
                continue;
            }
        };
        match n.parse::<u32>() {
            Ok(v) if (1..=1_000_000).contains(&v) => *slot = v,
            _ => errors
                .push(format!("rate limits: {surface} must be 1 to 1000000 requests per minute (got `{n}`)")),
        }
    }
    rate_limits
}

/// Checks every value and builds the configuration, or reports every problem at once.
fn validate(mut v: Values, mut errors: Vec<String>) -> Result<Config, ConfigError> {
    use settings::*;
    let errors = &mut errors;
    let fx = validate_fx(&mut v, errors);
    let database_url = v.text(&DATABASE_URL).unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
    if !(database_url.starts_with("sqlite:")
        || database_url.starts_with("postgres://")
        || database_url.starts_with("postgresql://"))
    {
        errors.push("database url must start with sqlite:, postgres:// or postgresql://".to_owned());
    }
    let listen_text = v.text(&LISTEN).unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
    let listen = match listen_text.parse::<SocketAddr>() {
        Ok(a) => a,
        Err(_) => {
            errors.push(format!("listen must be an address such as 127.0.0.1:8080 (got `{listen_text}`)"));
            SocketAddr::from(([127, 0, 0, 1], 8080))
        }
    };
    let public_url = match v.text(&PUBLIC_URL) {
        Some(u) => match url::Url::parse(&u) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {
                u.trim_end_matches('/').to_owned()
            }
            _ => {
                errors.push(format!("public url must be an absolute http(s) URL (got `{u}`)"));
                String::new()
            }
        },
        None => format!("http://{listen}"),
    };
    let master_key = v.text(&MASTER_KEY).map(Secret::new);
    if let Some(k) = &master_key {
        if payd_core::crypto::MasterKey::parse(k.expose()).is_err() {
            errors.push("master key must be 64 hex characters (32 bytes)".to_owned());
        }
    }
    let metrics_token = v.text(&METRICS_TOKEN).map(Secret::new);
    if metrics_token
        .as_ref()
        .is_some_and(|t| t.expose().len() < 16 || t.expose().chars().any(char::is_whitespace))
    {
        errors.push("metrics token must be at least 16 characters, without spaces".to_owned());
    }
    let database_max_connections = v.int(&DATABASE_MAX_CONNECTIONS, errors);
    let max_body_bytes = v.int(&MAX_BODY_BYTES, errors);
    let header_read_timeout_secs = v.int(&HEADER_READ_TIMEOUT_SECS, errors);
    let request_timeout_secs = v.int(&REQUEST_TIMEOUT_SECS, errors);
    let max_connections = v.int(&MAX_CONNECTIONS, errors);
    let max_metadata_bytes = v.int(&MAX_METADATA_BYTES, errors);
    let default_expiry = v.int(&DEFAULT_EXPIRY_SECS, errors);
    let max_expiry = v.int(&MAX_EXPIRY_SECS, errors);
    if default_expiry > max_expiry {
        errors.push("default expiry must not exceed max expiry".to_owned());
    }
    let expiry_poll_ms = v.int(&EXPIRY_POLL_MS, errors);
    let devnet_block_ms = v.int(&DEVNET_BLOCK_MS, errors);
    let devnet_autopay_secs = v.int(&DEVNET_AUTOPAY_SECS, errors);
    let monitoring_window_secs = v.int(&MONITORING_WINDOW_SECS, errors);
    let bootstrap_demo = v.bool(&BOOTSTRAP_DEMO, errors);
    let rate_limits = validate_rate_limits(&mut v, errors);
    let client_ip_header =
        v.text(&CLIENT_IP_HEADER).and_then(|h| match axum::http::HeaderName::try_from(h.trim()) {
            Ok(name) => Some(name),
            Err(_) => {
                errors.push(format!(
                    "client ip header must be an HTTP header name such as X-Forwarded-For (got `{h}`)"
                ));
                None
            }
        });
    let webhooks = crate::config::webhooks::validate(&mut v, errors);
    let networks = crate::config::networks::validate(v.networks(), errors);
    let chain_lease_secs = v.int(&CHAIN_LEASE_SECS, errors);
    let node_id = match v.text(&NODE_ID).map(|n| n.trim().to_owned()) {
        Some(n) if !n.is_empty() && n.len() <= 100 => n,
        Some(_) => {
            errors.push("node id must be 1 to 100 characters".to_owned());
            String::new()
        }
        None => format!("node-{}", uuid::Uuid::new_v4().simple()),
    };
    let master_key_file = v.text(&MASTER_KEY_FILE).map(PathBuf::from);
    if !errors.is_empty() {
        return Err(ConfigError(std::mem::take(errors)));
    }
    // Each range keeps its number within the field's type.
    let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    Ok(Config {
        database_url: Secret::new(database_url),
        database_max_connections: u32::try_from(database_max_connections).unwrap_or(u32::MAX),
        listen,
        public_url,
        master_key,
        master_key_file,
        metrics_token,
        max_body_bytes: size(max_body_bytes),
        header_read_timeout: Duration::from_secs(header_read_timeout_secs),
        request_timeout: Duration::from_secs(request_timeout_secs),
        max_connections: size(max_connections),
        max_metadata_bytes: size(max_metadata_bytes),
        default_expiry: Duration::from_secs(default_expiry),
        max_expiry: Duration::from_secs(max_expiry),
        expiry_poll: Duration::from_millis(expiry_poll_ms),
        bootstrap_demo,
        devnet_block_interval: Duration::from_millis(devnet_block_ms),
        devnet_autopay: (devnet_autopay_secs > 0).then(|| Duration::from_secs(devnet_autopay_secs)),
        monitoring_window: Duration::from_secs(monitoring_window_secs),
        fx,
        rate_limits,
        client_ip_header,
        webhooks,
        networks,
        node_id,
        chain_lease: Duration::from_secs(chain_lease_secs),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn no_configuration_means_sqlite_on_localhost() {
        let c = Config::load_from(&Overrides::default(), &[]);
        let c = c.map_err(|e| e.to_string());
        assert_eq!(
            c.as_ref().map(|c| c.database_url.expose().to_owned()),
            Ok(DEFAULT_DATABASE_URL.to_owned())
        );
        assert_eq!(c.as_ref().map(|c| c.listen.to_string()), Ok(DEFAULT_LISTEN.to_owned()));
        assert_eq!(c.as_ref().map(|c| c.public_url.clone()), Ok("http://127.0.0.1:8080".to_owned()));
        assert_eq!(c.ok().and_then(|c| c.sqlite_dir()), Some(PathBuf::from("payd-data")));
    }

    #[test]
    fn flags_win_over_the_environment() {
        let o = Overrides { listen: Some("127.0.0.1:9000".into()), ..Default::default() };
        let c = Config::load_from(&o, &env(&[("PAYD_LISTEN", "127.0.0.1:7000")]));
        assert_eq!(c.map(|c| c.listen.port()).ok(), Some(9000));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let e = Config::load_from(
            &Overrides::default(),
            &env(&[
                ("PAYD_LISTEN", "nowhere"),
                ("PAYD_DATABASE_URL", "mysql://x"),
                ("PAYD_MASTER_KEY", "abc"),
            ]),
        );
        let msg = e.err().map(|e| e.0).unwrap_or_default();
        assert_eq!(msg.len(), 3, "{msg:?}");
    }

    #[test]
    fn fx_rates_are_read_exactly_and_checked() {
        let c = Config::load_from(&Overrides::default(), &env(&[("PAYD_FX_RATES", "EUR=1.0833,GBP=1.27")]));
        let FxConfig::Static(table) = c.map(|c| c.fx).unwrap_or(FxConfig::Static(vec![])) else {
            panic!("static expected")
        };
        assert_eq!(
            table.iter().map(|(c, r)| format!("{c}={r}")).collect::<Vec<_>>(),
            ["EUR=1.0833", "GBP=1.27"]
        );
        let e = Config::load_from(&Overrides::default(), &env(&[("PAYD_FX_RATES", "EUR=abc,XYZ=1")]));
        assert_eq!(e.err().map(|e| e.0.len()), Some(2));
        let e = Config::load_from(&Overrides::default(), &env(&[("PAYD_FX_PROVIDER", "http")]));
        assert!(e.is_err());
    }

    #[test]
    fn a_fresh_install_prices_through_the_ecb_daily_rates() {
        let c = Config::load_from(&Overrides::default(), &[]).map(|c| c.fx).map_err(|e| e.to_string());
        let Ok(FxConfig::Remote { source, url, ttl, max_age }) = c else { panic!("remote expected: {c:?}") };
        assert_eq!(source, crate::fx::RemoteSource::Ecb);
        assert_eq!(url.expose(), "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml");
        assert_eq!((ttl.as_secs(), max_age.as_secs()), (3600, 6 * 86400));
    }

    #[test]
    fn fx_sources_are_checked_and_their_urls_never_repeated() {
        let load = |pairs: &[(&str, &str)]| Config::load_from(&Overrides::default(), &env(pairs));
        let c = load(&[("PAYD_FX_PROVIDER", "coinbase"), ("PAYD_FX_MAX_AGE_SECS", "120")]).map(|c| c.fx);
        let Ok(FxConfig::Remote { url, ttl, max_age, .. }) = c else { panic!("coinbase expected") };
        assert_eq!((url.expose(), ttl.as_secs(), max_age.as_secs()), ("https://api.coinbase.com", 60, 120));
        let secret = "https://rates.example/latest?key=hunter2&from={from}&to={to}";
        let c = load(&[("PAYD_FX_PROVIDER", "http"), ("PAYD_FX_URL", secret)]);
        assert!(!format!("{c:?}").contains("hunter2"), "the URL is redacted in Debug");
        for (pairs, want) in [
            (vec![("PAYD_FX_PROVIDER", "http"), ("PAYD_FX_URL", "ftp://x/?key=hunter2")], "{from} and {to}"),
            (vec![("PAYD_FX_PROVIDER", "ecb"), ("PAYD_FX_URL", "not a url hunter2")], "absolute http(s) URL"),
            (vec![("PAYD_FX_PROVIDER", "ecb"), ("PAYD_FX_RATES", "EUR=1.08")], "static table"),
            (vec![("PAYD_FX_PROVIDER", "oanda")], "ecb, coinbase, http or static"),
            (vec![("PAYD_FX_PROVIDER", "ecb"), ("PAYD_FX_TTL_SECS", "0")], "fx ttl secs"),
            (vec![("PAYD_FX_RATES", "EUR=1.08"), ("PAYD_FX_URL", "https://x/?k=hunter2")], "set fx provider"),
        ] {
            let e = load(&pairs).err().map(|e| e.0.join("; ")).unwrap_or_default();
            assert!(e.contains(want) && !e.contains("hunter2"), "{pairs:?}: {e}");
        }
    }

    #[test]
    fn database_urls_are_redacted_in_debug() {
        let c = Config::load_from(
            &Overrides::default(),
            &env(&[("PAYD_DATABASE_URL", "postgres://u:hunter2@h/db")]),
        );
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn the_database_location_is_absolute_and_never_shows_a_password() {
        let at = |url: &str| {
            Config::load_from(&Overrides::default(), &env(&[("PAYD_DATABASE_URL", url)]))
                .map(|c| c.database_location())
                .unwrap_or_default()
        };
        let pg = at("postgres://payd:hunter2@db.internal:5433/payd?sslmode=require&password=hunter2");
        assert_eq!(pg, "postgres://payd@db.internal:5433/payd");
        let cwd = std::env::current_dir().unwrap_or_default();
        assert_eq!(at("sqlite:data/x.db"), format!("sqlite:{}", cwd.join("data/x.db").display()));
        assert_eq!(at("sqlite:///srv/payd.db?mode=rwc"), "sqlite:/srv/payd.db");
    }

    #[test]
    fn networks_come_from_the_file_and_are_validated() {
        let dir = std::env::temp_dir().join(format!("payd-config-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        let path = dir.join("payd.toml");
        let text = r#"
[server]
node_id = "node-1"
chain_lease_secs = 10

[[networks]]
name = "Base"
chain_id = 8453
rpc_url = "https://rpc.example/KEY"
confirmations = 12
block_range = 2000
tokens = [{ symbol = "usdc", contract = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", decimals = 6 }]
"#;
        std::fs::write(&path, text).unwrap_or_default();
        let o = Overrides { config_file: Some(path.clone()), ..Default::default() };
        let c = Config::load_from(&o, &[]).map_err(|e| e.to_string());
        let c = c.as_ref();
        assert_eq!(c.map(|c| c.node_id.as_str()), Ok("node-1"));
        assert_eq!(c.map(|c| c.chain_lease), Ok(Duration::from_secs(10)));
        let net = c.ok().and_then(|c| c.networks.first());
        assert_eq!(
            net.map(|n| (n.name.as_str(), n.block_range, n.tokens[0].symbol.as_str())),
            Some(("base", 2000, "USDC"))
        );
        assert!(!format!("{net:?}").contains("KEY"), "the RPC URL is redacted");
        std::fs::write(&path, text.replace("tokens = [", "colour = 1\ntokens = [")).unwrap_or_default();
        assert!(Config::load_from(&o, &[]).is_err(), "unknown keys are errors");
        // Every unknown key is reported, each with its path.
        let typos = text
            .replace("tokens = [", "colour = 1\ntokens = [")
            .replace("node_id", "nod_id")
            .replace("decimals = 6 }", "decimals = 6, colour = 2 }")
            + "\n[payments]\nexpiry = 5\n";
        std::fs::write(&path, typos).unwrap_or_default();
        let errors = Config::load_from(&o, &[]).err().map(|e| e.0).unwrap_or_default();
        let unknown: Vec<&String> = errors.iter().filter(|e| e.contains("unknown key")).collect();
        assert_eq!(unknown.len(), 4, "{errors:?}");
        for key in ["server.nod_id", "payments.expiry", "colour"] {
            assert!(unknown.iter().any(|e| e.contains(key)), "{key}: {errors:?}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

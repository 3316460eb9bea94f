//! Configuration: built-in defaults, then `payd.toml` (when present), then `PAYD_*`
//! environment variables, then command-line flags. [`Config::validate`] reports every problem
//! at once, so an operator fixes a file in one pass.

pub mod check;
pub mod networks;
pub mod webhooks;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use payd_core::secret::Secret;
use serde::Deserialize;

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
    /// Requests per minute per API key, by API surface.
    pub rate_limits: RateLimitConfig,
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
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig { native: 1200, astrapay: 100, mutopay: 600, paygentic: 600, alppay: 600 }
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

/// The `payd.toml` file. Unknown keys are errors, every one of them reported (collected by
/// `serde_ignored` while parsing): a typo must not silently mean "default".
#[derive(Debug, Default, Deserialize)]
struct FileConfig {
    database: Option<DatabaseSection>,
    server: Option<ServerSection>,
    security: Option<SecuritySection>,
    payments: Option<PaymentsSection>,
    devnet: Option<DevnetSection>,
    fx: Option<FxSection>,
    rate_limits: Option<std::collections::BTreeMap<String, u32>>,
    webhooks: Option<crate::config::webhooks::WebhooksSection>,
    networks: Option<Vec<crate::config::networks::NetworkSection>>,
}

#[derive(Debug, Default, Deserialize)]
struct DevnetSection {
    block_ms: Option<u64>,
    autopay_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct FxSection {
    provider: Option<String>,
    /// Written as strings (`EUR = "1.08"`): a TOML float would be a binary approximation.
    rates: Option<std::collections::BTreeMap<String, String>>,
    url: Option<Secret>,
    ttl_secs: Option<u64>,
    max_age_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct DatabaseSection {
    url: Option<Secret>,
    max_connections: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
struct ServerSection {
    listen: Option<String>,
    public_url: Option<String>,
    max_body_bytes: Option<usize>,
    bootstrap_demo: Option<bool>,
    node_id: Option<String>,
    chain_lease_secs: Option<u64>,
    header_read_timeout_secs: Option<u64>,
    request_timeout_secs: Option<u64>,
    max_connections: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct SecuritySection {
    master_key: Option<Secret>,
    master_key_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
struct PaymentsSection {
    default_expiry_secs: Option<u64>,
    max_expiry_secs: Option<u64>,
    max_metadata_bytes: Option<usize>,
    expiry_poll_ms: Option<u64>,
    monitoring_window_secs: Option<u64>,
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

/// Raw values gathered from all sources before validation.
#[derive(Debug, Default)]
struct Raw {
    database_url: Option<String>,
    database_max_connections: Option<String>,
    listen: Option<String>,
    public_url: Option<String>,
    master_key: Option<String>,
    master_key_file: Option<String>,
    max_body_bytes: Option<String>,
    header_read_timeout_secs: Option<String>,
    request_timeout_secs: Option<String>,
    max_connections: Option<String>,
    max_metadata_bytes: Option<String>,
    default_expiry_secs: Option<String>,
    max_expiry_secs: Option<String>,
    expiry_poll_ms: Option<String>,
    bootstrap_demo: Option<String>,
    devnet_block_ms: Option<String>,
    devnet_autopay_secs: Option<String>,
    monitoring_window_secs: Option<String>,
    fx_provider: Option<String>,
    fx_rates: Option<Vec<(String, String)>>,
    fx_url: Option<String>,
    fx_ttl_secs: Option<String>,
    fx_max_age_secs: Option<String>,
    rate_limits: Vec<(String, String)>,
    webhooks: crate::config::webhooks::WebhooksRaw,
    networks: Vec<crate::config::networks::NetworkSection>,
    networks_error: Option<String>,
    node_id: Option<String>,
    chain_lease_secs: Option<String>,
}

impl Config {
    /// Loads from `./payd.toml` (or `--config`), the environment and the flags.
    pub fn load(overrides: &Overrides) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with("PAYD_")).collect();
        Self::load_from(overrides, &env)
    }

    /// Like [`Config::load`], with the environment given explicitly (tests).
    pub fn load_from(overrides: &Overrides, env: &[(String, String)]) -> Result<Config, ConfigError> {
        let mut raw = Raw::default();
        let mut errors = Vec::new();

        let file = match &overrides.config_file {
            Some(path) => Some(path.clone()),
            None => Some(PathBuf::from("payd.toml")).filter(|p| p.exists()),
        };
        if let Some(path) = file {
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    let mut unknown = Vec::new();
                    match parse_file(&text, &mut unknown) {
                        Ok(f) => raw.apply_file(f),
                        Err(e) => errors.push(format!("{}: {}", path.display(), e.message())),
                    }
                    errors.extend(unknown.iter().map(|k| format!("{}: unknown key `{k}`", path.display())));
                }
                Err(e) => errors.push(format!("cannot read {}: {e}", path.display())),
            }
        }
        for (k, v) in env {
            if raw.webhooks.apply_env(k, v) {
                continue;
            }
            match k.as_str() {
                "PAYD_DATABASE_URL" => raw.database_url = Some(v.clone()),
                "PAYD_DATABASE_MAX_CONNECTIONS" => raw.database_max_connections = Some(v.clone()),
                "PAYD_LISTEN" => raw.listen = Some(v.clone()),
                "PAYD_PUBLIC_URL" => raw.public_url = Some(v.clone()),
                "PAYD_MASTER_KEY" => raw.master_key = Some(v.clone()),
                "PAYD_MASTER_KEY_FILE" => raw.master_key_file = Some(v.clone()),
                "PAYD_MAX_BODY_BYTES" => raw.max_body_bytes = Some(v.clone()),
                "PAYD_HEADER_READ_TIMEOUT_SECS" => raw.header_read_timeout_secs = Some(v.clone()),
                "PAYD_REQUEST_TIMEOUT_SECS" => raw.request_timeout_secs = Some(v.clone()),
                "PAYD_MAX_CONNECTIONS" => raw.max_connections = Some(v.clone()),
                "PAYD_MAX_METADATA_BYTES" => raw.max_metadata_bytes = Some(v.clone()),
                "PAYD_DEFAULT_EXPIRY_SECS" => raw.default_expiry_secs = Some(v.clone()),
                "PAYD_MAX_EXPIRY_SECS" => raw.max_expiry_secs = Some(v.clone()),
                "PAYD_EXPIRY_POLL_MS" => raw.expiry_poll_ms = Some(v.clone()),
                "PAYD_BOOTSTRAP_DEMO" => raw.bootstrap_demo = Some(v.clone()),
                "PAYD_DEVNET_BLOCK_MS" => raw.devnet_block_ms = Some(v.clone()),
                "PAYD_DEVNET_AUTOPAY_SECS" => raw.devnet_autopay_secs = Some(v.clone()),
                "PAYD_MONITORING_WINDOW_SECS" => raw.monitoring_window_secs = Some(v.clone()),
                "PAYD_FX_PROVIDER" => raw.fx_provider = Some(v.clone()),
                "PAYD_FX_URL" => raw.fx_url = Some(v.clone()),
                "PAYD_FX_TTL_SECS" => raw.fx_ttl_secs = Some(v.clone()),
                "PAYD_FX_MAX_AGE_SECS" => raw.fx_max_age_secs = Some(v.clone()),
                "PAYD_NODE_ID" => raw.node_id = Some(v.clone()),
                "PAYD_CHAIN_LEASE_SECS" => raw.chain_lease_secs = Some(v.clone()),
                // A JSON array of `[[networks]]` objects; replaces the file's list.
                "PAYD_NETWORKS" => match crate::config::networks::from_json(v) {
                    Ok(n) => raw.networks = n,
                    Err(e) => raw.networks_error = Some(e.to_string()),
                },
                // `astrapay=100,native=1200`
                "PAYD_RATE_LIMITS" => {
                    raw.rate_limits.extend(v.split(',').filter(|p| !p.trim().is_empty()).map(|p| {
                        let (k, n) = p.split_once('=').unwrap_or((p, ""));
                        (k.trim().to_owned(), n.trim().to_owned())
                    }))
                }
                // `EUR=1.08,GBP=1.27`
                "PAYD_FX_RATES" => {
                    raw.fx_rates = Some(
                        v.split(',')
                            .filter(|p| !p.trim().is_empty())
                            .map(|p| {
                                let (c, r) = p.split_once('=').unwrap_or((p, ""));
                                (c.trim().to_owned(), r.trim().to_owned())
                            })
                            .collect(),
                    )
                }
                // PAYD_LOG is read by the logger; other PAYD_ names belong to later settings.
                _ => {}
            }
        }
        if let Some(v) = &overrides.database_url {
            raw.database_url = Some(v.clone());
        }
        if let Some(v) = &overrides.listen {
            raw.listen = Some(v.clone());
        }
        if let Some(v) = &overrides.public_url {
            raw.public_url = Some(v.clone());
        }
        raw.validate(errors)
    }

    /// Only the networks that validate, from the same sources as [`Config::load`]: `payd
    /// config check` still checks their nodes when something else in the file is wrong.
    pub fn load_networks(overrides: &Overrides) -> Vec<crate::config::networks::EvmNetwork> {
        let file = match &overrides.config_file {
            Some(path) => Some(path.clone()),
            None => Some(PathBuf::from("payd.toml")).filter(|p| p.exists()),
        };
        let mut sections = file
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|text| parse_file(&text, &mut Vec::new()).ok())
            .and_then(|f| f.networks)
            .unwrap_or_default();
        if let Ok(v) = std::env::var("PAYD_NETWORKS") {
            sections = crate::config::networks::from_json(&v).unwrap_or_default();
        }
        crate::config::networks::validate(sections, &mut Vec::new())
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

/// Parses `payd.toml`, pushing the path of every key payd does not know (`server.colour`).
fn parse_file(text: &str, unknown: &mut Vec<String>) -> Result<FileConfig, toml::de::Error> {
    serde_ignored::deserialize(toml::Deserializer::new(text), |path| unknown.push(key_path(&path)))
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

impl Raw {
    fn apply_file(&mut self, f: FileConfig) {
        let set = |slot: &mut Option<String>, v: Option<String>| {
            if v.is_some() {
                *slot = v;
            }
        };
        let db = f.database.unwrap_or_default();
        set(&mut self.database_url, db.url.map(|s| s.expose().to_owned()));
        set(&mut self.database_max_connections, db.max_connections.map(|v| v.to_string()));
        let server = f.server.unwrap_or_default();
        set(&mut self.listen, server.listen);
        set(&mut self.public_url, server.public_url);
        set(&mut self.max_body_bytes, server.max_body_bytes.map(|v| v.to_string()));
        set(&mut self.header_read_timeout_secs, server.header_read_timeout_secs.map(|v| v.to_string()));
        set(&mut self.request_timeout_secs, server.request_timeout_secs.map(|v| v.to_string()));
        set(&mut self.max_connections, server.max_connections.map(|v| v.to_string()));
        set(&mut self.bootstrap_demo, server.bootstrap_demo.map(|v| v.to_string()));
        set(&mut self.node_id, server.node_id);
        set(&mut self.chain_lease_secs, server.chain_lease_secs.map(|v| v.to_string()));
        if let Some(n) = f.networks {
            self.networks = n;
        }
        let sec = f.security.unwrap_or_default();
        set(&mut self.master_key, sec.master_key.map(|s| s.expose().to_owned()));
        set(&mut self.master_key_file, sec.master_key_file.map(|p| p.display().to_string()));
        let pay = f.payments.unwrap_or_default();
        set(&mut self.default_expiry_secs, pay.default_expiry_secs.map(|v| v.to_string()));
        set(&mut self.max_expiry_secs, pay.max_expiry_secs.map(|v| v.to_string()));
        set(&mut self.max_metadata_bytes, pay.max_metadata_bytes.map(|v| v.to_string()));
        set(&mut self.expiry_poll_ms, pay.expiry_poll_ms.map(|v| v.to_string()));
        set(&mut self.monitoring_window_secs, pay.monitoring_window_secs.map(|v| v.to_string()));
        let devnet = f.devnet.unwrap_or_default();
        set(&mut self.devnet_block_ms, devnet.block_ms.map(|v| v.to_string()));
        set(&mut self.devnet_autopay_secs, devnet.autopay_secs.map(|v| v.to_string()));
        let fx = f.fx.unwrap_or_default();
        set(&mut self.fx_provider, fx.provider);
        set(&mut self.fx_url, fx.url.map(|u| u.expose().to_owned()));
        set(&mut self.fx_ttl_secs, fx.ttl_secs.map(|v| v.to_string()));
        set(&mut self.fx_max_age_secs, fx.max_age_secs.map(|v| v.to_string()));
        if let Some(rates) = fx.rates {
            self.fx_rates = Some(rates.into_iter().collect());
        }
        if let Some(w) = f.webhooks {
            self.webhooks.apply_file(w);
        }
        for (k, n) in f.rate_limits.unwrap_or_default() {
            self.rate_limits.push((k, n.to_string()));
        }
    }

    /// `[fx]`: the provider defaults to the ECB's daily rates, or to `static` when a table of
    /// rates is given. Errors never repeat a URL (it may carry a key).
    fn validate_fx(&mut self, errors: &mut Vec<String>) -> FxConfig {
        let rates = self.fx_rates.take();
        let provider = self.fx_provider.take().unwrap_or_else(|| {
            if rates.is_some() { "static" } else { crate::fx::RemoteSource::Ecb.name() }.to_owned()
        });
        if provider == "static" {
            let mut table = Vec::new();
            for (code, rate) in rates.unwrap_or_default() {
                match (payd_core::money::Currency::from_code(&code), crate::fx::parse_rate(&rate)) {
                    (Some(c), Some(r)) => table.push((c, r)),
                    (None, _) => errors.push(format!("fx rates: `{code}` is not an ISO-4217 currency code")),
                    (_, None) => {
                        errors.push(format!("fx rates: {code} = `{rate}` is not a positive decimal"))
                    }
                }
            }
            if self.fx_url.is_some() {
                errors.push("fx url does nothing with fx provider `static` (set fx provider too)".to_owned());
            }
            return FxConfig::Static(table);
        }
        let Some(source) = crate::fx::RemoteSource::from_name(&provider) else {
            errors.push(format!("fx provider must be ecb, coinbase, http or static (got `{provider}`)"));
            return FxConfig::Static(Vec::new());
        };
        if rates.is_some() {
            errors
                .push(format!("fx rates are a static table; they do nothing with fx provider `{provider}`"));
        }
        let secs =
            |errors: &mut Vec<String>, name: &str, v: Option<String>, default: Duration, max: u64| match v {
                None => default,
                Some(s) => match s.trim().parse::<u64>() {
                    Ok(n) if (1..=max).contains(&n) => Duration::from_secs(n),
                    _ => {
                        errors.push(format!("{name} must be a whole number from 1 to {max} (got `{s}`)"));
                        default
                    }
                },
            };
        let ttl = secs(errors, "fx ttl secs", self.fx_ttl_secs.take(), source.default_ttl(), 86400);
        let max_age = secs(
            errors,
            "fx max age secs",
            self.fx_max_age_secs.take(),
            source.default_max_age(),
            31 * 86400,
        );
        let url = self.fx_url.take().or_else(|| source.default_url().map(str::to_owned));
        let valid = url.as_deref().is_some_and(|u| {
            let filled = u.replace("{from}", "EUR").replace("{to}", "USD");
            let templated = u.contains("{from}") && u.contains("{to}");
            let parsed = url::Url::parse(&filled)
                .is_ok_and(|p| matches!(p.scheme(), "http" | "https") && p.host().is_some());
            parsed && (templated || source != crate::fx::RemoteSource::Http)
        });
        match url {
            Some(url) if valid => FxConfig::Remote { source, url: Secret::new(url), ttl, max_age },
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

    fn validate(mut self, mut errors: Vec<String>) -> Result<Config, ConfigError> {
        fn num<T: std::str::FromStr + PartialOrd + Copy + std::fmt::Display>(
            errors: &mut Vec<String>,
            name: &str,
            v: Option<String>,
            default: T,
            min: T,
            max: T,
        ) -> T {
            match v {
                None => default,
                Some(s) => match s.trim().parse::<T>() {
                    Ok(n) if n >= min && n <= max => n,
                    _ => {
                        errors.push(format!("{name} must be a whole number from {min} to {max} (got `{s}`)"));
                        default
                    }
                },
            }
        }

        let fx = self.validate_fx(&mut errors);
        let database_url = self.database_url.unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            errors.push("database url must start with sqlite:, postgres:// or postgresql://".to_owned());
        }
        let listen_text = self.listen.unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen = match listen_text.parse::<SocketAddr>() {
            Ok(a) => a,
            Err(_) => {
                errors
                    .push(format!("listen must be an address such as 127.0.0.1:8080 (got `{listen_text}`)"));
                SocketAddr::from(([127, 0, 0, 1], 8080))
            }
        };
        let public_url = match self.public_url {
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
        let master_key = self.master_key.map(Secret::new);
        if let Some(k) = &master_key {
            if payd_core::crypto::MasterKey::parse(k.expose()).is_err() {
                errors.push("master key must be 64 hex characters (32 bytes)".to_owned());
            }
        }
        let database_max_connections =
            num(&mut errors, "database max connections", self.database_max_connections, 10u32, 1, 1000);
        let max_body_bytes =
            num(&mut errors, "max body bytes", self.max_body_bytes, 64 * 1024usize, 1024, 16 << 20);
        let header_read_timeout_secs =
            num(&mut errors, "header read timeout secs", self.header_read_timeout_secs, 10u64, 1, 300);
        let request_timeout_secs =
            num(&mut errors, "request timeout secs", self.request_timeout_secs, 30u64, 1, 3600);
        let max_connections =
            num(&mut errors, "max connections", self.max_connections, 1024usize, 1, 100_000);
        let max_metadata_bytes =
            num(&mut errors, "max metadata bytes", self.max_metadata_bytes, 8 * 1024usize, 256, 1 << 20);
        let default_expiry =
            num(&mut errors, "default expiry secs", self.default_expiry_secs, 3600u64, 60, 31 * 86400);
        let max_expiry =
            num(&mut errors, "max expiry secs", self.max_expiry_secs, 31 * 86400u64, 60, 366 * 86400);
        if default_expiry > max_expiry {
            errors.push("default expiry must not exceed max expiry".to_owned());
        }
        let expiry_poll_ms = num(&mut errors, "expiry poll ms", self.expiry_poll_ms, 1000u64, 10, 3_600_000);
        let devnet_block_ms =
            num(&mut errors, "devnet block ms", self.devnet_block_ms, 1000u64, 0, 3_600_000);
        let devnet_autopay_secs =
            num(&mut errors, "devnet autopay secs", self.devnet_autopay_secs, 0u64, 0, 31 * 86400);
        let monitoring_window_secs =
            num(&mut errors, "monitoring window secs", self.monitoring_window_secs, 86400u64, 0, 366 * 86400);
        let bootstrap_demo = match self.bootstrap_demo.as_deref().map(str::trim) {
            None | Some("true") | Some("1") => true,
            Some("false") | Some("0") => false,
            Some(other) => {
                errors.push(format!("bootstrap demo must be true or false (got `{other}`)"));
                true
            }
        };
        let mut rate_limits = RateLimitConfig::default();
        for (surface, n) in &self.rate_limits {
            let slot = match surface.as_str() {
                "native" => &mut rate_limits.native,
                "astrapay" => &mut rate_limits.astrapay,
                "mutopay" => &mut rate_limits.mutopay,
                "paygentic" => &mut rate_limits.paygentic,
                "alppay" => &mut rate_limits.alppay,
                other => {
                    errors.push(format!(
                        "rate limits: unknown API `{other}` (native, astrapay, mutopay, paygentic, alppay)"
                    ));
                    continue;
                }
            };
            match n.parse::<u32>() {
                Ok(v) if (1..=1_000_000).contains(&v) => *slot = v,
                _ => errors.push(format!(
                    "rate limits: {surface} must be 1 to 1000000 requests per minute (got `{n}`)"
                )),
            }
        }
        let webhooks = self.webhooks.validate(&mut errors);
        if let Some(e) = self.networks_error {
            errors.push(e);
        }
        let networks = crate::config::networks::validate(self.networks, &mut errors);
        let chain_lease_secs = num(&mut errors, "chain lease secs", self.chain_lease_secs, 30u64, 1, 3600);
        let node_id = match self.node_id.map(|n| n.trim().to_owned()) {
            Some(n) if !n.is_empty() && n.len() <= 100 => n,
            Some(_) => {
                errors.push("node id must be 1 to 100 characters".to_owned());
                String::new()
            }
            None => format!("node-{}", uuid::Uuid::new_v4().simple()),
        };
        if !errors.is_empty() {
            return Err(ConfigError(errors));
        }
        Ok(Config {
            database_url: Secret::new(database_url),
            database_max_connections,
            listen,
            public_url,
            master_key,
            master_key_file: self.master_key_file.map(PathBuf::from),
            max_body_bytes,
            header_read_timeout: Duration::from_secs(header_read_timeout_secs),
            request_timeout: Duration::from_secs(request_timeout_secs),
            max_connections,
            max_metadata_bytes,
            default_expiry: Duration::from_secs(default_expiry),
            max_expiry: Duration::from_secs(max_expiry),
            expiry_poll: Duration::from_millis(expiry_poll_ms),
            bootstrap_demo,
            devnet_block_interval: Duration::from_millis(devnet_block_ms),
            devnet_autopay: (devnet_autopay_secs > 0).then(|| Duration::from_secs(devnet_autopay_secs)),
            monitoring_window: Duration::from_secs(monitoring_window_secs),
            fx,
            rate_limits,
            webhooks,
            networks,
            node_id,
            chain_lease: Duration::from_secs(chain_lease_secs),
        })
    }
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

//! Every setting of `payd.toml`, declared once: its key and the kind of value it takes, with
//! the default and range of a number or a switch. Everything else derives from that one line:
//! the environment variable (`server.max_body_bytes` → `PAYD_MAX_BODY_BYTES`), the name in
//! error messages (`max body bytes`), which keys the file may hold (any other is reported),
//! the checks of numbers and switches, and the test that `docs/configuration.md` lists each
//! setting with its variable and default. [`Values`] gathers the raw text of every source,
//! later sources winning; `config/mod.rs` turns it into a [`crate::config::Config`].

use std::collections::BTreeMap;

use crate::config::networks::NetworkSection;

/// What a setting takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A whole number from `min` to `max`; without a default, the code that reads it picks
    /// one (the exchange-rate timings depend on the provider).
    Int {
        /// When unset.
        default: Option<u64>,
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
    },
    /// `true` or `false` (`1` and `0` in the environment too).
    Bool {
        /// When unset.
        default: bool,
    },
    /// Text, checked by the code that reads it (addresses, URLs, keys, schedules).
    Text,
    /// A table of names in the file (`[rate_limits]`, `fx.rates`), `NAME=VALUE,…` in the
    /// environment. `merge`: the environment's entries replace the file's one by one, else the
    /// whole table; `ints`: the file's values are numbers, else strings.
    Pairs {
        /// Per entry (true) or the whole table (false).
        merge: bool,
        /// Numbers (true) or strings (false) in the file.
        ints: bool,
    },
    /// `[[networks]]`; a JSON array of the same objects in the environment.
    Networks,
}

/// One setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// Its place in `payd.toml`: `section.key`, or a top-level key.
    pub key: &'static str,
    /// What it takes.
    pub kind: Kind,
}

/// Sections whose name is left out of the environment variable and the messages, as they
/// were before sections existed (`server.listen` is `PAYD_LISTEN`).
const SILENT_SECTIONS: [&str; 3] = ["server.", "payments.", "security."];

impl Setting {
    /// The name in messages: `max body bytes`, `webhooks poll ms`.
    pub fn name(&self) -> String {
        let key = SILENT_SECTIONS.iter().find_map(|s| self.key.strip_prefix(s)).unwrap_or(self.key);
        key.replace(['.', '_'], " ")
    }

    /// The environment variable: `PAYD_MAX_BODY_BYTES`, `PAYD_WEBHOOKS_POLL_MS`.
    pub fn env(&self) -> String {
        format!("PAYD_{}", self.name().replace(' ', "_").to_ascii_uppercase())
    }
}

const fn int(default: u64, min: u64, max: u64) -> Kind {
    Kind::Int { default: Some(default), min, max }
}

/// Declares each setting as a constant and lists them all in [`ALL`].
macro_rules! settings {
    ($($(#[$doc:meta])* $id:ident = $key:literal, $kind:expr;)*) => {
        $($(#[$doc])* pub const $id: Setting = Setting { key: $key, kind: $kind };)*
        /// Every setting, in the order `docs/configuration.md` lists them.
        pub const ALL: &[Setting] = &[$($id),*];
    };
}

const DAY: u64 = 86_400;

settings! {
    /// `sqlite:…` or `postgres://…`.
    DATABASE_URL = "database.url", Kind::Text;
    /// Pool size.
    DATABASE_MAX_CONNECTIONS = "database.max_connections", int(10, 1, 1000);
    /// Address to listen on.
    LISTEN = "server.listen", Kind::Text;
    /// Base of checkout links.
    PUBLIC_URL = "server.public_url", Kind::Text;
    /// Largest request body.
    MAX_BODY_BYTES = "server.max_body_bytes", int(64 * 1024, 1024, 16 << 20);
    /// Time to send a request's headers.
    HEADER_READ_TIMEOUT_SECS = "server.header_read_timeout_secs", int(10, 1, 300);
    /// Time for a whole request.
    REQUEST_TIMEOUT_SECS = "server.request_timeout_secs", int(30, 1, 3600);
    /// Open connections at most.
    MAX_CONNECTIONS = "server.max_connections", int(1024, 1, 100_000);
    /// The header a reverse proxy puts the client's address in.
    CLIENT_IP_HEADER = "server.client_ip_header", Kind::Text;
    /// A demo merchant on an empty database.
    BOOTSTRAP_DEMO = "server.bootstrap_demo", Kind::Bool { default: true };
    /// The master key itself.
    MASTER_KEY = "security.master_key", Kind::Text;
    /// The file holding the master key.
    MASTER_KEY_FILE = "security.master_key_file", Kind::Text;
    /// The bearer token `/metrics` asks for (unset: no `/metrics`).
    METRICS_TOKEN = "security.metrics_token", Kind::Text;
    /// Lifetime of a payment that names none.
    DEFAULT_EXPIRY_SECS = "payments.default_expiry_secs", int(3600, 60, 31 * DAY);
    /// Longest lifetime allowed.
    MAX_EXPIRY_SECS = "payments.max_expiry_secs", int(31 * DAY, 60, 366 * DAY);
    /// Largest `metadata`.
    MAX_METADATA_BYTES = "payments.max_metadata_bytes", int(8 * 1024, 256, 1 << 20);
    /// The expiry sweep's interval.
    EXPIRY_POLL_MS = "payments.expiry_poll_ms", int(1000, 10, 3_600_000);
    /// How long after expiry late money still counts.
    MONITORING_WINDOW_SECS = "payments.monitoring_window_secs", int(DAY, 0, 366 * DAY);
    /// devnet's block interval.
    DEVNET_BLOCK_MS = "devnet.block_ms", int(1000, 0, 3_600_000);
    /// Automatic payment of test payments.
    DEVNET_AUTOPAY_SECS = "devnet.autopay_secs", int(0, 0, 31 * DAY);
    /// Where exchange rates come from.
    FX_PROVIDER = "fx.provider", Kind::Text;
    /// The static table.
    FX_RATES = "fx.rates", Kind::Pairs { merge: false, ints: false };
    /// The remote source's URL.
    FX_URL = "fx.url", Kind::Text;
    /// How long an answer is reused (default per provider).
    FX_TTL_SECS = "fx.ttl_secs", Kind::Int { default: None, min: 1, max: DAY };
    /// How old a rate may be (default per provider).
    FX_MAX_AGE_SECS = "fx.max_age_secs", Kind::Int { default: None, min: 1, max: 31 * DAY };
    /// Requests per minute per key, per API.
    RATE_LIMITS = "rate_limits", Kind::Pairs { merge: true, ints: true };
    /// Deliveries to non-public addresses.
    WEBHOOKS_ALLOW_PRIVATE_TARGETS = "webhooks.allow_private_targets", Kind::Bool { default: false };
    /// Requests in flight per node.
    WEBHOOKS_CONCURRENCY = "webhooks.concurrency", int(16, 0, 1024);
    /// One attempt's time.
    WEBHOOKS_TIMEOUT_SECS = "webhooks.timeout_secs", int(15, 1, 120);
    /// An idle dispatcher's poll.
    WEBHOOKS_POLL_MS = "webhooks.poll_ms", int(500, 10, 60_000);
    /// Delays before each retry.
    WEBHOOKS_RETRY_SCHEDULE = "webhooks.retry_schedule", Kind::Text;
    /// Failing this long disables an endpoint.
    WEBHOOKS_DISABLE_AFTER_SECS = "webhooks.disable_after_secs", int(5 * DAY, 60, 366 * DAY);
    /// Endpoints per merchant and mode.
    WEBHOOKS_MAX_ENDPOINTS = "webhooks.max_endpoints", int(16, 1, 1000);
    /// This node's name in chain leases.
    NODE_ID = "server.node_id", Kind::Text;
    /// A chain lease's lifetime.
    CHAIN_LEASE_SECS = "server.chain_lease_secs", int(30, 1, 3600);
    /// EVM networks.
    NETWORKS = "networks", Kind::Networks;
}

/// The raw values of every source, later ones winning, before they are checked.
#[derive(Default)]
pub(crate) struct Values {
    text: BTreeMap<&'static str, String>,
    pairs: BTreeMap<&'static str, Vec<(String, String)>>,
    networks: Option<Vec<NetworkSection>>,
}

fn find(key: &str) -> Option<&'static Setting> {
    ALL.iter().find(|s| s.key == key)
}

fn type_name(v: &toml::Value) -> &'static str {
    match v {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a float",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Array(_) => "an array",
        toml::Value::Table(_) => "a table",
    }
}

/// `A=1, B=2` → `[("A", "1"), ("B", "2")]`; an entry without `=` has an empty value (and
/// fails its check).
fn split_pairs(v: &str) -> Vec<(String, String)> {
    v.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (k, n) = p.split_once('=').unwrap_or((p, ""));
            (k.trim().to_owned(), n.trim().to_owned())
        })
        .collect()
}

impl Values {
    /// Takes `payd.toml`'s text; `file` names it in messages. Every unknown key and every
    /// value of the wrong type is reported, each with its place.
    pub(crate) fn read_file(&mut self, file: &str, text: &str, errors: &mut Vec<String>) {
        let table: toml::Table = match text.parse() {
            Ok(t) => t,
            Err(e) => return errors.push(format!("{file}: {}", e.message())),
        };
        for (top, value) in table {
            if let Some(s) = find(&top) {
                self.take(file, s, &top, value, errors);
                continue;
            }
            let section = format!("{top}.");
            match value {
                toml::Value::Table(t) if ALL.iter().any(|s| s.key.starts_with(&section)) => {
                    for (k, v) in t {
                        let key = format!("{section}{k}");
                        match find(&key) {
                            Some(s) => self.take(file, s, &key, v, errors),
                            None => errors.push(format!("{file}: unknown key `{key}`")),
                        }
                    }
                }
                _ => errors.push(format!("{file}: unknown key `{top}`")),
            }
        }
    }

    fn take(&mut self, file: &str, s: &'static Setting, key: &str, v: toml::Value, errors: &mut Vec<String>) {
        let mut wrong = |want: &str, v: &toml::Value| {
            errors.push(format!("{file}: `{key}` must be {want}, not {}", type_name(v)));
        };
        match (s.kind, v) {
            (Kind::Int { .. }, toml::Value::Integer(n)) => {
                self.text.insert(s.key, n.to_string());
            }
            (Kind::Bool { .. }, toml::Value::Boolean(b)) => {
                self.text.insert(s.key, b.to_string());
            }
            (Kind::Text, toml::Value::String(t)) => {
                self.text.insert(s.key, t);
            }
            (Kind::Pairs { ints, .. }, toml::Value::Table(t)) => {
                let mut out = Vec::new();
                for (name, v) in t {
                    match (ints, v) {
                        (true, toml::Value::Integer(n)) => out.push((name, n.to_string())),
                        (false, toml::Value::String(text)) => out.push((name, text)),
                        (_, v) => errors.push(format!(
                            "{file}: `{key}.{name}` must be {}, not {}",
                            if ints { "an integer" } else { "a string" },
                            type_name(&v)
                        )),
                    }
                }
                self.pairs.insert(s.key, out);
            }
            (Kind::Networks, v @ toml::Value::Array(_)) => {
                let mut unknown = Vec::new();
                let parsed: Result<Vec<NetworkSection>, _> = serde_ignored::deserialize(v, |path| {
                    unknown.push(format!("{key}{}", crate::config::key_path(&path)))
                });
                errors.extend(unknown.iter().map(|k| format!("{file}: unknown key `{k}`")));
                match parsed {
                    Ok(n) => self.networks = Some(n),
                    Err(e) => errors.push(format!("{file}: {key}: {e}")),
                }
            }
            (Kind::Int { .. }, v) => wrong("an integer", &v),
            (Kind::Bool { .. }, v) => wrong("true or false", &v),
            (Kind::Text, v) => wrong("a string", &v),
            (Kind::Pairs { .. }, v) => wrong("a table", &v),
            (Kind::Networks, v) => wrong("an array of tables ([[networks]])", &v),
        }
    }

    /// Takes the `PAYD_*` variables payd knows (others, such as `PAYD_LOG`, belong to other
    /// readers).
    pub(crate) fn read_env(&mut self, env: &[(String, String)], errors: &mut Vec<String>) {
        for (k, v) in env {
            let Some(s) = ALL.iter().find(|s| s.env() == *k) else { continue };
            match s.kind {
                Kind::Pairs { merge: true, .. } => {
                    self.pairs.entry(s.key).or_default().extend(split_pairs(v))
                }
                Kind::Pairs { merge: false, .. } => {
                    self.pairs.insert(s.key, split_pairs(v));
                }
                Kind::Networks => match crate::config::networks::from_json(v) {
                    Ok(n) => self.networks = Some(n),
                    Err(e) => errors.push(e.to_string()),
                },
                _ => self.set(s, v.clone()),
            }
        }
    }

    /// Sets a value (a command-line flag).
    pub(crate) fn set(&mut self, s: &Setting, v: String) {
        self.text.insert(s.key, v);
    }

    /// Takes a text value.
    pub(crate) fn text(&mut self, s: &Setting) -> Option<String> {
        self.text.remove(s.key)
    }

    /// Takes a table of pairs.
    pub(crate) fn pairs(&mut self, s: &Setting) -> Option<Vec<(String, String)>> {
        self.pairs.remove(s.key)
    }

    /// Takes the networks (empty when none are configured).
    pub(crate) fn networks(&mut self) -> Vec<NetworkSection> {
        self.networks.take().unwrap_or_default()
    }

    /// A whole number within the setting's range; its default when unset or wrong (and then
    /// a message).
    pub(crate) fn int(&mut self, s: &Setting, errors: &mut Vec<String>) -> u64 {
        let default = match s.kind {
            Kind::Int { default, .. } => default.unwrap_or_default(),
            _ => 0,
        };
        self.int_or(s, default, errors)
    }

    /// [`Values::int`] with a default chosen by the caller.
    pub(crate) fn int_or(&mut self, s: &Setting, default: u64, errors: &mut Vec<String>) -> u64 {
        let Kind::Int { min, max, .. } = s.kind else { return default };
        match self.text(s) {
            None => default,
            Some(t) => match t.trim().parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => n,
                _ => {
                    errors
                        .push(format!("{} must be a whole number from {min} to {max} (got `{t}`)", s.name()));
                    default
                }
            },
        }
    }

    /// A switch: `true`/`1` or `false`/`0`; its default when unset or wrong (and then a
    /// message).
    pub(crate) fn bool(&mut self, s: &Setting, errors: &mut Vec<String>) -> bool {
        let Kind::Bool { default } = s.kind else { return false };
        match self.text(s).as_deref().map(str::trim) {
            None => default,
            Some("true") | Some("1") => true,
            Some("false") | Some("0") => false,
            Some(other) => {
                errors.push(format!("{} must be true or false (got `{other}`)", s.name()));
                default
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_variables_come_from_the_key() {
        assert_eq!(
            (MAX_BODY_BYTES.name(), MAX_BODY_BYTES.env()),
            ("max body bytes".into(), "PAYD_MAX_BODY_BYTES".into())
        );
        assert_eq!(DATABASE_MAX_CONNECTIONS.env(), "PAYD_DATABASE_MAX_CONNECTIONS");
        assert_eq!(MASTER_KEY.env(), "PAYD_MASTER_KEY");
        assert_eq!(WEBHOOKS_POLL_MS.name(), "webhooks poll ms");
        assert_eq!((RATE_LIMITS.env(), NETWORKS.env()), ("PAYD_RATE_LIMITS".into(), "PAYD_NETWORKS".into()));
        let mut keys: Vec<&str> = ALL.iter().map(|s| s.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), ALL.len(), "every key once");
    }

    #[test]
    fn every_wrong_key_and_type_in_the_file_is_reported_with_its_place() {
        let text = "colour = 1\n[server]\nmax_body_bytes = \"big\"\nlisten = \"0.0.0.0:1\"\n\
                    [fx]\nrates = { EUR = 1.08 }\n[rate_limits]\nnative = 5\n[nowhere]\nx = 1\n";
        let (mut v, mut errors) = (Values::default(), Vec::new());
        v.read_file("payd.toml", text, &mut errors);
        assert_eq!(
            errors,
            [
                "payd.toml: unknown key `colour`",
                "payd.toml: `fx.rates.EUR` must be a string, not a float",
                "payd.toml: unknown key `nowhere`",
                "payd.toml: `server.max_body_bytes` must be an integer, not a string",
            ]
        );
        assert_eq!(v.text(&LISTEN).as_deref(), Some("0.0.0.0:1"));
        assert_eq!(v.pairs(&RATE_LIMITS), Some(vec![("native".to_owned(), "5".to_owned())]));
    }

    /// `docs/configuration.md` has one row per setting, naming its variable and starting its
    /// default column with the default, and no row for a setting payd does not have.
    #[test]
    fn the_documentation_lists_every_setting() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/configuration.md");
        let docs = std::fs::read_to_string(path).unwrap_or_default();
        // The settings table: from its header to the first line that is not a row.
        let rows: Vec<Vec<&str>> = docs
            .lines()
            .skip_while(|l| !l.starts_with("| `payd.toml`"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .filter(|l| l.starts_with("| `"))
            .map(|l| l.split('|').map(str::trim).collect())
            .filter(|cells: &Vec<&str>| cells.len() > 5)
            .collect();
        for s in ALL {
            let key = match s.kind {
                Kind::Networks => "`[[networks]]`".to_owned(),
                Kind::Pairs { merge: true, .. } => format!("`{}.<api>`", s.key),
                _ => format!("`{}`", s.key),
            };
            let row = rows.iter().find(|r| r[1] == key);
            let Some(row) = row else { panic!("{key} is not in docs/configuration.md") };
            assert!(row[2].starts_with(&format!("`{}`", s.env())), "{key}: {}", row[2]);
            let default = match s.kind {
                Kind::Int { default: Some(d), .. } => Some(d.to_string()),
                Kind::Bool { default } => Some(default.to_string()),
                _ => None,
            };
            if let Some(d) = default {
                assert!(row[4].starts_with(&d), "{key}: default {d}, documented {}", row[4]);
            }
        }
        let documented = rows.iter().filter(|r| r[1].starts_with('`') && r[1] != "`[[networks]]`");
        for row in documented {
            let key = row[1].trim_matches('`').trim_end_matches(".<api>");
            assert!(find(key).is_some(), "docs/configuration.md lists `{key}`, which payd does not have");
        }
    }
}

//! The `[webhooks]` settings (`PAYD_WEBHOOKS_*`): where deliveries may go, how many run at
//! once, how long each may take and when failures are retried. Kept beside `config.rs`, which
//! gathers and validates it with the rest.

use std::time::Duration;

use payd_core::webhook::DEFAULT_RETRY_SCHEDULE;
use serde::Deserialize;

/// Webhook delivery settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhooksConfig {
    /// Deliver to loopback, private and other non-public addresses too (tests, or merchants
    /// on the same private network). Off by default: an endpoint URL must not reach inside.
    pub allow_private_targets: bool,
    /// How often the dispatcher looks for due deliveries when idle.
    pub poll: Duration,
    /// Deliveries in flight at once; zero runs no dispatcher on this node.
    pub concurrency: usize,
    /// Time allowed for one attempt (connect, send, answer).
    pub timeout: Duration,
    /// The delay before each retry; past its end a delivery is dead.
    pub retry_schedule: Vec<Duration>,
    /// An endpoint failing without a success for this long is disabled.
    pub disable_after: Duration,
    /// Most endpoints a merchant may have in one mode (each event is one delivery per
    /// endpoint, so this bounds the work one payment makes).
    pub max_endpoints: u32,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        WebhooksConfig {
            allow_private_targets: false,
            poll: Duration::from_millis(500),
            concurrency: 16,
            timeout: Duration::from_secs(15),
            retry_schedule: DEFAULT_RETRY_SCHEDULE.to_vec(),
            disable_after: Duration::from_secs(5 * 86_400),
            max_endpoints: 16,
        }
    }
}

/// `[webhooks]` in `payd.toml`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WebhooksSection {
    allow_private_targets: Option<bool>,
    poll_ms: Option<u64>,
    concurrency: Option<u64>,
    timeout_secs: Option<u64>,
    /// `"5s,5m,30m,2h"`.
    retry_schedule: Option<String>,
    disable_after_secs: Option<u64>,
    max_endpoints: Option<u64>,
}

/// Values gathered from the file and the environment, validated together.
#[derive(Debug, Default)]
pub(crate) struct WebhooksRaw {
    allow_private_targets: Option<String>,
    poll_ms: Option<String>,
    concurrency: Option<String>,
    timeout_secs: Option<String>,
    retry_schedule: Option<String>,
    disable_after_secs: Option<String>,
    max_endpoints: Option<String>,
}

impl WebhooksRaw {
    pub(crate) fn apply_file(&mut self, s: WebhooksSection) {
        let set = |slot: &mut Option<String>, v: Option<String>| {
            if v.is_some() {
                *slot = v;
            }
        };
        set(&mut self.allow_private_targets, s.allow_private_targets.map(|v| v.to_string()));
        set(&mut self.poll_ms, s.poll_ms.map(|v| v.to_string()));
        set(&mut self.concurrency, s.concurrency.map(|v| v.to_string()));
        set(&mut self.timeout_secs, s.timeout_secs.map(|v| v.to_string()));
        set(&mut self.retry_schedule, s.retry_schedule);
        set(&mut self.disable_after_secs, s.disable_after_secs.map(|v| v.to_string()));
        set(&mut self.max_endpoints, s.max_endpoints.map(|v| v.to_string()));
    }

    /// Takes a `PAYD_WEBHOOKS_*` variable; `false` for a name it does not know.
    pub(crate) fn apply_env(&mut self, name: &str, value: &str) -> bool {
        let slot = match name {
            "PAYD_WEBHOOKS_ALLOW_PRIVATE_TARGETS" => &mut self.allow_private_targets,
            "PAYD_WEBHOOKS_POLL_MS" => &mut self.poll_ms,
            "PAYD_WEBHOOKS_CONCURRENCY" => &mut self.concurrency,
            "PAYD_WEBHOOKS_TIMEOUT_SECS" => &mut self.timeout_secs,
            "PAYD_WEBHOOKS_RETRY_SCHEDULE" => &mut self.retry_schedule,
            "PAYD_WEBHOOKS_DISABLE_AFTER_SECS" => &mut self.disable_after_secs,
            "PAYD_WEBHOOKS_MAX_ENDPOINTS" => &mut self.max_endpoints,
            _ => return false,
        };
        *slot = Some(value.to_owned());
        true
    }

    pub(crate) fn validate(self, errors: &mut Vec<String>) -> WebhooksConfig {
        let d = WebhooksConfig::default();
        let mut num = |name: &str, v: Option<String>, default: u64, min: u64, max: u64| -> u64 {
            match v {
                None => default,
                Some(s) => match s.trim().parse::<u64>() {
                    Ok(n) if (min..=max).contains(&n) => n,
                    _ => {
                        errors.push(format!(
                            "webhooks {name} must be a whole number from {min} to {max} (got `{s}`)"
                        ));
                        default
                    }
                },
            }
        };
        let poll_ms = num("poll ms", self.poll_ms, 500, 10, 60_000);
        let concurrency = num("concurrency", self.concurrency, 16, 0, 1024);
        let timeout = num("timeout secs", self.timeout_secs, 15, 1, 120);
        let disable_after = num("disable after secs", self.disable_after_secs, 5 * 86_400, 60, 366 * 86_400);
        let max_endpoints = num("max endpoints", self.max_endpoints, u64::from(d.max_endpoints), 1, 1000);
        let allow_private_targets = match self.allow_private_targets.as_deref().map(str::trim) {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(other) => {
                errors.push(format!("webhooks allow private targets must be true or false (got `{other}`)"));
                false
            }
        };
        let retry_schedule = match self.retry_schedule {
            None => d.retry_schedule,
            Some(text) => match parse_schedule(&text) {
                Some(s) => s,
                None => {
                    errors.push(format!(
                        "webhooks retry schedule must be 1 to 20 durations such as `5s,5m,30m,2h` (ms, s, m, h; got `{text}`)"
                    ));
                    d.retry_schedule
                }
            },
        };
        WebhooksConfig {
            allow_private_targets,
            poll: Duration::from_millis(poll_ms),
            concurrency: usize::try_from(concurrency).unwrap_or(16),
            timeout: Duration::from_secs(timeout),
            retry_schedule,
            disable_after: Duration::from_secs(disable_after),
            max_endpoints: u32::try_from(max_endpoints).unwrap_or(d.max_endpoints),
        }
    }
}

/// `"100ms,5s,5m,2h"`: each a whole number and a unit, none longer than a week.
fn parse_schedule(text: &str) -> Option<Vec<Duration>> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim) {
        let split = part.find(|c: char| !c.is_ascii_digit())?;
        let (n, unit) = part.split_at(split);
        let n: u64 = n.parse().ok()?;
        let ms = match unit {
            "ms" => n,
            "s" => n.checked_mul(1000)?,
            "m" => n.checked_mul(60_000)?,
            "h" => n.checked_mul(3_600_000)?,
            _ => return None,
        };
        if ms == 0 || ms > 7 * 86_400_000 {
            return None;
        }
        out.push(Duration::from_millis(ms));
    }
    (1..=20).contains(&out.len()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_are_durations_with_units() {
        assert_eq!(
            parse_schedule("100ms, 5s,2m,1h"),
            Some(vec![
                Duration::from_millis(100),
                Duration::from_secs(5),
                Duration::from_secs(120),
                Duration::from_secs(3600)
            ])
        );
        for bad in ["", "5", "5x", "0s", "s", "5s,,", "200h"] {
            assert_eq!(parse_schedule(bad), None, "{bad}");
        }
    }

    #[test]
    fn settings_are_checked_and_all_problems_reported() {
        let mut raw = WebhooksRaw::default();
        assert!(raw.apply_env("PAYD_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "yes"));
        assert!(raw.apply_env("PAYD_WEBHOOKS_CONCURRENCY", "-1"));
        assert!(!raw.apply_env("PAYD_WEBHOOKS_NOPE", "1"));
        let mut errors = Vec::new();
        let c = raw.validate(&mut errors);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(c, WebhooksConfig::default());
        let mut raw = WebhooksRaw::default();
        raw.apply_env("PAYD_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true");
        let mut errors = Vec::new();
        assert!(raw.validate(&mut errors).allow_private_targets && errors.is_empty());
    }

    #[test]
    fn payd_toml_sets_them_and_the_environment_wins() {
        let path = std::env::temp_dir().join(format!("payd-webhooks-{}.toml", uuid::Uuid::new_v4()));
        let toml = "[webhooks]\nallow_private_targets = true\nconcurrency = 4\nretry_schedule = \"1s,1m\"\n";
        std::fs::write(&path, toml).unwrap();
        let overrides = crate::config::Overrides { config_file: Some(path.clone()), ..Default::default() };
        let env = [("PAYD_WEBHOOKS_CONCURRENCY".to_owned(), "8".to_owned())];
        let c = crate::config::Config::load_from(&overrides, &env).unwrap().webhooks;
        assert!(c.allow_private_targets);
        assert_eq!(c.concurrency, 8);
        assert_eq!(c.retry_schedule, vec![Duration::from_secs(1), Duration::from_secs(60)]);
        std::fs::write(&path, "[webhooks]\nallow_private = true\n").unwrap();
        assert!(crate::config::Config::load_from(&overrides, &[]).is_err(), "unknown keys are errors");
        let _ = std::fs::remove_file(&path);
    }
}

//! The `[webhooks]` settings (`PAYD_WEBHOOKS_*`): where deliveries may go, how many run at
//! once, how long each may take and when failures are retried. Declared in
//! [`crate::config::settings`] with the rest; checked here, where the retry schedule is parsed.

use std::time::Duration;

use payd_core::webhook::DEFAULT_RETRY_SCHEDULE;

use crate::config::settings::{self, Values};

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

/// Checks the `[webhooks]` values, pushing a message per problem (and keeping the default).
pub(crate) fn validate(v: &mut Values, errors: &mut Vec<String>) -> WebhooksConfig {
    let d = WebhooksConfig::default();
    let poll_ms = v.int(&settings::WEBHOOKS_POLL_MS, errors);
    let concurrency = v.int(&settings::WEBHOOKS_CONCURRENCY, errors);
    let timeout = v.int(&settings::WEBHOOKS_TIMEOUT_SECS, errors);
    let disable_after = v.int(&settings::WEBHOOKS_DISABLE_AFTER_SECS, errors);
    let max_endpoints = v.int(&settings::WEBHOOKS_MAX_ENDPOINTS, errors);
    let allow_private_targets = v.bool(&settings::WEBHOOKS_ALLOW_PRIVATE_TARGETS, errors);
    let retry_schedule = match v.text(&settings::WEBHOOKS_RETRY_SCHEDULE) {
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
        concurrency: usize::try_from(concurrency).unwrap_or(d.concurrency),
        timeout: Duration::from_secs(timeout),
        retry_schedule,
        disable_after: Duration::from_secs(disable_after),
        max_endpoints: u32::try_from(max_endpoints).unwrap_or(d.max_endpoints),
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
        let load = |pairs: &[(&str, &str)]| {
            let env: Vec<(String, String)> =
                pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
            let mut errors = Vec::new();
            let mut values = Values::default();
            values.read_env(&env, &mut errors);
            (validate(&mut values, &mut errors), errors)
        };
        let (c, errors) = load(&[
            ("PAYD_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "yes"),
            ("PAYD_WEBHOOKS_CONCURRENCY", "-1"),
            ("PAYD_WEBHOOKS_NOPE", "1"),
        ]);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(c, WebhooksConfig::default());
        let (c, errors) = load(&[("PAYD_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true")]);
        assert!(c.allow_private_targets && errors.is_empty());
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

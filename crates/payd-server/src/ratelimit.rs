//! Per-key rate limits (GCRA, via `governor`), one quota per API surface. Limits are kept
//! per node: with N nodes behind a balancer a key gets up to N times its quota, which the
//! operations guide states.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use payd_core::ids::ApiKeyId;

type Keyed = RateLimiter<ApiKeyId, DefaultKeyedStateStore<ApiKeyId>, DefaultClock>;

/// Dashboard login attempts are counted per client address and email.
type LoginKey = (std::net::IpAddr, String);
type LoginKeyed = RateLimiter<LoginKey, DefaultKeyedStateStore<LoginKey>, DefaultClock>;

/// Dashboard login attempts per client address and email per minute. Wrong passwords also
/// lock the user out after a few (`engine::users::MAX_FAILURES`); this bounds guesses at
/// emails that do not exist, and the hashing work any one client can cause.
pub const LOGIN_PER_MINUTE: u32 = 10;

/// Past this many remembered (address, email) pairs, the ones whose quota has refilled are
/// forgotten, so a client cycling emails cannot grow the table without bound.
const LOGIN_KEYS_KEPT: usize = 10_000;

/// Which API surface a request came through (each has its own quota).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// payd's own API.
    Native,
    /// AstraPay (documented: 100 requests per minute).
    Astrapay,
    /// MutoPay.
    Mutopay,
    /// Paygentic.
    Paygentic,
    /// AlpPay.
    Alppay,
}

/// The limiters.
#[derive(Debug)]
pub struct RateLimits {
    native: Keyed,
    astrapay: Keyed,
    mutopay: Keyed,
    paygentic: Keyed,
    alppay: Keyed,
    login: LoginKeyed,
}

fn per_minute(n: u32) -> Keyed {
    RateLimiter::keyed(Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)))
}

impl RateLimits {
    /// Limits with `per_minute` requests per key for each surface.
    pub fn new(native: u32, astrapay: u32, mutopay: u32, paygentic: u32, alppay: u32) -> Self {
        RateLimits {
            native: per_minute(native),
            astrapay: per_minute(astrapay),
            mutopay: per_minute(mutopay),
            paygentic: per_minute(paygentic),
            alppay: per_minute(alppay),
            login: RateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(LOGIN_PER_MINUTE).unwrap_or(NonZeroU32::MIN),
            )),
        }
    }

    /// Counts a request; `Err(wait)` when the key is over its quota.
    pub fn check(&self, surface: Surface, key: &ApiKeyId) -> Result<(), Duration> {
        let limiter = match surface {
            Surface::Native => &self.native,
            Surface::Astrapay => &self.astrapay,
            Surface::Mutopay => &self.mutopay,
            Surface::Paygentic => &self.paygentic,
            Surface::Alppay => &self.alppay,
        };
        limiter.check_key(key).map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

impl RateLimits {
    /// Counts a dashboard login attempt from `ip` for `email`; `Err(wait)` when over quota.
    pub fn check_login(&self, ip: std::net::IpAddr, email: &str) -> Result<(), Duration> {
        if self.login.len() > LOGIN_KEYS_KEPT {
            self.login.retain_recent();
        }
        self.login
            .check_key(&(ip, email.to_owned()))
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// Seconds for a `Retry-After` header: whole seconds, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0).max(u64::from(wait.as_secs() == 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_over_its_quota_is_told_how_long_to_wait() {
        let limits = RateLimits::new(1000, 3, 1000, 1000, 1000);
        let key = ApiKeyId::new();
        for _ in 0..3 {
            assert!(limits.check(Surface::Astrapay, &key).is_ok());
        }
        let wait = limits.check(Surface::Astrapay, &key).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(20), "{wait:?}");
        assert!(retry_after_secs(wait) >= 1);
        // Other keys and other surfaces are not affected.
        assert!(limits.check(Surface::Astrapay, &ApiKeyId::new()).is_ok());
        assert!(limits.check(Surface::Native, &key).is_ok());
    }
}

//! Per-key rate limits (GCRA, via `governor`), one quota per API surface, and per-client
//! limits for the public checkout page (no key there: the client's address is the key).
//! Limits are kept per node: with N nodes behind a balancer a key gets up to N times its
//! quota, which the operations guide states.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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
    /// The checkout page's, per client address.
    pub clients: ClientLimits,
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
            clients: ClientLimits::new(DEFAULT_CHECKOUT, DEFAULT_CHECKOUT_FORMS, DEFAULT_STREAMS),
            login: RateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(LOGIN_PER_MINUTE).unwrap_or(NonZeroU32::MIN),
            )),
        }
    }

    /// The same limits with the checkout's per-client ones set.
    pub fn with_clients(mut self, clients: ClientLimits) -> Self {
        self.clients = clients;
        self
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

/// Checkout page views and stream openings per client address per minute, by default.
pub const DEFAULT_CHECKOUT: u32 = 600;
/// Checkout form posts (simulate, choose, cancel) per client address per minute, by default.
pub const DEFAULT_CHECKOUT_FORMS: u32 = 60;
/// Live-status streams open at once per client address.
pub const DEFAULT_STREAMS: u32 = 32;

type ByClient = RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock>;

/// What a client asks of the checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientUse {
    /// A page view or a live-status stream opened.
    View,
    /// A form post (simulate, choose, cancel): each one writes.
    Form,
}

/// The checkout's limits per client address. The page is public: without them one client
/// could make every node read the database as fast as it can ask (each page view, and each
/// open stream every poll interval). Defaults are generous because many customers can share
/// one address (mobile carriers' NAT). IPv6 clients are counted per /64, the block one
/// subscriber usually holds, so rotating addresses within it gains nothing.
#[derive(Debug)]
pub struct ClientLimits {
    views: ByClient,
    forms: ByClient,
    max_streams: u32,
    streams: Arc<Mutex<HashMap<IpAddr, u32>>>,
    /// When the limiters last forgot idle clients (seconds since `epoch`).
    swept: AtomicU64,
    epoch: std::time::Instant,
}

/// An open stream's place in its client's count, given back when dropped.
#[derive(Debug)]
pub struct StreamSlot {
    client: IpAddr,
    streams: Arc<Mutex<HashMap<IpAddr, u32>>>,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.streams.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.client) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.client);
            }
        }
    }
}

/// The address a client is counted under: IPv4 as is (an IPv4-mapped IPv6 address as its
/// IPv4), IPv6 by its /64.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl ClientLimits {
    /// `views` and `forms` per minute per client; `max_streams` open at once per client.
    pub fn new(views: u32, forms: u32, max_streams: u32) -> Self {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        ClientLimits {
            views: RateLimiter::keyed(quota(views)),
            forms: RateLimiter::keyed(quota(forms)),
            max_streams: max_streams.max(1),
            streams: Arc::default(),
            swept: AtomicU64::new(0),
            epoch: std::time::Instant::now(),
        }
    }

    /// Counts a request of `client`; `Err(wait)` when it is over its quota.
    pub fn check(&self, what: ClientUse, client: IpAddr) -> Result<(), Duration> {
        self.sweep();
        let limiter = match what {
            ClientUse::View => &self.views,
            ClientUse::Form => &self.forms,
        };
        limiter.check_key(&client_key(client)).map_err(|n| n.wait_time_from(DefaultClock::default().now()))
    }

    /// A place for one more open stream of `client`, or `None` when it has its maximum open.
    pub fn open_stream(&self, client: IpAddr) -> Option<StreamSlot> {
        let client = client_key(client);
        let mut open = self.streams.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = open.entry(client).or_insert(0);
        if *n >= self.max_streams {
            return None;
        }
        *n += 1;
        Some(StreamSlot { client, streams: Arc::clone(&self.streams) })
    }

    /// Forgets clients whose quota is whole again, once a minute: the keyed state otherwise
    /// grows with every address ever seen.
    fn sweep(&self) {
        let now = self.epoch.elapsed().as_secs();
        let last = self.swept.load(Ordering::Relaxed);
        if now >= last + 60
            && self.swept.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            for limiter in [&self.views, &self.forms] {
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        }
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

    #[test]
    fn a_checkout_client_is_limited_by_address_and_an_ipv6_client_by_its_64() {
        let limits = ClientLimits::new(2, 1, 2);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert!(limits.check(ClientUse::View, a).is_ok());
        assert!(limits.check(ClientUse::View, same_64).is_ok());
        assert!(limits.check(ClientUse::View, a).is_err());
        // Another /64, and another kind of use, have their own quotas.
        assert!(limits.check(ClientUse::View, "2001:db8:1:3::1".parse().unwrap()).is_ok());
        assert!(limits.check(ClientUse::Form, a).is_ok());
        assert!(limits.check(ClientUse::Form, same_64).is_err());
        // An IPv4-mapped address is its IPv4 address.
        assert_eq!(client_key("::ffff:10.0.0.1".parse().unwrap()), "10.0.0.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn open_streams_are_counted_per_client_and_given_back() {
        let limits = ClientLimits::new(100, 100, 2);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let first = limits.open_stream(ip).unwrap();
        let _second = limits.open_stream(ip).unwrap();
        assert!(limits.open_stream(ip).is_none());
        assert!(limits.open_stream("10.0.0.2".parse().unwrap()).is_some());
        drop(first);
        assert!(limits.open_stream(ip).is_some());
    }
}

//! Where a webhook may go: an endpoint's URL is checked when it is registered (shape, scheme,
//! no credentials, and unless `webhooks.allow_private_targets` no plainly internal host), and
//! every address is checked again when delivering (`webhooks::guard` resolves names and keeps
//! only public addresses: the rule is [`is_public`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::engine::fields::MAX_URL;

/// What the surface registering an endpoint allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// `webhooks.allow_private_targets`.
    pub allow_private: bool,
    /// HTTPS only (AstraPay's API).
    pub require_https: bool,
}

/// Why a URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not an absolute http(s) URL.
    #[error("url must be an absolute http or https URL of at most 2048 characters")]
    Malformed,
    /// http where https is required.
    #[error("url must use https")]
    NotHttps,
    /// Credentials in the URL would be sent to, and logged by, every proxy on the way.
    #[error("url must not contain a user name or password")]
    Credentials,
    /// Loopback, private or similar, without `webhooks.allow_private_targets`. The message
    /// names the setting, so whoever reads it knows what the operator can change.
    #[error(
        "url points at a loopback, private or otherwise non-public address; the operator allows \
         such targets with webhooks.allow_private_targets = true (PAYD_WEBHOOKS_ALLOW_PRIVATE_TARGETS)"
    )]
    Private,
}

/// An endpoint URL that passed [`Target::check`]: the only way to name where an endpoint
/// sends, so no endpoint is stored with an unchecked URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target(String);

impl Target {
    /// Checks an endpoint URL when it is registered. Names are resolved only when delivering
    /// (their addresses can change); literal internal addresses and `localhost` are refused
    /// here.
    pub fn check(text: &str, policy: Policy) -> Result<Target, UrlError> {
        if text.len() > MAX_URL || text.chars().any(char::is_control) {
            return Err(UrlError::Malformed);
        }
        let url = url::Url::parse(text).map_err(|_| UrlError::Malformed)?;
        match url.scheme() {
            "https" => {}
            "http" if policy.require_https => return Err(UrlError::NotHttps),
            "http" => {}
            _ => return Err(UrlError::Malformed),
        }
        if url.host().is_none() {
            return Err(UrlError::Malformed);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UrlError::Credentials);
        }
        if !policy.allow_private && plainly_internal(&url) {
            return Err(UrlError::Private);
        }
        Ok(Target(url.to_string()))
    }

    /// The normalised URL, borrowed.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The normalised URL.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        // Carrier-grade NAT 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments 192.0.0.0/24.
        || (a == 192 && b == 0 && c == 0)
        // Benchmarking 198.18.0.0/15.
        || (a == 198 && (b == 18 || b == 19))
        // Reserved 240.0.0.0/4.
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // Only global unicast (2000::/3) is public…
    let global_unicast = (s[0] & 0xe000) == 0x2000;
    // …less documentation (2001:db8::/32), IETF assignments and Teredo (2001::/23), and 6to4
    // (2002::/16), whose embedded IPv4 address could be anything.
    let documentation = s[0] == 0x2001 && s[1] == 0x0db8;
    let ietf = s[0] == 0x2001 && s[1] < 0x0200;
    let six_to_four = s[0] == 0x2002;
    global_unicast && !documentation && !ietf && !six_to_four
}

/// The host of an IP-literal URL when it is not public (names are checked when resolved).
pub fn internal_literal(url: &url::Url) -> Option<IpAddr> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        _ => return None,
    };
    (!is_public(ip)).then_some(ip)
}

/// Whether a host as written in a URL is plainly internal (an IP literal that is not public,
/// or `localhost`), for refusing such endpoints when they are registered.
pub fn plainly_internal(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().unwrap())
    }

    fn check(text: &str, allow_private: bool, require_https: bool) -> Result<String, UrlError> {
        Target::check(text, Policy { allow_private, require_https }).map(Target::into_string)
    }

    #[test]
    fn urls_are_checked_for_shape_scheme_and_target() {
        assert!(check("https://shop.example/hooks", false, true).is_ok());
        assert_eq!(check("http://shop.example/hooks", false, true), Err(UrlError::NotHttps));
        assert!(check("http://shop.example/hooks", false, false).is_ok());
        assert_eq!(check("ftp://shop.example/", false, false), Err(UrlError::Malformed));
        assert_eq!(check("not a url", false, false), Err(UrlError::Malformed));
        assert_eq!(check("https://u:p@shop.example/", false, false), Err(UrlError::Credentials));
        assert_eq!(check("http://127.0.0.1:9000/", false, false), Err(UrlError::Private));
        assert_eq!(check("http://localhost/", false, false), Err(UrlError::Private));
        assert!(check("http://127.0.0.1:9000/", true, false).is_ok());
        let long = format!("https://shop.example/{}", "a".repeat(MAX_URL));
        assert_eq!(check(&long, false, false), Err(UrlError::Malformed));
    }

    #[test]
    fn internal_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "198.18.0.1",
            "192.0.2.1",
            "240.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            "2002:7f00:1::1",
            "64:ff9b::7f00:1",
        ] {
            assert!(!public(ip), "{ip} must be refused");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in ["1.1.1.1", "8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "::ffff:1.1.1.1"] {
            assert!(public(ip), "{ip} is public");
        }
    }

    #[test]
    fn literal_hosts_are_checked_before_any_connection() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        assert!(internal_literal(&u("http://127.0.0.1:8080/h")).is_some());
        assert!(internal_literal(&u("http://[::1]/h")).is_some());
        assert!(internal_literal(&u("https://example.com/h")).is_none());
        assert!(plainly_internal(&u("http://localhost:3000/")));
        assert!(plainly_internal(&u("http://api.localhost./")));
        // Other spellings of 127.0.0.1 parse to the same address.
        assert!(plainly_internal(&u("http://2130706433/")));
        assert!(plainly_internal(&u("http://0x7f.0.0.1/")));
        assert!(internal_literal(&u("http://0177.0.0.1/")).is_some());
        assert!(!plainly_internal(&u("https://shop.example/")));
    }
}

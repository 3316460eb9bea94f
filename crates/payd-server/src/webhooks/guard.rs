//! The SSRF guard: webhook URLs come from merchants, so a delivery must not reach payd's own
//! host or network. Addresses are checked after DNS resolution, inside the HTTP client's
//! resolver, so the address checked is the address connected to (a second, rebinding answer
//! is never asked for). IP-literal URLs bypass resolvers and are checked before sending.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// A host that resolves only to addresses payd refuses to deliver to.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to non-public addresses ({addrs}); set webhooks.allow_private_targets to allow them")]
pub struct Refused {
    /// The host name or literal.
    pub host: String,
    /// What it resolved to.
    pub addrs: String,
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

/// Refuses an IP-literal host that is not public (names are checked by [`GuardedResolver`]).
pub fn check_literal(url: &reqwest::Url) -> Result<(), Refused> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        _ => return Ok(()),
    };
    if is_public(ip) {
        Ok(())
    } else {
        Err(Refused { host: ip.to_string(), addrs: ip.to_string() })
    }
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

/// The system resolver, keeping only public addresses.
#[derive(Debug, Default)]
pub struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = all.iter().copied().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                let addrs = all.iter().map(|a| a.ip().to_string()).collect::<Vec<_>>().join(", ");
                return Err(Box::new(Refused { host, addrs }) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// The guard's refusal inside an HTTP client error, if that is what it was.
pub fn refusal<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
    let mut cur: Option<&'a (dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<Refused>() {
            return Some(r);
        }
        cur = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().unwrap())
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
        let u = |s: &str| reqwest::Url::parse(s).unwrap();
        assert!(check_literal(&u("http://127.0.0.1:8080/h")).is_err());
        assert!(check_literal(&u("http://[::1]/h")).is_err());
        assert!(check_literal(&u("https://example.com/h")).is_ok());
        assert!(plainly_internal(&u("http://localhost:3000/")));
        assert!(plainly_internal(&u("http://api.localhost./")));
        // Other spellings of 127.0.0.1 parse to the same address.
        assert!(plainly_internal(&u("http://2130706433/")));
        assert!(plainly_internal(&u("http://0x7f.0.0.1/")));
        assert!(check_literal(&u("http://0177.0.0.1/")).is_err());
        assert!(!plainly_internal(&u("https://shop.example/")));
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_that_resolve_inside() {
        let r = GuardedResolver;
        let name: Name = "localhost".parse().unwrap();
        let e = r.resolve(name).await.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("non-public"), "{e}");
    }
}

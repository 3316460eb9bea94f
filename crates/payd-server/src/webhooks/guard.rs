//! The SSRF guard: webhook URLs come from merchants, so a delivery must not reach payd's own
//! host or network. Addresses are checked after DNS resolution, inside the HTTP client's
//! resolver, so the address checked is the address connected to (a second, rebinding answer
//! is never asked for). IP-literal URLs bypass resolvers and are checked before sending. Which
//! addresses are public is the engine's rule (`engine::webhooks::targets`); this is where
//! the HTTP client applies it.

use std::net::SocketAddr;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::engine::webhooks::targets::{internal_literal, is_public};

/// A host that resolves only to addresses payd refuses to deliver to.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to non-public addresses ({addrs}); set webhooks.allow_private_targets to allow them")]
pub struct Refused {
    /// The host name or literal.
    pub host: String,
    /// What it resolved to.
    pub addrs: String,
}

/// Refuses an IP-literal host that is not public (names are checked by [`GuardedResolver`]).
pub fn check_literal(url: &reqwest::Url) -> Result<(), Refused> {
    match internal_literal(url) {
        Some(ip) => Err(Refused { host: ip.to_string(), addrs: ip.to_string() }),
        None => Ok(()),
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

    #[test]
    fn literal_hosts_are_refused_before_any_connection() {
        let u = |s: &str| reqwest::Url::parse(s).unwrap();
        assert!(check_literal(&u("http://127.0.0.1:8080/h")).is_err());
        assert!(check_literal(&u("https://93.184.216.34/h")).is_ok());
        assert!(check_literal(&u("https://example.com/h")).is_ok());
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_that_resolve_inside() {
        let r = GuardedResolver;
        let name: Name = "localhost".parse().unwrap();
        let e = r.resolve(name).await.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("non-public"), "{e}");
    }
}

//! API keys: modes, scopes, generation and hashing.
//!
//! A key's secret is 32 random bytes, so a single SHA-256 is the right storage form (no slow
//! hash is needed against brute force of 256 bits of entropy) and lets the server find a key
//! by its hash with an index. The signing secret (for AlpPay's `X-HMAC`) must be usable for
//! verification, so it is stored encrypted instead (see [`crate::crypto`]).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ids::{AccountId, ApiKeyId, MerchantId};
use crate::secret::Secret;

/// Live money or test money. Every payment belongs to one mode, and a key sees only its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Real chains.
    Live,
    /// devnet, the in-process simulated chain.
    Test,
}

impl Mode {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Live => "live",
            Mode::Test => "test",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "live" => Some(Self::Live),
            "test" => Some(Self::Test),
            _ => None,
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Create and cancel payments.
    #[serde(rename = "payments:create")]
    PaymentsCreate,
    /// Read payments.
    #[serde(rename = "payments:read")]
    PaymentsRead,
    /// Manage webhook endpoints.
    #[serde(rename = "webhooks:manage")]
    WebhooksManage,
    /// Manage products.
    #[serde(rename = "products:manage")]
    ProductsManage,
}

impl Scope {
    /// Every scope; a key created without `--scope` gets all of them.
    pub const ALL: [Scope; 4] =
        [Scope::PaymentsCreate, Scope::PaymentsRead, Scope::WebhooksManage, Scope::ProductsManage];

    /// The wire spelling (`payments:create`).
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::PaymentsCreate => "payments:create",
            Scope::PaymentsRead => "payments:read",
            Scope::WebhooksManage => "webhooks:manage",
            Scope::ProductsManage => "products:manage",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Scope::ALL.into_iter().find(|sc| sc.as_str() == s)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored API key (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Public id.
    pub id: ApiKeyId,
    /// Owning account.
    pub account_id: AccountId,
    /// The one merchant this key acts for, or `None` for a key that spans the account's
    /// merchants and must name one per request.
    pub merchant_id: Option<MerchantId>,
    /// Live or test.
    pub mode: Mode,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// The first characters of the secret, to tell keys apart in listings.
    pub prefix: String,
    /// The signing secret, encrypted under the master key.
    pub signing_secret_sealed: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When it was revoked; a revoked key authenticates nothing.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it last authenticated a request, to within [`LAST_USED_RESOLUTION_SECS`].
    pub last_used_at: Option<DateTime<Utc>>,
}

/// How stale a key's "last used" time may get: a use is written only when the recorded one
/// is older than this, so a key making thousands of requests a second costs one write a
/// minute.
pub const LAST_USED_RESOLUTION_SECS: i64 = 60;

impl ApiKey {
    /// Whether the key carries `scope`.
    pub fn has_scope(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    /// Whether a use at `now` should be recorded: the key was never used, or its recorded
    /// use is at least [`LAST_USED_RESOLUTION_SECS`] old.
    pub fn use_is_news(&self, now: DateTime<Utc>) -> bool {
        self.last_used_at.is_none_or(|t| now - t >= chrono::Duration::seconds(LAST_USED_RESOLUTION_SECS))
    }
}

/// 32 bytes from the OS generator, as lower-case hex.
pub fn random_hex(bytes: usize) -> Result<String, getrandom::Error> {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf)?;
    Ok(hex::encode(buf))
}

/// Generates a key secret: `pk_test_…` / `pk_live_…` and 64 hex characters.
pub fn generate_key_secret(mode: Mode) -> Result<Secret, getrandom::Error> {
    Ok(Secret::new(format!("pk_{}_{}", mode.as_str(), random_hex(32)?)))
}

/// Generates a request-signing secret (`ss_…`).
pub fn generate_signing_secret() -> Result<Secret, getrandom::Error> {
    Ok(Secret::new(format!("ss_{}", random_hex(32)?)))
}

/// The stored form of a key secret: lower-case hex SHA-256.
pub fn hash_key_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The displayable prefix of a secret (`pk_test_1a2b`).
pub fn key_prefix(secret: &str) -> String {
    secret.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_carry_their_mode_and_differ() {
        let a = generate_key_secret(Mode::Test).map(|s| s.expose().to_owned()).unwrap_or_default();
        let b = generate_key_secret(Mode::Test).map(|s| s.expose().to_owned()).unwrap_or_default();
        assert!(a.starts_with("pk_test_"));
        assert_eq!(a.len(), 8 + 64);
        assert_ne!(a, b);
        assert_ne!(hash_key_secret(&a), hash_key_secret(&b));
    }

    #[test]
    fn scopes_round_trip() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
        assert_eq!(Scope::parse("payments:delete"), None);
    }
}

//! Issuing API keys, and the master key that seals their signing secrets (and webhook
//! endpoints' secrets).

use std::io::Write;
use std::path::PathBuf;

use payd_core::apikey::{self, ApiKey, Mode, Scope};
use payd_core::crypto::{CryptoError, MasterKey};
use payd_core::ids::{AccountId, ApiKeyId, MerchantId};
use payd_core::secret::Secret;
use payd_store::{Store, StoreError};

use crate::config::Config;

/// Why the master key could not be had, or a key not issued. Each message says what payd
/// was doing; the cause follows as the error's source.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Neither a key nor a file to hold one.
    #[error(
        "no master key: set security.master_key_file in payd.toml, or PAYD_MASTER_KEY / \
         PAYD_MASTER_KEY_FILE (PostgreSQL deployments share one key across nodes)"
    )]
    NoMasterKey,
    /// A master key that does not parse, or a secret that cannot be sealed.
    #[error("{what}")]
    Crypto {
        /// Which key, or what was being done.
        what: String,
        /// Why.
        #[source]
        source: CryptoError,
    },
    /// Reading or writing a file.
    #[error("{what}")]
    Io {
        /// What was being done.
        what: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The operating system gave no randomness.
    #[error("{what}")]
    Random {
        /// What it was for.
        what: &'static str,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The key's merchant does not exist.
    #[error("no merchant {0}")]
    NoMerchant(MerchantId),
    /// The key's account has no merchants.
    #[error("no account {0} with merchants")]
    NoAccount(AccountId),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn crypto(what: impl Into<String>) -> impl FnOnce(CryptoError) -> KeyError {
    let what = what.into();
    move |source| KeyError::Crypto { what, source }
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> KeyError {
    let what = what.into();
    move |source| KeyError::Io { what, source }
}

fn random<E: std::error::Error + Send + Sync + 'static>(what: &'static str) -> impl FnOnce(E) -> KeyError {
    move |source| KeyError::Random { what, source: Box::new(source) }
}

/// Where the master key file is, when one is used.
pub fn master_key_path(config: &Config) -> Option<PathBuf> {
    config.master_key_file.clone().or_else(|| config.sqlite_dir().map(|d| d.join("master.key")))
}

/// Loads the master key: from configuration, else from its file. On the embedded SQLite
/// default a missing file is created (0600) when `create` is set; on PostgreSQL the key must
/// be given, because several nodes must share it.
pub fn load_master_key(config: &Config, create: bool) -> Result<MasterKey, KeyError> {
    if let Some(k) = &config.master_key {
        return MasterKey::parse(k.expose()).map_err(crypto("master key"));
    }
    let Some(path) = master_key_path(config) else { return Err(KeyError::NoMasterKey) };
    match std::fs::read_to_string(&path) {
        Ok(text) => MasterKey::parse(&text).map_err(crypto(format!("master key file {}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create && config.is_sqlite() => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
            }
            let hex = MasterKey::generate_hex().map_err(random("generating master key"))?;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            match opts.open(&path) {
                Ok(mut f) => {
                    f.write_all(hex.as_bytes())
                        .and_then(|_| f.sync_all())
                        .map_err(io("writing master key"))?;
                    tracing::info!(path = %path.display(), "created master key file");
                    MasterKey::parse(&hex).map_err(crypto("master key"))
                }
                // Another process created it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(&path).map_err(io("reading master key"))?;
                    MasterKey::parse(&text).map_err(crypto("master key file"))
                }
                Err(e) => Err(io(format!("creating {}", path.display()))(e)),
            }
        }
        Err(e) => Err(io(format!(
            "reading master key file {} (set PAYD_MASTER_KEY or create the file)",
            path.display()
        ))(e)),
    }
}

/// Who a new key acts for.
#[derive(Debug, Clone)]
pub enum KeyOwner {
    /// One merchant.
    Merchant(MerchantId),
    /// Every merchant of an account; requests name the merchant.
    Account(AccountId),
}

/// A freshly issued key, with the secrets that are shown only now.
#[derive(Debug)]
pub struct IssuedKey {
    /// The stored key.
    pub key: ApiKey,
    /// The key secret.
    pub secret: Secret,
    /// The request-signing secret (AlpPay `X-HMAC`).
    pub signing_secret: Secret,
}

/// Creates a key: stores the hash of its secret and its sealed signing secret.
pub async fn issue_key(
    store: &Store,
    master: &MasterKey,
    owner: KeyOwner,
    mode: Mode,
    scopes: Vec<Scope>,
) -> Result<IssuedKey, KeyError> {
    let (issued, key_hash) = prepare_key(store, master, owner, mode, scopes).await?;
    store.insert_api_key(&issued.key, &key_hash).await?;
    Ok(issued)
}

/// A new key and the hash of its secret, checked and generated but not stored yet: for a
/// caller that stores it together with something else (the dashboard, with its audit line).
pub async fn prepare_key(
    store: &Store,
    master: &MasterKey,
    owner: KeyOwner,
    mode: Mode,
    scopes: Vec<Scope>,
) -> Result<(IssuedKey, String), KeyError> {
    let (account_id, merchant_id) = match owner {
        KeyOwner::Merchant(id) => {
            let m = store.get_merchant(&id).await?.ok_or(KeyError::NoMerchant(id))?;
            (m.account_id, Some(m.id))
        }
        KeyOwner::Account(id) => {
            if store.merchants_of_account(&id).await?.is_empty() {
                return Err(KeyError::NoAccount(id));
            }
            (id, None)
        }
    };
    let scopes = if scopes.is_empty() { Scope::ALL.to_vec() } else { dedup(scopes) };
    let secret = apikey::generate_key_secret(mode).map_err(random("random source"))?;
    let signing_secret = apikey::generate_signing_secret().map_err(random("random source"))?;
    let key = ApiKey {
        id: ApiKeyId::new(),
        account_id,
        merchant_id,
        mode,
        scopes,
        prefix: apikey::key_prefix(secret.expose()),
        signing_secret_sealed: master.seal(&signing_secret).map_err(crypto("sealing the signing secret"))?,
        created_at: payd_store::now(),
        revoked_at: None,
        last_used_at: None,
    };
    let key_hash = apikey::hash_key_secret(secret.expose());
    Ok((IssuedKey { key, secret, signing_secret }, key_hash))
}

fn dedup(scopes: Vec<Scope>) -> Vec<Scope> {
    let mut out: Vec<Scope> = Vec::with_capacity(scopes.len());
    for s in scopes {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

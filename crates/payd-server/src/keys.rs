//! Issuing API keys, and the master key that seals their signing secrets.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use payd_core::apikey::{self, ApiKey, Mode, Scope};
use payd_core::crypto::MasterKey;
use payd_core::ids::{AccountId, ApiKeyId, MerchantId};
use payd_core::secret::Secret;
use payd_store::Store;

use crate::config::Config;

/// Where the master key file is, when one is used.
pub fn master_key_path(config: &Config) -> Option<PathBuf> {
    config.master_key_file.clone().or_else(|| config.sqlite_dir().map(|d| d.join("master.key")))
}

/// Loads the master key: from configuration, else from its file. On the embedded SQLite
/// default a missing file is created (0600) when `create` is set; on PostgreSQL the key must
/// be given, because several nodes must share it.
pub fn load_master_key(config: &Config, create: bool) -> anyhow::Result<MasterKey> {
    if let Some(k) = &config.master_key {
        return MasterKey::parse(k.expose()).context("master key");
    }
    let Some(path) = master_key_path(config) else {
        bail!(
            "no master key: set security.master_key_file in payd.toml, or PAYD_MASTER_KEY / \
             PAYD_MASTER_KEY_FILE (PostgreSQL deployments share one key across nodes)"
        );
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => MasterKey::parse(&text).with_context(|| format!("master key file {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create && config.is_sqlite() => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            let hex = MasterKey::generate_hex().context("generating master key")?;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            match opts.open(&path) {
                Ok(mut f) => {
                    f.write_all(hex.as_bytes()).and_then(|_| f.sync_all()).context("writing master key")?;
                    tracing::info!(path = %path.display(), "created master key file");
                    MasterKey::parse(&hex).context("master key")
                }
                // Another process created it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(&path).context("reading master key")?;
                    MasterKey::parse(&text).context("master key file")
                }
                Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
            }
        }
        Err(e) => Err(e).with_context(|| {
            format!("reading master key file {} (set PAYD_MASTER_KEY or create the file)", path.display())
        }),
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
) -> anyhow::Result<IssuedKey> {
    let (account_id, merchant_id) = match owner {
        KeyOwner::Merchant(id) => {
            let m = store.get_merchant(&id).await?.with_context(|| format!("no merchant {id}"))?;
            (m.account_id, Some(m.id))
        }
        KeyOwner::Account(id) => {
            if store.merchants_of_account(&id).await?.is_empty() {
                bail!("no account {id} with merchants");
            }
            (id, None)
        }
    };
    let scopes = if scopes.is_empty() { Scope::ALL.to_vec() } else { dedup(scopes) };
    let secret = apikey::generate_key_secret(mode).context("random source")?;
    let signing_secret = apikey::generate_signing_secret().context("random source")?;
    let key = ApiKey {
        id: ApiKeyId::new(),
        account_id,
        merchant_id,
        mode,
        scopes,
        prefix: apikey::key_prefix(secret.expose()),
        signing_secret_sealed: master.seal(&signing_secret)?,
        created_at: payd_store::now(),
        revoked_at: None,
    };
    store.insert_api_key(&key, &apikey::hash_key_secret(secret.expose())).await?;
    Ok(IssuedKey { key, secret, signing_secret })
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

//! Deposit addresses: which key derives a new payment's address, for every chain family and
//! both modes, through one function ([`deposit_key`], a `match` on the family). The store takes
//! the index inside the create's transaction.

use payd_chain::address::AddressFormat;
use payd_chain::deposit::DepositKey;
use payd_chain::family;
use payd_core::apikey::Mode;
use payd_core::ids::MerchantId;
use payd_core::payment::NewPayment;
use payd_core::registry::{self, Family};
use payd_store::{Store, StoreError};

use crate::config::networks::EvmNetwork;

/// Why a payment cannot get a deposit address (the create turns it into its own error).
#[derive(Debug, thiserror::Error)]
pub enum AddressRefusal {
    /// A live payment on a network this payd does not watch (the network named).
    #[error("network {0} is not watched")]
    NetworkNotWatched(String),
    /// A chain family payd cannot take payments on yet (the family named).
    #[error("payd cannot take payments on {0} yet")]
    FamilyNotSupported(String),
    /// The merchant has no extended public key for the family of the network named.
    #[error("no {} extended public key for {network}", family_label(*family))]
    NoXpub {
        /// The payment's network.
        network: String,
        /// Its family.
        family: Family,
    },
    /// The merchant's stored key does not derive (it was changed outside payd).
    #[error("the {} extended public key is not usable: {reason}", family_label(*family))]
    BadXpub {
        /// The key's family.
        family: Family,
        /// Why.
        reason: String,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The key a new payment's deposit address is derived from, or `None` when it gets none
/// yet (no asset chosen). Test payments are paid on devnet, whatever network they name, at
/// an address in that network's own format. Live payments need a network this payd watches
/// and the merchant's extended public key for its family.
pub(super) async fn deposit_key(
    store: &Store,
    networks: &[EvmNetwork],
    new: &NewPayment,
) -> Result<Option<DepositKey>, AddressRefusal> {
    let Some(asset) = new.asset.as_ref().filter(|a| a.address.is_none()) else { return Ok(None) };
    key_for(store, networks, &new.merchant_id, new.mode, &asset.network).await.map(Some)
}

/// The key a payment of `merchant` in `mode` on `network` takes its address from (the
/// rules of [`deposit_key`], for a payment whose asset is chosen after it was created).
pub(super) async fn key_for(
    store: &Store,
    networks: &[EvmNetwork],
    merchant: &MerchantId,
    mode: Mode,
    network: &str,
) -> Result<DepositKey, AddressRefusal> {
    let configured = crate::config::networks::find(networks, network);
    let family = match configured {
        Some(net) => net.family,
        None => registry::resolve_network(network)
            .map(|n| n.family)
            .ok_or_else(|| AddressRefusal::NetworkNotWatched(network.to_owned()))?,
    };
    let unsupported = |name: &str| AddressRefusal::FamilyNotSupported(name.to_owned());
    if mode == Mode::Test {
        let format = family::address_format(family).ok_or_else(|| unsupported("Solana"))?;
        let key = DepositKey::devnet(format).map_err(|e| StoreError::Corrupt(format!("devnet key: {e}")))?;
        return Ok(key);
    }
    // Live: a configured network (configuration admits only the families payd watches) and
    // the merchant's key for its family.
    if family == Family::Solana {
        return Err(unsupported("Solana"));
    }
    if configured.is_none() {
        return Err(AddressRefusal::NetworkNotWatched(network.to_owned()));
    }
    let format = match family {
        Family::Evm => AddressFormat::Evm,
        Family::Tron => AddressFormat::Tron,
        Family::Solana | Family::Devnet => return Err(unsupported(family.as_str())),
    };
    let xpub = store
        .merchant_xpub(merchant, family)
        .await?
        .ok_or_else(|| AddressRefusal::NoXpub { network: network.to_owned(), family })?;
    DepositKey::merchant(&xpub, family.as_str(), format)
        .map_err(|e| AddressRefusal::BadXpub { family, reason: e.to_string() })
}

/// A family as messages name it (`EVM`, `Tron`).
pub fn family_label(family: Family) -> &'static str {
    match family {
        Family::Evm => "EVM",
        Family::Tron => "Tron",
        Family::Solana => "Solana",
        Family::Devnet => "devnet",
    }
}

//! Deposit addresses: which key derives a new payment's address, for every chain family and
//! both modes, through one function ([`deposit_key`], a `match` on the family). The store takes
//! the index inside the create's transaction.

use payd_chain::address::AddressFormat;
use payd_chain::deposit::DepositKey;
use payd_chain::family;
use payd_core::apikey::Mode;
use payd_core::payment::NewPayment;
use payd_core::registry::{self, Family};
use payd_store::{Store, StoreError};

use super::payments::CreateError;
use crate::config::networks::EvmNetwork;

/// The key a new payment's deposit address is derived from, or `None` when it gets none
/// yet (no asset chosen). Test payments are paid on devnet, whatever network they name, at
/// an address in that network's own format. Live payments need a network this payd watches
/// and the merchant's extended public key for its family.
pub(super) async fn deposit_key(
    store: &Store,
    networks: &[EvmNetwork],
    new: &NewPayment,
) -> Result<Option<DepositKey>, CreateError> {
    let Some(asset) = new.asset.as_ref().filter(|a| a.address.is_none()) else { return Ok(None) };
    let configured = crate::config::networks::find(networks, &asset.network);
    let family = match configured {
        Some(net) => net.family,
        None => registry::resolve_network(&asset.network)
            .map(|n| n.family)
            .ok_or_else(|| CreateError::NetworkNotWatched(asset.network.clone()))?,
    };
    let unsupported = |name: &str| CreateError::FamilyNotSupported(name.to_owned());
    if new.mode == Mode::Test {
        let format = family::address_format(family).ok_or_else(|| unsupported("Solana"))?;
        let key = DepositKey::devnet(format).map_err(|e| StoreError::Corrupt(format!("devnet key: {e}")))?;
        return Ok(Some(key));
    }
    // Live: a configured network (configuration admits only the families payd watches) and
    // the merchant's key for its family.
    if family == Family::Solana {
        return Err(unsupported("Solana"));
    }
    if configured.is_none() {
        return Err(CreateError::NetworkNotWatched(asset.network.clone()));
    }
    let format = match family {
        Family::Evm => AddressFormat::Evm,
        Family::Tron | Family::Solana | Family::Devnet => return Err(unsupported(family.as_str())),
    };
    let xpub = store
        .merchant_xpub(&new.merchant_id, family)
        .await?
        .ok_or_else(|| CreateError::NoXpub(asset.network.clone()))?;
    let key = DepositKey::merchant(&xpub, family.as_str(), format)
        .map_err(|e| CreateError::BadXpub(e.to_string()))?;
    Ok(Some(key))
}

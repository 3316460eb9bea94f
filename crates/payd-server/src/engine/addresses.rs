//! Deposit addresses: which key derives a new payment's address, for every chain family and
//! both modes, through one function. The store takes the index inside the create's
//! transaction.

use payd_chain::address::AddressFormat;
use payd_chain::deposit::DepositKey;
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
    // A configured network is an EVM one (the only family payd watches live today).
    let family = match configured {
        Some(_) => Family::Evm,
        None => registry::resolve_network(&asset.network)
            .map(|n| n.family)
            .ok_or_else(|| CreateError::NetworkNotWatched(asset.network.clone()))?,
    };
    let unsupported = |name: &str| CreateError::FamilyNotSupported(name.to_owned());
    let derive_error = |e: payd_chain::address::AddressError| CreateError::BadXpub(e.to_string());
    match new.mode {
        Mode::Test => {
            let format = match family {
                Family::Evm | Family::Devnet => AddressFormat::Evm,
                Family::Tron => AddressFormat::Tron,
                Family::Solana => return Err(unsupported("Solana")),
            };
            Ok(Some(DepositKey::devnet(format).map_err(|e| StoreError::Corrupt(format!("devnet key: {e}")))?))
        }
        Mode::Live => {
            if family == Family::Solana {
                return Err(unsupported("Solana"));
            }
            if configured.is_none() {
                return Err(CreateError::NetworkNotWatched(asset.network.clone()));
            }
            let xpub = store
                .merchant_xpub_evm(&new.merchant_id)
                .await?
                .ok_or_else(|| CreateError::NoXpub(asset.network.clone()))?;
            Ok(Some(DepositKey::merchant(&xpub, "evm", AddressFormat::Evm).map_err(derive_error)?))
        }
    }
}

//! Choosing how to pay a payment created without an asset (the checkout's "pay with"): the
//! token/network pairs a merchant can be paid in, and the choice itself — quoted at the rate
//! of that moment, given its deposit address in the same transaction, and changeable while
//! nothing has been received. A merchant's allow-list (`merchant_assets`) narrows the pairs:
//! what it did not enable is neither offered nor choosable.

use chrono::{DateTime, Utc};
use payd_core::apikey::Mode;
use payd_core::ids::{MerchantId, PaymentId};
use payd_core::payment::{Payment, TransitionError};
use payd_core::registry::{self, Family};
use payd_store::{AddressPlan, Store, StoreError};

use super::addresses::{key_for, AddressRefusal};
use super::quote::{quote_with_fx, QuoteError};
use crate::config::networks::EvmNetwork;
use crate::fx::FxProvider;

/// A token on a network a payment can be paid in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payable {
    /// Ticker (`USDC`).
    pub token: String,
    /// Canonical network id (`base`).
    pub network: String,
    /// The network's name for people (`Base`).
    pub network_name: String,
    /// Its chain family.
    pub family: Family,
}

/// Every pair the instance can take payments in, whatever the merchant: each token of every
/// configured network whose family payd watches, then every token of the networks payd knows
/// that devnet can stand in for (EVM and Tron) and that are not configured. The flag is
/// `true` for the latter: they are payable in test mode only. Ordered by network as
/// configured, then as the registry lists them. What a merchant may enable at checkout.
pub fn instance_assets(networks: &[EvmNetwork]) -> Vec<(Payable, bool)> {
    let mut out: Vec<(Payable, bool)> = Vec::new();
    for net in networks {
        if !payd_chain::family::is_watched(net.family) {
            continue;
        }
        let name = registry::network(&net.name).map_or_else(|| net.name.clone(), |n| n.name.to_owned());
        for tok in &net.tokens {
            let p = Payable {
                token: tok.symbol.clone(),
                network: net.name.clone(),
                network_name: name.clone(),
                family: net.family,
            };
            out.push((p, false));
        }
    }
    for net in registry::NETWORKS.iter().filter(|n| matches!(n.family, Family::Evm | Family::Tron)) {
        if out.iter().any(|(p, _)| p.network == net.id) {
            continue;
        }
        for tok in registry::TOKENS.iter().filter(|t| t.network == net.id) {
            let p = Payable {
                token: tok.symbol.to_owned(),
                network: net.id.to_owned(),
                network_name: net.name.to_owned(),
                family: net.family,
            };
            out.push((p, true));
        }
    }
    out
}

/// Whether a merchant's stored allow-list (`Store::merchant_assets`) lets it be paid in
/// `token` on `network`: an empty list allows every pair (merchants that never chose keep
/// what payd offered before the setting existed).
pub fn allows(enabled: &[(String, String)], token: &str, network: &str) -> bool {
    enabled.is_empty()
        || enabled.iter().any(|(t, n)| t.eq_ignore_ascii_case(token) && n.eq_ignore_ascii_case(network))
}

/// The pairs `merchant` can be paid in, in `mode`: the [`instance_assets`] it enabled at
/// checkout (all when it never chose). Live: those of configured networks whose family the
/// merchant has an extended public key for (an address must be derivable, or the customer
/// would be shown nothing to pay). Test: every one of them, devnet standing in for the chain.
pub async fn payable_assets(
    store: &Store,
    networks: &[EvmNetwork],
    merchant: &MerchantId,
    mode: Mode,
) -> Result<Vec<Payable>, StoreError> {
    let enabled = store.merchant_assets(merchant).await?;
    let mut with_key: Vec<(Family, bool)> = Vec::new();
    let mut out = Vec::new();
    for (p, test_only) in instance_assets(networks) {
        if !allows(&enabled, &p.token, &p.network) {
            continue;
        }
        if mode == Mode::Live {
            if test_only {
                continue;
            }
            let has_key = match with_key.iter().find(|(f, _)| *f == p.family) {
                Some((_, k)) => *k,
                None => {
                    let k = store.merchant_xpub(merchant, p.family).await?.is_some();
                    with_key.push((p.family, k));
                    k
                }
            };
            if !has_key {
                continue;
            }
        }
        out.push(p);
    }
    Ok(out)
}

/// Why an asset could not be chosen.
#[derive(Debug, thiserror::Error)]
pub enum ChooseError {
    /// No such payment.
    #[error("no such payment")]
    NotFound,
    /// The merchant does not take this token on this network.
    #[error("{token} on {network} is not offered for this payment")]
    NotOffered {
        /// Token asked for.
        token: String,
        /// Network asked for.
        network: String,
    },
    /// The pair could not be quoted (no FX rate, out of range).
    #[error(transparent)]
    Quote(#[from] QuoteError),
    /// No address can be derived for it.
    #[error(transparent)]
    Address(#[from] AddressRefusal),
    /// The payment's state forbids it (money seen, expired, cancelled).
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Fixes the token and network a payment is paid in: checks the pair is offered, quotes the
/// payment's price at the FX rate of this moment (kept on the payment with its source), and
/// writes the asset with its deposit address in one transaction. Choosing again (switching)
/// is allowed while the payment is pending, unexpired and has received nothing; within one
/// chain family the address stays the same.
pub async fn choose_asset(
    store: &Store,
    networks: &[EvmNetwork],
    fx: &FxProvider,
    id: &PaymentId,
    token: &str,
    network: &str,
    now: DateTime<Utc>,
) -> Result<Payment, ChooseError> {
    let payment = store.get_payment(id).await?.ok_or(ChooseError::NotFound)?;
    let offered = payable_assets(store, networks, &payment.merchant_id, payment.mode).await?;
    let Some(pair) = offered
        .iter()
        .find(|p| p.token.eq_ignore_ascii_case(token) && p.network.eq_ignore_ascii_case(network))
    else {
        return Err(ChooseError::NotOffered { token: token.to_owned(), network: network.to_owned() });
    };
    // Refuse before quoting or deriving what would not be written.
    payment.asset_choosable(now)?;
    let (asset, fx_quote) = quote_with_fx(fx, networks, &pair.token, &pair.network, &payment.price).await?;
    let key = key_for(store, networks, &payment.merchant_id, payment.mode, &pair.network).await?;
    let plan = AddressPlan {
        key_id: key.key_id().to_owned(),
        family: key.family().to_owned(),
        derive: std::sync::Arc::new(move |index: u64| key.derive(index)),
    };
    let chosen = store
        .choose_payment_asset(id, Some(&plan), &mut |p: &mut Payment| {
            p.choose_asset(asset.clone(), fx_quote.clone(), now)
        })
        .await?;
    Ok(chosen?.0)
}

//! The payments engine: the operations every API (native and dialects) calls. Each is one
//! store transaction; the rules themselves are payd-core's state machine.

use chrono::{DateTime, Utc};
use payd_chain::address::AddressFormat;
use payd_chain::deposit::DepositKey;
use payd_core::apikey::Mode;
use payd_core::ids::PaymentId;
use payd_core::money::{Currency, Money};
use payd_core::payment::{generate_slug, AssetQuote, FxQuote, NewPayment, Payment, TransitionError};
use payd_core::registry::{self, Family};
use payd_core::token::to_base_units_ceil;
use payd_store::{AddressPlan, CreateOutcome, IdempotencyRequest, Store, StoreError, StoredResponse};
use sha2::{Digest, Sha256};

use crate::fx::FxProvider;
use crate::networks::EvmNetwork;

/// Why an asset could not be quoted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    /// Not a network payd knows.
    #[error("unknown network `{0}`")]
    UnknownNetwork(String),
    /// The network has no such token.
    #[error("{token} is not supported on {network}")]
    UnsupportedAsset {
        /// Token.
        token: String,
        /// Network.
        network: String,
    },
    /// No rate converts the price into the token's currency.
    #[error("{reason}")]
    NoFxRate {
        /// Price currency.
        from: String,
        /// Token's currency.
        to: String,
        /// Why, for the client (names the source, never its URL).
        reason: String,
    },
    /// The amount does not fit the token's range.
    #[error("the amount is out of range for {0}")]
    OutOfRange(String),
}

/// Fixes the token, network and amount due for a price, converting with `fx` when the price
/// is not in the token's peg currency (the rounding rule is in [`payd_core::fx`]). Token
/// tickers are matched upper case and networks lower case, as the registry keeps them. A
/// stablecoin pegged to the price's currency is quoted 1:1, exactly.
pub async fn quote_with_fx(
    fx: &FxProvider,
    networks: &[EvmNetwork],
    token: &str,
    network: &str,
    price: &Money,
) -> Result<(AssetQuote, Option<FxQuote>), QuoteError> {
    let tok = resolve(networks, token, network)?;
    let no_rate = |reason: String| QuoteError::NoFxRate {
        from: price.currency.code().to_owned(),
        to: tok.pegged_to.to_owned(),
        reason,
    };
    let peg = Currency::from_code(tok.pegged_to)
        .ok_or_else(|| no_rate(format!("{} is not a currency payd can convert to", tok.pegged_to)))?;
    if peg == price.currency {
        return Ok((quote(networks, token, network, price, None)?, None));
    }
    let rate = fx.rate(price.currency, peg).await.map_err(|e| no_rate(e.to_string()))?;
    let converted = rate
        .convert(price.amount, price.currency, peg)
        .map_err(|_| QuoteError::OutOfRange(tok.symbol.clone()))?;
    let fx_quote = FxQuote {
        rate: rate.rate,
        source: rate.source.clone(),
        quote_currency: peg.code().to_owned(),
        quote_amount: converted,
    };
    Ok((quote(networks, token, network, price, Some(&fx_quote))?, Some(fx_quote)))
}

/// A token on a network, from configuration or the built-in registry.
#[derive(Debug, Clone)]
struct Resolved {
    symbol: String,
    network: String,
    decimals: u8,
    confirmations: u32,
    pegged_to: &'static str,
}

/// A configured network wins over the registry entry of the same name (its contracts,
/// decimals and confirmation depth are what the watcher uses).
fn resolve(networks: &[EvmNetwork], token: &str, network: &str) -> Result<Resolved, QuoteError> {
    let unsupported =
        || QuoteError::UnsupportedAsset { token: token.to_owned(), network: network.to_owned() };
    let configured = crate::networks::find(networks, network)
        .or_else(|| registry::resolve_network(network).and_then(|n| crate::networks::find(networks, n.id)));
    if let Some(net) = configured {
        let tok = net.token(token).ok_or_else(unsupported)?;
        // Every stablecoin payd knows is pegged to USD (the registry has no other).
        let pegged_to =
            registry::TOKENS.iter().find(|t| t.symbol == tok.symbol).map_or("USD", |t| t.pegged_to);
        return Ok(Resolved {
            symbol: tok.symbol.clone(),
            network: net.name.clone(),
            decimals: tok.decimals,
            confirmations: net.confirmations,
            pegged_to,
        });
    }
    let net =
        registry::resolve_network(network).ok_or_else(|| QuoteError::UnknownNetwork(network.to_owned()))?;
    let tok = registry::token(&token.to_ascii_uppercase(), net.id).ok_or_else(unsupported)?;
    Ok(Resolved {
        symbol: tok.symbol.to_owned(),
        network: net.id.to_owned(),
        decimals: tok.decimals,
        confirmations: net.confirmations,
        pegged_to: tok.pegged_to,
    })
}

/// Quotes a price in the token's peg currency, or already converted (`fx`).
pub fn quote(
    networks: &[EvmNetwork],
    token: &str,
    network: &str,
    price: &Money,
    fx: Option<&FxQuote>,
) -> Result<AssetQuote, QuoteError> {
    let tok = resolve(networks, token, network)?;
    let amount = match fx {
        Some(q) if q.quote_currency == tok.pegged_to => q.quote_amount,
        None if tok.pegged_to == price.currency.code() => price.amount,
        _ => {
            return Err(QuoteError::NoFxRate {
                from: price.currency.code().to_owned(),
                to: tok.pegged_to.to_owned(),
                reason: format!(
                    "no exchange rate from {} to {} is configured",
                    price.currency.code(),
                    tok.pegged_to
                ),
            })
        }
    };
    let amount_due =
        to_base_units_ceil(amount, tok.decimals).map_err(|_| QuoteError::OutOfRange(tok.symbol.clone()))?;
    Ok(AssetQuote {
        token: tok.symbol,
        network: tok.network,
        decimals: tok.decimals,
        amount_due,
        confirmations: tok.confirmations,
        address: None,
    })
}

/// The digest an idempotency key is bound to: method, path and the body in canonical JSON
/// (keys sorted, no whitespace), so a retry that re-serialises the same object still matches.
pub fn fingerprint(method: &str, path: &str, body: &serde_json::Value) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update(b"\n");
    h.update(path.as_bytes());
    h.update(b"\n");
    h.update(body.to_string().as_bytes());
    hex::encode(h.finalize())
}

/// Why a payment could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// A live payment on a network this payd does not watch: nothing would ever see the
    /// customer's money.
    #[error("live payments on `{0}` need the operator to configure that network: add a [[networks]] entry named \"{0}\" with its RPC endpoint to payd.toml (see docs/configuration.md)")]
    NetworkNotWatched(String),
    /// A network of a chain family payd cannot take payments on yet.
    #[error("payd cannot take payments on {0} yet")]
    FamilyNotSupported(String),
    /// A live payment on an EVM network whose merchant has no xpub to derive addresses from.
    #[error("live payments on {0} need the merchant's EVM extended public key (payd merchant configure <id> --xpub-evm <xpub>)")]
    NoXpub(String),
    /// The merchant's stored xpub does not derive (it was changed outside payd).
    #[error("the merchant's EVM extended public key is not usable: {0}")]
    BadXpub(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates a payment (and its `payment.created` event) or replays the response saved for
/// its idempotency key. Everything that can refuse the payment (an unwatched network, a
/// merchant without a key for the chain) is checked before anything is written; the deposit
/// address is then taken inside the create's transaction, after the idempotency key is
/// claimed, so a replay takes none. A slug collision, vanishingly rare, is retried with a
/// new slug.
pub async fn create_payment(
    store: &Store,
    networks: &[EvmNetwork],
    new: NewPayment,
    idempotency: Option<&IdempotencyRequest>,
    now: DateTime<Utc>,
    render: &(dyn Fn(&Payment) -> Result<StoredResponse, StoreError> + Send + Sync),
) -> Result<CreateOutcome, CreateError> {
    let key = deposit_key(store, networks, &new).await?;
    let derive = |index: u64| key.as_ref().map_or_else(|| Err("no key".to_owned()), |k| k.derive(index));
    let plan = key.as_ref().map(|k| AddressPlan {
        key_id: k.key_id().to_owned(),
        family: k.family().to_owned(),
        derive: &derive,
    });
    let mut attempts = 0;
    loop {
        let slug = generate_slug().map_err(|e| StoreError::Corrupt(format!("random source: {e}")))?;
        let (payment, events) = Payment::create(new.clone(), slug, now);
        match store.create_payment(&payment, &events, idempotency, plan.as_ref(), render).await {
            Err(StoreError::Conflict("payments_slug_key")) if attempts < 3 => attempts += 1,
            other => return Ok(other?),
        }
    }
}

/// The key a new payment's deposit address is derived from, or `None` when it gets none
/// yet (no asset chosen). Test payments are paid on devnet, whatever network they name, at
/// an address in that network's own format. Live payments need a network this payd watches
/// and the merchant's extended public key for its family.
async fn deposit_key(
    store: &Store,
    networks: &[EvmNetwork],
    new: &NewPayment,
) -> Result<Option<DepositKey>, CreateError> {
    let Some(asset) = new.asset.as_ref().filter(|a| a.address.is_none()) else { return Ok(None) };
    let configured = crate::networks::find(networks, &asset.network);
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

/// The hash of the first transfer still credited to a payment (dialects that show one
/// `transaction_hash`).
pub async fn first_tx_hash(store: &Store, id: &PaymentId) -> Result<Option<String>, StoreError> {
    let transfers = store.transfers_of_payment(id).await?;
    Ok(transfers
        .into_iter()
        .filter(|t| t.status != payd_store::chain::TransferStatus::Orphaned)
        .min_by_key(|t| (t.transfer.block.number, t.transfer.log_index))
        .map(|t| t.transfer.tx_hash))
}

/// Why a cancel was refused.
#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    /// The state machine refused.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Cancels a payment that is pending and has received nothing.
pub async fn cancel_payment(store: &Store, id: &PaymentId) -> Result<Payment, CancelError> {
    let now = payd_store::now();
    match store.mutate_payment(id, &mut |p: &mut Payment| p.cancel(now)).await? {
        Ok((payment, _events)) => Ok(payment),
        Err(e) => Err(CancelError::Transition(e)),
    }
}

/// Expires every open payment whose time has passed at `now`, in batches, each payment in
/// its own transaction with its `payment.expired` event. Returns how many expired.
pub async fn expire_due(store: &Store, now: DateTime<Utc>) -> Result<usize, StoreError> {
    const BATCH: u32 = 200;
    let mut expired = 0;
    loop {
        let due = store.payments_due_for_expiry(now, BATCH).await?;
        let n = due.len();
        for id in due {
            match store.mutate_payment(&id, &mut |p: &mut Payment| p.expire(now)).await? {
                Ok(_) => expired += 1,
                // Another node, or a credit, moved it first: nothing to do.
                Err(
                    TransitionError::NotDue | TransitionError::NotExpirable(_) | TransitionError::PaidInTime,
                ) => {}
                Err(e) => tracing::warn!(payment = %id, error = %e, "could not expire payment"),
            }
        }
        if n < BATCH as usize {
            return Ok(expired);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use payd_core::money::Currency;

    fn usd(s: &str) -> Money {
        Money::parse(s, Currency::USD)
            .unwrap_or(Money { amount: rust_decimal::Decimal::ONE, currency: Currency::USD })
    }

    #[test]
    fn a_usd_price_quotes_exactly_in_each_tokens_decimals() {
        let q = quote(&[], "usdc", "BASE", &usd("49.99"), None);
        assert_eq!(
            q.as_ref().map(|q| (q.amount_due, q.network.as_str(), q.token.as_str())),
            Ok((49_990_000, "base", "USDC"))
        );
        let q = quote(&[], "USDT", "bsc", &usd("49.99"), None);
        assert_eq!(q.map(|q| q.amount_due), Ok(49_990_000_000_000_000_000));
    }

    #[test]
    fn unknown_assets_and_missing_rates_are_refused() {
        assert!(matches!(quote(&[], "USDC", "mars", &usd("1"), None), Err(QuoteError::UnknownNetwork(_))));
        assert!(matches!(
            quote(&[], "DOGE", "base", &usd("1"), None),
            Err(QuoteError::UnsupportedAsset { .. })
        ));
        let eur = Money::parse("1", Currency::from_code("EUR").unwrap_or(Currency::USD));
        assert!(matches!(
            eur.map(|m| quote(&[], "USDC", "base", &m, None)),
            Ok(Err(QuoteError::NoFxRate { .. }))
        ));
    }

    #[test]
    fn fingerprints_ignore_formatting_but_not_content() {
        let a: serde_json::Value = serde_json::from_str(r#"{"b":1,"a":"x"}"#).unwrap_or_default();
        let b: serde_json::Value = serde_json::from_str(r#"{ "a": "x", "b": 1 }"#).unwrap_or_default();
        let c: serde_json::Value = serde_json::from_str(r#"{"a":"x","b":2}"#).unwrap_or_default();
        assert_eq!(fingerprint("POST", "/v1/payments", &a), fingerprint("POST", "/v1/payments", &b));
        assert_ne!(fingerprint("POST", "/v1/payments", &a), fingerprint("POST", "/v1/payments", &c));
    }
}

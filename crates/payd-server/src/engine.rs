//! The payments engine: the operations every API (native and dialects) calls. Each is one
//! store transaction; the rules themselves are payd-core's state machine.

use chrono::{DateTime, Utc};
use payd_core::ids::PaymentId;
use payd_core::money::{Currency, Money};
use payd_core::payment::{generate_slug, AssetQuote, FxQuote, NewPayment, Payment, TransitionError};
use payd_core::registry;
use payd_core::token::to_base_units_ceil;
use payd_store::{CreateOutcome, IdempotencyRequest, Store, StoreError, StoredResponse};
use sha2::{Digest, Sha256};

use crate::fx::FxProvider;

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
    #[error("no exchange rate from {from} to {to} is configured")]
    NoFxRate {
        /// Price currency.
        from: String,
        /// Token's currency.
        to: String,
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
    token: &str,
    network: &str,
    price: &Money,
) -> Result<(AssetQuote, Option<FxQuote>), QuoteError> {
    let (tok, _) = resolve(token, network)?;
    let no_rate =
        || QuoteError::NoFxRate { from: price.currency.code().to_owned(), to: tok.pegged_to.to_owned() };
    let peg = Currency::from_code(tok.pegged_to).ok_or_else(no_rate)?;
    if peg == price.currency {
        return Ok((quote(token, network, price, None)?, None));
    }
    let rate = fx.rate(price.currency, peg).await.map_err(|_| no_rate())?;
    let converted = rate
        .convert(price.amount, price.currency, peg)
        .map_err(|_| QuoteError::OutOfRange(tok.symbol.to_owned()))?;
    let fx_quote = FxQuote {
        rate: rate.rate,
        source: rate.source.clone(),
        quote_currency: peg.code().to_owned(),
        quote_amount: converted,
    };
    Ok((quote(token, network, price, Some(&fx_quote))?, Some(fx_quote)))
}

fn resolve(
    token: &str,
    network: &str,
) -> Result<(&'static registry::Token, &'static registry::Network), QuoteError> {
    let net =
        registry::resolve_network(network).ok_or_else(|| QuoteError::UnknownNetwork(network.to_owned()))?;
    let tok = registry::token(&token.to_ascii_uppercase(), net.id).ok_or_else(|| {
        QuoteError::UnsupportedAsset { token: token.to_owned(), network: network.to_owned() }
    })?;
    Ok((tok, net))
}

/// Quotes a price in the token's peg currency, or already converted (`fx`).
pub fn quote(
    token: &str,
    network: &str,
    price: &Money,
    fx: Option<&FxQuote>,
) -> Result<AssetQuote, QuoteError> {
    let (tok, net) = resolve(token, network)?;
    let amount = match fx {
        Some(q) if q.quote_currency == tok.pegged_to => q.quote_amount,
        None if tok.pegged_to == price.currency.code() => price.amount,
        _ => {
            return Err(QuoteError::NoFxRate {
                from: price.currency.code().to_owned(),
                to: tok.pegged_to.to_owned(),
            })
        }
    };
    let amount_due = to_base_units_ceil(amount, tok.decimals)
        .map_err(|_| QuoteError::OutOfRange(tok.symbol.to_owned()))?;
    Ok(AssetQuote {
        token: tok.symbol.to_owned(),
        network: net.id.to_owned(),
        decimals: tok.decimals,
        amount_due,
        confirmations: net.confirmations,
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

/// Creates a payment (and its `payment.created` event) or replays the response saved for
/// its idempotency key. A slug collision, vanishingly rare, is retried with a new slug.
pub async fn create_payment(
    store: &Store,
    new: NewPayment,
    idempotency: Option<&IdempotencyRequest>,
    now: DateTime<Utc>,
    render: &(dyn Fn(&Payment) -> Result<StoredResponse, StoreError> + Send + Sync),
) -> Result<CreateOutcome, StoreError> {
    let mut attempts = 0;
    loop {
        let slug = generate_slug().map_err(|e| StoreError::Corrupt(format!("random source: {e}")))?;
        let (mut payment, events) = Payment::create(new.clone(), slug, now);
        // Test-mode payments are paid on devnet, whatever network they name.
        payd_chain::devnet::assign_address(store, &mut payment, now).await?;
        match store.create_payment(&payment, &events, idempotency, render).await {
            Err(StoreError::Conflict("payments_slug_key")) if attempts < 3 => attempts += 1,
            other => return other,
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
                Err(TransitionError::NotDue | TransitionError::NotExpirable(_)) => {}
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
        let q = quote("usdc", "BASE", &usd("49.99"), None);
        assert_eq!(
            q.as_ref().map(|q| (q.amount_due, q.network.as_str(), q.token.as_str())),
            Ok((49_990_000, "base", "USDC"))
        );
        let q = quote("USDT", "bsc", &usd("49.99"), None);
        assert_eq!(q.map(|q| q.amount_due), Ok(49_990_000_000_000_000_000));
    }

    #[test]
    fn unknown_assets_and_missing_rates_are_refused() {
        assert!(matches!(quote("USDC", "mars", &usd("1"), None), Err(QuoteError::UnknownNetwork(_))));
        assert!(matches!(quote("DOGE", "base", &usd("1"), None), Err(QuoteError::UnsupportedAsset { .. })));
        let eur = Money::parse("1", Currency::from_code("EUR").unwrap_or(Currency::USD));
        assert!(matches!(eur.map(|m| quote("USDC", "base", &m, None)), Ok(Err(QuoteError::NoFxRate { .. }))));
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

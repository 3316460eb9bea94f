//! Quoting: the token, network and amount due for a price, converted at the FX rate when the
//! price is not in the token's peg currency. The one path every API's quote goes through.

use payd_core::money::{Currency, Money};
use payd_core::payment::{AssetQuote, FxQuote};
use payd_core::registry;
use payd_core::token::to_base_units_ceil;

use crate::config::networks::EvmNetwork;
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
    let fx_quote = match capture(fx, price, peg).await {
        Ok(q) => q,
        Err(CaptureError::Rate(reason)) => return Err(no_rate(reason)),
        Err(CaptureError::Convert(_)) => return Err(QuoteError::OutOfRange(tok.symbol.clone())),
    };
    Ok((quote(networks, token, network, price, Some(&fx_quote))?, Some(fx_quote)))
}

/// Why a price could not be converted; the text is the client's (it names the rate source,
/// never its URL).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    /// No usable rate for the pair.
    #[error("{0}")]
    Rate(String),
    /// The rate cannot convert this amount.
    #[error("{0}")]
    Convert(String),
}

/// The one FX conversion: the rate of the moment for `price` into `to`, captured with its
/// source so the payment keeps what it was priced at.
pub async fn capture(fx: &FxProvider, price: &Money, to: Currency) -> Result<FxQuote, CaptureError> {
    let rate = fx.rate(price.currency, to).await.map_err(|e| CaptureError::Rate(e.to_string()))?;
    let converted =
        rate.convert(price.amount, price.currency, to).map_err(|e| CaptureError::Convert(e.to_string()))?;
    Ok(FxQuote {
        rate: rate.rate,
        source: rate.source.clone(),
        quote_currency: to.code().to_owned(),
        quote_amount: converted,
    })
}

/// A price in USD for the dialects that price in USD before the token is chosen: `None` when
/// it already is, else the captured conversion.
pub async fn usd_value(fx: &FxProvider, price: &Money) -> Result<Option<FxQuote>, CaptureError> {
    if price.currency == Currency::USD {
        return Ok(None);
    }
    capture(fx, price, Currency::USD).await.map(Some)
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
    let configured = crate::config::networks::find(networks, network).or_else(|| {
        registry::resolve_network(network).and_then(|n| crate::config::networks::find(networks, n.id))
    });
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
}

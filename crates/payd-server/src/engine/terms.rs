//! A merchant's terms for a new payment: the minimum invoice (`payd merchant configure
//! --min-amount`, in USD) and the settlement asset (`--settlement`), which a payment created
//! without an asset is quoted in at once. MutoPay's create applies them today.

use payd_core::merchant::Merchant;
use payd_core::money::{Currency, Money, MoneyError};
use payd_core::payment::{AssetQuote, FxQuote};
use payd_store::{Store, StoreError};
use rust_decimal::Decimal;

use super::quote::{quote, QuoteError};
use crate::config::networks::EvmNetwork;

/// Why a payment does not meet its merchant's terms.
#[derive(Debug, thiserror::Error)]
pub enum TermsError {
    /// The payment's USD value is below the merchant's minimum (the minimum, in USD).
    #[error("the amount is below the merchant's minimum of {0} USD")]
    BelowMinimum(Decimal),
    /// The USD value is not an amount of USD.
    #[error(transparent)]
    Amount(MoneyError),
    /// The settlement asset cannot be quoted.
    #[error(transparent)]
    Quote(#[from] QuoteError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The USD value of a price: the price itself, or its conversion captured in `fx`.
pub fn usd_amount(price: &Money, fx: Option<&FxQuote>) -> Decimal {
    fx.map_or(price.amount, |f| f.quote_amount)
}

/// Holds a new payment of `price` (converted to USD in `fx` when it is in another currency)
/// to `merchant`'s terms: refuses it below the merchant's minimum, and returns the quote in
/// the merchant's settlement asset when one is set (otherwise the customer picks an asset at
/// checkout).
pub async fn apply(
    store: &Store,
    networks: &[EvmNetwork],
    merchant: &Merchant,
    price: &Money,
    fx: Option<&FxQuote>,
) -> Result<Option<AssetQuote>, TermsError> {
    let usd = usd_amount(price, fx);
    if let Some(min) = store.merchant_min_amount(&merchant.id).await? {
        if usd < min {
            return Err(TermsError::BelowMinimum(min));
        }
    }
    let Some((token, network)) = &merchant.settlement_asset else { return Ok(None) };
    let usd_price = Money::new(usd, Currency::USD).map_err(TermsError::Amount)?;
    Ok(Some(quote(networks, token, network, &usd_price, None)?))
}

//! Exchange rates and the one rounding rule payd applies when converting a price.
//!
//! A price in one currency (EUR) is paid in a token pegged to another (USD). The converted
//! amount is `price × rate`, computed exactly, then rounded **up** to the settlement
//! currency's minor unit (one cent for USD): the merchant never receives less than the price
//! converted at the captured rate, and the customer pays at most one minor unit more. The token
//! amount due is then exactly that rounded amount in the token's base units.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::money::Currency;

/// A rate: one unit of `from` is worth `rate` units of `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FxRate {
    /// Currency converted from (the price's).
    pub from: Currency,
    /// Currency converted to (the token's peg).
    pub to: Currency,
    /// Units of `to` per unit of `from`; strictly positive.
    pub rate: Decimal,
    /// Where the rate came from (`static`, a provider's name), kept on the payment.
    pub source: String,
}

/// Why a conversion failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FxError {
    /// The rate does not convert between the asked currencies.
    #[error("the rate converts {have_from}→{have_to}, not {want_from}→{want_to}")]
    WrongPair {
        /// What the rate converts from.
        have_from: &'static str,
        /// What the rate converts to.
        have_to: &'static str,
        /// What was asked from.
        want_from: &'static str,
        /// What was asked to.
        want_to: &'static str,
    },
    /// Zero or negative rate.
    #[error("exchange rates must be positive")]
    NotPositive,
    /// The product does not fit a decimal.
    #[error("the converted amount is out of range")]
    Overflow,
}

impl FxRate {
    /// Converts `amount` (in `from`) to `to`, rounded up to `to`'s minor unit.
    pub fn convert(&self, amount: Decimal, from: Currency, to: Currency) -> Result<Decimal, FxError> {
        if from != self.from || to != self.to {
            return Err(FxError::WrongPair {
                have_from: self.from.code(),
                have_to: self.to.code(),
                want_from: from.code(),
                want_to: to.code(),
            });
        }
        if self.rate <= Decimal::ZERO {
            return Err(FxError::NotPositive);
        }
        let exact = amount.checked_mul(self.rate).ok_or(FxError::Overflow)?;
        let mut rounded =
            exact.round_dp_with_strategy(u32::from(to.exponent()), RoundingStrategy::AwayFromZero);
        rounded.rescale(u32::from(to.exponent()));
        Ok(rounded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn c(code: &str) -> Currency {
        Currency::from_code(code).unwrap()
    }

    fn rate(r: &str) -> FxRate {
        FxRate { from: c("EUR"), to: c("USD"), rate: Decimal::from_str(r).unwrap(), source: "static".into() }
    }

    #[test]
    fn conversion_rounds_up_to_the_cent() {
        let eur = Decimal::from_str("25.00").unwrap();
        assert_eq!(rate("1.08").convert(eur, c("EUR"), c("USD")).unwrap().to_string(), "27.00");
        assert_eq!(rate("1.0833").convert(eur, c("EUR"), c("USD")).unwrap().to_string(), "27.09");
        let tiny = Decimal::from_str("0.01").unwrap();
        assert_eq!(rate("0.0001").convert(tiny, c("EUR"), c("USD")).unwrap().to_string(), "0.01");
    }

    #[test]
    fn a_rate_converts_only_its_own_pair() {
        let r = rate("1.08");
        assert!(matches!(r.convert(Decimal::ONE, c("GBP"), c("USD")), Err(FxError::WrongPair { .. })));
        assert_eq!(rate("0").convert(Decimal::ONE, c("EUR"), c("USD")), Err(FxError::NotPositive));
    }
}

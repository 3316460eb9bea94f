//! Exchange rates and the one rounding rule payd applies when converting a price.
//!
//! A price in one currency (EUR) is paid in a token pegged to another (USD). The converted
//! amount is `price × rate`, computed exactly, then rounded **up** to the settlement
//! currency's minor unit (one cent for USD): the merchant never receives less than the price
//! converted at the captured rate, and the customer pays at most one minor unit more. The token
//! amount due is then exactly that rounded amount in the token's base units.
//!
//! A cross rate (GBP→USD through the ECB's EUR table: `USD per EUR / GBP per EUR`) is kept as
//! its two exact terms: the converted amount is `price × numerator / denominator` rounded up
//! exactly, so the 28-digit quotient shown as the rate can never move it by a cent.

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
    /// For a cross rate, its exact terms `(numerator, denominator)`: `rate` is their quotient
    /// rounded to rust_decimal's 28 digits, and conversion uses the terms instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross: Option<(Decimal, Decimal)>,
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
    /// A rate quoted directly: one `from` is worth `rate` units of `to`.
    pub fn direct(from: Currency, to: Currency, rate: Decimal, source: impl Into<String>) -> FxRate {
        FxRate { from, to, rate, source: source.into(), cross: None }
    }

    /// A cross rate: one `from` is worth `numerator / denominator` units of `to` (for example
    /// USD-per-EUR over GBP-per-EUR for GBP→USD). Both terms must be positive.
    pub fn cross(
        from: Currency,
        to: Currency,
        numerator: Decimal,
        denominator: Decimal,
        source: impl Into<String>,
    ) -> Result<FxRate, FxError> {
        if numerator <= Decimal::ZERO || denominator <= Decimal::ZERO {
            return Err(FxError::NotPositive);
        }
        if denominator == Decimal::ONE {
            return Ok(FxRate::direct(from, to, numerator, source));
        }
        let rate = numerator.checked_div(denominator).ok_or(FxError::Overflow)?.normalize();
        Ok(FxRate { from, to, rate, source: source.into(), cross: Some((numerator, denominator)) })
    }

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
        let dp = u32::from(to.exponent());
        let mut rounded = match self.cross {
            None => {
                let exact = amount.checked_mul(self.rate).ok_or(FxError::Overflow)?;
                exact.round_dp_with_strategy(dp, RoundingStrategy::AwayFromZero)
            }
            Some((num, den)) => ceil_quotient(amount.checked_mul(num).ok_or(FxError::Overflow)?, den, dp)?,
        };
        rounded.rescale(dp);
        Ok(rounded)
    }
}

/// The least multiple of `10^-dp` whose product with `den` reaches `x` (both positive): the
/// quotient `x / den` rounded up exactly. The division gives a candidate; exact products (few
/// digits each) then correct it by a unit either way if the division's own rounding crossed a
/// boundary.
fn ceil_quotient(x: Decimal, den: Decimal, dp: u32) -> Result<Decimal, FxError> {
    if den <= Decimal::ZERO || x < Decimal::ZERO {
        return Err(FxError::NotPositive);
    }
    let unit = Decimal::new(1, dp);
    let mut c = x
        .checked_div(den)
        .ok_or(FxError::Overflow)?
        .round_dp_with_strategy(dp, RoundingStrategy::AwayFromZero);
    let times = |c: Decimal| c.checked_mul(den).ok_or(FxError::Overflow);
    while times(c)? < x {
        c = c.checked_add(unit).ok_or(FxError::Overflow)?;
    }
    while c > Decimal::ZERO && times(c - unit)? >= x {
        c -= unit;
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn c(code: &str) -> Currency {
        Currency::from_code(code).unwrap()
    }

    fn rate(r: &str) -> FxRate {
        FxRate::direct(c("EUR"), c("USD"), Decimal::from_str(r).unwrap(), "static")
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

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn a_cross_rate_converts_exactly_through_its_terms() {
        // GBP→USD through EUR: 1.0705 USD and 0.84638 GBP per EUR.
        let r = FxRate::cross(c("GBP"), c("USD"), d("1.0705"), d("0.84638"), "ecb").unwrap();
        assert_eq!(r.rate.to_string(), (d("1.0705") / d("0.84638")).normalize().to_string());
        // 25 × 1.0705 / 0.84638 = 31.6199…: rounded up to 31.62.
        assert_eq!(r.convert(d("25.00"), c("GBP"), c("USD")).unwrap().to_string(), "31.62");
        // A price that converts to a whole number of cents exactly is not rounded up a cent
        // by the rounding of the shown quotient (1 / 0.85 = 1.1764705882…).
        let r = FxRate::cross(c("GBP"), c("USD"), d("1"), d("0.85"), "ecb").unwrap();
        assert_eq!(r.convert(d("0.85"), c("GBP"), c("USD")).unwrap().to_string(), "1.00");
        assert_eq!(r.convert(d("8.50"), c("GBP"), c("USD")).unwrap().to_string(), "10.00");
        assert_eq!(r.convert(d("8.51"), c("GBP"), c("USD")).unwrap().to_string(), "10.02");
        // Inverse rates (USD-EUR quoted, EUR→USD asked) are cross rates over one.
        let r = FxRate::cross(c("EUR"), c("USD"), d("1"), d("0.92"), "coinbase").unwrap();
        assert_eq!(r.convert(d("9.20"), c("EUR"), c("USD")).unwrap().to_string(), "10.00");
        assert_eq!(FxRate::cross(c("EUR"), c("USD"), d("0"), d("1"), "x"), Err(FxError::NotPositive));
        assert_eq!(FxRate::cross(c("EUR"), c("USD"), d("1.08"), d("1"), "x").unwrap().cross, None);
    }

    #[test]
    fn exact_ceilings_match_integer_arithmetic() {
        // Against u128 arithmetic in cents: ceil(amount_cents × num / den) over a grid.
        let nums = [("1.0705", 10705u128, 10_000u128), ("158.08", 15808, 100), ("0.84638", 84638, 100_000)];
        for (ns, nn, nd) in nums {
            for (ds, dn, dd) in nums {
                let r = FxRate::cross(c("GBP"), c("USD"), d(ns), d(ds), "t").unwrap();
                for cents in [1u128, 99, 100, 2500, 84638, 123_456, 500_000] {
                    let amount = Decimal::new(i64::try_from(cents).unwrap(), 2);
                    // cents × (nn/nd) / (dn/dd) = cents × nn × dd / (nd × dn)
                    let (p, q) = (cents * nn * dd, nd * dn);
                    let want = p.div_ceil(q);
                    let got = r.convert(amount, c("GBP"), c("USD")).unwrap();
                    assert_eq!(got, Decimal::new(i64::try_from(want).unwrap(), 2), "{cents} × {ns}/{ds}");
                }
            }
        }
    }
}

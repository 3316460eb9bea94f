//! Exact fiat money: ISO-4217 currencies with their minor units, and the parsing rules every
//! dialect shares (no floats, no more decimal places than the currency has, strictly positive).

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// ISO-4217 codes payd accepts, with their minor-unit exponents (ISO 4217 table A.1).
/// Funds codes, precious metals and test codes are left out on purpose: nobody prices an
/// order in them.
#[rustfmt::skip]
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2), ("AFN", 2), ("ALL", 2), ("AMD", 2), ("ANG", 2), ("AOA", 2), ("ARS", 2),
    ("AUD", 2), ("AWG", 2), ("AZN", 2), ("BAM", 2), ("BBD", 2), ("BDT", 2), ("BGN", 2),
    ("BHD", 3), ("BIF", 0), ("BMD", 2), ("BND", 2), ("BOB", 2), ("BRL", 2), ("BSD", 2),
    ("BTN", 2), ("BWP", 2), ("BYN", 2), ("BZD", 2), ("CAD", 2), ("CDF", 2), ("CHF", 2),
    ("CLP", 0), ("CNY", 2), ("COP", 2), ("CRC", 2), ("CUP", 2), ("CVE", 2), ("CZK", 2),
    ("DJF", 0), ("DKK", 2), ("DOP", 2), ("DZD", 2), ("EGP", 2), ("ERN", 2), ("ETB", 2),
    ("EUR", 2), ("FJD", 2), ("FKP", 2), ("GBP", 2), ("GEL", 2), ("GHS", 2), ("GIP", 2),
    ("GMD", 2), ("GNF", 0), ("GTQ", 2), ("GYD", 2), ("HKD", 2), ("HNL", 2), ("HTG", 2),
    ("HUF", 2), ("IDR", 2), ("ILS", 2), ("INR", 2), ("IQD", 3), ("IRR", 2), ("ISK", 0),
    ("JMD", 2), ("JOD", 3), ("JPY", 0), ("KES", 2), ("KGS", 2), ("KHR", 2), ("KMF", 0),
    ("KPW", 2), ("KRW", 0), ("KWD", 3), ("KYD", 2), ("KZT", 2), ("LAK", 2), ("LBP", 2),
    ("LKR", 2), ("LRD", 2), ("LSL", 2), ("LYD", 3), ("MAD", 2), ("MDL", 2), ("MGA", 2),
    ("MKD", 2), ("MMK", 2), ("MNT", 2), ("MOP", 2), ("MRU", 2), ("MUR", 2), ("MVR", 2),
    ("MWK", 2), ("MXN", 2), ("MYR", 2), ("MZN", 2), ("NAD", 2), ("NGN", 2), ("NIO", 2),
    ("NOK", 2), ("NPR", 2), ("NZD", 2), ("OMR", 3), ("PAB", 2), ("PEN", 2), ("PGK", 2),
    ("PHP", 2), ("PKR", 2), ("PLN", 2), ("PYG", 0), ("QAR", 2), ("RON", 2), ("RSD", 2),
    ("RUB", 2), ("RWF", 0), ("SAR", 2), ("SBD", 2), ("SCR", 2), ("SDG", 2), ("SEK", 2),
    ("SGD", 2), ("SHP", 2), ("SLE", 2), ("SOS", 2), ("SRD", 2), ("SSP", 2), ("STN", 2),
    ("SVC", 2), ("SYP", 2), ("SZL", 2), ("THB", 2), ("TJS", 2), ("TMT", 2), ("TND", 3),
    ("TOP", 2), ("TRY", 2), ("TTD", 2), ("TWD", 2), ("TZS", 2), ("UAH", 2), ("UGX", 0),
    ("USD", 2), ("UYU", 2), ("UZS", 2), ("VES", 2), ("VND", 0), ("VUV", 0), ("WST", 2),
    ("XAF", 0), ("XCD", 2), ("XOF", 0), ("XPF", 0), ("YER", 2), ("ZAR", 2), ("ZMW", 2),
    ("ZWG", 2),
];

/// The largest price payd accepts in any currency, a guard against typos and overflow far
/// above any real order (dialects set their own, lower limits).
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// An ISO-4217 currency payd knows.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: &'static str,
    exponent: u8,
}

impl Currency {
    /// US dollar, the unit every USD stablecoin is pegged to.
    pub const USD: Currency = Currency { code: "USD", exponent: 2 };

    /// Looks up an upper-case ISO-4217 code.
    pub fn from_code(code: &str) -> Option<Currency> {
        CURRENCIES.iter().find(|(c, _)| *c == code).map(|&(code, exponent)| Currency { code, exponent })
    }

    /// The three-letter code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// Number of decimal places of the minor unit (2 for USD, 0 for JPY, 3 for KWD).
    pub fn exponent(&self) -> u8 {
        self.exponent
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, MoneyError> {
        Currency::from_code(s).ok_or_else(|| MoneyError::UnknownCurrency(s.to_owned()))
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code)
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Why an amount or currency was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not an ISO-4217 code payd knows (codes are upper case).
    #[error("unknown currency `{0}`: use an ISO-4217 code such as USD or EUR")]
    UnknownCurrency(String),
    /// Not a plain decimal number (`12`, `12.5`, `12.50`).
    #[error("amount must be a decimal number such as \"49.99\"")]
    Malformed,
    /// More decimal places than the currency's minor unit.
    #[error("{currency} amounts have at most {exponent} decimal places")]
    TooPrecise {
        /// The currency.
        currency: &'static str,
        /// Its minor-unit exponent.
        exponent: u8,
    },
    /// Zero or negative.
    #[error("amount must be greater than zero")]
    NotPositive,
    /// Above [`MAX_AMOUNT`].
    #[error("amount exceeds the maximum of {MAX_AMOUNT}")]
    TooLarge,
}

/// An exact amount of a fiat currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// The amount, scaled to the currency's exponent (so `49.9` USD is stored as `49.90`).
    pub amount: Decimal,
    /// The currency.
    pub currency: Currency,
}

impl Money {
    /// Parses a decimal string in `currency`, refusing anything that is not an exact, positive
    /// amount within the currency's minor units. The text never passes through a float.
    pub fn parse(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        let amount = parse_decimal(text)?;
        Money::new(amount, currency)
    }

    /// Validates an already exact decimal.
    pub fn new(amount: Decimal, currency: Currency) -> Result<Money, MoneyError> {
        let amount = amount.normalize();
        if amount.scale() > u32::from(currency.exponent) {
            return Err(MoneyError::TooPrecise { currency: currency.code, exponent: currency.exponent });
        }
        if amount <= Decimal::ZERO {
            return Err(MoneyError::NotPositive);
        }
        if amount > MAX_AMOUNT {
            return Err(MoneyError::TooLarge);
        }
        let mut amount = amount;
        amount.rescale(u32::from(currency.exponent));
        Ok(Money { amount, currency })
    }

    /// The amount as a string with exactly the currency's decimal places (`"49.90"`).
    pub fn amount_string(&self) -> String {
        self.amount.to_string()
    }
}

/// Parses `digits[.digits]` (an optional leading `-` is read so that negatives get the clearer
/// "must be greater than zero" error). Exponents, signs, spaces and thousands separators are
/// refused: merchants send amounts, not expressions.
pub fn parse_decimal(text: &str) -> Result<Decimal, MoneyError> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let digits_ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits_ok(int) || frac.is_some_and(|f| !digits_ok(f)) {
        return Err(MoneyError::Malformed);
    }
    // 28 significant digits is rust_decimal's limit; longer input is refused, not rounded.
    if int.len() > 15 || frac.map_or(0, str::len) > 18 {
        return Err(if int.len() > 15 { MoneyError::TooLarge } else { MoneyError::Malformed });
    }
    let value = Decimal::from_str_exact(text).map_err(|_| MoneyError::Malformed)?;
    if text.starts_with('-') && !value.is_zero() {
        return Err(MoneyError::NotPositive);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(s: &str) -> Result<Money, MoneyError> {
        Money::parse(s, Currency::USD)
    }

    #[test]
    fn amounts_are_scaled_to_the_currency() {
        assert_eq!(usd("49.9").map(|m| m.amount_string()), Ok("49.90".into()));
        assert_eq!(usd("10").map(|m| m.amount_string()), Ok("10.00".into()));
        let jpy = Currency::from_code("JPY").map(|c| Money::parse("500", c));
        assert_eq!(jpy.map(|m| m.map(|m| m.amount_string())), Some(Ok("500".into())));
    }

    #[test]
    fn more_places_than_the_currency_has_are_refused() {
        assert!(matches!(usd("1.001"), Err(MoneyError::TooPrecise { .. })));
        let jpy = Currency::from_code("JPY").map(|c| Money::parse("1.5", c));
        assert!(matches!(jpy, Some(Err(MoneyError::TooPrecise { .. }))));
        // Trailing zeros are not extra precision.
        assert!(usd("1.500").is_ok());
    }

    #[test]
    fn zero_negative_and_malformed_amounts_are_refused() {
        assert_eq!(usd("0"), Err(MoneyError::NotPositive));
        assert_eq!(usd("0.00"), Err(MoneyError::NotPositive));
        assert_eq!(usd("-1"), Err(MoneyError::NotPositive));
        for bad in ["", ".5", "5.", "1e3", "1,000", " 1", "+1", "NaN", "0x10", "1.2.3"] {
            assert_eq!(usd(bad), Err(MoneyError::Malformed), "{bad}");
        }
        assert_eq!(usd("1000000000.01"), Err(MoneyError::TooLarge));
        assert_eq!(usd("99999999999999999999999999999"), Err(MoneyError::TooLarge));
    }

    #[test]
    fn currencies_are_iso_codes_in_upper_case() {
        assert!(Currency::from_code("EUR").is_some());
        assert!(Currency::from_code("eur").is_none());
        assert!(Currency::from_code("XXX").is_none());
        assert_eq!(Currency::from_code("KWD").map(|c| c.exponent()), Some(3));
    }
}

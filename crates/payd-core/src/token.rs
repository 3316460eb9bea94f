//! Token amounts: integers in the token's smallest unit, with the decimals that give them a
//! human form. Conversions from fiat are exact; the one place rounding happens (a price that
//! does not divide into base units) rounds up, so a customer never pays less than the price.

use rust_decimal::Decimal;

/// Why a token amount could not be formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenAmountError {
    /// The amount does not fit in 128 bits of base units.
    #[error("token amount out of range")]
    Overflow,
    /// A negative amount.
    #[error("token amount must not be negative")]
    Negative,
    /// More places than the token's decimals.
    #[error("the token has only {0} decimals")]
    TooPrecise(u8),
    /// Not a decimal number.
    #[error("malformed token amount")]
    Malformed,
}

/// `10^exp` as u128, `None` past u128's range.
fn pow10(exp: u32) -> Option<u128> {
    10u128.checked_pow(exp)
}

/// Converts a decimal number of whole tokens into base units, rounding any remainder below
/// one base unit **up** (the customer pays at least the quoted price).
pub fn to_base_units_ceil(value: Decimal, decimals: u8) -> Result<u128, TokenAmountError> {
    if value.is_sign_negative() && !value.is_zero() {
        return Err(TokenAmountError::Negative);
    }
    let mantissa = u128::try_from(value.mantissa()).map_err(|_| TokenAmountError::Negative)?;
    let scale = value.scale();
    let decimals = u32::from(decimals);
    if scale <= decimals {
        let factor = pow10(decimals - scale).ok_or(TokenAmountError::Overflow)?;
        mantissa.checked_mul(factor).ok_or(TokenAmountError::Overflow)
    } else {
        let divisor = pow10(scale - decimals).ok_or(TokenAmountError::Overflow)?;
        let q = mantissa / divisor;
        let r = mantissa % divisor;
        Ok(if r == 0 { q } else { q + 1 })
    }
}

/// Parses a decimal string of whole tokens (`"12.5"`) into base units, refusing anything
/// finer than one base unit.
pub fn parse_token_amount(text: &str, decimals: u8) -> Result<u128, TokenAmountError> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !ok(int) || !ok(frac) || (text.contains('.') && frac.is_empty()) {
        return Err(TokenAmountError::Malformed);
    }
    if frac.len() > usize::from(decimals) {
        return Err(TokenAmountError::TooPrecise(decimals));
    }
    let int: u128 = int.parse().map_err(|_| TokenAmountError::Overflow)?;
    let pad = u32::from(decimals) - u32::try_from(frac.len()).map_err(|_| TokenAmountError::Overflow)?;
    let frac_units: u128 =
        if frac.is_empty() { 0 } else { frac.parse().map_err(|_| TokenAmountError::Overflow)? };
    let scale = pow10(u32::from(decimals)).ok_or(TokenAmountError::Overflow)?;
    int.checked_mul(scale)
        .and_then(|v| v.checked_add(frac_units.checked_mul(pow10(pad)?)?))
        .ok_or(TokenAmountError::Overflow)
}

/// Formats base units as a decimal string with exactly `decimals` places (`49990000`, 6 →
/// `"49.990000"`).
pub fn format_base_units(units: u128, decimals: u8) -> String {
    let digits = units.to_string();
    let d = usize::from(decimals);
    if d == 0 {
        return digits;
    }
    let padded =
        if digits.len() <= d { format!("{}{}", "0".repeat(d + 1 - digits.len()), digits) } else { digits };
    let (int, frac) = padded.split_at(padded.len() - d);
    format!("{int}.{frac}")
}

/// Formats base units without trailing zeros (`"49.99"`), for dialects that show amounts the
/// way a person writes them.
pub fn format_base_units_trimmed(units: u128, decimals: u8) -> String {
    let s = format_base_units(units, decimals);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_default()
    }

    #[test]
    fn a_usd_price_becomes_exact_base_units() {
        assert_eq!(to_base_units_ceil(dec("49.99"), 6), Ok(49_990_000));
        assert_eq!(to_base_units_ceil(dec("49.99"), 18), Ok(49_990_000_000_000_000_000));
        assert_eq!(to_base_units_ceil(dec("0.01"), 0), Ok(1));
    }

    #[test]
    fn a_remainder_below_one_unit_rounds_up() {
        assert_eq!(to_base_units_ceil(dec("1.0000001"), 6), Ok(1_000_001));
        assert_eq!(to_base_units_ceil(dec("1.0000000"), 6), Ok(1_000_000));
    }

    #[test]
    fn token_strings_parse_exactly() {
        assert_eq!(parse_token_amount("12.5", 6), Ok(12_500_000));
        assert_eq!(parse_token_amount("0.000001", 6), Ok(1));
        assert_eq!(parse_token_amount("0.0000001", 6), Err(TokenAmountError::TooPrecise(6)));
        assert_eq!(parse_token_amount("1.", 6), Err(TokenAmountError::Malformed));
        assert_eq!(parse_token_amount("-1", 6), Err(TokenAmountError::Malformed));
        assert_eq!(parse_token_amount("1e6", 6), Err(TokenAmountError::Malformed));
    }

    #[test]
    fn base_units_format_with_their_decimals() {
        assert_eq!(format_base_units(49_990_000, 6), "49.990000");
        assert_eq!(format_base_units(5, 6), "0.000005");
        assert_eq!(format_base_units(5, 0), "5");
        assert_eq!(format_base_units_trimmed(49_990_000, 6), "49.99");
        assert_eq!(format_base_units_trimmed(50_000_000, 6), "50");
    }
}

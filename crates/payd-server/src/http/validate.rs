//! Field checks shared by every API: lengths, URLs, emails, metadata size, amounts. Each
//! returns an [`ApiError`] naming the field; dialects re-render it in their own format.

use payd_core::money::{Currency, Money, MoneyError};

use super::error::ApiError;
use crate::http::code::Code;

/// Longest free-text identifier (reference, invoice, names).
pub const MAX_TEXT: usize = 255;
/// Longest description.
pub const MAX_DESCRIPTION: usize = 1000;
/// Longest URL.
pub const MAX_URL: usize = 2048;
/// Most line items.
pub const MAX_LINE_ITEMS: usize = 100;

/// An optional text field: trimmed of nothing, refused when empty, too long or holding
/// control characters.
pub fn text(field: &str, v: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    let Some(v) = v else { return Ok(None) };
    if v.is_empty() {
        return Err(ApiError::new(Code::InvalidValue, format!("`{field}` must not be empty")).param(field));
    }
    if v.chars().count() > max {
        return Err(ApiError::new(Code::ValueTooLong, format!("`{field}` is longer than {max} characters"))
            .param(field));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(
            ApiError::new(Code::InvalidValue, format!("`{field}` contains control characters")).param(field)
        );
    }
    Ok(Some(v))
}

/// A native list's `limit`: 1 to 100, default 20.
pub fn page_limit(v: Option<&str>) -> Result<u32, ApiError> {
    match v {
        None => Ok(20),
        Some(s) => {
            s.parse::<u32>().ok().filter(|n| (1..=100).contains(n)).ok_or_else(|| {
                ApiError::new(Code::InvalidQuery, "`limit` must be from 1 to 100").param("limit")
            })
        }
    }
}

/// An optional absolute http(s) URL.
pub fn url(field: &str, v: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(v) = text(field, v, MAX_URL)? else { return Ok(None) };
    match url::Url::parse(&v) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(Some(v)),
        _ => Err(ApiError::new(Code::InvalidUrl, format!("`{field}` must be an absolute http(s) URL"))
            .param(field)),
    }
}

/// An optional email address (one `@`, something on each side, no spaces).
pub fn email(field: &str, v: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(v) = text(field, v, MAX_TEXT)? else { return Ok(None) };
    let ok = match v.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !v.contains(char::is_whitespace)
        }
        None => false,
    };
    if ok {
        Ok(Some(v))
    } else {
        Err(ApiError::new(Code::InvalidEmail, format!("`{field}` is not an email address")).param(field))
    }
}

/// The currency: an upper-case ISO-4217 code payd knows.
pub fn currency(field: &str, v: &str) -> Result<Currency, ApiError> {
    Currency::from_code(v).ok_or_else(|| {
        ApiError::new(Code::UnknownCurrency, format!("`{v}` is not an ISO-4217 currency code payd accepts"))
            .param(field)
    })
}

/// A decimal-string amount in `currency`.
pub fn amount(field: &str, v: &str, currency: Currency) -> Result<Money, ApiError> {
    Money::parse(v, currency).map_err(|e| money_error(field, &e))
}

/// Maps a money error to its code. (Each code is written where the error is made, so the
/// test that holds docs/api/native.md to the source finds it.)
pub fn money_error(field: &str, e: &MoneyError) -> ApiError {
    let m = e.to_string();
    match e {
        MoneyError::UnknownCurrency(_) => ApiError::new(Code::UnknownCurrency, m),
        MoneyError::Malformed => ApiError::new(Code::AmountInvalid, m),
        MoneyError::TooPrecise { .. } => ApiError::new(Code::AmountTooPrecise, m),
        MoneyError::NotPositive => ApiError::new(Code::AmountNotPositive, m),
        MoneyError::TooLarge => ApiError::new(Code::AmountTooLarge, m),
    }
    .param(field)
}

/// Metadata: a JSON object no larger than `max_bytes` once serialised.
pub fn metadata(
    field: &str,
    v: Option<serde_json::Value>,
    max_bytes: usize,
) -> Result<serde_json::Value, ApiError> {
    let v = v.unwrap_or_else(|| serde_json::Value::Object(Default::default()));
    if !v.is_object() {
        return Err(
            ApiError::new(Code::InvalidMetadata, format!("`{field}` must be a JSON object")).param(field)
        );
    }
    let size = v.to_string().len();
    if size > max_bytes {
        return Err(ApiError::new(
            Code::MetadataTooLarge,
            format!("`{field}` is {size} bytes; the limit is {max_bytes}"),
        )
        .param(field));
    }
    Ok(v)
}

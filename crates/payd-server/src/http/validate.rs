//! Field checks of the APIs: the free-text rules are the engine's ([`crate::engine::fields`],
//! shared with the CLI), rendered here as API errors; metadata size, amounts and paging are
//! the APIs' own. Each returns an [`ApiError`] naming the field; dialects re-render it in
//! their own format.

use payd_core::money::{Currency, Money, MoneyError};

use super::error::ApiError;
use crate::engine::fields::{self, FieldError, Problem};

pub use crate::engine::fields::{MAX_DESCRIPTION, MAX_TEXT, MAX_URL};
use crate::http::code::Code;

/// Most line items.
pub const MAX_LINE_ITEMS: usize = 100;

/// A field the engine refused, as an API error naming it.
impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        let m = e.to_string();
        match e.problem {
            Problem::TooLong(_) => ApiError::new(Code::ValueTooLong, m),
            Problem::NotUrl => ApiError::new(Code::InvalidUrl, m),
            Problem::NotEmail => ApiError::new(Code::InvalidEmail, m),
            Problem::Empty | Problem::ControlCharacters => ApiError::new(Code::InvalidValue, m),
        }
        .param(e.field)
    }
}

/// An optional text field (see [`fields::text`]).
pub fn text(field: &str, v: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    Ok(fields::text(field, v, max)?)
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

/// An optional absolute http(s) URL (see [`fields::url`]).
pub fn url(field: &str, v: Option<String>) -> Result<Option<String>, ApiError> {
    Ok(fields::url(field, v)?)
}

/// An optional email address (see [`fields::email`]).
pub fn email(field: &str, v: Option<String>) -> Result<Option<String>, ApiError> {
    Ok(fields::email(field, v)?)
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

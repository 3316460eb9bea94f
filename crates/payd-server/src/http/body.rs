//! Reading JSON bodies: size limit, content type, syntax, then types, each with its own
//! error code and the path of the field at fault. Numbers keep their text (serde_json's
//! `arbitrary_precision`), so no amount ever passes through a float.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::http::code::Code;

/// Turns the body extractor's result into bytes or a clear error (413 past the limit).
pub fn bytes(body: Result<Bytes, BytesRejection>, headers: &HeaderMap) -> Result<Bytes, ApiError> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
        if !ct.starts_with("application/json") {
            return Err(ApiError::new(
                Code::UnsupportedMediaType,
                "send the body as JSON with Content-Type: application/json",
            ));
        }
    }
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(Code::BodyTooLarge, "the request body is too large")
        } else {
            ApiError::new(Code::InvalidBody, "the request body could not be read")
        }
    })
}

/// Parses a JSON object body into `T`, returning the parsed value too (for fingerprints).
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<(T, serde_json::Value), ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(Code::MissingBody, "a JSON object body is required"));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::new(Code::MalformedJson, format!("the body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::new(Code::InvalidBody, "the body must be a JSON object"));
    }
    if has_nul(&value) {
        // No database stores it faithfully (PostgreSQL refuses it), and no merchant means it.
        return Err(ApiError::new(Code::InvalidBody, "JSON strings must not contain NUL (\\u0000)"));
    }
    let typed = serde_path_to_error::deserialize(&value).map_err(|e| field_error(&e))?;
    Ok((typed, value))
}

/// Whether any string or key in `v` holds a NUL character.
fn has_nul(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(a) => a.iter().any(has_nul),
        serde_json::Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Maps a typed-deserialization error to a 400 that names the field at fault.
pub fn field_error(e: &serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let inner = e.inner().to_string();
    let path = e.path().to_string();
    let path = if path == "." { String::new() } else { path };
    let named = |msg: &str| msg.split('`').nth(1).map(str::to_owned);
    let join = |field: Option<String>| match (path.is_empty(), field) {
        (true, Some(f)) => f,
        (false, Some(f)) => format!("{path}.{f}"),
        (_, None) => path.clone(),
    };
    if inner.starts_with("missing field") {
        let p = join(named(&inner));
        ApiError::new(Code::MissingField, format!("`{p}` is required")).param(p)
    } else if inner.starts_with("unknown field") {
        // The path already ends at the unknown field.
        let p = if path.is_empty() { named(&inner).unwrap_or_default() } else { path.clone() };
        ApiError::new(Code::UnknownField, format!("`{p}` is not a known field")).param(p)
    } else if inner.starts_with("invalid type") {
        let msg = inner.split(" at line").next().unwrap_or(&inner);
        ApiError::new(Code::InvalidType, format!("`{path}`: {msg}")).param(path.clone())
    } else {
        let msg = inner.split(" at line").next().unwrap_or(&inner);
        ApiError::new(Code::InvalidValue, format!("`{path}`: {msg}")).param(path.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct In {
        amount: String,
        nested: Option<Nested>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Nested {
        n: u32,
    }

    fn err(body: &str) -> (&'static str, Option<String>) {
        match parse::<In>(body.as_bytes()) {
            Ok(_) => ("ok", None),
            Err(e) => (e.code.as_str(), e.param),
        }
    }

    #[test]
    fn each_kind_of_bad_body_has_its_code_and_field() {
        assert_eq!(err(""), ("missing_body", None));
        assert_eq!(err("{"), ("malformed_json", None));
        assert_eq!(err("[]"), ("invalid_body", None));
        assert_eq!(err("{}"), ("missing_field", Some("amount".into())));
        assert_eq!(err(r#"{"amount": 5}"#), ("invalid_type", Some("amount".into())));
        assert_eq!(err(r#"{"amount": "5", "x": 1}"#), ("unknown_field", Some("x".into())));
        assert_eq!(err(r#"{"amount": "5", "nested": {"n": -1}}"#).1, Some("nested.n".into()));
        assert_eq!(err(r#"{"amount": "5"}"#), ("ok", None));
        assert_eq!(err(r#"{"amount": "5", "nested": {"n": "a\u0000"}}"#), ("invalid_body", None));
        assert_eq!(err(r#"{"amount": "5", "nested": {"\u0000": 1}}"#), ("invalid_body", None));
    }
}

//! Paygentic's error bodies (`Error`, `ValidationError`) and the [`Api`] it is to payd's
//! transport.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use payd_core::webhook::WebhookFormat;
use serde_json::json;

use crate::http::caller::{Api, AuthScheme};
use crate::http::code::Code;
use crate::http::error::{set_retry_after, ApiError};
use crate::ratelimit::Surface;

/// One field's problem in a `ValidationError`.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[schema(as = paygentic::FieldError)]
pub struct FieldError {
    /// The field (camelCase, dotted for nested ones).
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// What kind of problem.
    pub code: FieldCode,
}

/// The codes of a `ValidationError`'s field problems, as Paygentic names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = paygentic::FieldCode)]
pub enum FieldCode {
    /// The field is absent.
    Required,
    /// The value does not parse.
    InvalidFormat,
    /// Not one of the allowed values.
    InvalidEnum,
    /// The wrong JSON type.
    InvalidType,
    /// Outside the allowed range.
    OutOfRange,
    /// Text past its limit.
    TooLong,
    /// A value past its size limit.
    TooLarge,
    /// More items than allowed.
    TooMany,
    /// Names something the caller cannot use.
    InvalidReference,
}

/// An error in Paygentic's shapes: `Error` (`{error, message, code?}`) or, for bad input,
/// `ValidationError` (`{error: "validation_error", message, errors: [...]}`).
#[derive(Debug)]
pub enum PgError {
    /// Anything but field validation.
    Api(ApiError),
    /// Field validation, with every problem found.
    Validation(Vec<FieldError>),
}

impl From<ApiError> for PgError {
    fn from(e: ApiError) -> Self {
        // payd's own 400s that name a field are validation errors in Paygentic's terms.
        match (&e.param, e.status) {
            (Some(field), StatusCode::BAD_REQUEST) => PgError::Validation(vec![FieldError {
                field: camel(field),
                message: e.message,
                code: FieldCode::InvalidFormat,
            }]),
            _ => PgError::Api(e),
        }
    }
}

impl From<payd_store::StoreError> for PgError {
    fn from(e: payd_store::StoreError) -> Self {
        PgError::Api(e.into())
    }
}

/// `line_items[0].amount` → `lineItems[0].amount`.
pub fn camel(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl IntoResponse for PgError {
    fn into_response(self) -> Response {
        match self {
            PgError::Validation(errors) => (
                StatusCode::BAD_REQUEST,
                axum::Json(
                    json!({ "error": "validation_error", "message": "Validation failed", "errors": errors }),
                ),
            )
                .into_response(),
            PgError::Api(e) => {
                let (status, category) = match e.status.as_u16() {
                    401 => (StatusCode::UNAUTHORIZED, "unauthorized"),
                    403 => (StatusCode::FORBIDDEN, "forbidden"),
                    404 => (StatusCode::NOT_FOUND, "not_found"),
                    409 => (StatusCode::CONFLICT, "conflict"),
                    429 => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
                    s if s >= 500 => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
                    _ => (StatusCode::BAD_REQUEST, "bad_request"),
                };
                let code = e.code.as_str().to_ascii_uppercase();
                let mut res =
                    (status, axum::Json(json!({ "error": category, "message": e.message, "code": code })))
                        .into_response();
                set_retry_after(&mut res, e.retry_after);
                res
            }
        }
    }
}

/// The Paygentic API: `Authorization: Bearer <key>`, its own quota, its error body.
#[derive(Debug)]
pub struct Paygentic;

impl Api for Paygentic {
    const AUTH: AuthScheme = AuthScheme::Bearer;
    const SURFACE: Surface = Surface::Paygentic;
    const WEBHOOK: WebhookFormat = WebhookFormat::Paygentic;
    type Error = PgError;

    fn unauthenticated(e: ApiError) -> ApiError {
        if e.status != StatusCode::UNAUTHORIZED {
            return e;
        }
        ApiError::new(Code::Unauthorized, "Invalid or missing API key")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn snake_fields_become_camel() {
        assert_eq!(super::camel("line_items[0].amount"), "lineItems[0].amount");
        assert_eq!(super::camel("amount"), "amount");
    }
}

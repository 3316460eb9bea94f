//! Every error code payd's APIs answer, with its HTTP status: one enum, so no handler writes
//! a code as text and a test (`docs_agree`) holds docs/api/*.md's tables to [`Code::ALL`].
//! The native API answers the codes as they are; a dialect's error body translates them
//! (most by status into its own vocabulary, Paygentic's `code` in UPPER_SNAKE).

use axum::http::StatusCode;

/// Which APIs answer a code as payd names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The native API (dialects may carry it too); in docs/api/native.md's error table.
    Native,
    /// Only behind a dialect's error body; in docs/api/dialect-codes.md.
    Dialects,
}

macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident = ($text:literal, $status:ident, $reach:ident),)*) => {
        /// A stable error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[$doc])* $variant,)*
        }

        impl Code {
            /// Every code.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code on the wire (`amount_too_precise`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }

            /// The status it is answered with.
            pub fn status(self) -> StatusCode {
                match self {
                    $(Code::$variant => StatusCode::$status,)*
                }
            }

            /// Which APIs answer it by this name.
            pub fn reach(self) -> Reach {
                match self {
                    $(Code::$variant => Reach::$reach,)*
                }
            }
        }
    };
}

codes! {
    /// The body is empty.
    MissingBody = ("missing_body", BAD_REQUEST, Native),
    /// The body is not JSON.
    MalformedJson = ("malformed_json", BAD_REQUEST, Native),
    /// The body is not a JSON object, could not be read, or holds NUL.
    InvalidBody = ("invalid_body", BAD_REQUEST, Native),
    /// A required field is absent.
    MissingField = ("missing_field", BAD_REQUEST, Native),
    /// A field the API does not know.
    UnknownField = ("unknown_field", BAD_REQUEST, Native),
    /// A field of the wrong JSON type.
    InvalidType = ("invalid_type", BAD_REQUEST, Native),
    /// A field's value is not allowed.
    InvalidValue = ("invalid_value", BAD_REQUEST, Native),
    /// A text past its limit.
    ValueTooLong = ("value_too_long", BAD_REQUEST, Native),
    /// Text holding NUL, refused by the store.
    InvalidText = ("invalid_text", BAD_REQUEST, Native),
    /// Not an ISO 4217 currency payd knows.
    UnknownCurrency = ("unknown_currency", BAD_REQUEST, Native),
    /// An amount that is not a plain decimal.
    AmountInvalid = ("amount_invalid", BAD_REQUEST, Native),
    /// More decimals than the currency has.
    AmountTooPrecise = ("amount_too_precise", BAD_REQUEST, Native),
    /// Zero or negative.
    AmountNotPositive = ("amount_not_positive", BAD_REQUEST, Native),
    /// Past the largest amount payd keeps.
    AmountTooLarge = ("amount_too_large", BAD_REQUEST, Native),
    /// Metadata that is not an object of strings.
    InvalidMetadata = ("invalid_metadata", BAD_REQUEST, Native),
    /// Metadata past its limits.
    MetadataTooLarge = ("metadata_too_large", BAD_REQUEST, Native),
    /// More line items than allowed.
    TooManyLineItems = ("too_many_line_items", BAD_REQUEST, Native),
    /// Not an absolute http(s) URL.
    InvalidUrl = ("invalid_url", BAD_REQUEST, Native),
    /// Not an email address.
    InvalidEmail = ("invalid_email", BAD_REQUEST, Native),
    /// An expiry outside the allowed window.
    InvalidExpiry = ("invalid_expiry", BAD_REQUEST, Native),
    /// A query parameter that does not parse.
    InvalidQuery = ("invalid_query", BAD_REQUEST, Native),
    /// A key spanning merchants must name one.
    MerchantRequired = ("merchant_required", BAD_REQUEST, Native),
    /// A merchant the key does not act for.
    MerchantInvalid = ("merchant_invalid", BAD_REQUEST, Native),
    /// A live payment on a network no [[networks]] entry configures.
    NetworkNotConfigured = ("network_not_configured", BAD_REQUEST, Native),
    /// A live payment whose merchant has no xpub for the chain.
    NetworkNotEnabled = ("network_not_enabled", BAD_REQUEST, Native),
    /// A chain family payd cannot take payments on yet.
    NetworkNotSupported = ("network_not_supported", BAD_REQUEST, Native),
    /// An Idempotency-Key that is empty or too long.
    IdempotencyKeyInvalid = ("idempotency_key_invalid", BAD_REQUEST, Native),
    /// A webhook target payd refuses to call.
    UrlNotAllowed = ("url_not_allowed", BAD_REQUEST, Native),
    /// An event name payd does not send.
    InvalidEvent = ("invalid_event", BAD_REQUEST, Native),
    /// A webhook format payd does not know.
    InvalidFormat = ("invalid_format", BAD_REQUEST, Native),
    /// No key sent.
    MissingApiKey = ("missing_api_key", UNAUTHORIZED, Native),
    /// An unknown or revoked key.
    InvalidApiKey = ("invalid_api_key", UNAUTHORIZED, Native),
    /// The key lacks the scope.
    InsufficientScope = ("insufficient_scope", FORBIDDEN, Native),
    /// The merchant is suspended.
    MerchantSuspended = ("merchant_suspended", FORBIDDEN, Native),
    /// An operation for test keys only.
    TestModeOnly = ("test_mode_only", FORBIDDEN, Native),
    /// No such resource (or not the caller's).
    NotFound = ("not_found", NOT_FOUND, Native),
    /// The route has no such method.
    MethodNotAllowed = ("method_not_allowed", METHOD_NOT_ALLOWED, Native),
    /// The request took too long.
    RequestTimeout = ("request_timeout", REQUEST_TIMEOUT, Native),
    /// The key was used with another request.
    IdempotencyKeyReused = ("idempotency_key_reused", CONFLICT, Native),
    /// The payment is not pending.
    PaymentNotCancellable = ("payment_not_cancellable", CONFLICT, Native),
    /// The payment has received money.
    PaymentHasFunds = ("payment_has_funds", CONFLICT, Native),
    /// The payment has no address or is closed.
    PaymentNotPayable = ("payment_not_payable", CONFLICT, Native),
    /// Another writer changed the payment first.
    ConcurrentUpdate = ("concurrent_update", CONFLICT, Native),
    /// The delivery is being sent.
    DeliveryInFlight = ("delivery_in_flight", CONFLICT, Native),
    /// The merchant has the most endpoints allowed.
    WebhookEndpointLimit = ("webhook_endpoint_limit", CONFLICT, Native),
    /// The body is past the limit.
    BodyTooLarge = ("body_too_large", PAYLOAD_TOO_LARGE, Native),
    /// The body is not JSON.
    UnsupportedMediaType = ("unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, Native),
    /// A network payd does not know.
    UnsupportedNetwork = ("unsupported_network", UNPROCESSABLE_ENTITY, Native),
    /// A token the network does not accept.
    UnsupportedAsset = ("unsupported_asset", UNPROCESSABLE_ENTITY, Native),
    /// No exchange rate for the currency.
    FxUnavailable = ("fx_unavailable", UNPROCESSABLE_ENTITY, Native),
    /// The converted amount does not fit the token.
    AmountTooLargeForToken = ("amount_too_large", UNPROCESSABLE_ENTITY, Native),
    /// The key is over its quota.
    RateLimited = ("rate_limited", TOO_MANY_REQUESTS, Native),
    /// Logged, never explained.
    InternalError = ("internal_error", INTERNAL_SERVER_ERROR, Native),
    /// A dialect's own word for any authentication failure.
    Unauthorized = ("unauthorized", UNAUTHORIZED, Dialects),
    /// AlpPay's X-HMAC is missing or wrong.
    InvalidSignature = ("invalid_signature", UNAUTHORIZED, Dialects),
    /// A merchant the key may not reach (Paygentic).
    Forbidden = ("forbidden", FORBIDDEN, Dialects),
    /// Paygentic's 404 for a payment.
    PaymentNotFound = ("payment_not_found", NOT_FOUND, Dialects),
    /// Paygentic's 404 for a customer.
    CustomerNotFound = ("customer_not_found", NOT_FOUND, Dialects),
    /// AstraPay's minimum amount.
    AmountTooSmall = ("amount_too_small", UNPROCESSABLE_ENTITY, Dialects),
    /// AstraPay: the product is archived.
    ProductInactive = ("product_inactive", UNPROCESSABLE_ENTITY, Dialects),
    /// AstraPay: the product is priced in another asset.
    ProductAssetMismatch = ("product_asset_mismatch", UNPROCESSABLE_ENTITY, Dialects),
    /// AstraPay's minimum product price.
    PriceTooSmall = ("price_too_small", UNPROCESSABLE_ENTITY, Dialects),
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_has_one_status_unless_documented_under_two() {
        let mut seen = std::collections::BTreeMap::new();
        for c in Code::ALL {
            let before = seen.insert(c.as_str(), c.status());
            if let Some(s) = before {
                assert!(s != c.status() && c.as_str() == "amount_too_large", "{c:?} named twice");
            }
            assert!(c.as_str().chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'), "{c:?}");
        }
    }
}

//! Typed, prefixed identifiers (`pay_…`, `mer_…`), one macro for all of them.
//!
//! The body is a UUIDv7 in simple (hex) form, so ids sort by creation time, which keeps
//! cursor pagination and index locality cheap.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An id string did not have the expected prefix and shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed {kind} id")]
pub struct IdError {
    /// What kind of id was expected (e.g. "payment").
    pub kind: &'static str,
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Uuid);

        impl $name {
            /// The prefix this id carries on the wire.
            pub const PREFIX: &'static str = $prefix;

            /// A new, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// The UUID inside, for dialects that expose ids as bare UUIDs.
            pub fn uuid(&self) -> Uuid {
                self.0
            }

            /// Wraps a bare UUID (e.g. one a dialect received).
            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", $prefix, self.0.simple())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                let body = s.strip_prefix($prefix).ok_or(IdError { kind: $kind })?;
                // Only the canonical 32-hex form: one id, one spelling.
                if body.len() != 32 {
                    return Err(IdError { kind: $kind });
                }
                Uuid::try_parse(body).map(Self).map_err(|_| IdError { kind: $kind })
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.to_string()
            }
        }
    };
}

typed_id!(
    /// An account: the owner of one or more merchants and of keys that may span them.
    AccountId, "acct_", "account"
);
typed_id!(
    /// A merchant (a shop, a Paygentic merchant, a MutoPay channel).
    MerchantId, "mer_", "merchant"
);
typed_id!(
    /// An API key's public id (never the secret).
    ApiKeyId, "key_", "api key"
);
typed_id!(
    /// A payment.
    PaymentId, "pay_", "payment"
);
typed_id!(
    /// An event in a payment's history (the webhook outbox).
    EventId, "evt_", "event"
);
typed_id!(
    /// A merchant's webhook endpoint.
    WebhookEndpointId, "hook_", "webhook endpoint"
);
typed_id!(
    /// One event's delivery to one webhook endpoint.
    DeliveryId, "dlv_", "webhook delivery"
);
typed_id!(
    /// A product a payment can be created from (AstraPay `product_id`).
    ProductId, "prod_", "product"
);
typed_id!(
    /// A merchant's customer record (Paygentic `customerId`).
    CustomerId, "cus_", "customer"
);
typed_id!(
    /// A dashboard user (a person who logs in; never an API caller).
    UserId, "usr_", "user"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_string_form() {
        let id = PaymentId::new();
        let s = id.to_string();
        assert!(s.starts_with("pay_"));
        assert_eq!(s.len(), 4 + 32);
        assert_eq!(s.parse::<PaymentId>(), Ok(id));
    }

    #[test]
    fn an_id_with_the_wrong_prefix_is_refused() {
        let s = MerchantId::new().to_string();
        assert!(s.parse::<PaymentId>().is_err());
        assert!("pay_".parse::<PaymentId>().is_err());
        assert!("pay_zz".parse::<PaymentId>().is_err());
    }

    #[test]
    fn later_ids_sort_after_earlier_ones() {
        let a = PaymentId::new();
        let b = PaymentId::new();
        assert!(a.to_string() < b.to_string());
    }
}

//! A payment as AstraPay shows it: UUID id with a `short_id`, UPPERCASE status, JSON-number
//! USD amounts.

use payd_core::apikey::Mode;
use payd_core::money::Currency;
use payd_core::payment::Payment;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::schema::json_number;
use crate::http::wire::wire_time;

/// AstraPay's payment statuses.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = astrapay::Status)]
#[allow(clippy::upper_case_acronyms, non_camel_case_types)]
pub enum Status {
    /// Waiting for money, or money seen and not yet confirmed.
    PENDING,
    /// Less than the amount received so far.
    PARTIALLY_PAID,
    /// Paid and confirmed.
    COMPLETED,
    /// Expired unpaid.
    EXPIRED,
    /// Canceled by the merchant.
    CANCELED,
}

/// A payment as AstraPay shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = astrapay::Payment)]
pub struct AstraPayment<'a> {
    #[schema(format = "uuid")]
    id: String,
    short_id: &'a str,
    /// USD.
    #[schema(schema_with = json_number)]
    amount: serde_json::Value,
    token: Option<&'a str>,
    network: Option<String>,
    #[schema(value_type = Status)]
    status: &'static str,
    checkout_url: String,
    transaction_hash: Option<String>,
    customer_email: Option<&'a str>,
    customer_name: Option<&'a str>,
    #[schema(value_type = Object)]
    metadata: &'a serde_json::Value,
    test_mode: bool,
    /// payd's addition: money arrived after the payment expired (a `COMPLETED` payment with
    /// it was paid in full, late).
    paid_late: bool,
    redirect_url: Option<&'a str>,
    cancel_url: Option<&'a str>,
    expires_at: String,
    created_at: String,
}

/// payd's status and flags in AstraPay's words (the table is
/// [`payd_core::dialect_status::astrapay`], written out in docs/dialects/astrapay.md).
pub fn status(p: &Payment) -> &'static str {
    payd_core::dialect_status::astrapay(p)
}

/// A decimal as a JSON number, exactly (serde_json keeps the text).
pub fn number(d: rust_decimal::Decimal) -> serde_json::Value {
    serde_json::from_str::<serde_json::Number>(&d.normalize().to_string())
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::Null)
}

impl<'a> AstraPayment<'a> {
    pub fn new(p: &'a Payment, public_url: &str) -> Self {
        // AstraPay amounts are USD: a price in another currency shows its converted amount.
        let usd = match &p.fx {
            Some(fx) if p.price.currency != Currency::USD => fx.quote_amount,
            _ => p.price.amount,
        };
        AstraPayment {
            id: p.id.uuid().hyphenated().to_string(),
            short_id: &p.slug,
            amount: number(usd),
            token: p.asset.as_ref().map(|a| a.token.as_str()),
            network: p.asset.as_ref().map(|a| a.network.to_ascii_uppercase()),
            status: status(p),
            checkout_url: format!("{public_url}/purchases/{}", p.slug),
            transaction_hash: None,
            customer_email: p.customer.email.as_deref(),
            customer_name: p.customer.name.as_deref(),
            metadata: &p.metadata,
            test_mode: p.mode == Mode::Test,
            paid_late: p.paid_late,
            redirect_url: p.urls.success.as_deref(),
            cancel_url: p.urls.cancel.as_deref(),
            expires_at: wire_time(p.expires_at),
            created_at: wire_time(p.created_at),
        }
    }

    /// Adds the hash of the transfer that paid it.
    pub fn with_tx(mut self, hash: Option<String>) -> Self {
        self.transaction_hash = hash;
        self
    }
}

//! A payment as Paygentic shows it: `pay_…` ids with `object: "payment"`, camelCase,
//! decimal-string amounts.

use payd_core::payment::Payment;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::wire::wire_time;

/// Paygentic's payment statuses.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = paygentic::Status)]
pub enum Status {
    Pending,
    Processing,
    Completed,
    Expired,
    Cancelled,
}

/// The currencies Paygentic prices in.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = paygentic::Currency)]
#[allow(clippy::upper_case_acronyms)]
pub enum CurrencyName {
    USD,
    EUR,
    GBP,
    AUD,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = paygentic::LineItem)]
pub struct LineItemOut<'a> {
    description: &'a str,
    amount: String,
    quantity: u32,
}

/// A payment as Paygentic shows it. Optional fields are omitted when empty.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = paygentic::Payment)]
pub struct PaygenticPayment<'a> {
    #[schema(example = "pay_01a2…")]
    id: String,
    #[schema(value_type = String, pattern = "^payment$")]
    object: &'static str,
    amount: String,
    #[schema(value_type = CurrencyName)]
    currency: &'static str,
    #[schema(value_type = Status)]
    status: &'static str,
    created_at: String,
    payment_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    idempotency_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<&'a str>,
    #[schema(value_type = Object)]
    metadata: &'a serde_json::Value,
    line_items: Vec<LineItemOut<'a>>,
    /// payd's addition: money arrived after the payment expired (a `completed` payment with
    /// it was paid in full, late).
    paid_late: bool,
    expires_at: String,
}

/// payd's status in Paygentic's words: the same five names, late money that covers the
/// amount reading `completed` ([`payd_core::dialect_status::paygentic`]).
pub fn status(p: &Payment) -> &'static str {
    payd_core::dialect_status::paygentic(p)
}

/// The Paygentic payment object as JSON (webhook `data`).
pub fn payment_json(p: &Payment, public_url: &str) -> serde_json::Value {
    serde_json::to_value(PaygenticPayment::new(p, public_url)).unwrap_or(serde_json::Value::Null)
}

impl<'a> PaygenticPayment<'a> {
    /// The Paygentic view of a payment.
    pub fn new(p: &'a Payment, public_url: &str) -> Self {
        PaygenticPayment {
            id: p.id.to_string(),
            object: "payment",
            amount: p.price.amount_string(),
            currency: p.price.currency.code(),
            status: status(p),
            created_at: wire_time(p.created_at),
            payment_url: format!("{public_url}/checkout/{}", p.slug),
            customer_id: p.customer.external_id.as_deref(),
            idempotency_key: p.idempotency_key.as_deref(),
            reference: p.reference.as_deref(),
            metadata: &p.metadata,
            line_items: p
                .line_items
                .iter()
                .map(|l| LineItemOut {
                    description: &l.description,
                    amount: l.amount.to_string(),
                    quantity: l.quantity,
                })
                .collect(),
            paid_late: p.paid_late,
            expires_at: wire_time(p.expires_at),
        }
    }
}

//! A payment as MutoPay shows it: status names, USD amounts as JSON numbers, the create
//! answer and the status object.

use payd_core::payment::{Payment, PaymentStatus};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::schema::json_number;
use crate::http::wire::wire_time;

pub fn number(d: Decimal) -> serde_json::Value {
    serde_json::from_str::<serde_json::Number>(&d.to_string())
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::Null)
}

/// MutoPay's payment statuses (docs/dialects/mutopay.md maps payd's onto them).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = mutopay::Status)]
pub enum Status {
    /// Created without a chosen asset.
    Pending,
    /// Waiting for the transfer.
    AwaitingPayment,
    /// Seen on chain, not yet at depth.
    Confirming,
    /// Paid and confirmed.
    Completed,
    /// Expired with part paid.
    Underpaid,
    /// Expired unpaid.
    Expired,
    /// Cancelled.
    Failed,
}

/// The create response.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = mutopay::Created)]
pub struct Created<'a> {
    id: String,
    #[schema(value_type = Status)]
    status: &'static str,
    url: String,
    #[schema(schema_with = json_number)]
    amount_usd: serde_json::Value,
    /// Only for a converted amount.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = json_number, required = false)]
    amount_original: Option<serde_json::Value>,
    /// Only for a converted amount: USD per unit of `currency`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = json_number, required = false)]
    fx_rate: Option<serde_json::Value>,
    currency: &'static str,
    description: Option<&'a str>,
    external_id: Option<&'a str>,
    expires_at: String,
    created_at: String,
}

/// The status object (`GET /api/payments/{id}/status`): the fields MutoPay's webhooks carry.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = mutopay::PaymentStatus)]
pub struct StatusOut<'a> {
    id: String,
    #[schema(value_type = Status)]
    status: &'static str,
    url: String,
    #[schema(schema_with = json_number)]
    amount_usd: serde_json::Value,
    #[schema(schema_with = json_number)]
    amount_original: serde_json::Value,
    currency: &'static str,
    #[schema(schema_with = json_number)]
    fx_rate: serde_json::Value,
    dest_token: Option<&'a str>,
    dest_chain_id: Option<String>,
    dest_amount: Option<String>,
    dest_decimals: Option<u8>,
    description: Option<&'a str>,
    external_id: Option<&'a str>,
    #[schema(value_type = Object)]
    metadata: &'a serde_json::Value,
    tx_hash: Option<String>,
    failure_reason: Option<&'static str>,
    /// payd's addition: money arrived after the payment expired (a `completed` payment with
    /// it was paid in full, late).
    paid_late: bool,
    expires_at: String,
    created_at: String,
    completed_at: Option<String>,
}

/// payd's status in MutoPay's words (the table is [`payd_core::dialect_status::mutopay`],
/// written out in docs/dialects/mutopay.md).
pub fn status(p: &Payment) -> &'static str {
    payd_core::dialect_status::mutopay(p)
}

/// The USD amount and the rate that produced it.
pub fn usd(p: &Payment) -> (Decimal, Decimal) {
    match &p.fx {
        Some(fx) => (fx.quote_amount, fx.rate),
        None => (p.price.amount, Decimal::ONE),
    }
}

pub fn url(p: &Payment, public_url: &str) -> String {
    format!("{public_url}/pay/{}", p.id)
}

/// The status object of a payment (the status endpoint's body; MutoPay's webhooks carry the
/// same fields).
pub fn status_out<'a>(p: &'a Payment, public_url: &str, tx_hash: Option<String>) -> StatusOut<'a> {
    let (usd_amount, rate) = usd(p);
    let asset = p.asset.as_ref();
    StatusOut {
        id: p.id.to_string(),
        status: status(p),
        url: url(p, public_url),
        amount_usd: number(usd_amount),
        amount_original: number(p.price.amount),
        currency: p.price.currency.code(),
        fx_rate: number(rate),
        dest_token: asset.map(|a| a.token.as_str()),
        dest_chain_id: asset.map(|a| {
            payd_core::registry::network(&a.network)
                .and_then(|n| n.chain_id)
                .map_or_else(|| a.network.clone(), |id| id.to_string())
        }),
        dest_amount: asset.map(|a| a.amount_due.to_string()),
        dest_decimals: asset.map(|a| a.decimals),
        description: p.description.as_deref(),
        external_id: p.external_id.as_deref(),
        metadata: &p.metadata,
        tx_hash,
        failure_reason: (p.status == PaymentStatus::Cancelled).then_some("cancelled"),
        paid_late: p.paid_late,
        expires_at: wire_time(p.expires_at),
        created_at: wire_time(p.created_at),
        // Paid in full late: completed when the late money that covered it was seen.
        completed_at: p.completed_at.or((status(p) == "completed").then_some(p.updated_at)).map(wire_time),
    }
}

/// [`status_out`] as JSON, for webhook payloads.
pub fn status_json(p: &Payment, public_url: &str, tx_hash: Option<String>) -> serde_json::Value {
    serde_json::to_value(status_out(p, public_url, tx_hash)).unwrap_or(serde_json::Value::Null)
}

impl<'a> Created<'a> {
    /// The create answer for `p`.
    pub fn new(p: &'a Payment, public_url: &str) -> Self {
        let (usd, rate) = usd(p);
        let converted = p.fx.is_some();
        Created {
            id: p.id.to_string(),
            status: status(p),
            url: url(p, public_url),
            amount_usd: number(usd),
            amount_original: converted.then(|| number(p.price.amount)),
            fx_rate: converted.then(|| number(rate)),
            currency: p.price.currency.code(),
            description: p.description.as_deref(),
            external_id: p.external_id.as_deref(),
            expires_at: wire_time(p.expires_at),
            created_at: wire_time(p.created_at),
        }
    }
}

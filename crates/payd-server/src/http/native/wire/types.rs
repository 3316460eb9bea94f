//! Request and response shapes of the native API.

use payd_core::payment::Payment;
use payd_core::token::format_base_units_trimmed;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/payments`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePaymentIn {
    /// Decimal string, at most the currency's decimal places, greater than zero.
    #[schema(pattern = r"^[0-9]+(\.[0-9]+)?$", example = "49.99")]
    pub amount: String,
    /// Upper-case ISO-4217 code.
    #[schema(example = "USD")]
    pub currency: String,
    pub token: Option<String>,
    pub network: Option<String>,
    pub merchant: Option<String>,
    pub customer: Option<CustomerIn>,
    pub reference: Option<String>,
    pub external_id: Option<String>,
    pub invoice: Option<String>,
    pub description: Option<String>,
    pub line_items: Option<Vec<LineItemIn>>,
    /// Any JSON object (≤ 8 KiB serialised by default).
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    pub failure_url: Option<String>,
    pub back_url: Option<String>,
    /// Seconds from now, 60 to the configured maximum (31 days by default).
    #[schema(minimum = 60)]
    pub expires_in: Option<u64>,
    pub expires_at: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerIn {
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineItemIn {
    pub description: String,
    pub amount: String,
    pub quantity: Option<u32>,
}

/// `GET /v1/payments` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListPaymentsIn {
    pub limit: Option<String>,
    pub starting_after: Option<String>,
    pub status: Option<String>,
    pub reference: Option<String>,
    pub created_gte: Option<String>,
    pub created_lte: Option<String>,
    pub merchant: Option<String>,
}

pub use crate::http::wire::wire_time as ts;

#[derive(Debug, Serialize, ToSchema)]
pub struct AssetOut<'a> {
    pub token: &'a str,
    pub network: &'a str,
    pub decimals: u8,
    /// Base units, as a string.
    pub amount_due: String,
    /// The same amount in whole tokens.
    pub amount_due_display: String,
    pub amount_received: String,
    pub amount_pending: String,
    pub confirmations_required: u32,
    pub address: Option<&'a str>,
}

/// A payment as the native API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentOut<'a> {
    pub id: String,
    pub object: &'static str,
    pub merchant: String,
    pub livemode: bool,
    pub status: &'static str,
    pub underpaid: bool,
    pub overpaid: bool,
    pub paid_late: bool,
    pub amount: String,
    pub currency: &'static str,
    pub asset: Option<AssetOut<'a>>,
    #[schema(value_type = Option<FxOut>)]
    pub fx: Option<&'a payd_core::payment::FxQuote>,
    pub checkout_url: String,
    #[schema(value_type = CustomerOut)]
    pub customer: &'a payd_core::payment::Customer,
    pub reference: Option<&'a str>,
    pub external_id: Option<&'a str>,
    pub invoice: Option<&'a str>,
    pub description: Option<&'a str>,
    pub line_items: Vec<LineItemOut<'a>>,
    #[schema(value_type = Object)]
    pub metadata: &'a serde_json::Value,
    pub success_url: Option<&'a str>,
    pub cancel_url: Option<&'a str>,
    pub failure_url: Option<&'a str>,
    pub back_url: Option<&'a str>,
    pub idempotency_key: Option<&'a str>,
    pub dialect: &'static str,
    pub expires_at: String,
    pub created_at: String,
    pub updated_at: String,
    pub completed_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LineItemOut<'a> {
    pub description: &'a str,
    pub amount: String,
    pub quantity: u32,
}

impl<'a> PaymentOut<'a> {
    pub fn new(p: &'a Payment, public_url: &str) -> Self {
        PaymentOut {
            id: p.id.to_string(),
            object: "payment",
            merchant: p.merchant_id.to_string(),
            livemode: p.mode == payd_core::apikey::Mode::Live,
            status: p.status.as_str(),
            underpaid: p.underpaid,
            overpaid: p.overpaid,
            paid_late: p.paid_late,
            amount: p.price.amount_string(),
            currency: p.price.currency.code(),
            asset: p.asset.as_ref().map(|a| AssetOut {
                token: &a.token,
                network: &a.network,
                decimals: a.decimals,
                amount_due: a.amount_due.to_string(),
                amount_due_display: format_base_units_trimmed(a.amount_due, a.decimals),
                amount_received: p.funds.confirmed.to_string(),
                amount_pending: p.funds.pending.to_string(),
                confirmations_required: a.confirmations,
                address: a.address.as_deref(),
            }),
            fx: p.fx.as_ref(),
            checkout_url: format!("{public_url}/checkout/{}", p.slug),
            customer: &p.customer,
            reference: p.reference.as_deref(),
            external_id: p.external_id.as_deref(),
            invoice: p.invoice.as_deref(),
            description: p.description.as_deref(),
            line_items: p
                .line_items
                .iter()
                .map(|l| LineItemOut {
                    description: &l.description,
                    amount: l.amount.to_string(),
                    quantity: l.quantity,
                })
                .collect(),
            metadata: &p.metadata,
            success_url: p.urls.success.as_deref(),
            cancel_url: p.urls.cancel.as_deref(),
            failure_url: p.urls.failure.as_deref(),
            back_url: p.urls.back.as_deref(),
            idempotency_key: p.idempotency_key.as_deref(),
            dialect: p.dialect.as_str(),
            expires_at: ts(p.expires_at),
            created_at: ts(p.created_at),
            updated_at: ts(p.updated_at),
            completed_at: p.completed_at.map(ts),
        }
    }
}

/// A page of payments.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentListOut<'a> {
    pub object: &'static str,
    pub data: Vec<PaymentOut<'a>>,
    pub has_more: bool,
    /// Pass as `starting_after` to get the next page.
    pub next_cursor: Option<String>,
}

/// Schema of the captured exchange rate (documentation only: the payment's own type is
/// serialised).
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code)]
pub struct FxOut {
    /// USD per unit of the price currency.
    pub rate: String,
    /// `static` or `http`.
    pub source: String,
    pub quote_currency: String,
    /// The price converted, rounded up to the cent.
    pub quote_amount: String,
}

/// Schema of the customer as stored on a payment (documentation only).
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code)]
pub struct CustomerOut {
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
}

/// The error body of every native endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code)]
pub struct ErrorOut {
    pub error: ErrorDetail,
}

/// An error's stable code, message and (for bad input) the field at fault.
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    pub param: Option<String>,
}

//! Row shapes shared by both backends, and their conversion to and from domain types.
//! Every value read back is validated: a row that does not parse is reported as corrupt,
//! never unwrapped.

use chrono::{DateTime, Utc};
use payd_core::apikey::{ApiKey, Mode, Scope};
use payd_core::event::{Event, EventKind};
use payd_core::merchant::{Merchant, MerchantStatus};
use payd_core::money::{Currency, Money};
use payd_core::payment::{
    AssetQuote, Customer, Dialect, Funds, FxQuote, LineItem, Payment, PaymentStatus, RedirectUrls,
};
use rust_decimal::Decimal;
use std::str::FromStr;

use crate::StoreError;

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(v: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(v).ok_or_else(|| corrupt("timestamp", v))
}

fn opt_from_ms(v: Option<i64>) -> Result<Option<DateTime<Utc>>, StoreError> {
    v.map(from_ms).transpose()
}

pub(crate) fn corrupt(what: &str, v: impl std::fmt::Debug) -> StoreError {
    StoreError::Corrupt(format!("{what}: {v:?}"))
}

fn parse<T: FromStr>(what: &str, s: &str) -> Result<T, StoreError> {
    s.parse().map_err(|_| corrupt(what, s))
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct MerchantRow {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub email: Option<String>,
    pub site_url: Option<String>,
    pub logo_url: Option<String>,
    pub status: String,
    pub settlement_token: Option<String>,
    pub settlement_network: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<MerchantRow> for Merchant {
    type Error = StoreError;
    fn try_from(r: MerchantRow) -> Result<Self, StoreError> {
        Ok(Merchant {
            id: parse("merchant id", &r.id)?,
            account_id: parse("account id", &r.account_id)?,
            name: r.name,
            email: r.email,
            site_url: r.site_url,
            logo_url: r.logo_url,
            status: MerchantStatus::parse(&r.status).ok_or_else(|| corrupt("merchant status", &r.status))?,
            settlement_asset: r.settlement_token.zip(r.settlement_network),
            created_at: from_ms(r.created_at)?,
            updated_at: from_ms(r.updated_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ApiKeyRow {
    pub id: String,
    pub account_id: String,
    pub merchant_id: Option<String>,
    pub mode: String,
    pub scopes: String,
    pub prefix: String,
    pub signing_secret_sealed: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = StoreError;
    fn try_from(r: ApiKeyRow) -> Result<Self, StoreError> {
        Ok(ApiKey {
            id: parse("key id", &r.id)?,
            account_id: parse("account id", &r.account_id)?,
            merchant_id: r.merchant_id.as_deref().map(|m| parse("merchant id", m)).transpose()?,
            mode: Mode::parse(&r.mode).ok_or_else(|| corrupt("mode", &r.mode))?,
            scopes: r
                .scopes
                .split_whitespace()
                .map(|s| Scope::parse(s).ok_or_else(|| corrupt("scope", s)))
                .collect::<Result<_, _>>()?,
            prefix: r.prefix,
            signing_secret_sealed: r.signing_secret_sealed,
            created_at: from_ms(r.created_at)?,
            revoked_at: opt_from_ms(r.revoked_at)?,
            last_used_at: opt_from_ms(r.last_used_at)?,
        })
    }
}

pub(crate) fn scopes_text(scopes: &[Scope]) -> String {
    scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
}

/// Every column of `payments`, in table order.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct PaymentRow {
    pub id: String,
    pub merchant_id: String,
    pub mode: String,
    pub dialect: String,
    pub slug: String,
    pub status: String,
    pub underpaid: bool,
    pub overpaid: bool,
    pub paid_late: bool,
    pub price_amount: String,
    pub price_currency: String,
    pub fx_rate: Option<String>,
    pub fx_source: Option<String>,
    pub fx_quote_currency: Option<String>,
    pub fx_quote_amount: Option<String>,
    pub token: Option<String>,
    pub network: Option<String>,
    pub token_decimals: Option<i64>,
    pub amount_due: Option<String>,
    pub confirmations: Option<i64>,
    pub deposit_address: Option<String>,
    pub received_confirmed: String,
    pub received_pending: String,
    pub customer_external_id: Option<String>,
    pub customer_email: Option<String>,
    pub customer_name: Option<String>,
    pub reference: Option<String>,
    pub external_id: Option<String>,
    pub invoice: Option<String>,
    pub description: Option<String>,
    pub line_items: String,
    pub metadata: String,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    pub failure_url: Option<String>,
    pub back_url: Option<String>,
    pub idempotency_key: Option<String>,
    pub client_id: Option<String>,
    pub product_id: Option<String>,
    pub expires_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub completed_at: Option<i64>,
    pub version: i64,
    pub partial_seen: bool,
    pub paid_in_time: bool,
    pub received_late: String,
}

impl PaymentRow {
    pub(crate) fn from_payment(p: &Payment) -> Result<Self, StoreError> {
        let asset = p.asset.as_ref();
        Ok(PaymentRow {
            id: p.id.to_string(),
            merchant_id: p.merchant_id.to_string(),
            mode: p.mode.as_str().into(),
            dialect: p.dialect.as_str().into(),
            slug: p.slug.clone(),
            status: p.status.as_str().into(),
            underpaid: p.underpaid,
            overpaid: p.overpaid,
            paid_late: p.paid_late,
            price_amount: p.price.amount.to_string(),
            price_currency: p.price.currency.code().into(),
            fx_rate: p.fx.as_ref().map(|f| f.rate.to_string()),
            fx_source: p.fx.as_ref().map(|f| f.source.clone()),
            fx_quote_currency: p.fx.as_ref().map(|f| f.quote_currency.clone()),
            fx_quote_amount: p.fx.as_ref().map(|f| f.quote_amount.to_string()),
            token: asset.map(|a| a.token.clone()),
            network: asset.map(|a| a.network.clone()),
            token_decimals: asset.map(|a| i64::from(a.decimals)),
            amount_due: asset.map(|a| a.amount_due.to_string()),
            confirmations: asset.map(|a| i64::from(a.confirmations)),
            deposit_address: asset.and_then(|a| a.address.clone()),
            received_confirmed: p.funds.confirmed.to_string(),
            received_pending: p.funds.pending.to_string(),
            customer_external_id: p.customer.external_id.clone(),
            customer_email: p.customer.email.clone(),
            customer_name: p.customer.name.clone(),
            reference: p.reference.clone(),
            external_id: p.external_id.clone(),
            invoice: p.invoice.clone(),
            description: p.description.clone(),
            line_items: serde_json::to_string(&p.line_items).map_err(|e| corrupt("line items", e))?,
            metadata: serde_json::to_string(&p.metadata).map_err(|e| corrupt("metadata", e))?,
            success_url: p.urls.success.clone(),
            cancel_url: p.urls.cancel.clone(),
            failure_url: p.urls.failure.clone(),
            back_url: p.urls.back.clone(),
            idempotency_key: p.idempotency_key.clone(),
            client_id: p.client_id.clone(),
            product_id: p.product_id.clone(),
            expires_at: ms(p.expires_at),
            created_at: ms(p.created_at),
            updated_at: ms(p.updated_at),
            completed_at: p.completed_at.map(ms),
            version: p.version,
            partial_seen: p.partial_seen,
            paid_in_time: p.paid_in_time,
            received_late: p.funds.late.to_string(),
        })
    }
}

impl TryFrom<PaymentRow> for Payment {
    type Error = StoreError;
    fn try_from(r: PaymentRow) -> Result<Self, StoreError> {
        let currency =
            Currency::from_code(&r.price_currency).ok_or_else(|| corrupt("currency", &r.price_currency))?;
        let fx = match (r.fx_rate, r.fx_source, r.fx_quote_currency, r.fx_quote_amount) {
            (Some(rate), Some(source), Some(quote_currency), Some(amount)) => Some(FxQuote {
                rate: parse::<Decimal>("fx rate", &rate)?,
                source,
                quote_currency,
                quote_amount: parse::<Decimal>("fx amount", &amount)?,
            }),
            _ => None,
        };
        let asset = match (r.token, r.network, r.token_decimals, r.amount_due, r.confirmations) {
            (Some(token), Some(network), Some(decimals), Some(due), Some(conf)) => Some(AssetQuote {
                token,
                network,
                decimals: u8::try_from(decimals).map_err(|_| corrupt("decimals", decimals))?,
                amount_due: parse("amount due", &due)?,
                confirmations: u32::try_from(conf).map_err(|_| corrupt("confirmations", conf))?,
                address: r.deposit_address,
            }),
            _ => None,
        };
        let line_items: Vec<LineItem> =
            serde_json::from_str(&r.line_items).map_err(|e| corrupt("line items", e))?;
        Ok(Payment {
            id: parse("payment id", &r.id)?,
            merchant_id: parse("merchant id", &r.merchant_id)?,
            mode: Mode::parse(&r.mode).ok_or_else(|| corrupt("mode", &r.mode))?,
            dialect: Dialect::parse(&r.dialect).ok_or_else(|| corrupt("dialect", &r.dialect))?,
            slug: r.slug,
            status: PaymentStatus::parse(&r.status).ok_or_else(|| corrupt("status", &r.status))?,
            underpaid: r.underpaid,
            overpaid: r.overpaid,
            paid_late: r.paid_late,
            partial_seen: r.partial_seen,
            paid_in_time: r.paid_in_time,
            price: Money { amount: parse("price", &r.price_amount)?, currency },
            fx,
            asset,
            funds: {
                let funds = Funds {
                    confirmed: parse("received", &r.received_confirmed)?,
                    pending: parse("pending", &r.received_pending)?,
                    late: parse("late", &r.received_late)?,
                };
                if !funds.is_consistent() {
                    return Err(corrupt("funds", funds));
                }
                funds
            },
            customer: Customer {
                external_id: r.customer_external_id,
                email: r.customer_email,
                name: r.customer_name,
            },
            reference: r.reference,
            external_id: r.external_id,
            invoice: r.invoice,
            description: r.description,
            line_items,
            metadata: serde_json::from_str(&r.metadata).map_err(|e| corrupt("metadata", e))?,
            urls: RedirectUrls {
                success: r.success_url,
                cancel: r.cancel_url,
                failure: r.failure_url,
                back: r.back_url,
            },
            idempotency_key: r.idempotency_key,
            client_id: r.client_id,
            product_id: r.product_id,
            expires_at: from_ms(r.expires_at)?,
            created_at: from_ms(r.created_at)?,
            updated_at: from_ms(r.updated_at)?,
            completed_at: opt_from_ms(r.completed_at)?,
            version: r.version,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct EventRow {
    pub id: String,
    pub payment_id: String,
    pub merchant_id: String,
    pub mode: String,
    pub kind: String,
    pub sequence: i64,
    pub payload: String,
    pub created_at: i64,
}

impl TryFrom<EventRow> for Event {
    type Error = StoreError;
    fn try_from(r: EventRow) -> Result<Self, StoreError> {
        Ok(Event {
            id: parse("event id", &r.id)?,
            kind: EventKind::parse_stored(&r.kind).ok_or_else(|| corrupt("event kind", &r.kind))?,
            payment_id: parse("payment id", &r.payment_id)?,
            merchant_id: parse("merchant id", &r.merchant_id)?,
            mode: Mode::parse(&r.mode).ok_or_else(|| corrupt("mode", &r.mode))?,
            sequence: r.sequence,
            payload: serde_json::from_str(&r.payload).map_err(|e| corrupt("event payload", e))?,
            created_at: from_ms(r.created_at)?,
        })
    }
}

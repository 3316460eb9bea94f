//! A payment as AlpPay shows it, in responses and webhooks: status names, decimal token
//! amounts, the merchant and the transfers.

use payd_core::merchant::Merchant;
use payd_core::payment::Payment;
use payd_core::token::format_base_units;
use payd_store::chain::{StoredTransfer, TransferStatus};
use serde_json::{json, Value};

use crate::http::wire::wire_time;

/// `(status, displayStatus)` of a payment (the table is
/// [`payd_core::dialect_status::alppay`], written out in docs/dialects/alppay.md).
pub fn statuses(p: &Payment) -> (&'static str, &'static str) {
    payd_core::dialect_status::alppay(p)
}

/// Token amounts as AlpPay writes them: a decimal string with at least two places.
pub fn token_amount(units: u128, decimals: u8) -> String {
    let full = format_base_units(units, decimals);
    match full.split_once('.') {
        Some((int, frac)) => {
            let trimmed = frac.trim_end_matches('0');
            let frac = if trimmed.len() < 2 { &frac[..2.min(frac.len())] } else { trimmed };
            if frac.is_empty() {
                format!("{int}.00")
            } else {
                format!("{int}.{frac}")
            }
        }
        None => format!("{full}.00"),
    }
}

pub fn asset_json(p: &Payment) -> Value {
    match &p.asset {
        None => Value::Null,
        Some(a) => json!({
            "short": a.token,
            "name": match a.token.as_str() { "USDT" => "Tether USD", "USDC" => "USD Coin", other => other },
            "logoUrl": Value::Null,
            "network": a.network,
        }),
    }
}

/// The full AlpPay payment object (the create response, the `data` of a get, and the
/// webhook body). `detailed` adds the fields AlpPay's get shows (fees, risk).
pub fn payment_json(
    p: &Payment,
    merchant: &Merchant,
    transfers: &[StoredTransfer],
    public_url: &str,
    detailed: bool,
) -> Value {
    let (status, display) = statuses(p);
    let decimals = p.asset.as_ref().map_or(6, |a| a.decimals);
    let transactions: Vec<Value> = transfers
        .iter()
        .filter(|t| t.status != TransferStatus::Orphaned)
        .map(|t| {
            let mut tx = json!({
                "paymentId": p.id.uuid().hyphenated().to_string(),
                "txnId": t.transfer.tx_hash,
                "receivedAmount": token_amount(t.transfer.amount, decimals),
                "asset": asset_json(p),
                "destTag": Value::Null,
                "addressFrom": t.transfer.from,
                "addressTo": t.transfer.to,
                // The transfer's own time: the timestamp of the block that carried it.
                "date": wire_time(t.transfer.block_time),
            });
            if detailed {
                tx["fixedFee"] = json!("0");
                tx["percentFee"] = json!("0");
                tx["riskScore"] = Value::Null;
                tx["isDanger"] = json!(false);
            }
            tx
        })
        .collect();
    let mut out = json!({
        "id": p.id.uuid().hyphenated().to_string(),
        "transactions": transactions,
        "amount": p.price.amount_string(),
        "totalReceivedAmount": token_amount(p.funds.total(), decimals),
        "asset": asset_json(p),
        "addressTo": p.asset.as_ref().and_then(|a| a.address.clone()),
        "confirmsNeeded": p.asset.as_ref().map(|a| a.confirmations),
        "timeout": (p.expires_at - p.created_at).num_seconds(),
        "checkoutUrl": p.urls.back,
        "status": status,
        "displayStatus": display,
        // payd's addition: money arrived after the payment expired.
        "paidLate": p.paid_late,
        "customer": {
            "id": p.customer.external_id.as_ref().map(|id| id.parse::<u64>().map_or_else(|_| json!(id), |n| json!(n))),
            "name": p.customer.name,
            "email": p.customer.email,
        },
        "merchant": {
            "id": merchant.id.uuid().hyphenated().to_string(),
            "name": merchant.name,
            "siteUrl": merchant.site_url,
            "logoUrl": merchant.logo_url,
            "email": merchant.email,
        },
        "invoice": p.invoice,
        "paymentRedirectUrl": format!("{public_url}/checkout/{}", p.slug),
        "createdAt": wire_time(p.created_at),
        "updatedAt": wire_time(p.updated_at),
    });
    if detailed {
        out["destTag"] = Value::Null;
        out["fixedFee"] = json!("0");
    }
    out
}

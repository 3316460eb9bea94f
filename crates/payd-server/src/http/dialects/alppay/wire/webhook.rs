//! AlpPay's webhook body: the whole payment, as its responses show it.

use payd_core::merchant::Merchant;
use payd_core::payment::Payment;
use payd_store::chain::StoredTransfer;
use serde_json::Value;

use super::payment::payment_json;

/// The payment object with its merchant and transfers.
pub fn body(p: &Payment, merchant: &Merchant, transfers: &[StoredTransfer], public_url: &str) -> Value {
    payment_json(p, merchant, transfers, public_url, false)
}

//! What the hosted checkout page reads and does, as the engine rules it: the payment a
//! customer's link names (no API key: the link is the customer's only credential), how deep
//! its unconfirmed money is, and the test-mode simulation through devnet. Cancelling is
//! [`super::cancel_payment`], the one rule every surface calls. The page itself
//! (`crate::checkout`) only presents what these return.

use chrono::{DateTime, Utc};
use payd_core::apikey::Mode;
use payd_core::chain::{DevnetTransfer, TransferStatus};
use payd_core::ids::PaymentId;
use payd_core::merchant::Merchant;
use payd_core::payment::Payment;
use payd_store::{Store, StoreError};

use super::devnet::{self, PayError};

/// How a checkout link names its payment.
#[derive(Debug, Clone, Copy)]
pub enum LinkRef<'a> {
    /// The short public id (`/checkout/{slug}`, AstraPay's `/purchases/{short_id}`).
    Slug(&'a str),
    /// payd's id (MutoPay's `/pay/{id}`).
    Id(&'a str),
}

/// A payment as its checkout page shows it, with the merchant it is paid to.
#[derive(Debug, Clone)]
pub struct Checkout {
    /// The payment.
    pub payment: Payment,
    /// Its merchant (name and logo on the page).
    pub merchant: Merchant,
    /// The merchant's checkout branding (display name, accent colour, logo).
    pub brand: payd_store::manage::Branding,
}

/// The longest slug payd accepts in a link (payd makes 10-character ones; AstraPay's short
/// ids are the same field).
const MAX_SLUG: usize = 64;

/// The payment a checkout link names, or `None` for an unknown or malformed reference
/// (checked before any query: a slug is ASCII letters and digits only).
pub async fn open(store: &Store, link: LinkRef<'_>) -> Result<Option<Checkout>, StoreError> {
    let payment = match link {
        LinkRef::Slug(s)
            if s.is_empty() || s.len() > MAX_SLUG || !s.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            None
        }
        LinkRef::Slug(s) => store.get_payment_by_slug(s).await?,
        LinkRef::Id(text) => match text.parse::<PaymentId>() {
            Ok(id) => store.get_payment(&id).await?,
            Err(_) => None,
        },
    };
    let Some(payment) = payment else { return Ok(None) };
    let Some(merchant) = store.get_merchant(&payment.merchant_id).await? else { return Ok(None) };
    let brand = store.merchant_branding(&merchant.id).await?.unwrap_or_default();
    Ok(Some(Checkout { payment, merchant, brand }))
}

/// The same payment read again (the live-status stream polls this).
pub async fn reload(store: &Store, id: &PaymentId) -> Result<Option<Payment>, StoreError> {
    store.get_payment(id).await
}

/// How deep the money still waiting for its confirmations is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Confirmations of the least-confirmed transfer still waiting.
    pub confirmations: u32,
    /// Confirmations a transfer needs.
    pub needed: u32,
}

/// The confirmations of a payment's shallowest unconfirmed transfer, counted as the chain
/// engine counts them (the block itself is the first), against the head its watcher has
/// reached; `None` when no transfer is waiting.
pub async fn progress(store: &Store, payment: &Payment) -> Result<Option<Progress>, StoreError> {
    let Some(asset) = &payment.asset else { return Ok(None) };
    if payment.funds.pending == 0 {
        return Ok(None);
    }
    let transfers = store.transfers_of_payment(&payment.id).await?;
    let Some(newest) =
        transfers.iter().filter(|t| t.status == TransferStatus::Seen).map(|t| t.transfer.block.number).max()
    else {
        return Ok(None);
    };
    let head = match payment.mode {
        Mode::Test => store.devnet_head().await?,
        Mode::Live => store.chain_cursor(&asset.network).await?,
    };
    let head = head.map_or(newest, |b| b.number.max(newest));
    let deep = head.saturating_add(1).saturating_sub(newest);
    let needed = asset.confirmations.max(1);
    Ok(Some(Progress { confirmations: u32::try_from(deep).unwrap_or(u32::MAX).min(needed), needed }))
}

/// How much a simulated test payment sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Simulated {
    /// Everything still due.
    Full,
    /// Half of what is still due (at least one base unit): a partial payment.
    Part,
}

/// Sends a devnet transfer to a test-mode payment, as its customer would; the producer mines
/// it and the watcher credits it through the normal path. Live payments are refused by
/// [`devnet::pay`].
pub async fn simulate(
    store: &Store,
    payment: &Payment,
    how: Simulated,
    now: DateTime<Utc>,
) -> Result<DevnetTransfer, PayError> {
    let amount = match how {
        Simulated::Full => None,
        Simulated::Part => {
            let due = payment.amount_due().ok_or(PayError::NoAddress)?;
            match due.saturating_sub(payment.funds.total()) {
                0 => return Err(PayError::NothingDue),
                left => Some((left / 2).max(1)),
            }
        }
    };
    devnet::pay(store, payment, amount, now).await
}

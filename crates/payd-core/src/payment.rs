//! The payment: its fields, and the state machine.
//!
//! Statuses follow BTCPay's two-field model: one [`PaymentStatus`] plus flags (`underpaid`,
//! `overpaid`, `paid_late`). Every transition is a method that changes the payment and returns
//! the events it emits; the store writes both in one transaction.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::apikey::Mode;
use crate::event::EventKind;
use crate::ids::{MerchantId, PaymentId};
use crate::money::Money;

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    /// Waiting for money.
    Pending,
    /// Money seen on chain but not yet enough at the confirmation depth.
    Processing,
    /// Paid in full at the confirmation depth.
    Completed,
    /// Its time ran out before it completed.
    Expired,
    /// Cancelled before anything was received.
    Cancelled,
}

impl PaymentStatus {
    /// Every status.
    pub const ALL: [PaymentStatus; 5] = [
        PaymentStatus::Pending,
        PaymentStatus::Processing,
        PaymentStatus::Completed,
        PaymentStatus::Expired,
        PaymentStatus::Cancelled,
    ];

    /// The stored and native wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Processing => "processing",
            PaymentStatus::Completed => "completed",
            PaymentStatus::Expired => "expired",
            PaymentStatus::Cancelled => "cancelled",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        PaymentStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether the payment still accepts money as an on-time payment.
    pub fn is_open(self) -> bool {
        matches!(self, PaymentStatus::Pending | PaymentStatus::Processing)
    }
}

/// Which API created a payment; it decides how the payment is shown to that merchant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// payd's own API.
    Native,
    /// AstraPay.
    Astrapay,
    /// Paygentic.
    Paygentic,
    /// MutoPay.
    Mutopay,
    /// AlpPay.
    Alppay,
}

impl Dialect {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Native => "native",
            Dialect::Astrapay => "astrapay",
            Dialect::Paygentic => "paygentic",
            Dialect::Mutopay => "mutopay",
            Dialect::Alppay => "alppay",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        [Dialect::Native, Dialect::Astrapay, Dialect::Paygentic, Dialect::Mutopay, Dialect::Alppay]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// Serializes a `u128` as a decimal string: token amounts exceed what JSON readers hold
/// exactly in a double.
pub mod u128_string {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialize.
    pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    /// Deserialize.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// The customer paying, as the merchant described them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// The merchant's own id for the customer (AlpPay `customer.id`, Paygentic `customerId`).
    pub external_id: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Name.
    pub name: Option<String>,
}

/// One line of what is being paid for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    /// What it is.
    pub description: String,
    /// Unit price in the payment's currency.
    pub amount: Decimal,
    /// How many.
    pub quantity: u32,
}

/// Where the customer is sent after the checkout page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedirectUrls {
    /// After a successful payment.
    pub success: Option<String>,
    /// When the customer cancels.
    pub cancel: Option<String>,
    /// After a failed or expired payment.
    pub failure: Option<String>,
    /// "Back to shop" (AlpPay `checkoutUrl`).
    pub back: Option<String>,
}

/// The rate that turned the price into the settlement currency, captured at creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FxQuote {
    /// Units of `quote_currency` per unit of the price currency.
    pub rate: Decimal,
    /// Where the rate came from (`static`, a provider's name).
    pub source: String,
    /// The currency the price was converted into (USD for USD stablecoins).
    pub quote_currency: String,
    /// The converted amount.
    pub quote_amount: Decimal,
}

/// The token a payment is to be paid in, and how much of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetQuote {
    /// Ticker (`USDC`).
    pub token: String,
    /// Canonical network id (`base`).
    pub network: String,
    /// The token's decimals.
    pub decimals: u8,
    /// Amount due in base units.
    #[serde(with = "u128_string")]
    pub amount_due: u128,
    /// Confirmations needed before the payment completes.
    pub confirmations: u32,
    /// Deposit address, once assigned.
    pub address: Option<String>,
}

/// Money received on chain so far, in base units of the payment's token.
///
/// `confirmed + pending` always fits a `u128`: the chain engine adds transfers with checked
/// arithmetic and leaves one that would overflow the sum uncredited (recorded for the
/// operator), and [`Payment::apply_funds`] refuses totals that do not add up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Funds {
    /// At the confirmation depth.
    #[serde(with = "u128_string")]
    pub confirmed: u128,
    /// Seen but not yet deep enough.
    #[serde(with = "u128_string")]
    pub pending: u128,
    /// The part of `confirmed + pending` carried by blocks timestamped after the payment's
    /// `expires_at`: money that was late, whenever payd happened to see it.
    #[serde(with = "u128_string", default)]
    pub late: u128,
}

impl Funds {
    /// Everything seen, confirmed or not; `None` when it does not fit (never stored).
    pub fn checked_total(&self) -> Option<u128> {
        self.confirmed.checked_add(self.pending)
    }

    /// Everything seen, confirmed or not. Every stored `Funds` adds up (checked on each
    /// write and on each read), so this never saturates in practice; it does rather than
    /// panic if handed a value built by hand.
    pub fn total(&self) -> u128 {
        self.checked_total().unwrap_or(u128::MAX)
    }

    /// The money that arrived in blocks no later than the payment's expiry.
    pub fn on_time(&self) -> u128 {
        self.total().saturating_sub(self.late)
    }

    /// Whether the parts are consistent: the total fits and the late part is within it.
    pub fn is_consistent(&self) -> bool {
        self.checked_total().is_some_and(|t| self.late <= t)
    }
}

/// The largest underpayment tolerance a merchant may set, in basis points (10 %): beyond
/// it, "paid" would stop meaning paid (at 100 % one base unit completed any payment).
pub const MAX_TOLERANCE_BP: u32 = 1_000;

/// Parses an underpayment tolerance given in percent (`0.5`, at most two decimals, from 0 to
/// [`MAX_TOLERANCE_BP`] / 100) into basis points.
pub fn tolerance_basis_points(text: &str) -> Result<u32, String> {
    let cap = Decimal::new(i64::from(MAX_TOLERANCE_BP), 2);
    let plain = !text.is_empty() && text.chars().all(|c| c.is_ascii_digit() || c == '.');
    let pct: Decimal = plain
        .then(|| text.parse().ok())
        .flatten()
        .ok_or_else(|| format!("`{text}` is not a percentage like 0.5"))?;
    if pct > cap {
        return Err(format!("{text}% is above the {cap}% cap"));
    }
    if pct.normalize().scale() > 2 {
        return Err(format!("{text}% has more than two decimals"));
    }
    // Two decimals at most, so the basis points are a whole number.
    rust_decimal::prelude::ToPrimitive::to_u32(&(pct * Decimal::ONE_HUNDRED))
        .ok_or_else(|| format!("{text}% is outside 0 to {cap}"))
}

/// The least confirmed amount that completes a payment of `due` under a tolerance of
/// `tolerance_bp` (capped at [`MAX_TOLERANCE_BP`]); never zero for a non-zero `due`.
pub fn completion_threshold(due: u128, tolerance_bp: u32) -> u128 {
    let bp = u128::from(tolerance_bp.min(MAX_TOLERANCE_BP));
    // due * bp / 10_000 without overflowing for any u128 `due`.
    let tolerance = (due / 10_000) * bp + (due % 10_000) * bp / 10_000;
    due.saturating_sub(tolerance).max(due.min(1))
}

/// A payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    /// Id.
    pub id: PaymentId,
    /// Merchant.
    pub merchant_id: MerchantId,
    /// Live or test.
    pub mode: Mode,
    /// The API that created it.
    pub dialect: Dialect,
    /// Short public id used in checkout links (AstraPay `short_id`).
    pub slug: String,
    /// Status.
    pub status: PaymentStatus,
    /// Less than the amount due was received (so far, or at expiry).
    pub underpaid: bool,
    /// More than the amount due was received.
    pub overpaid: bool,
    /// Money arrived after expiry or cancellation.
    pub paid_late: bool,
    /// Money arrived short of the amount at some point (a partial payment was seen); it
    /// stays set while money only arrives, so a dialect that showed "partially paid" never
    /// shows less once the rest is seen.
    pub partial_seen: bool,
    /// The money seen in blocks no later than `expires_at` reaches the amount due (less
    /// the merchant's tolerance): the expiry sweeper leaves the payment to complete at its
    /// confirmation depth.
    pub paid_in_time: bool,
    /// The price.
    pub price: Money,
    /// FX used to reach the settlement currency, when the price is not in it.
    pub fx: Option<FxQuote>,
    /// The token and amount due, once fixed.
    pub asset: Option<AssetQuote>,
    /// Received so far.
    pub funds: Funds,
    /// Who pays.
    pub customer: Customer,
    /// Merchant's reference (Paygentic `reference`).
    pub reference: Option<String>,
    /// Merchant's order id (MutoPay `external_id`).
    pub external_id: Option<String>,
    /// Merchant's invoice number (AlpPay `invoice`).
    pub invoice: Option<String>,
    /// Shown to the customer.
    pub description: Option<String>,
    /// What is being paid for.
    pub line_items: Vec<LineItem>,
    /// Merchant's metadata, a JSON object returned in webhooks.
    pub metadata: serde_json::Value,
    /// Redirects.
    pub urls: RedirectUrls,
    /// The idempotency key it was created with.
    pub idempotency_key: Option<String>,
    /// AlpPay `clientId`: the customer's persistent deposit address owner.
    pub client_id: Option<String>,
    /// AstraPay `product_id` it was created from.
    pub product_id: Option<String>,
    /// When it stops accepting on-time payments.
    pub expires_at: DateTime<Utc>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// When it completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// Incremented by every transition; orders its events and guards concurrent writers.
    pub version: i64,
}

/// A transition that is not allowed from the payment's state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// Only a pending payment with nothing received can be cancelled.
    #[error("a {0} payment cannot be cancelled")]
    NotCancellable(&'static str),
    /// Something was already received (perhaps not yet confirmed), so cancelling would lose it.
    #[error("the payment has already received funds and cannot be cancelled")]
    FundsReceived,
    /// Only a pending or processing payment expires.
    #[error("a {0} payment cannot expire")]
    NotExpirable(&'static str),
    /// The expiry time has not come.
    #[error("the payment is not due to expire yet")]
    NotDue,
    /// Funds can only be applied once an asset is fixed.
    #[error("the payment has no asset yet")]
    NoAsset,
    /// The money seen before expiry already covers the amount: it completes, not expires.
    #[error("the payment was paid in time and is waiting for confirmations")]
    PaidInTime,
    /// Totals that do not add up (an overflow, or more late money than money).
    #[error("inconsistent funds")]
    InconsistentFunds,
    /// The asset can only be chosen on a pending payment before its expiry.
    #[error("the asset of a {0} payment cannot be chosen")]
    NotChoosable(&'static str),
}

/// What creating a payment needs; everything else starts at its initial value.
#[derive(Debug, Clone)]
pub struct NewPayment {
    /// Merchant.
    pub merchant_id: MerchantId,
    /// Mode.
    pub mode: Mode,
    /// Creating API.
    pub dialect: Dialect,
    /// Price.
    pub price: Money,
    /// FX quote, when converted.
    pub fx: Option<FxQuote>,
    /// Asset, when fixed at creation.
    pub asset: Option<AssetQuote>,
    /// Customer.
    pub customer: Customer,
    /// Reference.
    pub reference: Option<String>,
    /// External id.
    pub external_id: Option<String>,
    /// Invoice.
    pub invoice: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Line items.
    pub line_items: Vec<LineItem>,
    /// Metadata object.
    pub metadata: serde_json::Value,
    /// Redirects.
    pub urls: RedirectUrls,
    /// Idempotency key.
    pub idempotency_key: Option<String>,
    /// AlpPay client id.
    pub client_id: Option<String>,
    /// AstraPay product id.
    pub product_id: Option<String>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

/// Alphabet for slugs: no look-alikes (0/O, 1/l/I), so a slug read aloud survives.
const SLUG_ALPHABET: &[u8] = b"23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";

/// A random 10-character slug (56^10 ≈ 3·10^17: collisions are left to the unique index).
pub fn generate_slug() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 10];
    getrandom::getrandom(&mut bytes)?;
    // 256 % 56 != 0 gives a slight bias; slugs are unguessable enough and not secrets.
    Ok(bytes.iter().map(|b| char::from(SLUG_ALPHABET[usize::from(*b) % SLUG_ALPHABET.len()])).collect())
}

impl Payment {
    /// Creates a payment in `pending`, emitting `payment.created`.
    pub fn create(new: NewPayment, slug: String, now: DateTime<Utc>) -> (Payment, Vec<EventKind>) {
        let payment = Payment {
            id: PaymentId::new(),
            merchant_id: new.merchant_id,
            mode: new.mode,
            dialect: new.dialect,
            slug,
            status: PaymentStatus::Pending,
            underpaid: false,
            overpaid: false,
            paid_late: false,
            partial_seen: false,
            paid_in_time: false,
            price: new.price,
            fx: new.fx,
            asset: new.asset,
            funds: Funds::default(),
            customer: new.customer,
            reference: new.reference,
            external_id: new.external_id,
            invoice: new.invoice,
            description: new.description,
            line_items: new.line_items,
            metadata: new.metadata,
            urls: new.urls,
            idempotency_key: new.idempotency_key,
            client_id: new.client_id,
            product_id: new.product_id,
            expires_at: new.expires_at,
            created_at: now,
            updated_at: now,
            completed_at: None,
            version: 1,
        };
        (payment, vec![EventKind::Created])
    }

    fn touch(&mut self, now: DateTime<Utc>) {
        self.updated_at = now;
        self.version += 1;
    }

    /// Cancels a pending payment that has received nothing (not even unconfirmed money).
    pub fn cancel(&mut self, now: DateTime<Utc>) -> Result<Vec<EventKind>, TransitionError> {
        if self.status != PaymentStatus::Pending {
            return Err(TransitionError::NotCancellable(self.status.as_str()));
        }
        if self.funds.total() > 0 {
            return Err(TransitionError::FundsReceived);
        }
        self.status = PaymentStatus::Cancelled;
        self.touch(now);
        Ok(vec![EventKind::Cancelled])
    }

    /// Expires an open payment whose time has come, flagging `underpaid` when part was paid.
    /// A payment whose on-time money already covers the amount is not expired: it completes
    /// at its confirmation depth (and expires only if a reorg takes that money away).
    pub fn expire(&mut self, now: DateTime<Utc>) -> Result<Vec<EventKind>, TransitionError> {
        if now < self.expires_at {
            return Err(TransitionError::NotDue);
        }
        if self.status.is_open() && self.paid_in_time {
            return Err(TransitionError::PaidInTime);
        }
        self.expire_now(now)
    }

    /// Expires an open payment now, whatever its expiry time (a newer payment for the same
    /// AlpPay `clientId` supersedes it).
    pub fn expire_now(&mut self, now: DateTime<Utc>) -> Result<Vec<EventKind>, TransitionError> {
        if !self.status.is_open() {
            return Err(TransitionError::NotExpirable(self.status.as_str()));
        }
        self.status = PaymentStatus::Expired;
        self.underpaid = self.received_short();
        self.paid_in_time = false;
        self.touch(now);
        Ok(vec![EventKind::Expired])
    }

    /// Fixes (or changes) the token, network and amount due of a pending payment that has
    /// received nothing, with the FX quote that priced it. Allowed until the payment expires;
    /// switching after money was seen would strand it on the old asset. The address is the
    /// store's to assign (in the same transaction); a quote carrying one keeps it. Emits no
    /// event: the merchant learns the asset from the payment, and money from the chain.
    pub fn choose_asset(
        &mut self,
        asset: AssetQuote,
        fx: Option<FxQuote>,
        now: DateTime<Utc>,
    ) -> Result<Vec<EventKind>, TransitionError> {
        self.asset_choosable(now)?;
        self.asset = Some(asset);
        self.fx = fx;
        self.touch(now);
        Ok(Vec::new())
    }

    /// Whether [`Payment::choose_asset`] would be allowed at `now` (asked before quoting and
    /// deriving what would not be written).
    pub fn asset_choosable(&self, now: DateTime<Utc>) -> Result<(), TransitionError> {
        if self.funds.total() > 0 {
            return Err(TransitionError::FundsReceived);
        }
        if self.status != PaymentStatus::Pending {
            return Err(TransitionError::NotChoosable(self.status.as_str()));
        }
        if now >= self.expires_at {
            return Err(TransitionError::NotChoosable("expired"));
        }
        Ok(())
    }

    /// The amount due, once an asset is fixed.
    pub fn amount_due(&self) -> Option<u128> {
        self.asset.as_ref().map(|a| a.amount_due)
    }

    /// Something was received, but less than the amount due (`underpaid` means exactly this,
    /// never merely "something was received").
    fn received_short(&self) -> bool {
        let total = self.funds.total();
        total > 0 && self.amount_due().is_some_and(|due| total < due)
    }

    /// The seen total reaches the amount due (late money included).
    pub fn paid_in_full(&self) -> bool {
        self.amount_due().is_some_and(|due| self.funds.total() >= due)
    }

    /// Applies the payment's current on-chain totals (recomputed by the chain engine from its
    /// credited transfers, so a reorg that removes one simply lowers them). `tolerance_bp` is
    /// the merchant's underpayment tolerance in basis points of the amount due (capped at
    /// [`MAX_TOLERANCE_BP`]).
    ///
    /// On an open payment, money carried by blocks after `expires_at` (`funds.late`) that
    /// arrives while the on-time money does not cover the amount expires the payment then,
    /// flagged `paid_late` (the chain itself has passed the expiry). Whether money was on time
    /// is the chain's timestamp, never the moment payd scanned it.
    ///
    /// Returns the events the change emits; no change, no events.
    pub fn apply_funds(
        &mut self,
        funds: Funds,
        tolerance_bp: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<EventKind>, TransitionError> {
        let due = self.asset.as_ref().ok_or(TransitionError::NoAsset)?.amount_due;
        if !funds.is_consistent() {
            return Err(TransitionError::InconsistentFunds);
        }
        if funds == self.funds {
            return Ok(Vec::new());
        }
        let before = (self.status, self.overpaid, self.funds);
        let threshold = completion_threshold(due, tolerance_bp);
        let total = funds.total();
        let mut events = Vec::new();
        let grew = total > before.2.total() || funds.confirmed > before.2.confirmed;
        let shrank = total < before.2.total() || funds.confirmed < before.2.confirmed;
        self.funds = funds;
        self.paid_in_time = funds.on_time() >= threshold;
        self.overpaid = total > due;

        match self.status {
            PaymentStatus::Pending | PaymentStatus::Processing | PaymentStatus::Completed
                if funds.late > 0 && !self.paid_in_time =>
            {
                // The chain passed the expiry without enough money on time, and the money
                // that came after it is late.
                if self.status == PaymentStatus::Completed {
                    events.push(EventKind::Reverted);
                }
                self.status = PaymentStatus::Expired;
                self.completed_at = None;
                self.paid_late = true;
                self.underpaid = self.received_short();
                events.push(EventKind::Expired);
                events.push(EventKind::PaidLate);
            }
            PaymentStatus::Pending | PaymentStatus::Processing | PaymentStatus::Completed => {
                let status = if funds.confirmed >= threshold {
                    PaymentStatus::Completed
                } else if total > 0 {
                    PaymentStatus::Processing
                } else {
                    PaymentStatus::Pending
                };
                let underpaid = total > 0 && total < due;
                let went_back = rank(status) < rank(self.status) || (shrank && !grew);
                self.status = status;
                self.underpaid = underpaid;
                if status == PaymentStatus::Processing && underpaid {
                    self.partial_seen = true;
                }
                if total == 0 {
                    self.partial_seen = false;
                }
                if went_back {
                    events.push(EventKind::Reverted);
                }
                if status == PaymentStatus::Processing && before.0 == PaymentStatus::Pending {
                    events.push(EventKind::Processing);
                }
                if grew && underpaid && status == PaymentStatus::Processing {
                    events.push(EventKind::PartiallyPaid);
                }
                if status == PaymentStatus::Completed && before.0 != PaymentStatus::Completed {
                    self.completed_at = Some(now);
                    events.push(EventKind::Completed);
                }
                if status != PaymentStatus::Completed {
                    self.completed_at = None;
                }
                if self.overpaid && !before.1 && grew {
                    events.push(EventKind::Overpaid);
                }
            }
            PaymentStatus::Expired | PaymentStatus::Cancelled => {
                // The status stays: the merchant decides what to do with late money. Each
                // arrival of it is announced once (not again when it confirms); the flags say
                // whether it now covers the amount.
                if total > before.2.total() {
                    events.push(EventKind::PaidLate);
                }
                self.paid_late = match self.status {
                    PaymentStatus::Cancelled => total > 0,
                    // Money that came after the payment expired, whatever its block's time
                    // (only a reorg lowers it).
                    _ => grew || (self.paid_late && funds.late > 0),
                };
                self.underpaid = total > 0 && total < due;
                self.paid_in_time = false;
                if shrank && !grew {
                    events.push(EventKind::Reverted);
                }
            }
        }
        self.touch(now);
        Ok(events)
    }
}

/// Progress order of the statuses a credit can move between.
fn rank(s: PaymentStatus) -> u8 {
    match s {
        PaymentStatus::Pending => 0,
        PaymentStatus::Processing => 1,
        PaymentStatus::Completed => 2,
        PaymentStatus::Expired | PaymentStatus::Cancelled => 3,
    }
}

/// A test-mode payment of `due` base units of USDC on devnet, created at 1,700,000,000 s
/// and expiring 30 minutes later (for this crate's tests).
#[cfg(test)]
pub(crate) fn test_payment(due: u128) -> Payment {
    let new = NewPayment {
        merchant_id: MerchantId::new(),
        mode: Mode::Test,
        dialect: Dialect::Native,
        price: Money::parse("10.00", crate::money::Currency::USD)
            .unwrap_or(Money { amount: Decimal::ONE, currency: crate::money::Currency::USD }),
        fx: None,
        asset: Some(AssetQuote {
            token: "USDC".into(),
            network: "devnet".into(),
            decimals: 6,
            amount_due: due,
            confirmations: 1,
            address: None,
        }),
        customer: Customer::default(),
        reference: None,
        external_id: None,
        invoice: None,
        description: None,
        line_items: vec![],
        metadata: serde_json::json!({}),
        urls: RedirectUrls::default(),
        idempotency_key: None,
        client_id: None,
        product_id: None,
        expires_at: test_t0() + chrono::Duration::minutes(30),
    };
    Payment::create(new, "slug".into(), test_t0()).0
}

/// The creation time of [`test_payment`].
#[cfg(test)]
pub(crate) fn test_t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default()
    }

    fn payment(due: u128) -> Payment {
        test_payment(due)
    }

    fn funds(confirmed: u128, pending: u128) -> Funds {
        Funds { confirmed, pending, late: 0 }
    }

    #[test]
    fn a_pending_payment_with_nothing_received_can_be_cancelled_once() {
        let mut p = payment(100);
        assert_eq!(p.cancel(t0()), Ok(vec![EventKind::Cancelled]));
        assert_eq!(p.status, PaymentStatus::Cancelled);
        assert_eq!(p.version, 2);
        assert_eq!(p.cancel(t0()), Err(TransitionError::NotCancellable("cancelled")));
    }

    #[test]
    fn a_payment_that_has_seen_money_cannot_be_cancelled() {
        let mut p = payment(100);
        p.funds = funds(0, 10);
        assert_eq!(p.cancel(t0()), Err(TransitionError::FundsReceived));
    }

    #[test]
    fn the_asset_can_be_chosen_and_switched_until_money_arrives_or_time_runs_out() {
        let mut p = payment(100);
        let mut other = p.asset.clone().unwrap_or_else(any_asset);
        other.token = "USDT".into();
        other.amount_due = 250;
        assert_eq!(p.choose_asset(other.clone(), None, t0()), Ok(vec![]));
        assert_eq!(p.amount_due(), Some(250));
        assert_eq!(p.version, 2);
        let mut late = p.clone();
        assert_eq!(
            late.choose_asset(other.clone(), None, t0() + Duration::minutes(30)),
            Err(TransitionError::NotChoosable("expired"))
        );
        let _ = p.apply_funds(funds(0, 1), 0, t0());
        assert_eq!(p.choose_asset(other.clone(), None, t0()), Err(TransitionError::FundsReceived));
        let mut c = payment(100);
        let _ = c.cancel(t0());
        assert_eq!(c.choose_asset(other, None, t0()), Err(TransitionError::NotChoosable("cancelled")));
    }

    fn any_asset() -> AssetQuote {
        AssetQuote {
            token: "USDC".into(),
            network: "devnet".into(),
            decimals: 6,
            amount_due: 100,
            confirmations: 1,
            address: None,
        }
    }

    #[test]
    fn expiry_waits_for_its_time_and_flags_underpayment() {
        let mut p = payment(100);
        assert_eq!(p.expire(t0()), Err(TransitionError::NotDue));
        let mut q = p.clone();
        assert_eq!(p.expire(t0() + Duration::minutes(30)), Ok(vec![EventKind::Expired]));
        assert!(!p.underpaid);
        let _ = q.apply_funds(funds(40, 0), 0, t0());
        assert_eq!(q.expire(t0() + Duration::hours(1)), Ok(vec![EventKind::Expired]));
        assert!(q.underpaid);
        assert_eq!(q.expire(t0() + Duration::hours(2)), Err(TransitionError::NotExpirable("expired")));
    }

    #[test]
    fn seen_money_is_processing_and_confirmed_money_completes() {
        let mut p = payment(100);
        assert_eq!(p.apply_funds(funds(0, 100), 0, t0()), Ok(vec![EventKind::Processing]));
        assert_eq!((p.status, p.underpaid), (PaymentStatus::Processing, false));
        assert_eq!(p.apply_funds(funds(100, 0), 0, t0()), Ok(vec![EventKind::Completed]));
        assert_eq!(p.status, PaymentStatus::Completed);
        assert!(p.completed_at.is_some());
    }

    #[test]
    fn partial_payments_add_up() {
        let mut p = payment(100);
        assert_eq!(
            p.apply_funds(funds(40, 0), 0, t0()),
            Ok(vec![EventKind::Processing, EventKind::PartiallyPaid])
        );
        assert!(p.underpaid);
        assert_eq!(p.apply_funds(funds(100, 0), 0, t0()), Ok(vec![EventKind::Completed]));
        assert!(!p.underpaid);
    }

    #[test]
    fn overpayment_completes_with_the_flag() {
        let mut p = payment(100);
        assert_eq!(
            p.apply_funds(funds(150, 0), 0, t0()),
            Ok(vec![EventKind::Completed, EventKind::Overpaid])
        );
        assert!(p.overpaid);
    }

    #[test]
    fn tolerance_completes_a_slight_underpayment() {
        let mut p = payment(10_000);
        assert_eq!(p.apply_funds(funds(9_950, 0), 100, t0()), Ok(vec![EventKind::Completed]));
        assert!(p.underpaid);
    }

    #[test]
    fn a_reorg_moves_a_completed_payment_back() {
        let mut p = payment(100);
        let _ = p.apply_funds(funds(100, 0), 0, t0());
        assert_eq!(p.apply_funds(funds(0, 0), 0, t0()), Ok(vec![EventKind::Reverted]));
        assert_eq!(p.status, PaymentStatus::Pending);
        assert!(p.completed_at.is_none());
        let _ = p.apply_funds(funds(100, 0), 0, t0());
        assert_eq!(p.apply_funds(funds(0, 40), 0, t0()), Ok(vec![EventKind::Reverted]));
        assert_eq!((p.status, p.underpaid), (PaymentStatus::Processing, true));
    }

    #[test]
    fn money_after_expiry_is_flagged_late() {
        let mut p = payment(100);
        let _ = p.expire(t0() + Duration::hours(1));
        assert_eq!(p.apply_funds(funds(100, 0), 0, t0()), Ok(vec![EventKind::PaidLate]));
        assert_eq!((p.status, p.paid_late), (PaymentStatus::Expired, true));
    }

    #[test]
    fn unchanged_funds_emit_nothing() {
        let mut p = payment(100);
        let v = p.version;
        assert_eq!(p.apply_funds(Funds::default(), 0, t0()), Ok(vec![]));
        assert_eq!(p.version, v);
    }

    fn late(confirmed: u128, pending: u128, late: u128) -> Funds {
        Funds { confirmed, pending, late }
    }

    #[test]
    fn money_seen_in_full_before_expiry_is_not_expired_and_completes_at_depth() {
        let mut p = payment(100);
        let _ = p.apply_funds(funds(0, 100), 0, t0());
        assert!(p.paid_in_time);
        let after_expiry = t0() + Duration::hours(1);
        assert_eq!(p.expire(after_expiry), Err(TransitionError::PaidInTime));
        assert_eq!(p.apply_funds(funds(100, 0), 0, after_expiry), Ok(vec![EventKind::Completed]));
        assert_eq!((p.status, p.underpaid, p.paid_late), (PaymentStatus::Completed, false, false));
    }

    #[test]
    fn a_reorg_that_takes_the_covering_money_away_after_expiry_lets_it_expire() {
        let mut p = payment(100);
        let _ = p.apply_funds(funds(0, 100), 0, t0());
        let after_expiry = t0() + Duration::hours(1);
        assert_eq!(p.apply_funds(funds(0, 0), 0, after_expiry), Ok(vec![EventKind::Reverted]));
        assert!(!p.paid_in_time);
        assert_eq!(p.expire(after_expiry), Ok(vec![EventKind::Expired]));
        assert!(!p.underpaid, "nothing was received");
        // The same transfer re-mined after the expiry is late money, and covers the amount.
        assert_eq!(p.apply_funds(late(0, 100, 100), 0, after_expiry), Ok(vec![EventKind::PaidLate]));
        assert_eq!((p.status, p.underpaid, p.paid_late), (PaymentStatus::Expired, false, true));
        // Its confirmation is not a second arrival.
        assert_eq!(p.apply_funds(late(100, 0, 100), 0, after_expiry), Ok(vec![]));
        assert_eq!((p.status, p.underpaid, p.paid_late), (PaymentStatus::Expired, false, true));
    }

    #[test]
    fn late_money_on_an_open_payment_expires_it_there_and_then() {
        let mut p = payment(100);
        let _ = p.apply_funds(funds(40, 0), 0, t0());
        assert_eq!(
            p.apply_funds(late(40, 60, 60), 0, t0() + Duration::hours(1)),
            Ok(vec![EventKind::Expired, EventKind::PaidLate])
        );
        assert_eq!((p.status, p.underpaid, p.paid_late), (PaymentStatus::Expired, false, true));
        assert!(p.paid_in_full());
    }

    #[test]
    fn underpaid_means_short_of_the_amount_and_late_money_that_covers_it_clears_it() {
        let mut p = payment(100);
        let _ = p.apply_funds(funds(40, 0), 0, t0());
        let _ = p.expire(t0() + Duration::hours(1));
        assert!(p.underpaid);
        assert_eq!(p.apply_funds(late(40, 60, 60), 0, t0()), Ok(vec![EventKind::PaidLate]));
        assert_eq!((p.underpaid, p.paid_late, p.overpaid), (false, true, false));
        assert_eq!(p.apply_funds(late(100, 10, 70), 0, t0()), Ok(vec![EventKind::PaidLate]));
        assert!(p.overpaid);
    }

    #[test]
    fn a_partial_payment_is_remembered_while_money_only_arrives() {
        let mut p = payment(100);
        let _ = p.apply_funds(funds(0, 40), 0, t0());
        assert!(p.partial_seen);
        let _ = p.apply_funds(funds(0, 100), 0, t0());
        assert!(p.partial_seen && !p.underpaid);
        let _ = p.apply_funds(funds(0, 0), 0, t0());
        assert!(!p.partial_seen, "a reorg that takes everything starts over");
    }

    #[test]
    fn inconsistent_funds_are_refused() {
        let mut p = payment(100);
        assert_eq!(p.apply_funds(funds(u128::MAX, 1), 0, t0()), Err(TransitionError::InconsistentFunds));
        assert_eq!(p.apply_funds(late(1, 0, 2), 0, t0()), Err(TransitionError::InconsistentFunds));
        assert_eq!(p.funds, Funds::default());
    }

    #[test]
    fn the_tolerance_is_capped_and_never_completes_for_nothing() {
        assert_eq!(completion_threshold(10_000, 100), 9_900);
        assert_eq!(completion_threshold(10_000, 10_000), 9_000, "capped at 10 %");
        assert_eq!(completion_threshold(1, MAX_TOLERANCE_BP), 1);
        assert_eq!(completion_threshold(u128::MAX, MAX_TOLERANCE_BP), u128::MAX - u128::MAX / 10);
        let mut p = payment(1_000_000);
        assert_eq!(
            p.apply_funds(funds(1, 0), 10_000, t0())
                .map(|e| p.status == PaymentStatus::Completed || e.is_empty()),
            Ok(false)
        );
        assert_eq!(tolerance_basis_points("0.5"), Ok(50));
        assert_eq!(tolerance_basis_points("10"), Ok(1_000));
        assert!(tolerance_basis_points("10.01").is_err());
        assert!(tolerance_basis_points("100").is_err());
        assert!(tolerance_basis_points("-1").is_err());
        assert!(tolerance_basis_points("0.001").is_err());
    }

    #[test]
    fn slugs_use_the_unambiguous_alphabet() {
        let s = generate_slug().unwrap_or_default();
        assert_eq!(s.len(), 10);
        assert!(s.bytes().all(|b| SLUG_ALPHABET.contains(&b)));
    }
}

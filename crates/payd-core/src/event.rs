//! Payment events: what each transition emits, written to the outbox in the transaction
//! that made the change.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::apikey::Mode;
use crate::ids::{EventId, MerchantId, PaymentId};

/// The kinds of payment event, with their wire names (`payment.completed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// A payment was created.
    #[serde(rename = "payment.created")]
    Created,
    /// Money was seen on chain (not yet at the confirmation depth), or part was paid.
    #[serde(rename = "payment.processing")]
    Processing,
    /// Less than the amount due has been received so far.
    #[serde(rename = "payment.partially_paid")]
    PartiallyPaid,
    /// The amount due was received at the network's confirmation depth.
    #[serde(rename = "payment.completed")]
    Completed,
    /// More than the amount due was received.
    #[serde(rename = "payment.overpaid")]
    Overpaid,
    /// Money arrived after the payment expired or was cancelled.
    #[serde(rename = "payment.paid_late")]
    PaidLate,
    /// The payment expired.
    #[serde(rename = "payment.expired")]
    Expired,
    /// The payment was cancelled.
    #[serde(rename = "payment.cancelled")]
    Cancelled,
    /// A reorg took a credit away and the payment moved back.
    #[serde(rename = "payment.reverted")]
    Reverted,
    /// A test event a merchant asked for, about a sample payment: never emitted by a payment,
    /// never subscribable (not in [`EventKind::ALL`]), sent to one endpoint whatever its filter.
    #[serde(rename = "webhook.test")]
    Test,
}

impl EventKind {
    /// Every kind, for filters and documentation.
    pub const ALL: [EventKind; 9] = [
        EventKind::Created,
        EventKind::Processing,
        EventKind::PartiallyPaid,
        EventKind::Completed,
        EventKind::Overpaid,
        EventKind::PaidLate,
        EventKind::Expired,
        EventKind::Cancelled,
        EventKind::Reverted,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "payment.created",
            EventKind::Processing => "payment.processing",
            EventKind::PartiallyPaid => "payment.partially_paid",
            EventKind::Completed => "payment.completed",
            EventKind::Overpaid => "payment.overpaid",
            EventKind::PaidLate => "payment.paid_late",
            EventKind::Expired => "payment.expired",
            EventKind::Cancelled => "payment.cancelled",
            EventKind::Reverted => "payment.reverted",
            EventKind::Test => "webhook.test",
        }
    }

    /// Parses the wire name of a kind a payment emits (what an endpoint may subscribe to).
    pub fn parse(s: &str) -> Option<Self> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Parses a stored name: a payment's kinds and [`EventKind::Test`].
    pub fn parse_stored(s: &str) -> Option<Self> {
        if s == EventKind::Test.as_str() {
            return Some(EventKind::Test);
        }
        EventKind::parse(s)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored event. `payload` is the payment as it stood right after the transition, so a
/// webhook sent hours later still describes the moment it announces.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Stable id (the webhook id merchants deduplicate on).
    pub id: EventId,
    /// Kind.
    pub kind: EventKind,
    /// The payment.
    pub payment_id: PaymentId,
    /// Its merchant.
    pub merchant_id: MerchantId,
    /// Its mode.
    pub mode: Mode,
    /// The payment's version after the transition: orders events of one payment.
    pub sequence: i64,
    /// Snapshot of the payment (its JSON form).
    pub payload: serde_json::Value,
    /// When.
    pub created_at: DateTime<Utc>,
}

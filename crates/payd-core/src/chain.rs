//! What payd knows about chains, as domain values: a block ([`BlockRef`]), a transfer to one
//! of payd's addresses ([`NewTransfer`], [`StoredTransfer`] with its [`TransferStatus`]), a
//! transfer on devnet's simulated chain ([`DevnetTransfer`]), and the funds tally
//! ([`tally`]): how a payment's credited transfers add up to its [`Funds`].

use chrono::{DateTime, Utc};

use crate::ids::PaymentId;
use crate::payment::Funds;

/// Where a transfer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferStatus {
    /// In a canonical block, not yet at its payment's confirmation depth.
    Seen,
    /// At the confirmation depth.
    Confirmed,
    /// Its block left the canonical chain.
    Orphaned,
}

impl TransferStatus {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TransferStatus::Seen => "seen",
            TransferStatus::Confirmed => "confirmed",
            TransferStatus::Orphaned => "orphaned",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        [TransferStatus::Seen, TransferStatus::Confirmed, TransferStatus::Orphaned]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// A block: number and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRef {
    /// Number.
    pub number: u64,
    /// Hash.
    pub hash: String,
}

/// A transfer a watcher hands to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTransfer {
    /// Canonical network id.
    pub network: String,
    /// Transaction hash.
    pub tx_hash: String,
    /// Log index in its block.
    pub log_index: u64,
    /// Token contract (devnet: the ticker).
    pub token: String,
    /// Sender.
    pub from: String,
    /// Recipient.
    pub to: String,
    /// Base units.
    pub amount: u128,
    /// Block.
    pub block: BlockRef,
    /// When its block was made (the chain's own timestamp): money in a block after a
    /// payment's expiry is late, however soon payd saw it.
    pub block_time: DateTime<Utc>,
    /// The payment it credits; `None` stores it unattributed.
    pub payment_id: Option<PaymentId>,
    /// Why payd did not credit it to a payment (for the operator), when it did not.
    pub note: Option<String>,
}

/// A recorded transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTransfer {
    /// What was recorded (with its latest block).
    pub transfer: NewTransfer,
    /// Status.
    pub status: TransferStatus,
}

/// A transfer on devnet's own chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevnetTransfer {
    /// Transaction hash.
    pub tx_hash: String,
    /// Token ticker.
    pub token: String,
    /// Sender.
    pub from: String,
    /// Recipient.
    pub to: String,
    /// Base units.
    pub amount: u128,
    /// Its block, once mined.
    pub block: Option<BlockRef>,
    /// Its index in the block, once mined.
    pub log_index: Option<u64>,
}

/// One live transfer credited to a payment, as the tally reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credit {
    /// Base units.
    pub amount: u128,
    /// Its block's number.
    pub block: u64,
    /// Its block's timestamp (`None` on rows written before block times were kept: on time).
    pub block_time: Option<DateTime<Utc>>,
}

/// A payment's funds, added up from its credits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// The totals to hand to `Payment::apply_funds`.
    pub funds: Funds,
    /// Positions (in the input order) of the credits left out because the total would no
    /// longer fit a `u128`: the caller leaves them uncredited, with a note for the operator.
    pub overflowed: Vec<usize>,
}

/// Adds up a payment's live credits, in chain order, at chain head `head`: those at least
/// `depth` blocks deep are confirmed, the rest pending, and those in blocks timestamped after
/// `expires_at` are also late. Arithmetic is checked: a credit that would overflow the total
/// is skipped (no real token moves that much, but a node, a test chain or a hostile contract
/// can say so), and the funds always add up.
pub fn tally(credits: &[Credit], head: u64, depth: u64, expires_at: DateTime<Utc>) -> Tally {
    let mut out = Tally::default();
    let mut total: u128 = 0;
    for (i, c) in credits.iter().enumerate() {
        let Some(sum) = total.checked_add(c.amount) else {
            out.overflowed.push(i);
            continue;
        };
        total = sum;
        let confirmations = head.saturating_add(1).saturating_sub(c.block);
        // Within the total, so none of these can overflow.
        if confirmations >= depth.max(1) {
            out.funds.confirmed += c.amount;
        } else {
            out.funds.pending += c.amount;
        }
        if c.block_time.is_some_and(|t| t > expires_at) {
            out.funds.late += c.amount;
        }
    }
    out
}

/// The head a credit needing `depth` confirmations is counted against. With the chain's
/// finalized (Tron: solidified) block known, a credit is confirmed only when it is both deep
/// enough and at or below that block: counting against `min(head, finalized + depth - 1)`
/// gives exactly that, whatever depth each payment carries.
pub fn counting_head(head: u64, finalized: Option<u64>, depth: u64) -> u64 {
    match finalized {
        Some(f) => head.min(f.saturating_add(depth.max(1) - 1)),
        None => head,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(s, 0).unwrap()
    }

    #[test]
    fn deep_credits_are_confirmed_and_late_ones_counted_late() {
        let credits = [
            Credit { amount: 5, block: 10, block_time: Some(at(100)) },
            Credit { amount: 7, block: 12, block_time: Some(at(300)) },
            Credit { amount: 1, block: 13, block_time: None },
        ];
        let t = tally(&credits, 12, 2, at(200));
        assert_eq!(t.funds, Funds { confirmed: 5, pending: 8, late: 7 });
        assert!(t.overflowed.is_empty());
    }

    #[test]
    fn with_a_finalized_block_a_credit_needs_both_depth_and_finality() {
        let credit = |block| [Credit { amount: 1, block, block_time: None }];
        let confirmed = |block, head, finalized, depth| {
            tally(&credit(block), counting_head(head, finalized, depth), depth, at(0)).funds.confirmed == 1
        };
        // Depth only.
        assert!(confirmed(10, 12, None, 3) && !confirmed(11, 12, None, 3));
        // Deep enough but above the finalized block: not yet.
        assert!(!confirmed(10, 30, Some(9), 3));
        // Finalized but not deep enough: not yet.
        assert!(!confirmed(10, 11, Some(10), 3));
        // Both.
        assert!(confirmed(10, 12, Some(10), 3) && confirmed(9, 40, Some(9), 30));
        assert!(!confirmed(10, 40, Some(9), 30));
    }

    #[test]
    fn a_credit_that_would_overflow_is_left_out() {
        let credits = [
            Credit { amount: u128::MAX - 1, block: 1, block_time: None },
            Credit { amount: 5, block: 2, block_time: None },
            Credit { amount: 1, block: 3, block_time: None },
        ];
        let t = tally(&credits, 3, 1, at(0));
        assert_eq!(t.overflowed, vec![1]);
        assert_eq!(t.funds.checked_total(), Some(u128::MAX));
    }
}

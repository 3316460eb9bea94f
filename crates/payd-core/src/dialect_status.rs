//! Each provider's status vocabulary, read off payd's status, flags and funds: one table per
//! dialect, shared by its API responses and its webhooks. Every table is ordered so that a
//! dialect's status never moves backwards while money only arrives (only a reorg, which
//! takes money away, may move one back), and late money that covers the amount shows as
//! paid in each vocabulary that has no word for "late" (with payd's `paid_late` flag beside
//! it). The tables are written out in each `docs/dialects/*.md`.

use crate::payment::{Payment, PaymentStatus};

/// Late money that covers the amount: the payment expired, and was then paid in full.
fn paid_in_full_late(p: &Payment) -> bool {
    p.status == PaymentStatus::Expired && p.paid_late && p.paid_in_full()
}

/// AstraPay's `status` (upper case in its REST API, lower case in its webhooks).
///
/// A payment seen in full but not yet confirmed stays `PENDING`, unless part of it came
/// first: then it stays `PARTIALLY_PAID` until it completes, rather than going back.
pub fn astrapay(p: &Payment) -> &'static str {
    match p.status {
        PaymentStatus::Pending => "PENDING",
        PaymentStatus::Processing if p.partial_seen => "PARTIALLY_PAID",
        PaymentStatus::Processing => "PENDING",
        PaymentStatus::Completed => "COMPLETED",
        PaymentStatus::Expired if paid_in_full_late(p) => "COMPLETED",
        PaymentStatus::Expired => "EXPIRED",
        PaymentStatus::Cancelled => "CANCELED",
    }
}

/// MutoPay's `status`: money short of the amount is still `awaiting_payment` (the rest is
/// awaited), the whole amount seen is `confirming`; an expiry with part paid is `underpaid`.
pub fn mutopay(p: &Payment) -> &'static str {
    match p.status {
        PaymentStatus::Pending if p.asset.is_some() => "awaiting_payment",
        PaymentStatus::Pending => "pending",
        PaymentStatus::Processing if p.paid_in_full() => "confirming",
        PaymentStatus::Processing => "awaiting_payment",
        PaymentStatus::Completed => "completed",
        PaymentStatus::Expired if paid_in_full_late(p) => "completed",
        PaymentStatus::Expired if p.underpaid => "underpaid",
        PaymentStatus::Expired => "expired",
        // MutoPay calls a payment that will never complete `failed`.
        PaymentStatus::Cancelled => "failed",
    }
}

/// AlpPay's `(status, displayStatus)`.
pub fn alppay(p: &Payment) -> (&'static str, &'static str) {
    let paid = if p.overpaid { "OVERPAID" } else { "COMPLETED" };
    match p.status {
        PaymentStatus::Pending if p.asset.as_ref().is_none_or(|a| a.address.is_none()) => ("OPEN", "NEW"),
        PaymentStatus::Pending => ("OPEN", "OPEN"),
        PaymentStatus::Processing if p.partial_seen => ("OPEN", "UNDERPAID"),
        PaymentStatus::Processing => ("OPEN", "OPEN"),
        PaymentStatus::Completed => ("COMPLETED", paid),
        PaymentStatus::Expired if paid_in_full_late(p) => ("COMPLETED", paid),
        PaymentStatus::Expired if p.underpaid => ("EXPIRED", "UNDERPAID"),
        PaymentStatus::Expired => ("EXPIRED", "EXPIRED"),
        PaymentStatus::Cancelled => ("CANCELLED", "CANCELLED"),
    }
}

/// Paygentic's `status` (payd's own statuses, spelled as Paygentic does).
pub fn paygentic(p: &Payment) -> &'static str {
    match p.status {
        PaymentStatus::Expired if paid_in_full_late(p) => "completed",
        s => s.as_str(),
    }
}

/// One set of payd states a dialect status covers, for list filters: a status and the flags
/// that must hold (`None`: either). A dialect status is the union of its cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StateCase {
    /// payd's status.
    pub status: Option<PaymentStatus>,
    /// `partial_seen`.
    pub partial_seen: Option<bool>,
    /// `paid_late`.
    pub paid_late: Option<bool>,
    /// `underpaid`.
    pub underpaid: Option<bool>,
    /// `overpaid`.
    pub overpaid: Option<bool>,
    /// Whether a deposit address is assigned.
    pub has_address: Option<bool>,
}

impl StateCase {
    fn of(status: PaymentStatus) -> Self {
        StateCase { status: Some(status), ..StateCase::default() }
    }

    /// Whether `p` is in this case.
    pub fn matches(&self, p: &Payment) -> bool {
        let is = |want: Option<bool>, have: bool| want.is_none_or(|w| w == have);
        self.status.is_none_or(|s| s == p.status)
            && is(self.partial_seen, p.partial_seen)
            && is(self.paid_late, p.paid_late)
            && is(self.underpaid, p.underpaid)
            && is(self.overpaid, p.overpaid)
            && is(self.has_address, p.asset.as_ref().is_some_and(|a| a.address.is_some()))
    }
}

/// Expired, then paid in full by late money (`paid_late` and not `underpaid` together mean
/// the late money brought the total to the amount).
fn late_in_full() -> StateCase {
    StateCase { paid_late: Some(false), ..StateCase::of(PaymentStatus::Expired) }.with_late(true)
}

impl StateCase {
    fn with_late(mut self, late: bool) -> Self {
        self.paid_late = Some(late);
        if late {
            self.underpaid = Some(false);
        }
        self
    }
}

/// The payd states an AstraPay status covers; `None` for a name AstraPay does not have.
pub fn astrapay_cases(name: &str) -> Option<Vec<StateCase>> {
    use PaymentStatus as S;
    Some(match name {
        "PENDING" => {
            vec![
                StateCase::of(S::Pending),
                StateCase { partial_seen: Some(false), ..StateCase::of(S::Processing) },
            ]
        }
        "PARTIALLY_PAID" => vec![StateCase { partial_seen: Some(true), ..StateCase::of(S::Processing) }],
        "COMPLETED" => vec![StateCase::of(S::Completed), late_in_full()],
        "EXPIRED" => vec![
            StateCase { paid_late: Some(false), ..StateCase::of(S::Expired) },
            StateCase { paid_late: Some(true), underpaid: Some(true), ..StateCase::of(S::Expired) },
        ],
        "CANCELED" => vec![StateCase::of(S::Cancelled)],
        _ => return None,
    })
}

/// The payd states a Paygentic status covers; `None` for a name Paygentic does not have.
pub fn paygentic_cases(name: &str) -> Option<Vec<StateCase>> {
    match PaymentStatus::parse(name)? {
        PaymentStatus::Completed => Some(vec![StateCase::of(PaymentStatus::Completed), late_in_full()]),
        PaymentStatus::Expired => astrapay_cases("EXPIRED"),
        s => Some(vec![StateCase::of(s)]),
    }
}

/// The payd states an AlpPay `status` (`OPEN`, `COMPLETED`, `EXPIRED`, `CANCELLED`) or
/// `displayStatus` (`NEW`, `OPEN`, `COMPLETED`, `OVERPAID`, `UNDERPAID`, `EXPIRED`) covers.
pub fn alppay_cases(name: &str, display: bool) -> Option<Vec<StateCase>> {
    use PaymentStatus as S;
    let expired_plain = StateCase { underpaid: Some(false), ..astrapay_cases("EXPIRED")?[0] };
    Some(match (name, display) {
        ("OPEN", false) => vec![StateCase::of(S::Pending), StateCase::of(S::Processing)],
        ("COMPLETED", false) => vec![StateCase::of(S::Completed), late_in_full()],
        ("EXPIRED", false) => astrapay_cases("EXPIRED")?,
        ("CANCELLED", false) => vec![StateCase::of(S::Cancelled)],
        ("NEW", true) => vec![StateCase { has_address: Some(false), ..StateCase::of(S::Pending) }],
        ("OPEN", true) => vec![
            StateCase { has_address: Some(true), ..StateCase::of(S::Pending) },
            StateCase { partial_seen: Some(false), ..StateCase::of(S::Processing) },
        ],
        ("UNDERPAID", true) => vec![
            StateCase { partial_seen: Some(true), ..StateCase::of(S::Processing) },
            StateCase { underpaid: Some(true), ..StateCase::of(S::Expired) },
        ],
        ("COMPLETED", true) | ("OVERPAID", true) => {
            let overpaid = Some(name == "OVERPAID");
            vec![
                StateCase { overpaid, ..StateCase::of(S::Completed) },
                StateCase { overpaid, ..late_in_full() },
            ]
        }
        ("EXPIRED", true) => vec![expired_plain],
        ("CANCELLED", true) => vec![StateCase::of(S::Cancelled)],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payment::{test_payment, test_t0 as t0, Funds};
    use chrono::Duration;

    fn payment() -> Payment {
        let mut p = test_payment(100);
        if let Some(a) = p.asset.as_mut() {
            a.address = Some("0xabc".into());
        }
        p
    }

    fn rank(order: &[&str], s: &str) -> usize {
        order.iter().position(|o| *o == s).unwrap_or(usize::MAX)
    }

    /// Every way money can arrive: (confirmed, pending, late) after each step, and whether
    /// the sweeper runs before the step.
    fn journeys() -> Vec<Vec<(Funds, bool)>> {
        let f = |confirmed, pending, late| Funds { confirmed, pending, late };
        vec![
            vec![(f(0, 100, 0), false), (f(100, 0, 0), false)],
            vec![(f(0, 40, 0), false), (f(40, 0, 0), false), (f(40, 60, 0), false), (f(100, 0, 0), false)],
            vec![(f(0, 40, 0), false), (f(0, 100, 0), false), (f(100, 20, 0), false), (f(120, 0, 0), false)],
            vec![(f(40, 0, 0), false), (f(40, 0, 0), true), (f(40, 60, 60), false), (f(100, 10, 70), false)],
            vec![(f(0, 0, 0), true), (f(0, 30, 30), false), (f(0, 100, 100), false)],
            vec![(f(40, 0, 0), false), (f(40, 60, 60), false)],
        ]
    }

    fn walk(order: &[&str], status: impl Fn(&Payment) -> String) {
        for journey in journeys() {
            let mut p = payment();
            let mut seen = vec![status(&p)];
            let later = t0() + Duration::hours(1);
            for (funds, sweep) in journey {
                if sweep {
                    let _ = p.expire(later);
                    seen.push(status(&p));
                }
                if funds != p.funds {
                    assert!(p.apply_funds(funds, 0, later).is_ok());
                }
                seen.push(status(&p));
            }
            for w in seen.windows(2) {
                assert!(rank(order, &w[0]) <= rank(order, &w[1]), "{seen:?} goes back");
            }
        }
    }

    #[test]
    fn astrapay_never_goes_back_while_money_arrives() {
        walk(&["PENDING", "PARTIALLY_PAID", "EXPIRED", "COMPLETED"], |p| astrapay(p).to_owned());
    }

    #[test]
    fn mutopay_never_goes_back_while_money_arrives() {
        walk(&["awaiting_payment", "confirming", "expired", "underpaid", "completed"], |p| {
            mutopay(p).to_owned()
        });
    }

    #[test]
    fn alppay_never_goes_back_while_money_arrives() {
        let order = [
            "OPEN/OPEN",
            "OPEN/UNDERPAID",
            "EXPIRED/EXPIRED",
            "EXPIRED/UNDERPAID",
            "COMPLETED/COMPLETED",
            "COMPLETED/OVERPAID",
        ];
        walk(&order, |p| {
            let (s, d) = alppay(p);
            format!("{s}/{d}")
        });
    }

    #[test]
    fn paygentic_never_goes_back_while_money_arrives() {
        walk(&["pending", "processing", "expired", "completed"], |p| paygentic(p).to_owned());
    }

    #[test]
    fn late_money_that_covers_the_amount_reads_as_paid_everywhere() {
        let mut p = payment();
        let _ = p.expire(t0() + Duration::hours(1));
        let _ = p.apply_funds(Funds { confirmed: 100, pending: 0, late: 100 }, 0, t0());
        assert_eq!(
            (astrapay(&p), mutopay(&p), alppay(&p), paygentic(&p)),
            ("COMPLETED", "completed", ("COMPLETED", "COMPLETED"), "completed")
        );
        assert!(p.paid_late && !p.underpaid);
    }

    /// Payments in every state the journeys reach, and a few more.
    fn samples() -> Vec<Payment> {
        let mut out = Vec::new();
        for journey in journeys() {
            let mut p = payment();
            out.push(p.clone());
            let mut no_address = p.clone();
            if let Some(a) = no_address.asset.as_mut() {
                a.address = None;
            }
            out.push(no_address);
            for (funds, sweep) in journey {
                if sweep {
                    let _ = p.expire(t0() + Duration::hours(1));
                    out.push(p.clone());
                }
                let _ = p.apply_funds(funds, 0, t0() + Duration::hours(1));
                out.push(p.clone());
                let mut cancelled = payment();
                let _ = cancelled.cancel(t0());
                out.push(cancelled);
            }
        }
        out
    }

    #[test]
    fn each_filter_selects_exactly_the_payments_shown_with_that_status() {
        let covers = |cases: Option<Vec<StateCase>>, p: &Payment| {
            cases.unwrap_or_default().iter().any(|c| c.matches(p))
        };
        for p in samples() {
            for name in ["PENDING", "PARTIALLY_PAID", "COMPLETED", "EXPIRED", "CANCELED"] {
                assert_eq!(covers(astrapay_cases(name), &p), astrapay(&p) == name, "AstraPay {name}: {p:?}");
            }
            for name in ["pending", "processing", "completed", "expired", "cancelled"] {
                assert_eq!(
                    covers(paygentic_cases(name), &p),
                    paygentic(&p) == name,
                    "Paygentic {name}: {p:?}"
                );
            }
            let (status, display) = alppay(&p);
            for name in ["OPEN", "COMPLETED", "EXPIRED", "CANCELLED"] {
                assert_eq!(
                    covers(alppay_cases(name, false), &p),
                    status == name,
                    "AlpPay status {name}: {p:?}"
                );
            }
            for name in ["NEW", "OPEN", "COMPLETED", "OVERPAID", "UNDERPAID", "EXPIRED", "CANCELLED"] {
                assert_eq!(
                    covers(alppay_cases(name, true), &p),
                    display == name,
                    "AlpPay display {name}: {p:?}"
                );
            }
        }
        assert_eq!(astrapay_cases("REFUNDED"), None);
    }
}

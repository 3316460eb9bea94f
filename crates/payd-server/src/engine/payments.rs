//! Payments: create (with its idempotency fingerprint), find (by any API's kind of
//! reference, as one caller sees it), cancel, expire, and what the dialects read back (the
//! first credited transaction).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use payd_core::apikey::Mode;
use payd_core::chain::StoredTransfer;
use payd_core::ids::PaymentId;
use payd_core::merchant::Merchant;
use payd_core::payment::{generate_slug, NewPayment, Payment, TransitionError};
use payd_core::registry::Family;
use payd_store::{
    AddressPlan, CreateOutcome, IdempotencyRequest, PaymentFilter, Store, StoreError, StoredResponse,
};
use sha2::{Digest, Sha256};

use super::addresses::{deposit_key, family_label, AddressRefusal};
pub use super::asset::{choose_asset, payable_assets, ChooseError, Payable};
use crate::config::networks::EvmNetwork;

/// The digest an idempotency key is bound to: method, path and the body in canonical JSON
/// (keys sorted, no whitespace), so a retry that re-serialises the same object still matches.
pub fn fingerprint(method: &str, path: &str, body: &serde_json::Value) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update(b"\n");
    h.update(path.as_bytes());
    h.update(b"\n");
    h.update(body.to_string().as_bytes());
    hex::encode(h.finalize())
}

/// Why a payment could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// A live payment on a network this payd does not watch: nothing would ever see the
    /// customer's money.
    #[error("live payments on `{0}` need the operator to configure that network: add a [[networks]] entry named \"{0}\" with its RPC endpoint to payd.toml (see docs/configuration.md)")]
    NetworkNotWatched(String),
    /// A network of a chain family payd cannot take payments on yet.
    #[error("payd cannot take payments on {0} yet")]
    FamilyNotSupported(String),
    /// A live payment on a network whose merchant has no xpub of its family to derive
    /// addresses from.
    #[error(
        "live payments on {network} need the merchant's {} extended public key (payd merchant configure <id> --xpub-{} <xpub>)",
        family_label(*family),
        family.as_str()
    )]
    NoXpub {
        /// The payment's network.
        network: String,
        /// Its family.
        family: Family,
    },
    /// The merchant's stored xpub does not derive (it was changed outside payd).
    #[error("the merchant's {} extended public key is not usable: {reason}", family_label(*family))]
    BadXpub {
        /// The key's family.
        family: Family,
        /// Why.
        reason: String,
    },
    /// The merchant did not enable this token on this network for its checkout.
    #[error("{token} on {network} is not enabled for this merchant's checkout: enable it in the dashboard's settings (Assets offered at checkout) or name another token or network")]
    AssetNotEnabled {
        /// The token asked for.
        token: String,
        /// The network asked for.
        network: String,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AddressRefusal> for CreateError {
    fn from(e: AddressRefusal) -> Self {
        match e {
            AddressRefusal::NetworkNotWatched(n) => CreateError::NetworkNotWatched(n),
            AddressRefusal::FamilyNotSupported(f) => CreateError::FamilyNotSupported(f),
            AddressRefusal::NoXpub { network, family } => CreateError::NoXpub { network, family },
            AddressRefusal::BadXpub { family, reason } => CreateError::BadXpub { family, reason },
            AddressRefusal::Store(e) => CreateError::Store(e),
        }
    }
}

/// Creates a payment (and its `payment.created` event) or replays the response saved for
/// its idempotency key. Everything that can refuse the payment (an asset the merchant did
/// not enable, an unwatched network, a merchant without a key for the chain) is checked
/// before anything is written (a refused create whose idempotency key was already used
/// replays instead, so a retry after the merchant's settings changed keeps its answer); the
/// deposit address is then taken inside the create's transaction, after the idempotency key
/// is claimed, so a replay takes none. A slug collision, vanishingly rare, is retried with a
/// new slug.
pub async fn create_payment(
    store: &Store,
    networks: &[EvmNetwork],
    new: NewPayment,
    idempotency: Option<&IdempotencyRequest>,
    now: DateTime<Utc>,
    render: impl Fn(&Payment) -> Result<StoredResponse, StoreError> + Send + Sync + 'static,
) -> Result<CreateOutcome, CreateError> {
    let plan = match admit(store, networks, &new).await {
        Ok(plan) => plan,
        Err(e @ CreateError::Store(_)) => return Err(e),
        // The refusal reflects the merchant's settings now; a key already used answers with
        // what the store saved for it (or its mismatch), as a retry must. Read only here, so
        // a create that is not refused costs no extra query.
        Err(refused) => {
            if let Some(req) = idempotency {
                if let Some(outcome) = store.idempotent_replay(req).await? {
                    return Ok(outcome);
                }
            }
            return Err(refused);
        }
    };
    // Shared by the attempts below (each hands the store a render of its own).
    let render = Arc::new(render);
    let mut attempts = 0;
    loop {
        let slug = generate_slug().map_err(|e| StoreError::Corrupt(format!("random source: {e}")))?;
        let (payment, events) = Payment::create(new.clone(), slug, now);
        let render = Arc::clone(&render);
        let outcome = store
            .create_payment(&payment, &events, idempotency, plan.as_ref(), move |p: &Payment| render(p))
            .await;
        match outcome {
            Err(StoreError::Conflict("payments_slug_key")) if attempts < 3 => attempts += 1,
            other => return Ok(other?),
        }
    }
}

/// Everything that can refuse a new payment, checked before anything is written: the
/// merchant's allow-list, then the deposit key. The plan says how its address is taken.
async fn admit(
    store: &Store,
    networks: &[EvmNetwork],
    new: &NewPayment,
) -> Result<Option<AddressPlan>, CreateError> {
    // Every API's create with a named (or settlement) asset passes here: the one place the
    // merchant's allow-list is held against a new payment. `devnet` itself is test mode's own
    // chain, never offered at checkout, so no list can name it: it stays open to tests.
    let listed = |a: &payd_core::payment::AssetQuote| {
        payd_core::registry::network(&a.network).is_none_or(|n| n.family != Family::Devnet)
    };
    if let Some(asset) = new.asset.as_ref().filter(|a| listed(a)) {
        let enabled = store.merchant_assets(&new.merchant_id).await?;
        if !super::asset::allows(&enabled, &asset.token, &asset.network) {
            return Err(CreateError::AssetNotEnabled {
                token: asset.token.clone(),
                network: asset.network.clone(),
            });
        }
    }
    let key = deposit_key(store, networks, new).await?;
    Ok(key.map(|k| AddressPlan {
        key_id: k.key_id().to_owned(),
        family: k.family().to_owned(),
        derive: Arc::new(move |index: u64| k.derive(index)),
    }))
}

/// The hash of the first transfer still credited to a payment (dialects that show one
/// `transaction_hash`).
pub async fn first_tx_hash(store: &Store, id: &PaymentId) -> Result<Option<String>, StoreError> {
    Ok(first_credited(store.transfers_of_payment(id).await?))
}

/// [`first_tx_hash`] of each payment of a list page, read in one call.
pub async fn first_tx_hashes(
    store: &Store,
    payments: &[Payment],
) -> Result<std::collections::HashMap<PaymentId, String>, StoreError> {
    let mut by_payment = transfers_of_page(store, payments).await?;
    Ok(payments
        .iter()
        .filter_map(|p| first_credited(by_payment.remove(&p.id)?).map(|h| (p.id.clone(), h)))
        .collect())
}

fn first_credited(transfers: Vec<StoredTransfer>) -> Option<String> {
    transfers
        .into_iter()
        .filter(|t| t.status != payd_store::chain::TransferStatus::Orphaned)
        .min_by_key(|t| (t.transfer.block.number, t.transfer.log_index))
        .map(|t| t.transfer.tx_hash)
}

/// How an API names a payment.
#[derive(Debug, Clone, Copy)]
pub enum PaymentRef<'a> {
    /// payd's id (`pay_…`): the native API, MutoPay, Paygentic.
    Id(&'a str),
    /// payd's id or the UUID inside it: AlpPay.
    IdOrUuid(&'a str),
    /// payd's id, its UUID or its short id (slug): AstraPay.
    Any(&'a str),
}

/// What a caller finds when it names a payment.
#[derive(Debug)]
pub enum Lookup {
    /// The payment, in the caller's mode and of one of its merchants.
    Visible(Box<Payment>),
    /// No payment by that name.
    Missing,
    /// A payment the caller may not see, and why (an API chooses 404 or 403 from these).
    Hidden {
        /// It belongs to a merchant the caller does not act for.
        other_merchant: bool,
        /// It is in the other mode (test or live).
        other_mode: bool,
    },
}

impl Lookup {
    /// The payment if the caller may see it.
    pub fn visible(self) -> Option<Payment> {
        match self {
            Lookup::Visible(p) => Some(*p),
            _ => None,
        }
    }
}

/// Finds the payment `reference` names, as seen by a caller in `mode` acting for
/// `merchants`: the one lookup every API makes before it reads or changes a payment.
pub async fn find(
    store: &Store,
    reference: PaymentRef<'_>,
    mode: Mode,
    merchants: &[Merchant],
) -> Result<Lookup, StoreError> {
    let Some(payment) = resolve(store, reference).await? else { return Ok(Lookup::Missing) };
    let other_merchant = !merchants.iter().any(|m| m.id == payment.merchant_id);
    let other_mode = payment.mode != mode;
    Ok(if other_merchant || other_mode {
        Lookup::Hidden { other_merchant, other_mode }
    } else {
        Lookup::Visible(Box::new(payment))
    })
}

/// The payment `reference` names, whoever it belongs to: for the operator's commands
/// (`payd devnet pay`), which act for no merchant. Every API goes through [`find`].
pub async fn resolve(store: &Store, reference: PaymentRef<'_>) -> Result<Option<Payment>, StoreError> {
    let by_uuid = |text: &str| uuid::Uuid::try_parse(text).ok().map(PaymentId::from_uuid);
    Ok(match reference {
        PaymentRef::Id(text) => match text.parse::<PaymentId>() {
            Ok(id) => store.get_payment(&id).await?,
            Err(_) => None,
        },
        PaymentRef::IdOrUuid(text) => match by_uuid(text).or_else(|| text.parse().ok()) {
            Some(id) => store.get_payment(&id).await?,
            None => None,
        },
        PaymentRef::Any(text) => match by_uuid(text).or_else(|| text.parse().ok()) {
            Some(id) => store.get_payment(&id).await?,
            // A short id is at most 64 characters; anything longer names nothing.
            None if text.len() <= 64 => store.get_payment_by_slug(text).await?,
            None => None,
        },
    })
}

/// The payments `filter` selects, in its order and page. Every API's list reads through
/// here; the filter carries the caller's merchants and mode.
pub async fn list(store: &Store, filter: &PaymentFilter) -> Result<Vec<Payment>, StoreError> {
    store.list_payments(filter).await
}

/// How many payments `filter` selects, all pages together.
pub async fn count(store: &Store, filter: &PaymentFilter) -> Result<i64, StoreError> {
    store.count_payments(filter).await
}

/// Every transfer recorded for a payment, orphaned ones included (dialects that list a
/// payment's transactions).
pub async fn transfers(store: &Store, id: &PaymentId) -> Result<Vec<StoredTransfer>, StoreError> {
    store.transfers_of_payment(id).await
}

/// [`transfers`] of each payment of a list page, in one call (a list costs the same number of
/// queries whatever its page size).
pub async fn transfers_of_page(
    store: &Store,
    payments: &[Payment],
) -> Result<std::collections::HashMap<PaymentId, Vec<StoredTransfer>>, StoreError> {
    let ids: Vec<PaymentId> = payments.iter().map(|p| p.id.clone()).collect();
    let mut out: std::collections::HashMap<PaymentId, Vec<StoredTransfer>> = std::collections::HashMap::new();
    for t in store.transfers_of_payments(&ids).await? {
        if let Some(id) = t.transfer.payment_id.clone() {
            out.entry(id).or_default().push(t);
        }
    }
    Ok(out)
}

/// Why a cancel was refused.
#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    /// The state machine refused.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Cancels a payment that is pending and has received nothing.
pub async fn cancel_payment(store: &Store, id: &PaymentId) -> Result<Payment, CancelError> {
    cancel(store, id, None).await
}

/// Cancels like [`cancel_payment`] for a person (the dashboard), with their audit line written
/// in the cancel's own transaction: a refused cancel writes no line, a done one always has it.
pub async fn cancel_payment_audited(
    store: &Store,
    id: &PaymentId,
    line: &payd_store::users::AuditEntry,
) -> Result<Payment, CancelError> {
    cancel(store, id, Some(line)).await
}

async fn cancel(
    store: &Store,
    id: &PaymentId,
    line: Option<&payd_store::users::AuditEntry>,
) -> Result<Payment, CancelError> {
    let now = payd_store::now();
    let mut rule = |p: &mut Payment| p.cancel(now);
    let done = match line {
        Some(line) => store.mutate_payment_audited(id, line, &mut rule).await?,
        None => store.mutate_payment(id, &mut rule).await?,
    };
    match done {
        Ok((payment, _events)) => Ok(payment),
        Err(e) => Err(CancelError::Transition(e)),
    }
}

/// Expires every open payment whose time has passed at `now`, in batches, each payment in
/// its own transaction with its `payment.expired` event. Returns how many expired.
pub async fn expire_due(store: &Store, now: DateTime<Utc>) -> Result<usize, StoreError> {
    const BATCH: u32 = 200;
    let mut expired = 0;
    loop {
        let due = store.payments_due_for_expiry(now, BATCH).await?;
        let n = due.len();
        for id in due {
            match store.mutate_payment(&id, &mut |p: &mut Payment| p.expire(now)).await? {
                Ok(_) => expired += 1,
                // Another node, or a credit, moved it first: nothing to do.
                Err(
                    TransitionError::NotDue | TransitionError::NotExpirable(_) | TransitionError::PaidInTime,
                ) => {}
                Err(e) => tracing::warn!(payment = %id, error = %e, "could not expire payment"),
            }
        }
        if n < BATCH as usize {
            return Ok(expired);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_key_is_named_by_the_networks_family() {
        let evm = CreateError::NoXpub { network: "base".into(), family: Family::Evm }.to_string();
        assert!(evm.contains("EVM extended public key") && evm.contains("--xpub-evm"), "{evm}");
        let tron = CreateError::NoXpub { network: "tron".into(), family: Family::Tron }.to_string();
        assert!(tron.contains("Tron extended public key") && tron.contains("--xpub-tron"), "{tron}");
        assert!(!tron.contains("EVM"), "{tron}");
        let bad = CreateError::BadXpub { family: Family::Tron, reason: "bad checksum".into() }.to_string();
        assert_eq!(bad, "the merchant's Tron extended public key is not usable: bad checksum");
    }

    #[test]
    fn fingerprints_ignore_formatting_but_not_content() {
        let a: serde_json::Value = serde_json::from_str(r#"{"b":1,"a":"x"}"#).unwrap_or_default();
        let b: serde_json::Value = serde_json::from_str(r#"{ "a": "x", "b": 1 }"#).unwrap_or_default();
        let c: serde_json::Value = serde_json::from_str(r#"{"a":"x","b":2}"#).unwrap_or_default();
        assert_eq!(fingerprint("POST", "/v1/payments", &a), fingerprint("POST", "/v1/payments", &b));
        assert_ne!(fingerprint("POST", "/v1/payments", &a), fingerprint("POST", "/v1/payments", &c));
    }
}

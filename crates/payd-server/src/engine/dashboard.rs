//! What the merchant dashboard reads and does, bounded by the user's reach (their account's
//! merchants, or every merchant for an operator): the payment list and its search, one
//! payment with its timeline, transfers and webhook deliveries, the CSV export, the API
//! keys and webhook endpoints, and the changes (cancel, redeliver, create and revoke a key,
//! create, enable, disable, rotate and delete an endpoint, a merchant's settings with the
//! preview of an xpub's first addresses), each with its audit line: in the change's own
//! transaction (the store's `*_audited` operations), except a merchant's settings, whose
//! line follows them.

use chrono::{DateTime, Utc};
use payd_core::apikey::{ApiKey, Mode, Scope};
use payd_core::chain::StoredTransfer;
use payd_core::event::Event;
use payd_core::ids::{AccountId, ApiKeyId, DeliveryId, WebhookEndpointId};
use payd_core::merchant::Merchant;
use payd_core::payment::Payment;
use payd_core::user::User;
use payd_core::webhook::{Attempt, Delivery, WebhookEndpoint};
use payd_store::users::DashboardFilter;
use payd_store::webhooks::{DeliveryFilter, EndpointFilter};
use payd_store::{Store, StoreError};

use super::merchants::{self, MerchantError, MerchantSettings, Setting, SettingsIn};
use super::payments::{self, CancelError, PaymentRef};
use super::users::{audit, Actor};
use super::webhooks::endpoints::{self, EndpointError, NewEndpoint};
use super::webhooks::log::{self, ReplayError};
use crate::keys::{IssuedKey, KeyOwner};

/// Rows a CSV export holds at most (the rest are named in its last line).
pub const CSV_MAX_ROWS: u32 = 10_000;

/// The texts a search term may be stored as: as typed, lowercased (hashes), the payment it
/// names through any API's kind of reference (payd's id, the UUID in it, the short id), and
/// an address in the form payd stores for each chain family.
pub async fn search_terms(store: &Store, term: &str) -> Result<Vec<String>, StoreError> {
    let term = term.trim();
    if term.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = vec![term.to_owned(), term.to_lowercase()];
    if let Some(p) = payments::resolve(store, PaymentRef::Any(term)).await? {
        out.push(p.id.to_string());
    }
    for family in payd_chain::family::WATCHED {
        out.extend(payd_chain::family::stored_form(*family, term));
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// A page of the list, and how many payments the filter selects in all.
pub async fn list(store: &Store, filter: &DashboardFilter) -> Result<(Vec<Payment>, i64), StoreError> {
    let page = store.dashboard_payments(filter).await?;
    let total = store.count_dashboard_payments(filter).await?;
    Ok((page, total))
}

/// Every payment the filter selects (up to [`CSV_MAX_ROWS`]), for the export.
pub async fn export(store: &Store, filter: &DashboardFilter) -> Result<Vec<Payment>, StoreError> {
    let mut f = filter.clone();
    f.limit = 500;
    f.offset = 0;
    let mut out = Vec::new();
    loop {
        let page = store.dashboard_payments(&f).await?;
        let n = page.len();
        out.extend(page);
        if n < f.limit as usize || out.len() >= CSV_MAX_ROWS as usize {
            out.truncate(CSV_MAX_ROWS as usize);
            return Ok(out);
        }
        f.offset += f.limit;
    }
}

/// The payment `id` names if it belongs to one of `merchants`; `None` otherwise, exactly as
/// for a payment that does not exist (a guessed id tells nothing).
pub async fn visible(store: &Store, id: &str, merchants: &[Merchant]) -> Result<Option<Payment>, StoreError> {
    let Some(p) = payments::resolve(store, PaymentRef::Id(id)).await? else { return Ok(None) };
    Ok(merchants.iter().any(|m| m.id == p.merchant_id).then_some(p))
}

/// A transfer with how deep it is.
#[derive(Debug)]
pub struct TransferView {
    /// The transfer.
    pub transfer: StoredTransfer,
    /// Blocks on top of its own, its own included (0 for an orphaned one).
    pub confirmations: u64,
}

/// A delivery with its attempts.
#[derive(Debug)]
pub struct DeliveryView {
    /// The delivery.
    pub delivery: Delivery,
    /// Its attempts, oldest first.
    pub attempts: Vec<Attempt>,
}

/// Everything the payment page shows.
#[derive(Debug)]
pub struct Detail {
    /// The payment.
    pub payment: Payment,
    /// Its merchant.
    pub merchant: Merchant,
    /// Its events, in order.
    pub events: Vec<Event>,
    /// Its transfers, in chain order.
    pub transfers: Vec<TransferView>,
    /// Its webhook deliveries, newest first.
    pub deliveries: Vec<DeliveryView>,
}

/// Reads what the payment page shows.
pub async fn detail(store: &Store, payment: Payment, merchant: Merchant) -> Result<Detail, StoreError> {
    let events = store.list_events(&payment.id).await?;
    let head = match (&payment.asset, payment.mode) {
        (_, Mode::Test) => store.devnet_head().await?,
        (Some(a), Mode::Live) => store.chain_cursor(&a.network).await?,
        (None, _) => None,
    };
    let transfers = payments::transfers(store, &payment.id)
        .await?
        .into_iter()
        .map(|t| {
            let confirmations = match (&head, t.status) {
                (_, payd_store::chain::TransferStatus::Orphaned) => 0,
                (Some(h), _) => h.number.saturating_add(1).saturating_sub(t.transfer.block.number),
                (None, _) => 1,
            };
            TransferView { transfer: t, confirmations }
        })
        .collect();
    let filter = DeliveryFilter {
        merchant_id: payment.merchant_id.clone(),
        mode: payment.mode,
        endpoint_id: None,
        event_id: None,
        payment_id: Some(payment.id.clone()),
        status: None,
        before: None,
        limit: 100,
    };
    let mut deliveries = Vec::new();
    for d in log::list(store, &filter).await? {
        let attempts = log::attempts(store, &d.id).await?;
        deliveries.push(DeliveryView { delivery: d, attempts });
    }
    Ok(Detail { payment, merchant, events, transfers, deliveries })
}

/// Cancels a payment the user reaches (the engine's rule: pending, nothing received), with
/// its audit line in the cancel's transaction: a refused cancel leaves no line.
pub async fn cancel(
    store: &Store,
    user: &User,
    payment: &Payment,
    now: DateTime<Utc>,
) -> Result<Payment, CancelError> {
    let account = store.get_merchant(&payment.merchant_id).await?.map(|m| m.account_id);
    let line = audit(&Actor::User(user), "payment.cancel", payment.id.to_string(), account, now);
    payments::cancel_payment_audited(store, &payment.id, &line).await
}

/// Queues one of a visible payment's deliveries again, with its audit line in the same
/// transaction.
/// `ReplayError::NotFound` when the delivery is not the payment's.
pub async fn redeliver(
    store: &Store,
    user: &User,
    payment: &Payment,
    delivery: &DeliveryId,
    account: Option<AccountId>,
    now: DateTime<Utc>,
) -> Result<Delivery, ReplayError> {
    let Some(d) = store.get_webhook_delivery(delivery).await? else { return Err(ReplayError::NotFound) };
    if d.payment_id != payment.id {
        return Err(ReplayError::NotFound);
    }
    let mut line = audit(&Actor::User(user), "webhook.redeliver", delivery.to_string(), account, now);
    line.detail = format!("payment {}", payment.id);
    // The replay and its line in one transaction.
    if !store.replay_webhook_delivery_audited(delivery, now, &line).await? {
        return Err(ReplayError::InFlight);
    }
    store.get_webhook_delivery(delivery).await?.ok_or(ReplayError::NotFound)
}

/// The accounts whose keys a user manages: their merchants' accounts (`None`: every
/// account, for an operator).
fn key_accounts(user: &User, merchants: &[Merchant]) -> Option<Vec<AccountId>> {
    if matches!(user.reach(), payd_core::user::Reach::Everything) {
        return None;
    }
    let mut accounts: Vec<AccountId> = merchants.iter().map(|m| m.account_id.clone()).collect();
    accounts.sort();
    accounts.dedup();
    Some(accounts)
}

/// The API keys in `mode` a user reaches, newest first (revoked ones included).
pub async fn keys(
    store: &Store,
    user: &User,
    merchants: &[Merchant],
    mode: Mode,
) -> Result<Vec<ApiKey>, StoreError> {
    store.dashboard_api_keys(key_accounts(user, merchants).as_deref(), mode).await
}

/// Why a key was not created or revoked.
#[derive(Debug, thiserror::Error)]
pub enum KeyRefusal {
    /// The owner or the key is not within the user's reach (or does not exist).
    #[error("no such merchant, account or key")]
    NotFound,
    /// No scope was chosen.
    #[error("choose at least one scope")]
    NoScope,
    /// Issuing failed.
    #[error(transparent)]
    Key(#[from] crate::keys::KeyError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A key to create, as the dashboard's form gives it.
#[derive(Debug)]
pub struct NewKeyIn<'a> {
    /// A merchant (`mer_…`) or an account (`acct_…`: every merchant of it).
    pub owner: &'a str,
    /// Test or live.
    pub mode: Mode,
    /// Its scopes (at least one).
    pub scopes: Vec<Scope>,
}

/// Issues a key for a merchant or an account within the user's reach, with its audit line in
/// the same transaction. The secrets are in the result, once.
pub async fn create_key(
    store: &Store,
    master: &payd_core::crypto::MasterKey,
    user: &User,
    merchants: &[Merchant],
    input: NewKeyIn<'_>,
    now: DateTime<Utc>,
) -> Result<IssuedKey, KeyRefusal> {
    let NewKeyIn { owner, mode, scopes } = input;
    if scopes.is_empty() {
        return Err(KeyRefusal::NoScope);
    }
    let (owner, account) = if let Ok(id) = owner.parse::<payd_core::ids::MerchantId>() {
        let m = merchants.iter().find(|m| m.id == id).ok_or(KeyRefusal::NotFound)?;
        (KeyOwner::Merchant(id), m.account_id.clone())
    } else if let Ok(id) = owner.parse::<AccountId>() {
        if !merchants.iter().any(|m| m.account_id == id) {
            return Err(KeyRefusal::NotFound);
        }
        (KeyOwner::Account(id.clone()), id)
    } else {
        return Err(KeyRefusal::NotFound);
    };
    let (issued, key_hash) = crate::keys::prepare_key(store, master, owner, mode, scopes).await?;
    let mut line = audit(&Actor::User(user), "api_key.create", issued.key.id.to_string(), Some(account), now);
    line.detail = format!(
        "{} key, scopes {}",
        mode.as_str(),
        issued.key.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
    );
    store.insert_api_key_audited(&issued.key, &key_hash, &line).await?;
    Ok(issued)
}

/// Revokes a key within the user's reach at once (the next request with it gets 401), with
/// its audit line in the same transaction. Returns the key's mode, and `false` (no line)
/// when it was already revoked.
pub async fn revoke_key(
    store: &Store,
    user: &User,
    merchants: &[Merchant],
    key: &str,
    now: DateTime<Utc>,
) -> Result<(Mode, bool), KeyRefusal> {
    let id: ApiKeyId = key.parse().map_err(|_| KeyRefusal::NotFound)?;
    let found = store.get_api_key(&id).await?.ok_or(KeyRefusal::NotFound)?;
    let reached = match key_accounts(user, merchants) {
        None => true,
        Some(accounts) => accounts.contains(&found.account_id),
    };
    if !reached {
        return Err(KeyRefusal::NotFound);
    }
    let line = audit(&Actor::User(user), "api_key.revoke", id.to_string(), Some(found.account_id), now);
    let revoked = store.revoke_api_key_audited(&id, now, &line).await?;
    Ok((found.mode, revoked))
}

/// The webhook endpoints in `mode` of the user's merchants, each merchant's oldest first.
pub async fn endpoints(
    store: &Store,
    merchants: &[Merchant],
    mode: Mode,
) -> Result<Vec<WebhookEndpoint>, EndpointError> {
    let mut out = Vec::new();
    for m in merchants {
        let filter = EndpointFilter {
            merchant_id: m.id.clone(),
            mode,
            format: None,
            after: None,
            offset: 0,
            // The per-merchant cap (`webhooks.max_endpoints`) is at most 1000.
            limit: 1000,
        };
        out.extend(endpoints::page(store, &filter).await?.endpoints);
    }
    Ok(out)
}

/// The endpoint `id` names if it belongs to one of `merchants` (either mode), with its
/// merchant's account; `None` otherwise, like one that does not exist.
pub async fn visible_endpoint(
    store: &Store,
    id: &str,
    merchants: &[Merchant],
) -> Result<Option<(WebhookEndpoint, AccountId)>, StoreError> {
    let Ok(id) = id.parse::<WebhookEndpointId>() else { return Ok(None) };
    let Some(e) = store.get_webhook_endpoint(&id).await? else { return Ok(None) };
    Ok(merchants.iter().find(|m| m.id == e.merchant_id).map(|m| (e, m.account_id.clone())))
}

/// Registers an endpoint for one of the user's merchants (the engine's cap and URL policy
/// apply), with its audit line in the same transaction. The secret is in the result, once.
pub async fn create_endpoint(
    store: &Store,
    master: &payd_core::crypto::MasterKey,
    user: &User,
    new: NewEndpoint,
    account: AccountId,
    max_endpoints: u32,
    now: DateTime<Utc>,
) -> Result<(WebhookEndpoint, payd_core::secret::Secret), EndpointError> {
    let (endpoint, secret) = endpoints::prepare(master, new, now)?;
    let mut line =
        audit(&Actor::User(user), "webhook_endpoint.create", endpoint.id.to_string(), Some(account), now);
    line.detail = endpoint.url.clone();
    if !store.insert_webhook_endpoint_audited(&endpoint, max_endpoints, &line).await? {
        return Err(EndpointError::Limit(max_endpoints));
    }
    Ok((endpoint, secret))
}

/// What the endpoints page changes on one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointAction {
    /// Deliveries start again (a failure run and its reason are forgotten).
    Enable,
    /// Deliveries stop until enabled.
    Disable,
    /// A new secret (the old one stops signing at once; the endpoint page offers an overlap).
    Rotate,
    /// Gone: nothing more is sent to it.
    Delete,
}

/// Applies `action` to an endpoint the user reaches, with its audit line in the same
/// transaction (`engine::manage`). A rotation returns the new secret, once.
pub async fn change_endpoint(
    store: &Store,
    master: &payd_core::crypto::MasterKey,
    user: &User,
    endpoint: WebhookEndpoint,
    account: AccountId,
    action: EndpointAction,
    now: DateTime<Utc>,
) -> Result<Option<payd_core::secret::Secret>, EndpointError> {
    use super::manage;
    Ok(match action {
        EndpointAction::Enable | EndpointAction::Disable => {
            let enabled = action == EndpointAction::Enable;
            manage::set_endpoint_enabled(store, user, endpoint, account, enabled, now).await?;
            None
        }
        EndpointAction::Rotate => {
            let overlap = std::time::Duration::ZERO;
            Some(manage::rotate_endpoint(store, master, user, &endpoint, account, overlap, now).await?.1)
        }
        EndpointAction::Delete => {
            manage::delete_endpoint(store, user, &endpoint, account, now).await?;
            None
        }
    })
}

/// The first addresses each given xpub derives (blank: none), for the merchant to find in
/// their own wallet before saving it: a wrong xpub sends money where nobody can spend it.
#[derive(Debug, Clone, Default)]
pub struct Preview {
    /// The EVM xpub's addresses `0x…`, indexes 0 up.
    pub evm: Vec<String>,
    /// The Tron xpub's addresses `T…`, indexes 0 up.
    pub tron: Vec<String>,
}

/// Derives the first `n` addresses of each xpub given, checked by the engine's own rules
/// (`merchants::parse_xpub_*`); a bad xpub is refused naming its setting.
pub fn xpub_preview(evm: &str, tron: &str, n: u64) -> Result<Preview, MerchantError> {
    use payd_chain::address::{AccountKey, AddressFormat};
    let derive =
        |text: &str, format: AddressFormat, setting: Setting| -> Result<Vec<String>, MerchantError> {
            if text.trim().is_empty() {
                return Ok(Vec::new());
            }
            let checked = match format {
                AddressFormat::Evm => merchants::parse_xpub_evm(text)?,
                AddressFormat::Tron => merchants::parse_xpub_tron(text)?,
            };
            let Some(xpub) = checked else { return Ok(Vec::new()) };
            let key: AccountKey =
                xpub.parse().map_err(|e| MerchantError::Invalid { setting, reason: format!("{e}") })?;
            (0..n)
                .map(|i| {
                    key.address(i, format)
                        .map_err(|e| MerchantError::Invalid { setting, reason: format!("{e}") })
                })
                .collect()
        };
    Ok(Preview {
        evm: derive(evm, AddressFormat::Evm, Setting::XpubEvm)?,
        tron: derive(tron, AddressFormat::Tron, Setting::XpubTron)?,
    })
}

/// Changes a merchant's settings through the engine's rules (every value checked before any
/// is written), with the audit line naming what changed in the same transaction.
pub async fn configure(
    store: &Store,
    networks: &[crate::config::networks::EvmNetwork],
    user: &User,
    merchant: &Merchant,
    input: SettingsIn,
    changed: &[&str],
    now: DateTime<Utc>,
) -> Result<MerchantSettings, MerchantError> {
    merchants::configure(store, networks, &Actor::User(user), &merchant.id, input, Some(changed), now).await
}

//! Customers (Paygentic's today): create one for a merchant, find one as a caller sees it,
//! and the customer a new payment names (one of that merchant's, in the payment's mode).

use chrono::{DateTime, Utc};
use payd_core::apikey::Mode;
use payd_core::catalog::CustomerRecord;
use payd_core::ids::{CustomerId, MerchantId};
use payd_core::merchant::Merchant;
use payd_core::payment::Customer;
use payd_store::{Store, StoreError};

/// A customer to create; its texts are already checked (`engine::fields`).
#[derive(Debug, Clone)]
pub struct NewCustomer {
    /// Owner.
    pub merchant_id: MerchantId,
    /// Mode.
    pub mode: Mode,
    /// The merchant's own id for the customer.
    pub external_id: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Name.
    pub name: Option<String>,
}

/// Creates a customer.
pub async fn create(
    store: &Store,
    new: NewCustomer,
    now: DateTime<Utc>,
) -> Result<CustomerRecord, StoreError> {
    let record = CustomerRecord {
        id: CustomerId::new(),
        merchant_id: new.merchant_id,
        mode: new.mode,
        external_id: new.external_id,
        email: new.email,
        name: new.name,
        created_at: now,
        updated_at: now,
    };
    store.insert_customer(&record).await?;
    Ok(record)
}

/// The customer `id` names if a caller in `mode` acting for `merchants` may see it: another
/// merchant's or the other mode's customer is `None`, like one that does not exist.
pub async fn find(
    store: &Store,
    id: &str,
    mode: Mode,
    merchants: &[Merchant],
) -> Result<Option<CustomerRecord>, StoreError> {
    let Ok(id) = id.parse::<CustomerId>() else { return Ok(None) };
    Ok(store
        .get_customer(&id)
        .await?
        .filter(|c| c.mode == mode && merchants.iter().any(|m| m.id == c.merchant_id)))
}

/// The customer a new payment of `merchant_id` in `mode` names by `id`, as the payment
/// keeps it; `None` unless it is a customer of that very merchant in that mode.
pub async fn of_payment(
    store: &Store,
    id: &str,
    merchant_id: &MerchantId,
    mode: Mode,
) -> Result<Option<Customer>, StoreError> {
    let Ok(id) = id.parse::<CustomerId>() else { return Ok(None) };
    Ok(store
        .get_customer(&id)
        .await?
        .filter(|c| &c.merchant_id == merchant_id && c.mode == mode)
        .map(|c| Customer { external_id: Some(c.id.to_string()), email: c.email, name: c.name }))
}

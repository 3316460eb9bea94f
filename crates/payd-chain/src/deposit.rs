//! Handing a payment a fresh deposit address: the step devnet and live networks share.

use chrono::{DateTime, Utc};
use payd_core::payment::Payment;
use payd_store::chain::NewDepositAddress;
use payd_store::{Store, StoreError};

use crate::address::{AccountKey, AddressError, AddressFormat};

/// Why no address could be recorded.
#[derive(Debug, thiserror::Error)]
pub enum DepositError {
    /// The key could not derive the allocated child.
    #[error(transparent)]
    Derive(#[from] AddressError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Allocates the next derivation index of `key_id` in the database (one statement, so two
/// nodes never hand out the same index), derives that child of `key`, and records the
/// address as `payment`'s (with its AlpPay client, whose later payments reuse it). Returns
/// the address; setting it on the payment's asset is the caller's.
pub async fn allocate_address(
    store: &Store,
    key: &AccountKey,
    key_id: &str,
    family: &str,
    format: AddressFormat,
    payment: &Payment,
    now: DateTime<Utc>,
) -> Result<String, DepositError> {
    let index = store.allocate_address_index(key_id).await?;
    let address = key.address(index, format)?;
    store
        .insert_deposit_address(
            &NewDepositAddress {
                address: address.clone(),
                family: family.into(),
                key_id: key_id.into(),
                index,
                merchant_id: payment.merchant_id.clone(),
                payment_id: Some(payment.id.clone()),
                client_id: payment.client_id.clone(),
            },
            now,
        )
        .await?;
    Ok(address)
}

//! Where a payment's deposit address comes from: an extended public key (the merchant's for
//! a live chain family, or devnet's built-in one), the database counter its indexes are
//! taken from, the family recorded, and the address format. The store takes the index and
//! records the address inside the create's transaction (`payd_store::AddressPlan`), so a
//! replayed request never takes one and two payments never share one.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::address::{AccountKey, AddressError, AddressFormat, DEVNET_XPUB};

/// devnet's account key, parsed once: parsing (base58, checksum, point decompression) cost
/// as much as a derivation, on every test-mode create.
fn devnet_account() -> Result<AccountKey, AddressError> {
    static DEVNET: OnceLock<Result<AccountKey, AddressError>> = OnceLock::new();
    DEVNET.get_or_init(|| DEVNET_XPUB.parse()).clone()
}

/// A key that derives deposit addresses, with the counter and family they are recorded under.
#[derive(Debug, Clone)]
pub struct DepositKey {
    key: AccountKey,
    key_id: String,
    family: &'static str,
    format: AddressFormat,
}

impl DepositKey {
    /// devnet's key, deriving addresses in the format of the family a test payment names
    /// (`0x…` for EVM networks, `T…` for Tron), so a test integration sees what live shows.
    /// Both formats take their indexes from one counter, so they never share a child key.
    pub fn devnet(format: AddressFormat) -> Result<Self, AddressError> {
        Ok(DepositKey {
            key: devnet_account()?,
            key_id: crate::devnet::KEY_ID.to_owned(),
            family: match format {
                AddressFormat::Evm => crate::devnet::NETWORK,
                AddressFormat::Tron => "devnet-tron",
            },
            format,
        })
    }

    /// A merchant's account-level xpub for a live family. The counter belongs to the key,
    /// not the merchant: a new xpub starts at index 0, and two merchants with one xpub share
    /// a counter (so still never one address twice).
    pub fn merchant(xpub: &str, family: &'static str, format: AddressFormat) -> Result<Self, AddressError> {
        let digest = hex::encode(Sha256::digest(xpub.trim().as_bytes()));
        Ok(DepositKey { key: xpub.parse()?, key_id: format!("{family}-{}", &digest[..16]), family, format })
    }

    /// The counter its indexes come from.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The family its addresses are recorded under (an AlpPay client reuses its first
    /// address of the family).
    pub fn family(&self) -> &'static str {
        self.family
    }

    /// The address at `index`.
    pub fn derive(&self, index: u64) -> Result<String, String> {
        self.key.address(index, self.format).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devnet_derives_each_format_from_one_counter() {
        let evm = DepositKey::devnet(AddressFormat::Evm).unwrap();
        let tron = DepositKey::devnet(AddressFormat::Tron).unwrap();
        assert_eq!(evm.key_id(), tron.key_id());
        assert_ne!(evm.family(), tron.family());
        assert!(evm.derive(0).unwrap().starts_with("0x"));
        assert!(tron.derive(0).unwrap().starts_with('T'));
    }

    #[test]
    fn a_merchant_key_counts_per_xpub() {
        let a = DepositKey::merchant(DEVNET_XPUB, "evm", AddressFormat::Evm).unwrap();
        assert!(a.key_id().starts_with("evm-") && a.key_id().len() == 20);
        assert!(DepositKey::merchant("xpub-nonsense", "evm", AddressFormat::Evm).is_err());
    }
}

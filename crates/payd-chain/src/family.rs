//! Chain families as payd-chain knows them: which ones payd watches live ([`WATCHED`], the
//! one list configuration and merchants are checked against), and each family's address
//! rules: the form payd stores a derived address in, and the key addresses are compared by.
//! Adding a family (Solana next) is an arm in each `match` here, its source beside
//! [`crate::evm`], and an entry in [`WATCHED`].

use payd_core::registry::Family;

use crate::address::{eip55, AddressFormat};

/// The families a `[[networks]]` entry may name: payd has a chain source for each.
pub const WATCHED: &[Family] = &[Family::Evm, Family::Tron];

/// Whether payd watches `family` on live networks.
pub fn is_watched(family: Family) -> bool {
    WATCHED.contains(&family)
}

/// The names of [`WATCHED`], for messages (`evm, tron`).
pub fn watched_names() -> String {
    WATCHED.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")
}

/// The format of the addresses derived for `family`; `None` where payd derives none.
pub fn address_format(family: Family) -> Option<AddressFormat> {
    match family {
        Family::Evm | Family::Devnet => Some(AddressFormat::Evm),
        Family::Tron => Some(AddressFormat::Tron),
        Family::Solana => None,
    }
}

/// The key addresses are compared by: lower case for hex (EVM, and devnet's EVM-form
/// addresses), as written for base58 (Tron), which is case-sensitive.
pub fn match_key(address: &str) -> String {
    crate::address::normalize(address)
}

/// `address` in the form payd stores the addresses it derives for `family` (EVM: EIP-55
/// mixed case), or `None` when it is not an address of that family.
pub fn stored_form(family: Family, address: &str) -> Option<String> {
    match family {
        Family::Evm => {
            let hex_part = address.trim().strip_prefix("0x").or_else(|| address.trim().strip_prefix("0X"))?;
            let id = <[u8; 20]>::try_from(hex::decode(hex_part).ok()?).ok()?;
            Some(eip55(&id))
        }
        Family::Tron => crate::address::tron_id(address).map(|id| crate::address::tron(&id)),
        Family::Solana | Family::Devnet => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evm_addresses_are_stored_in_eip55_form() {
        let lower = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed";
        assert_eq!(
            stored_form(Family::Evm, lower).as_deref(),
            Some("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
        );
        assert_eq!(stored_form(Family::Evm, "0x12"), None);
        assert_eq!(match_key("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"), lower);
    }

    #[test]
    fn tron_addresses_are_kept_as_written() {
        let key: crate::address::AccountKey = crate::address::DEVNET_XPUB.parse().unwrap();
        let t = key.address(0, AddressFormat::Tron).unwrap();
        assert_eq!(stored_form(Family::Tron, &t), Some(t.clone()));
        assert_eq!(stored_form(Family::Tron, &t.to_lowercase()), None);
    }

    #[test]
    fn evm_and_tron_are_watched() {
        assert!(is_watched(Family::Evm) && is_watched(Family::Tron));
        assert!(!is_watched(Family::Solana) && !is_watched(Family::Devnet));
        assert_eq!(watched_names(), "evm, tron");
    }
}

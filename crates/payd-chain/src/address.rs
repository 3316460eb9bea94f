//! Deposit addresses derived from an extended public key (BIP-32 public derivation), so payd
//! never holds a spending key. An account-level xpub (`m/44'/60'/0'/0` for EVM,
//! `m/44'/195'/0'/0` for Tron) gives the non-hardened child `i`; its secp256k1 key gives the
//! EVM address (EIP-55) and the Tron address (base58check of `0x41` and the same 20 bytes).

use std::str::FromStr;

use bip32::{ChildNumber, PublicKey as _, XPub};
use k256::elliptic_curve::group::Group as _;
use k256::elliptic_curve::ops::MulByGenerator as _;
use k256::elliptic_curve::sec1::ToEncodedPoint as _;
use k256::{NonZeroScalar, ProjectivePoint};
use sha3::{Digest, Keccak256};

/// A fixed, public xpub for devnet addresses (BIP-32 test vector 1's master key): devnet is
/// simulated, nothing is ever spent from its addresses, and it needs no configuration.
pub const DEVNET_XPUB: &str = "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8";

/// Why an address could not be derived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Not a valid extended public key.
    #[error("not a valid extended public key (xpub)")]
    BadXpub,
    /// The index is 2^31 or above (those are hardened and need the private key).
    #[error("derivation index {0} is out of the non-hardened range")]
    IndexOutOfRange(u64),
    /// The child key is invalid (probability about 2^-127; the next index works).
    #[error("derivation failed at index {0}")]
    Derivation(u32),
}

/// Which address format a family uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressFormat {
    /// `0x` + 40 hex digits with the EIP-55 checksum.
    Evm,
    /// Base58check of `0x41` ++ the 20-byte account id (`T…`).
    Tron,
}

/// A parsed extended public key, with its point kept in projective form for derivation.
#[derive(Clone)]
pub struct AccountKey {
    xpub: XPub,
    point: ProjectivePoint,
}

impl std::fmt::Debug for AccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // An xpub is not a secret, but it links every address of the merchant: keep it out
        // of logs.
        f.write_str("AccountKey(..)")
    }
}

impl FromStr for AccountKey {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, AddressError> {
        let xpub = XPub::from_str(s.trim()).map_err(|_| AddressError::BadXpub)?;
        let point = ProjectivePoint::from(*xpub.public_key().as_affine());
        Ok(AccountKey { xpub, point })
    }
}

impl AccountKey {
    /// The 20-byte account id of non-hardened child `index`.
    ///
    /// BIP-32's public derivation (CKDpub): the tweak `IL` comes from bip32's own
    /// `derive_tweak` (HMAC-SHA512 of the chain code, the parent key and the index), and the
    /// child point is `parent + IL·G`. bip32's `derive_child` computes `IL·G` with k256's
    /// generic scalar multiplication; `mul_by_generator` uses k256's precomputed generator
    /// tables and is several times faster, which matters because every create with an asset
    /// derives an address inside the create's transaction. Checked against bip32's
    /// `derive_child` in the tests below.
    pub fn account_id(&self, index: u64) -> Result<[u8; 20], AddressError> {
        let i = u32::try_from(index).map_err(|_| AddressError::IndexOutOfRange(index))?;
        let child = ChildNumber::new(i, false).map_err(|_| AddressError::IndexOutOfRange(index))?;
        let (tweak, _) = self
            .xpub
            .public_key()
            .derive_tweak(&self.xpub.attrs().chain_code, child)
            .map_err(|_| AddressError::Derivation(i))?;
        // IL ≥ n or a child at infinity makes the index invalid (BIP-32; about 2^-127).
        let il = Option::<NonZeroScalar>::from(NonZeroScalar::from_repr(tweak.into()))
            .ok_or(AddressError::Derivation(i))?;
        let point = self.point + ProjectivePoint::mul_by_generator(&*il);
        if bool::from(point.is_identity()) {
            return Err(AddressError::Derivation(i));
        }
        let encoded = point.to_affine().to_encoded_point(false);
        // Uncompressed SEC1: 0x04 ++ X ++ Y; the address hashes X ++ Y.
        let xy = encoded.as_bytes().get(1..).ok_or(AddressError::Derivation(i))?;
        let hash = Keccak256::digest(xy);
        let mut out = [0u8; 20];
        out.copy_from_slice(hash.get(12..).ok_or(AddressError::Derivation(i))?);
        Ok(out)
    }

    /// The address of child `index` in `format`.
    pub fn address(&self, index: u64, format: AddressFormat) -> Result<String, AddressError> {
        let id = self.account_id(index)?;
        Ok(match format {
            AddressFormat::Evm => eip55(&id),
            AddressFormat::Tron => tron(&id),
        })
    }
}

/// EIP-55 mixed-case checksum encoding of a 20-byte address.
pub fn eip55(id: &[u8; 20]) -> String {
    let lower = hex::encode(id);
    let hash = Keccak256::digest(lower.as_bytes());
    let mut out = String::with_capacity(42);
    out.push_str("0x");
    for (i, c) in lower.chars().enumerate() {
        let nibble = hash.get(i / 2).map_or(0, |b| if i % 2 == 0 { b >> 4 } else { b & 0x0f });
        out.push(if c.is_ascii_alphabetic() && nibble >= 8 { c.to_ascii_uppercase() } else { c });
    }
    out
}

/// Tron's base58check form of a 20-byte account id.
pub fn tron(id: &[u8; 20]) -> String {
    let mut bytes = Vec::with_capacity(21);
    bytes.push(0x41);
    bytes.extend_from_slice(id);
    bs58::encode(bytes).with_check().into_string()
}

/// The 20-byte account id of a Tron address in base58check form (`T…`), or `None` when the
/// text is not one (bad characters, checksum, length or version byte).
pub fn tron_id(address: &str) -> Option<[u8; 20]> {
    let bytes = bs58::decode(address.trim()).with_check(None).into_vec().ok()?;
    match bytes.split_first() {
        Some((0x41, id)) => id.try_into().ok(),
        _ => None,
    }
}

/// Tron's hex form of an account id (`41` ++ 20 bytes, as java-tron's HTTP API writes it).
pub fn tron_hex(id: &[u8; 20]) -> String {
    format!("41{}", hex::encode(id))
}

/// The account id of a Tron hex address (`41` and 40 hex digits, any case), or `None`.
pub fn tron_id_from_hex(text: &str) -> Option<[u8; 20]> {
    let text = text.trim();
    let body = text.strip_prefix("41")?;
    if body.len() != 40 {
        return None;
    }
    hex::decode(body).ok()?.try_into().ok()
}

/// The canonical form addresses are compared in: lower case for EVM hex, as is for base58.
pub fn normalize(address: &str) -> String {
    let a = address.trim();
    if a.starts_with("0x") || a.starts_with("0X") {
        a.to_ascii_lowercase()
    } else {
        a.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bip32::{DerivationPath, Prefix, XPrv};

    const ANVIL: &str = "test test test test test test test test test test test junk";

    fn account_xpub(mnemonic: &str, path: &str) -> AccountKey {
        let seed = bip39::Mnemonic::parse(mnemonic).unwrap().to_seed("");
        let path: DerivationPath = path.parse().unwrap();
        let xprv = XPrv::derive_from_path(seed, &path).unwrap();
        xprv.public_key().to_string(Prefix::XPUB).parse().unwrap()
    }

    #[test]
    fn the_anvil_accounts_come_out_of_their_xpub() {
        let key = account_xpub(ANVIL, "m/44'/60'/0'/0");
        assert_eq!(key.address(0, AddressFormat::Evm).unwrap(), "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
        assert_eq!(key.address(1, AddressFormat::Evm).unwrap(), "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
        assert_eq!(key.address(2, AddressFormat::Evm).unwrap(), "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC");
    }

    #[test]
    fn bip32_test_vector_1_public_derivation() {
        // Vector 1: m/0H/1 is derivable publicly from the xpub of m/0H.
        let m0h: AccountKey = "xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw".parse().unwrap();
        let child = m0h.xpub.derive_child(ChildNumber::new(1, false).unwrap()).unwrap();
        assert_eq!(
            child.to_string(Prefix::XPUB),
            "xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uMash7SyYq527Hqck2AxYysAA7xmALppuCkwQ"
        );
        // Vector 1: m/0H/1/2H/2 → m/0H/1/2H/2/1000000000, both non-hardened steps.
        let m: AccountKey = "xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1ZACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV".parse().unwrap();
        let child = m.xpub.derive_child(ChildNumber::new(1_000_000_000, false).unwrap()).unwrap();
        assert_eq!(
            child.to_string(Prefix::XPUB),
            "xpub6H1LXWLaKsWFhvm6RVpEL9P4KfRZSW7abD2ttkWP3SSQvnyA8FSVqNTEcYFgJS2UaFcxupHiYkro49S8yGasTvXEYBVPamhGW6cFJodrTHy"
        );
    }

    /// The address bip32's own `derive_child` gives for child `index`.
    fn by_bip32(key: &AccountKey, index: u32) -> [u8; 20] {
        let child = key.xpub.derive_child(ChildNumber::new(index, false).unwrap()).unwrap();
        let point = k256::PublicKey::from(child.public_key()).to_encoded_point(false);
        let hash = Keccak256::digest(&point.as_bytes()[1..]);
        hash[12..].try_into().unwrap()
    }

    #[test]
    fn derivation_agrees_with_bip32_at_every_index_tried() {
        let keys = [
            account_xpub(ANVIL, "m/44'/60'/0'/0"),
            account_xpub(ANVIL, "m/44'/195'/0'/0"),
            DEVNET_XPUB.parse().unwrap(),
        ];
        for key in &keys {
            let indexes = (0..300).chain([1_000, 65_535, 1 << 20, 1_000_000_000, (1 << 31) - 1]);
            for i in indexes {
                assert_eq!(key.account_id(u64::from(i)).unwrap(), by_bip32(key, i), "index {i}");
            }
            assert_eq!(key.account_id(1 << 31), Err(AddressError::IndexOutOfRange(1 << 31)));
        }
    }

    #[test]
    fn the_same_key_gives_the_tron_address() {
        let key = account_xpub(ANVIL, "m/44'/60'/0'/0");
        let id = key.account_id(0).unwrap();
        let t = tron(&id);
        assert!(t.starts_with('T') && t.len() == 34, "{t}");
        let decoded = bs58::decode(&t).with_check(None).into_vec().unwrap();
        assert_eq!(decoded[0], 0x41);
        assert_eq!(&decoded[1..], &id);
        // USDT's TRC-20 contract: hex 41a614f8… ↔ TR7NHqje….
        let usdt: [u8; 20] =
            hex::decode("a614f803b6fd780986a42c78ec9c7f77e6ded13c").unwrap().try_into().unwrap();
        assert_eq!(tron(&usdt), "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
    }

    #[test]
    fn tron_addresses_convert_both_ways_on_published_vectors() {
        // (base58, hex): USDT's TRC-20 contract (TRON docs), a CPAN CryptoTron::AddrTools
        // example, and Dune's from_tron_address example (hex without the 41).
        let vectors = [
            ("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "41a614f803b6fd780986a42c78ec9c7f77e6ded13c"),
            ("TQHgMpVzWkhSsRB4BzZgmV8uW4cFL8eaBr", "419D1015E669C2DF831003C5C54CEB48DA613D9979"),
            ("THHRK1bA7YRPZBcLnTP1SZy9ipUpsRwpo6", "41503aa4ad108bd3a89ba0310e23b49fb654cd6986"),
        ];
        for (b58, hex41) in vectors {
            let id = tron_id(b58).unwrap_or_else(|| panic!("{b58} decodes"));
            assert_eq!(tron_hex(&id), hex41.to_ascii_lowercase());
            assert_eq!(tron_id_from_hex(hex41), Some(id));
            assert_eq!(tron(&id), b58);
        }
    }

    #[test]
    fn broken_tron_addresses_are_refused() {
        let good = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";
        // A changed character breaks the checksum; case matters in base58.
        for bad in
            ["TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u", "tr7nhqjekqxgtci8q8zy4pl8otszgjlj6t", "T", "", "0OIl"]
        {
            assert_eq!(tron_id(bad), None, "{bad}");
        }
        // A valid base58check string with another version byte (a Bitcoin address).
        assert_eq!(tron_id("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"), None);
        assert!(tron_id(good).is_some());
        for bad in [
            "a614f803b6fd780986a42c78ec9c7f77e6ded13c",
            "41a614",
            "41zz14f803b6fd780986a42c78ec9c7f77e6ded13c",
        ] {
            assert_eq!(tron_id_from_hex(bad), None, "{bad}");
        }
    }

    #[test]
    fn eip55_matches_the_specs_examples() {
        for a in ["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"]
        {
            let id: [u8; 20] = hex::decode(&a[2..]).unwrap().try_into().unwrap();
            assert_eq!(eip55(&id), a);
        }
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert_eq!("xpub-nonsense".parse::<AccountKey>().err(), Some(AddressError::BadXpub));
        let key: AccountKey = DEVNET_XPUB.parse().unwrap();
        assert_eq!(key.account_id(1 << 31).err(), Some(AddressError::IndexOutOfRange(1 << 31)));
        assert!(key.address(0, AddressFormat::Evm).is_ok());
    }
}

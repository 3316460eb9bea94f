//! devnet's constants: payd's simulated chain behind every test-mode payment, whatever
//! network it names. Its blocks and transfer log live in the database, so reading and
//! mining it is the server's business (`payd_server::engine::devnet`); what is fixed about
//! it, and its random hashes, are here.

/// The network id devnet's cursor and transfers are recorded under.
pub const NETWORK: &str = "devnet";
/// The key id devnet's derivation indexes are allocated under.
pub const KEY_ID: &str = "devnet";
/// Where devnet money comes from.
pub const FAUCET: &str = "0x000000000000000000000000000000000000fa0c";

/// The most whole tokens one devnet transfer may carry (a trillion: USDT, the largest
/// stablecoin, has about a hundred and fifty billion in circulation).
pub const MAX_WHOLE_TOKENS: u128 = 1_000_000_000_000;

/// A random 32-byte hash in `0x` hex (block and transaction hashes).
pub fn random_hash() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)?;
    Ok(format!("0x{}", hex::encode(bytes)))
}

//! The built-in table of networks and tokens payd knows, with mainnet contracts and decimals
//! from `shared/chains.md`. Decimals here are what configuration expects; the chain engine
//! reads `decimals()` from the chain at start-up and refuses to start on a mismatch.

use serde::Serialize;

/// How a network is watched and how its addresses are derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Ethereum-compatible chains (ERC-20 `Transfer` logs).
    Evm,
    /// Tron (TRC-20; secp256k1 keys, base58check addresses).
    Tron,
    /// Solana (SPL tokens, Solana Pay references).
    Solana,
    /// payd's in-process simulated chain for test mode.
    Devnet,
}

impl Family {
    /// Every family, in the order they are listed.
    pub const ALL: [Family; 4] = [Family::Evm, Family::Tron, Family::Solana, Family::Devnet];

    /// The family's name as written in configuration and stored (`evm`).
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Evm => "evm",
            Family::Tron => "tron",
            Family::Solana => "solana",
            Family::Devnet => "devnet",
        }
    }

    /// The family named `name` (any case).
    pub fn from_name(name: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

/// A network payd can accept payments on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Network {
    /// Canonical lower-case id (`base`, `tron`).
    pub id: &'static str,
    /// Human name shown on the checkout page.
    pub name: &'static str,
    /// Watcher family.
    pub family: Family,
    /// EVM chain id, where there is one.
    pub chain_id: Option<u64>,
    /// Default confirmation depth before a payment completes (configurable per network).
    pub confirmations: u32,
}

/// A token on a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Token {
    /// Ticker (`USDC`).
    pub symbol: &'static str,
    /// Network id this contract lives on.
    pub network: &'static str,
    /// Contract (EVM, Tron) or mint (Solana) address; `None` on devnet.
    pub contract: Option<&'static str>,
    /// Base-unit decimals.
    pub decimals: u8,
    /// The fiat currency the token is pegged to (every token payd ships is a USD stablecoin).
    pub pegged_to: &'static str,
}

/// Networks shipped by default. Confirmation depths follow chains.md §1.4.
#[rustfmt::skip]
pub const NETWORKS: &[Network] = &[
    Network { id: "ethereum", name: "Ethereum", family: Family::Evm, chain_id: Some(1), confirmations: 12 },
    Network { id: "base", name: "Base", family: Family::Evm, chain_id: Some(8453), confirmations: 12 },
    Network { id: "polygon", name: "Polygon", family: Family::Evm, chain_id: Some(137), confirmations: 50 },
    Network { id: "arbitrum", name: "Arbitrum One", family: Family::Evm, chain_id: Some(42161), confirmations: 12 },
    Network { id: "optimism", name: "OP Mainnet", family: Family::Evm, chain_id: Some(10), confirmations: 12 },
    Network { id: "bsc", name: "BNB Smart Chain", family: Family::Evm, chain_id: Some(56), confirmations: 15 },
    Network { id: "avalanche", name: "Avalanche C-Chain", family: Family::Evm, chain_id: Some(43114), confirmations: 1 },
    Network { id: "tron", name: "Tron", family: Family::Tron, chain_id: Some(728_126_428), confirmations: 19 },
    Network { id: "solana", name: "Solana", family: Family::Solana, chain_id: None, confirmations: 1 },
    Network { id: "devnet", name: "payd devnet", family: Family::Devnet, chain_id: None, confirmations: 1 },
];

/// Tokens shipped by default (mainnet contracts; BSC's pegged stablecoins use 18 decimals).
#[rustfmt::skip]
pub const TOKENS: &[Token] = &[
    Token { symbol: "USDC", network: "ethereum", contract: Some("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"), decimals: 6, pegged_to: "USD" },
    Token { symbol: "USDT", network: "ethereum", contract: Some("0xdAC17F958D2ee523a2206206994597C13D831ec7"), decimals: 6, pegged_to: "USD" },
    Token { symbol: "USDC", network: "base", contract: Some("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"), decimals: 6, pegged_to: "USD" },
    Token { symbol: "USDT", network: "base", contract: Some("0xfde4C96c8593536E31F229EA8f37b2ADa2699bb2"), decimals: 6, pegged_to: "USD" },
    Token { symbol: "USDC", network: "polygon", contract: Some("0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359"), decimals: 6, pegged_to: "USD" },
    Token { symbol: "USDT", network: "polygon", contract: Some("0xc2132D05D31c914a87C6611C10748AEb04B58e8F"), decimals: 6, pegged_to: "USD" },
    Token { symbol: "USDC", network: "arbitrum", contract: Some("0xaf88d065e77c8cC2239327C5EDb3A432268e5831"), decimals: 6, pegged_to: "USD" },
    Token { symbol: "USDT", network: "arbitrum", contract: Some("0xFd086bC7CD5C481DCC9C85ebE478A1C0b69FCbb9"), decimals: 6, pegged_to: "USD" },
    Token { symbol: "USDC", network: "optimism", contract: Some("0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85"), decimals: 6, pegged_to: "USD" },
    Token { symbol: "USDT", network: "optimism", contract: Some("0x94b008aA00579c1307B0EF2c499aD98a8ce58e58"), decimals: 6, pegged_to: "USD" },
    Token { symbol: "USDC", network: "bsc", contract: Some("0x8AC76a51cc950d9822D68b83fE1Ad97B32Cd580d"), decimals: 18, pegged_to: "USD" },
    Token { symbol: "USDT", network: "bsc", contract: Some("0x55d398326f99059fF775485246999027B3197955"), decimals: 18, pegged_to: "USD" },
    Token { symbol: "USDC", network: "avalanche", contract: Some("0xB97EF9Ef8734C71904D8002F8b6Bc66Dd9c48a6E"), decimals: 6, pegged_to: "USD" },
    Token { symbol: "USDT", network: "avalanche", contract: Some("0x9702230A8Ea53601f5cD2dc00fDBc13d4dF4A8c7"), decimals: 6, pegged_to: "USD" },
    Token { symbol: "USDC", network: "tron", contract: Some("TEkxiTehnzSmSe2XqrBj4w32RUN966rdz8"), decimals: 6, pegged_to: "USD" },
    Token { symbol: "USDT", network: "tron", contract: Some("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"), decimals: 6, pegged_to: "USD" },
    Token { symbol: "USDC", network: "solana", contract: Some("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"), decimals: 6, pegged_to: "USD" },
    Token { symbol: "USDT", network: "solana", contract: Some("Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB"), decimals: 6, pegged_to: "USD" },
    Token { symbol: "USDC", network: "devnet", contract: None, decimals: 6, pegged_to: "USD" },
    Token { symbol: "USDT", network: "devnet", contract: None, decimals: 6, pegged_to: "USD" },
];

/// Looks up a network by its canonical id (lower case).
pub fn network(id: &str) -> Option<&'static Network> {
    NETWORKS.iter().find(|n| n.id == id)
}

/// Other names the dialects use for networks: chain tickers (AstraPay-style `ETH`) and token
/// standards (AlpPay's `TRC20`, `ERC20`, `BEP20`).
const NETWORK_ALIASES: &[(&str, &str)] = &[
    ("eth", "ethereum"),
    ("erc20", "ethereum"),
    ("mainnet", "ethereum"),
    ("matic", "polygon"),
    ("pol", "polygon"),
    ("arb", "arbitrum"),
    ("arbitrum-one", "arbitrum"),
    ("op", "optimism"),
    ("bnb", "bsc"),
    ("bep20", "bsc"),
    ("avax", "avalanche"),
    ("trx", "tron"),
    ("trc20", "tron"),
    ("sol", "solana"),
    ("spl", "solana"),
];

/// Resolves any accepted spelling of a network (canonical id or alias, any case).
pub fn resolve_network(name: &str) -> Option<&'static Network> {
    let lower = name.trim().to_ascii_lowercase();
    let id = NETWORK_ALIASES.iter().find(|(alias, _)| *alias == lower).map_or(lower.as_str(), |(_, id)| id);
    network(id)
}

/// Looks up a token by ticker (upper case) and canonical network id.
pub fn token(symbol: &str, network: &str) -> Option<&'static Token> {
    TOKENS.iter().find(|t| t.symbol == symbol && t.network == network)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_token_names_a_known_network() {
        for t in TOKENS {
            assert!(network(t.network).is_some(), "{} on {}", t.symbol, t.network);
        }
    }

    #[test]
    fn dialect_spellings_resolve_to_canonical_networks() {
        for (name, id) in [
            ("BASE", "base"),
            ("TRC20", "tron"),
            ("ERC20", "ethereum"),
            ("BEP20", "bsc"),
            ("Polygon", "polygon"),
        ] {
            assert_eq!(resolve_network(name).map(|n| n.id), Some(id), "{name}");
        }
        assert!(resolve_network("mars").is_none());
    }

    #[test]
    fn bsc_stablecoins_have_18_decimals() {
        assert_eq!(token("USDT", "bsc").map(|t| t.decimals), Some(18));
        assert_eq!(token("USDC", "base").map(|t| t.decimals), Some(6));
    }
}

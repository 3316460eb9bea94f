//! Configured networks (`[[networks]]` in `payd.toml`, or `PAYD_NETWORKS` as a JSON array
//! of the same objects): the chain family (`evm`, the default, or `tron`, read through
//! java-tron's Ethereum-compatible `/jsonrpc` or, with `source = "trongrid"`, TronGrid's REST
//! API; any other family is refused until payd-chain has a source for it), RPC endpoint, an
//! API key header (Tron: TronGrid's `TRON-PRO-API-KEY`),
//! chain id, confirmation policy (depth, and whether the chain's finalized block must also
//! cover a transfer), log range, poll interval and the accepted token contracts (written as
//! the family writes them: `0x…` on EVM, base58 `T…` on Tron). A configured network extends
//! the built-in registry (a new name such as `anvil`) or overrides an entry of it (`base` or
//! `tron` with your own RPC). Start-up checks the chain id and each token's `decimals()`
//! against the node (through TronGrid: the genesis block's id and a constant call).

use std::time::Duration;

use payd_chain::evm::rpc::{RpcClient, RpcSettings};
use payd_chain::evm::{check, EvmSource, EvmToken, Rules};
use payd_chain::family;
use payd_chain::tron::grid::{GridClient, GridSettings, TronGridSource};
use payd_chain::tron::WatchList;
use payd_core::registry::Family;
use payd_core::secret::Secret;
use serde::Deserialize;

/// A network setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// `rpc_url` does not parse as a URL.
    #[error("{network}: bad rpc url")]
    BadRpcUrl {
        /// The network.
        network: String,
    },
    /// The RPC client could not be built.
    #[error("{network}: {source}")]
    Rpc {
        /// The network.
        network: String,
        /// Why.
        source: payd_chain::evm::rpc::RpcError,
    },
    /// The TronGrid client could not be built.
    #[error("{network}: {source}")]
    Grid {
        /// The network.
        network: String,
        /// Why.
        source: payd_chain::source::SourceError,
    },
    /// `PAYD_NETWORKS` is not a JSON array of network objects.
    #[error("PAYD_NETWORKS: not a JSON array of networks: {0}")]
    NotJson(#[source] serde_json::Error),
    /// `PAYD_NETWORKS` has keys no network setting has.
    #[error("PAYD_NETWORKS: unknown key(s) {}", .0.join(", "))]
    UnknownKeys(Vec<String>),
}

/// One `[[networks]]` entry as written.
#[derive(Debug, Clone, Deserialize)]
pub struct NetworkSection {
    name: Option<String>,
    family: Option<String>,
    chain_id: Option<u64>,
    rpc_url: Option<Secret>,
    ws_url: Option<Secret>,
    confirmations: Option<u32>,
    block_range: Option<u64>,
    poll_interval_ms: Option<u64>,
    start_block: Option<u64>,
    timeout_ms: Option<u64>,
    finality: Option<String>,
    api_key: Option<Secret>,
    source: Option<String>,
    #[serde(default)]
    tokens: Vec<TokenSection>,
    explorer_tx: Option<String>,
    explorer_address: Option<String>,
}

/// When a transfer counts as confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finality {
    /// At the configured depth (`finality = "depth"`, EVM's default).
    Depth,
    /// At the configured depth and at or below the node's `finalized` block (Tron's latest
    /// solidified block; `finality = "finalized"` or `"solidified"`, Tron's default). Where
    /// the node does not know the tag, depth counts alone (and a warning is logged).
    Finalized,
}

/// How a network is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// (Ethereum-compatible) JSON-RPC: an EVM node, or java-tron's `/jsonrpc`.
    JsonRpc,
    /// TronGrid's v1 REST API and java-tron's solidity HTTP API (`source = "trongrid"`;
    /// `rpc_url` is the base, such as `https://api.trongrid.io`).
    TronGrid,
}

/// The header TronGrid reads its API key from.
pub const TRONGRID_KEY_HEADER: &str = "TRON-PRO-API-KEY";

/// java-tron's default `maxBlockRange` for `eth_getLogs`.
pub const TRON_MAX_BLOCK_RANGE: u64 = 5000;

/// One accepted token as written.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenSection {
    symbol: Option<String>,
    contract: Option<String>,
    decimals: Option<u8>,
}

/// A validated network read through (Ethereum-compatible) JSON-RPC: an EVM chain, or Tron
/// through java-tron's `/jsonrpc` under Tron's rules.
#[derive(Debug, Clone)]
pub struct EvmNetwork {
    /// Canonical lower-case name (what payments name as their network).
    pub name: String,
    /// Its chain family (`family`, default `evm`): one payd has a chain source for
    /// ([`payd_chain::family::WATCHED`]).
    pub family: Family,
    /// Expected `eth_chainId`.
    pub chain_id: u64,
    /// JSON-RPC over HTTP(S). Redacted in `Debug`: provider URLs carry API keys.
    pub rpc_url: Secret,
    /// WebSocket endpoint: `newHeads` wakes the watcher on each block.
    pub ws_url: Option<Secret>,
    /// Depth at which a payment completes.
    pub confirmations: u32,
    /// Whether the chain's finalized block must also cover a transfer.
    pub finality: Finality,
    /// Sent as TronGrid's `TRON-PRO-API-KEY` header (Tron only). Never logged or echoed.
    pub api_key: Option<Secret>,
    /// How it is read (`source`; TronGrid only on Tron).
    pub reader: Reader,
    /// Most blocks per `eth_getLogs`.
    pub block_range: u64,
    /// How often the watcher polls the head.
    pub poll_interval: Duration,
    /// Where scanning starts on a fresh database (`None`: the head at first start).
    pub start_block: Option<u64>,
    /// Deadline of one RPC request.
    pub timeout: Duration,
    /// Accepted tokens (contracts as 20-byte ids on both families).
    pub tokens: Vec<EvmToken>,
    /// Its block explorer's links (payd's default for a well-known network).
    pub explorer: crate::config::explorer::Explorer,
}

impl EvmNetwork {
    /// The conventions its JSON-RPC is read with.
    pub fn rules(&self) -> Rules {
        match self.family {
            Family::Tron => Rules::Tron,
            Family::Evm | Family::Solana | Family::Devnet => Rules::Evm,
        }
    }

    /// A token's contract as the family writes it (`0x…`, or `T…` on Tron).
    pub fn contract_text(&self, token: &EvmToken) -> String {
        self.rules().address(token.contract)
    }

    /// The token of `symbol` (any case).
    pub fn token(&self, symbol: &str) -> Option<&EvmToken> {
        self.tokens.iter().find(|t| t.symbol.eq_ignore_ascii_case(symbol))
    }

    /// A JSON-RPC client for this network.
    pub fn client(&self) -> Result<RpcClient, NetworkError> {
        let url = url::Url::parse(self.rpc_url.expose())
            .map_err(|_| NetworkError::BadRpcUrl { network: self.name.clone() })?;
        let settings = RpcSettings { timeout: self.timeout, ..RpcSettings::default() };
        let rpc = RpcClient::new(url, settings);
        let rpc = match &self.api_key {
            Some(key) => rpc.and_then(|c| c.with_header(TRONGRID_KEY_HEADER, key.expose())),
            None => rpc,
        };
        rpc.map_err(|source| NetworkError::Rpc { network: self.name.clone(), source })
    }
}

/// A TronGrid client for a network read through TronGrid.
pub fn grid_client(net: &EvmNetwork) -> Result<GridClient, NetworkError> {
    let url = url::Url::parse(net.rpc_url.expose())
        .map_err(|_| NetworkError::BadRpcUrl { network: net.name.clone() })?;
    let settings = GridSettings { timeout: net.timeout, ..GridSettings::default() };
    GridClient::new(net.name.clone(), url, net.api_key.as_ref().map(Secret::expose), settings)
        .map_err(|source| NetworkError::Grid { network: net.name.clone(), source })
}

/// The TronGrid source of a network, watching what `watch` lists.
pub fn grid_source<W: WatchList>(net: &EvmNetwork, watch: W) -> Result<TronGridSource<W>, NetworkError> {
    let contracts: Vec<String> = net.tokens.iter().map(|t| net.contract_text(t)).collect();
    TronGridSource::new(grid_client(net)?, &contracts, watch)
        .map_err(|source| NetworkError::Grid { network: net.name.clone(), source })
}

/// The chain source of a network (EVM, or Tron's `/jsonrpc` under Tron's rules).
pub fn source(net: &EvmNetwork) -> Result<EvmSource, NetworkError> {
    Ok(EvmSource::new(net.name.clone(), net.client()?, &net.tokens, net.block_range).with_rules(net.rules()))
}

/// Finds a configured network by name (any case).
pub fn find<'a>(networks: &'a [EvmNetwork], name: &str) -> Option<&'a EvmNetwork> {
    let name = name.trim();
    networks.iter().find(|n| n.name.eq_ignore_ascii_case(name))
}

/// Parses `PAYD_NETWORKS` (a JSON array of network objects).
pub fn from_json(text: &str) -> Result<Vec<NetworkSection>, NetworkError> {
    let mut unknown = Vec::new();
    let mut de = serde_json::Deserializer::from_str(text);
    let sections: Vec<NetworkSection> =
        serde_ignored::deserialize(&mut de, |path| unknown.push(crate::config::key_path(&path)))
            .and_then(|s| de.end().map(|()| s))
            .map_err(NetworkError::NotJson)?;
    if !unknown.is_empty() {
        return Err(NetworkError::UnknownKeys(unknown));
    }
    Ok(sections)
}

/// Validates the sections, pushing one message per problem.
pub fn validate(sections: Vec<NetworkSection>, errors: &mut Vec<String>) -> Vec<EvmNetwork> {
    let mut out: Vec<EvmNetwork> = Vec::new();
    for (i, s) in sections.into_iter().enumerate() {
        let name = s.name.as_deref().map(|n| n.trim().to_ascii_lowercase()).unwrap_or_default();
        let at = if name.is_empty() { format!("networks[{i}]") } else { format!("network {name}") };
        let before = errors.len();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            errors.push(format!("{at}: name must be letters, digits, - or _"));
        } else if name == payd_chain::devnet::NETWORK {
            errors.push(format!("{at}: devnet is built in and cannot be configured"));
        } else if out.iter().any(|n| n.name == name) {
            errors.push(format!("{at}: configured twice"));
        }
        let family = match s.family.as_deref().map(str::trim) {
            None => Family::Evm,
            Some(f) => match Family::from_name(f).filter(|f| family::is_watched(*f)) {
                Some(f) => f,
                None => {
                    errors.push(format!(
                        "{at}: family `{f}` is not supported (payd watches: {})",
                        family::watched_names()
                    ));
                    Family::Evm
                }
            },
        };
        if let Some(reg) = payd_core::registry::network(&name) {
            if reg.family != family {
                errors.push(format!(
                    "{at}: {} is not an {} network",
                    reg.name,
                    family.as_str().to_uppercase()
                ));
            }
        }
        let chain_id = s.chain_id.unwrap_or_else(|| {
            errors.push(format!("{at}: chain_id is required"));
            0
        });
        let rpc_url = match s.rpc_url {
            Some(u) if is_url(u.expose(), &["http", "https"]) => u,
            Some(_) => {
                errors.push(format!("{at}: rpc_url must be an http(s) URL"));
                Secret::default()
            }
            None => {
                errors.push(format!("{at}: rpc_url is required"));
                Secret::default()
            }
        };
        if let Some(ws) = &s.ws_url {
            if !is_url(ws.expose(), &["ws", "wss"]) {
                errors.push(format!("{at}: ws_url must be a ws(s) URL"));
            }
        }
        let tron = family == Family::Tron;
        let default_conf =
            payd_core::registry::network(&name).map_or(if tron { 19 } else { 12 }, |n| n.confirmations);
        let confirmations = s.confirmations.unwrap_or(default_conf);
        if !(1..=10_000).contains(&confirmations) {
            errors.push(format!("{at}: confirmations must be 1 to 10000"));
        }
        let finality = match s.finality.as_deref().map(|f| f.trim().to_ascii_lowercase()).as_deref() {
            None if tron => Finality::Finalized,
            None | Some("depth") => Finality::Depth,
            Some("finalized" | "solidified") => Finality::Finalized,
            Some(other) => {
                errors.push(format!("{at}: finality must be `depth` or `finalized`, got `{other}`"));
                Finality::Depth
            }
        };
        let block_range = s.block_range.unwrap_or(500);
        let max_range = if tron { TRON_MAX_BLOCK_RANGE } else { 100_000 };
        if !(1..=max_range).contains(&block_range) {
            errors.push(format!("{at}: block_range must be 1 to {max_range}"));
        }
        let reader = match s.source.as_deref().map(|r| r.trim().to_ascii_lowercase()).as_deref() {
            None | Some("jsonrpc") => Reader::JsonRpc,
            Some("trongrid") if tron => Reader::TronGrid,
            Some(other) => {
                errors.push(format!(
                    "{at}: source must be `jsonrpc`{}, got `{other}`",
                    if tron { " or `trongrid`" } else { "" }
                ));
                Reader::JsonRpc
            }
        };
        if reader == Reader::TronGrid && s.ws_url.is_some() {
            errors.push(format!("{at}: ws_url is for JSON-RPC nodes, not TronGrid"));
        }
        let api_key = match s.api_key {
            Some(_) if !tron => {
                errors.push(format!(
                    "{at}: api_key is TronGrid's header on Tron networks; an EVM provider's key goes in rpc_url"
                ));
                None
            }
            // Checked as header text without echoing it.
            Some(k)
                if k.expose().is_empty() || reqwest::header::HeaderValue::from_str(k.expose()).is_err() =>
            {
                errors.push(format!("{at}: api_key must be printable text without line breaks"));
                None
            }
            other => other,
        };
        let poll_ms = s.poll_interval_ms.unwrap_or(2000);
        if !(50..=600_000).contains(&poll_ms) {
            errors.push(format!("{at}: poll_interval_ms must be 50 to 600000"));
        }
        let timeout_ms = s.timeout_ms.unwrap_or(10_000);
        if !(100..=120_000).contains(&timeout_ms) {
            errors.push(format!("{at}: timeout_ms must be 100 to 120000"));
        }
        if s.tokens.is_empty() {
            errors.push(format!("{at}: list at least one token"));
        }
        let mut tokens: Vec<EvmToken> = Vec::new();
        for (j, t) in s.tokens.into_iter().enumerate() {
            let symbol = t.symbol.as_deref().map(|s| s.trim().to_ascii_uppercase()).unwrap_or_default();
            let tat = format!("{at}: tokens[{j}]");
            if !payd_core::registry::TOKENS.iter().any(|r| r.symbol == symbol) {
                errors.push(format!(
                    "{tat}: symbol must be a stablecoin payd knows (USDC, USDT), got `{symbol}`"
                ));
            } else if tokens.iter().any(|x| x.symbol == symbol) {
                errors.push(format!("{tat}: {symbol} listed twice"));
            }
            let contract = match t.contract.as_deref().map(str::trim) {
                Some(c) if tron => match payd_chain::address::tron_id(c) {
                    Some(id) => payd_chain::evm::Address::from(id),
                    None => {
                        errors.push(format!(
                            "{tat}: contract `{c}` is not a Tron address (base58check, T and 33 more characters)"
                        ));
                        Default::default()
                    }
                },
                Some(c) if is_evm_address(c) => c.parse().unwrap_or_default(),
                Some(c) => {
                    errors
                        .push(format!("{tat}: contract `{c}` is not an EVM address (0x and 40 hex digits)"));
                    Default::default()
                }
                None => {
                    errors.push(format!("{tat}: contract is required"));
                    Default::default()
                }
            };
            let decimals = match t.decimals {
                Some(d) if d <= 36 => d,
                Some(d) => {
                    errors.push(format!("{tat}: decimals {d} is out of range (0 to 36)"));
                    0
                }
                None => {
                    errors.push(format!("{tat}: decimals is required"));
                    0
                }
            };
            tokens.push(EvmToken { symbol, contract, decimals });
        }
        let explorer = explorer(&name, s.explorer_tx.as_deref(), s.explorer_address.as_deref(), &at, errors);
        if errors.len() == before {
            out.push(EvmNetwork {
                name,
                family,
                chain_id,
                rpc_url,
                ws_url: s.ws_url,
                confirmations,
                finality,
                api_key,
                reader,
                block_range,
                poll_interval: Duration::from_millis(poll_ms),
                start_block: s.start_block,
                timeout: Duration::from_millis(timeout_ms),
                tokens,
                explorer,
            });
        }
    }
    out
}

/// A network's explorer templates: each one given is checked, a missing one is payd's default.
fn explorer(
    name: &str,
    tx: Option<&str>,
    address: Option<&str>,
    at: &str,
    errors: &mut Vec<String>,
) -> crate::config::explorer::Explorer {
    use crate::config::explorer::{check, default_for, ADDRESS, HASH};
    let mut e = default_for(name);
    for (given, placeholder, key, slot) in
        [(tx, HASH, "explorer_tx", &mut e.tx), (address, ADDRESS, "explorer_address", &mut e.address)]
    {
        if let Some(t) = given {
            match check(t, placeholder) {
                Ok(t) => *slot = Some(t),
                Err(why) => errors.push(format!("{at}: {key} {why}")),
            }
        }
    }
    e
}

fn is_url(text: &str, schemes: &[&str]) -> bool {
    url::Url::parse(text).is_ok_and(|u| schemes.contains(&u.scheme()) && u.host().is_some())
}

/// `0x` and 40 hex digits.
pub fn is_evm_address(text: &str) -> bool {
    text.len() == 42 && text.starts_with("0x") && text[2..].chars().all(|c| c.is_ascii_hexdigit())
}

/// Checks a network against its node: reachable, the chain id, each token's decimals. Every
/// problem found is returned (empty: all good).
pub async fn check_node(net: &EvmNetwork) -> Vec<String> {
    if net.reader == Reader::TronGrid {
        return check_grid(net).await;
    }
    let rpc = match net.client() {
        Ok(c) => c,
        Err(e) => return vec![e.to_string()],
    };
    let mut problems = Vec::new();
    match check::chain_id(&rpc).await {
        Ok(id) if id == net.chain_id => {}
        Ok(id) => problems.push(format!(
            "network {}: the node at {} is chain {id}, configured chain_id is {}",
            net.name,
            rpc.redacted_url(),
            net.chain_id
        )),
        Err(e) => {
            problems.push(format!("network {}: RPC at {} unreachable: {e}", net.name, rpc.redacted_url()));
            return problems;
        }
    }
    for t in &net.tokens {
        let at = net.contract_text(t);
        match check::decimals(&rpc, t.contract).await {
            Ok(d) if d == t.decimals => {}
            Ok(d) => problems.push(format!(
                "network {}: {} at {at} has {d} decimals on chain, configured {}",
                net.name, t.symbol, t.decimals
            )),
            Err(e) => problems
                .push(format!("network {}: cannot read decimals() of {} at {at}: {e}", net.name, t.symbol)),
        }
    }
    problems
}

/// [`check_node`] for a network read through TronGrid: the genesis block's chain id, each
/// token's `decimals()` by a constant call.
async fn check_grid(net: &EvmNetwork) -> Vec<String> {
    let grid = match grid_client(net) {
        Ok(g) => g,
        Err(e) => return vec![e.to_string()],
    };
    let mut problems = Vec::new();
    match grid.chain_id().await {
        Ok(id) if id == net.chain_id => {}
        Ok(id) => problems.push(format!(
            "network {}: TronGrid at {} is chain {id}, configured chain_id is {}",
            net.name,
            grid.redacted_url(),
            net.chain_id
        )),
        Err(e) => {
            problems.push(format!(
                "network {}: TronGrid at {} unreachable: {e}",
                net.name,
                grid.redacted_url()
            ));
            return problems;
        }
    }
    for t in &net.tokens {
        let at = net.contract_text(t);
        match grid.decimals(&at).await {
            Ok(d) if d == t.decimals => {}
            Ok(d) => problems.push(format!(
                "network {}: {} at {at} has {d} decimals on chain, configured {}",
                net.name, t.symbol, t.decimals
            )),
            Err(e) => problems
                .push(format!("network {}: cannot read decimals() of {} at {at}: {e}", net.name, t.symbol)),
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_network_problem_is_reported() {
        let sections = from_json(
            r#"[{"name":"anvil","chain_id":31337,"rpc_url":"ftp://x","tokens":[{"symbol":"DOGE","contract":"0x12","decimals":6}]},
                {"name":"x","rpc_url":"http://127.0.0.1:1","tokens":[]}]"#,
        )
        .unwrap_or_default();
        let mut errors = Vec::new();
        let nets = validate(sections, &mut errors);
        assert!(nets.is_empty());
        assert_eq!(errors.len(), 5, "{errors:?}");
    }

    #[test]
    fn tron_networks_take_base58_contracts_a_source_and_a_capped_range() {
        let net = |extra: &str| {
            format!(
                r#"[{{"name":"tron","family":"tron","chain_id":728126428,"rpc_url":"https://api.trongrid.io",{extra}
                    "tokens":[{{"symbol":"USDT","contract":"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t","decimals":6}}]}}]"#
            )
        };
        let mut errors = Vec::new();
        let nets = validate(from_json(&net("")).unwrap_or_default(), &mut errors);
        let n = nets.first();
        assert_eq!(
            n.map(|n| (n.reader, n.finality, n.confirmations, n.contract_text(&n.tokens[0]))),
            Some((Reader::JsonRpc, Finality::Finalized, 19, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t".to_owned())),
            "{errors:?}"
        );
        let nets = validate(
            from_json(&net(r#""source":"trongrid","api_key":"k","#)).unwrap_or_default(),
            &mut errors,
        );
        assert_eq!(nets.first().map(|n| n.reader), Some(Reader::TronGrid), "{errors:?}");
        let nets = validate(
            from_json(&net(r#""source":"grpc","block_range":5001,"finality":"soon","api_key":"a\nb","#))
                .unwrap_or_default(),
            &mut errors,
        );
        assert!(nets.is_empty());
        assert_eq!(
            errors,
            [
                "network tron: finality must be `depth` or `finalized`, got `soon`",
                "network tron: block_range must be 1 to 5000",
                "network tron: source must be `jsonrpc` or `trongrid`, got `grpc`",
                "network tron: api_key must be printable text without line breaks",
            ]
        );
    }

    #[test]
    fn a_family_payd_does_not_watch_is_refused_by_name() {
        let net = |family: &str| {
            format!(
                r#"[{{"name":"anvil",{family}"chain_id":31337,"rpc_url":"http://127.0.0.1:1",
                    "tokens":[{{"symbol":"USDC","contract":"0x5FbDB2315678afecb367f032d93F642f64180aa3","decimals":6}}]}}]"#
            )
        };
        let mut errors = Vec::new();
        let nets = validate(from_json(&net("")).unwrap_or_default(), &mut errors);
        assert_eq!((nets.len(), nets.first().map(|n| n.family)), (1, Some(Family::Evm)), "{errors:?}");
        let nets = validate(from_json(&net(r#""family":"EVM","#)).unwrap_or_default(), &mut errors);
        assert_eq!(nets.len(), 1, "{errors:?}");
        for family in ["solana", "devnet", "bitcoin"] {
            let mut errors = Vec::new();
            let nets = validate(
                from_json(&net(&format!(r#""family":"{family}","#))).unwrap_or_default(),
                &mut errors,
            );
            assert!(nets.is_empty());
            assert_eq!(
                errors,
                [format!("network anvil: family `{family}` is not supported (payd watches: evm, tron)")]
            );
        }
    }
}

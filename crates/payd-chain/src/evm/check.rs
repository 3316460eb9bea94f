//! Start-up checks of an EVM network against its configuration: the node's `eth_chainId`, and
//! each token's `decimals()` read with `eth_call`. payd refuses to start on a mismatch: a
//! wrong chain or wrong decimals would credit wrong amounts.

use alloy::primitives::{Address, Bytes, U256, U64};
use serde_json::json;

use super::rpc::{RpcClient, RpcError};

/// The node's chain id.
pub async fn chain_id(rpc: &RpcClient) -> Result<u64, RpcError> {
    let id: U64 = rpc.call("eth_chainId", json!([])).await?;
    Ok(id.to::<u64>())
}

/// A token contract's `decimals()`.
pub async fn decimals(rpc: &RpcClient, contract: Address) -> Result<u8, RpcError> {
    // selector of decimals()
    let call = json!({ "to": format!("{contract:#x}"), "data": "0x313ce567" });
    let out: Bytes = rpc.call("eth_call", json!([call, "latest"])).await?;
    if out.len() != 32 {
        return Err(RpcError::Malformed(format!(
            "decimals() of {contract:#x} returned {} bytes (is it an ERC-20 contract?)",
            out.len()
        )));
    }
    let v = U256::from_be_slice(&out);
    u8::try_from(v).map_err(|_| RpcError::Malformed(format!("decimals() of {contract:#x} is {v}")))
}

//! `payd devnet …`: drive the simulated chain from another process while `payd serve` runs.
//! Both talk through the database: `pay` puts a transfer in devnet's mempool, the server's
//! block producer mines it and its watcher credits it.

use crate::engine::devnet;
use clap::Subcommand;
use payd_core::payment::Payment;
use payd_core::token::{format_base_units, parse_token_amount};
use payd_store::Store;
use serde_json::json;

/// devnet commands.
#[derive(Debug, Subcommand)]
pub enum DevnetCommand {
    /// Send a devnet transfer to a test payment's deposit address.
    Pay {
        /// The payment: its `pay_…` id, its bare UUID (as some dialects show it) or its slug.
        payment: String,
        /// Amount in whole tokens (`12.5`); default: what is still due.
        #[arg(long)]
        amount: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Replace the last DEPTH blocks (a reorg); their transfers are re-mined by the next
    /// block unless --drop.
    Reorg {
        #[arg(long, default_value_t = 1)]
        depth: u64,
        /// Drop the replaced blocks' transfers instead of re-mining them.
        #[arg(long)]
        drop: bool,
    },
}

/// Runs a devnet command against `store`.
pub async fn run(store: &Store, cmd: DevnetCommand) -> anyhow::Result<()> {
    match cmd {
        DevnetCommand::Pay { payment, amount, json: json_out } => {
            let p = find_payment(store, &payment).await?;
            let decimals = p.asset.as_ref().map_or(0, |a| a.decimals);
            let amount = amount
                .map(|a| parse_token_amount(&a, decimals).map_err(|e| anyhow::anyhow!("--amount: {e}")))
                .transpose()?;
            let t = devnet::pay(store, &p, amount, payd_store::now()).await?;
            let shown = format_base_units(t.amount, decimals);
            if json_out {
                println!(
                    "{}",
                    json!({
                        "payment": p.id.to_string(), "tx_hash": t.tx_hash, "to": t.to, "token": t.token,
                        "amount": shown, "amount_base_units": t.amount.to_string(),
                    })
                );
            } else {
                println!("sent {shown} {} to {} for {} (tx {})", t.token, t.to, p.id, t.tx_hash);
            }
        }
        DevnetCommand::Reorg { depth, drop } => {
            let fork = devnet::reorg(store, depth, drop, payd_store::now()).await?;
            println!("replaced the blocks after {fork}");
        }
    }
    Ok(())
}

async fn find_payment(store: &Store, text: &str) -> anyhow::Result<Payment> {
    let found = crate::engine::payments::resolve(store, crate::engine::PaymentRef::Any(text)).await?;
    found.ok_or_else(|| anyhow::anyhow!("no payment `{text}`"))
}

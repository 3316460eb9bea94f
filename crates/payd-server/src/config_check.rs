//! `payd config check`: everything that would stop payd or make it misbehave, found in one
//! pass: configuration errors, each configured network's node (reachable, chain id, every
//! token's `decimals()`), the database, and the merchants' EVM xpubs (unparsable, or missing
//! while EVM networks are configured, which refuses their live payments).

use serde_json::json;

use crate::config::{Config, Overrides};

/// Runs the check; an error (non-zero exit) when any problem was found.
pub async fn run(overrides: &Overrides, json_out: bool) -> anyhow::Result<()> {
    let problems = problems(overrides).await;
    if json_out {
        println!("{}", json!({ "ok": problems.is_empty(), "problems": problems }));
    } else if problems.is_empty() {
        println!("configuration OK");
    } else {
        eprintln!("{} problem(s):", problems.len());
        for p in &problems {
            eprintln!("  - {p}");
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(anyhow::anyhow!("the configuration has {} problem(s)", problems.len()))
    }
}

/// Every problem found, in a stable order.
pub async fn problems(overrides: &Overrides) -> Vec<String> {
    let config = match Config::load(overrides) {
        Ok(c) => c,
        Err(e) => {
            // Every configuration error, and the nodes of the networks that are valid.
            let mut problems = e.0;
            for net in Config::load_networks(overrides) {
                problems.extend(crate::networks::check_node(&net).await);
            }
            return problems;
        }
    };
    check(&config).await
}

/// The checks that need a valid configuration.
pub async fn check(config: &Config) -> Vec<String> {
    let mut problems = Vec::new();
    for net in &config.networks {
        problems.extend(crate::networks::check_node(net).await);
    }
    let store = match crate::app::connect(config).await {
        Ok(s) => s,
        Err(e) => {
            problems.push(format!("database: {e:#}"));
            return problems;
        }
    };
    if let Err(e) = store.migrate().await {
        problems.push(format!("database: {e}"));
        return problems;
    }
    match store.merchant_xpubs().await {
        Ok(rows) => {
            for (id, xpub) in rows {
                match xpub {
                    Some(x) => {
                        if let Err(e) = x.parse::<payd_chain::address::AccountKey>() {
                            problems.push(format!("merchant {id}: EVM xpub: {e}"));
                        }
                    }
                    None if !config.networks.is_empty() => problems.push(format!(
                        "merchant {id}: no EVM xpub, so its live payments on {} are refused \
                         (payd merchant configure {id} --xpub-evm XPUB)",
                        config.networks.iter().map(|n| n.name.as_str()).collect::<Vec<_>>().join(", ")
                    )),
                    None => {}
                }
            }
        }
        Err(e) => problems.push(format!("database: {e}")),
    }
    store.close().await;
    problems
}

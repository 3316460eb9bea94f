//! `payd config check`: everything that would stop payd or make it misbehave, found in one
//! pass: configuration errors (every unknown key among them), each configured network's node
//! (reachable, chain id, every token's `decimals()`), the database, and the merchants' xpubs
//! of each family payd watches (unparsable, or missing while networks of that family are
//! configured, which refuses their live payments). A check writes nothing: no database file or directory is created, no migration
//! is applied, and the database is opened read-only.

use serde_json::json;

use crate::config::{Config, Overrides};

/// What a check found: problems fail it; notes are for information.
#[derive(Debug, Default)]
pub struct Report {
    /// What would stop payd or make it misbehave.
    pub problems: Vec<String>,
    /// Facts worth knowing that are not wrong (a database not created yet, migrations that
    /// the next start applies).
    pub notes: Vec<String>,
}

/// Runs the check; an error (non-zero exit) when any problem was found.
pub async fn run(overrides: &Overrides, json_out: bool) -> anyhow::Result<()> {
    let Report { problems, notes } = report(overrides).await;
    if json_out {
        println!("{}", json!({ "ok": problems.is_empty(), "problems": problems, "notes": notes }));
    } else {
        for n in &notes {
            println!("note: {n}");
        }
        if problems.is_empty() {
            println!("configuration OK");
        } else {
            eprintln!("{} problem(s):", problems.len());
            for p in &problems {
                eprintln!("  - {p}");
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(anyhow::anyhow!("the configuration has {} problem(s)", problems.len()))
    }
}

/// Every problem and note, in a stable order.
pub async fn report(overrides: &Overrides) -> Report {
    let config = match Config::load(overrides) {
        Ok(c) => c,
        Err(e) => {
            // Every configuration error, and the nodes of the networks that are valid.
            let mut problems = e.0;
            for net in Config::load_networks(overrides) {
                problems.extend(crate::config::networks::check_node(&net).await);
            }
            return Report { problems, notes: Vec::new() };
        }
    };
    check_all(&config).await
}

/// The checks that need a valid configuration.
pub async fn check_all(config: &Config) -> Report {
    let mut r = Report::default();
    for net in &config.networks {
        r.problems.extend(crate::config::networks::check_node(net).await);
    }
    let location = config.database_location();
    let opts = payd_store::ConnectOptions { max_connections: 1, ..payd_store::ConnectOptions::default() };
    let store = match payd_store::Store::connect_read_only(config.database_url.expose(), &opts).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            r.notes.push(format!("database {location} does not exist yet; payd serve creates it"));
            return r;
        }
        Err(e) => {
            r.problems.push(format!("database {location}: {e}"));
            return r;
        }
    };
    match store.pending_migrations().await {
        Ok(pending) if pending.is_empty() => check_merchants(config, &store, &mut r.problems).await,
        Ok(pending) => r.notes.push(format!(
            "database {location}: {} migration(s) not applied yet ({}); payd serve or payd migrate \
             applies them (merchants are checked once they are)",
            pending.len(),
            pending.join(", ")
        )),
        Err(e) => r.problems.push(format!("database {location}: {e}")),
    }
    store.close().await;
    r
}

async fn check_merchants(config: &Config, store: &payd_store::Store, problems: &mut Vec<String>) {
    for &family in payd_chain::family::WATCHED {
        let label = family.as_str().to_uppercase();
        let networks: Vec<&str> =
            config.networks.iter().filter(|n| n.family == family).map(|n| n.name.as_str()).collect();
        let rows = match store.merchant_xpubs(family).await {
            Ok(rows) => rows,
            Err(e) => {
                problems.push(format!("database: {e}"));
                return;
            }
        };
        for (id, xpub) in rows {
            match xpub {
                Some(x) => {
                    if let Err(e) = x.parse::<payd_chain::address::AccountKey>() {
                        problems.push(format!("merchant {id}: {label} xpub: {e}"));
                    }
                }
                None if !networks.is_empty() => problems.push(format!(
                    "merchant {id}: no {label} xpub, so its live payments on {} are refused \
                     (payd merchant configure {id} --xpub-{} XPUB)",
                    networks.join(", "),
                    family.as_str()
                )),
                None => {}
            }
        }
    }
}

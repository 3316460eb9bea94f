//! `payd webhook …`: register endpoints, list them, and replay deliveries from the command
//! line. The rules are the engine's, as for the native API (`engine::webhooks`: URLs checked
//! against the target policy, the per-merchant cap, secrets sealed under the master key and
//! printed once); this parses flags and prints.

use clap::{Subcommand, ValueEnum};
use payd_core::apikey::Mode;
use payd_core::event::EventKind;
use payd_core::ids::{DeliveryId, MerchantId, WebhookEndpointId};
use payd_core::webhook::{WebhookEndpoint, WebhookFormat};
use serde_json::json;

use crate::config::Config;
use crate::engine::webhooks::endpoints::{self, NewEndpoint};
use crate::engine::webhooks::targets::{Policy, Target};
use crate::keys::load_master_key;

/// Live or test (the endpoint receives that mode's events).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum WebhookMode {
    /// Test-mode payments (devnet).
    Test,
    /// Live payments.
    Live,
}

/// Webhook commands.
#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Register an endpoint; prints its id and signing secret (shown only now).
    Add {
        /// The merchant (mer_…).
        #[arg(long)]
        merchant: String,
        /// Where deliveries go.
        #[arg(long)]
        url: String,
        #[arg(long, value_enum, default_value = "test")]
        mode: WebhookMode,
        /// Event kinds, comma-separated (payment.completed,payment.expired); default: all.
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
        /// Payload shape and signature: native, astrapay, paygentic, mutopay or alppay.
        #[arg(long, default_value = "native")]
        format: String,
        /// A note.
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List a merchant's endpoints.
    List {
        #[arg(long)]
        merchant: String,
        #[arg(long, value_enum, default_value = "test")]
        mode: WebhookMode,
        #[arg(long)]
        json: bool,
    },
    /// Send a delivery again, or every failed one of an endpoint.
    Replay {
        /// One delivery (dlv_…).
        #[arg(long, conflicts_with_all = ["endpoint", "failed"], required_unless_present = "endpoint")]
        delivery: Option<String>,
        /// An endpoint (hook_…), with --failed.
        #[arg(long, requires = "failed")]
        endpoint: Option<String>,
        /// Replay every failed or dead delivery of --endpoint.
        #[arg(long, requires = "endpoint")]
        failed: bool,
        #[arg(long)]
        json: bool,
    },
}

fn endpoint_json(e: &WebhookEndpoint) -> serde_json::Value {
    json!({
        "id": e.id.to_string(),
        "merchant_id": e.merchant_id.to_string(),
        "mode": e.mode.as_str(),
        "url": e.url,
        "format": e.format.as_str(),
        "events": e.events.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        "enabled": e.enabled,
        "disabled_reason": e.disabled_reason,
        "description": e.description,
    })
}

fn mode(m: WebhookMode) -> Mode {
    match m {
        WebhookMode::Test => Mode::Test,
        WebhookMode::Live => Mode::Live,
    }
}

fn merchant_id(text: &str) -> anyhow::Result<MerchantId> {
    text.parse().map_err(|_| anyhow::anyhow!("--merchant: `{text}` is not a merchant id"))
}

/// Runs a webhook command.
pub async fn run(config: Config, cmd: WebhookCommand) -> anyhow::Result<()> {
    let store = crate::cli::connect_cli(&config).await?;
    store.migrate().await?;
    let not_found = |what: std::fmt::Arguments<'_>| crate::cli::not_found(&config, what);
    let emit = |json_out: bool, value: serde_json::Value, human: String| {
        if json_out {
            println!("{value}");
        } else {
            println!("{human}");
        }
    };
    match cmd {
        WebhookCommand::Add { merchant, url, mode: m, events, format, description, json: json_out } => {
            let merchant_id = merchant_id(&merchant)?;
            if store.get_merchant(&merchant_id).await?.is_none() {
                return Err(not_found(format_args!("merchant {merchant_id}")));
            }
            let policy =
                Policy { allow_private: config.webhooks.allow_private_targets, require_https: false };
            let url = Target::check(&url, policy).map_err(|e| anyhow::anyhow!("--url: {e}"))?;
            let format = WebhookFormat::parse(&format).ok_or_else(|| {
                anyhow::anyhow!("--format must be native, astrapay, paygentic, mutopay or alppay")
            })?;
            let events = events
                .iter()
                .map(|e| {
                    EventKind::parse(e.trim()).ok_or_else(|| anyhow::anyhow!("--events: unknown event `{e}`"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let master = load_master_key(&config, true)?;
            let new =
                NewEndpoint { merchant_id, mode: mode(m), url, description, events, format, enabled: true };
            let max = config.webhooks.max_endpoints;
            let (e, secret) = endpoints::create(&store, &master, new, max, payd_store::now()).await?;
            let mut out = endpoint_json(&e);
            out["secret"] = json!(secret.expose());
            emit(
                json_out,
                out,
                format!(
                    "created {} webhook endpoint {} -> {}\n  secret  {}\n(shown only now)",
                    e.format,
                    e.id,
                    e.url,
                    secret.expose()
                ),
            );
        }
        WebhookCommand::List { merchant, mode: m, json: json_out } => {
            let list = store.list_webhook_endpoints(&merchant_id(&merchant)?, mode(m)).await?;
            let human = if list.is_empty() {
                "no webhook endpoints".to_owned()
            } else {
                list.iter()
                    .map(|e| {
                        let state = if e.enabled {
                            "enabled".to_owned()
                        } else {
                            format!(
                                "disabled ({})",
                                e.disabled_reason.as_deref().unwrap_or("by the merchant")
                            )
                        };
                        format!("{}  {}  {}  {}", e.id, e.format, state, e.url)
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            emit(json_out, json!({ "data": list.iter().map(endpoint_json).collect::<Vec<_>>() }), human);
        }
        WebhookCommand::Replay { delivery, endpoint, failed: _, json: json_out } => {
            let now = payd_store::now();
            let n = match (delivery, endpoint) {
                (Some(d), _) => {
                    let id: DeliveryId =
                        d.parse().map_err(|_| anyhow::anyhow!("--delivery: `{d}` is not a delivery id"))?;
                    if store.get_webhook_delivery(&id).await?.is_none() {
                        return Err(not_found(format_args!("delivery {id}")));
                    }
                    if !store.replay_webhook_delivery(&id, now).await? {
                        anyhow::bail!("delivery {id} is being sent right now; try again in a moment");
                    }
                    1
                }
                (None, Some(e)) => {
                    let id: WebhookEndpointId =
                        e.parse().map_err(|_| anyhow::anyhow!("--endpoint: `{e}` is not an endpoint id"))?;
                    if store.get_webhook_endpoint(&id).await?.is_none() {
                        return Err(not_found(format_args!("webhook endpoint {id}")));
                    }
                    store.replay_failed_webhook_deliveries(&id, now).await?
                }
                (None, None) => anyhow::bail!("give --delivery ID, or --endpoint ID --failed"),
            };
            emit(json_out, json!({ "replayed": n }), format!("{n} deliveries queued again"));
        }
    }
    Ok(())
}

//! The `payd` command: the interface operators and scripts use. It parses arguments, calls
//! the engine (merchants, keys, webhook endpoints: the rules live there) and prints. Every
//! command takes `--database-url`; `--json` output is one JSON object on stdout; errors go to
//! stderr with a non-zero exit.

pub mod devnet;
pub mod user;
pub mod webhook;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use payd_core::apikey::{Mode, Scope};
use payd_core::ids::{AccountId, ApiKeyId, MerchantId};
use payd_core::merchant::{MerchantStatus, NewMerchant};
use serde_json::json;

use crate::app::{connect, Application};
use crate::config::{Config, Overrides};
use crate::engine::merchants::{self, MerchantError, SettingsIn};
use crate::engine::users::Actor;
use crate::keys::{issue_key, load_master_key, KeyOwner};

#[derive(Debug, Parser)]
#[command(name = "payd", version, about = "Self-hosted stablecoin payment gateway")]
struct Cli {
    /// Configuration file (default: ./payd.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Database URL: sqlite:path or postgres://… (overrides PAYD_DATABASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (and its workers).
    Serve {
        /// Address to listen on (overrides PAYD_LISTEN).
        #[arg(long)]
        listen: Option<String>,
        /// Base URL of checkout links (overrides PAYD_PUBLIC_URL).
        #[arg(long)]
        public_url: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage merchants.
    #[command(subcommand)]
    Merchant(MerchantCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Drive devnet, the simulated chain of test mode.
    #[command(subcommand)]
    Devnet(crate::cli::devnet::DevnetCommand),
    /// Manage webhook endpoints and replay deliveries.
    #[command(subcommand)]
    Webhook(crate::cli::webhook::WebhookCommand),
    /// Manage dashboard users.
    #[command(subcommand)]
    User(crate::cli::user::UserCommand),
    /// Check the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate the configuration and each configured network against its node (reachable,
    /// chain id, token decimals) and the merchants' xpubs; report every problem at once.
    Check {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum MerchantCommand {
    /// Create a merchant (and a new account, unless --account names one).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        site_url: Option<String>,
        #[arg(long)]
        logo_url: Option<String>,
        /// Attach to an existing account (so one key can span its merchants).
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Suspend a merchant: its keys get 403 until it is activated again.
    Suspend(MerchantRef),
    /// Change a merchant's settings.
    Configure {
        /// Merchant id (mer_…).
        id: String,
        /// Smallest payment accepted, in USD (MutoPay's channel minimum), or `none`.
        #[arg(long, value_name = "USD")]
        min_amount: Option<String>,
        /// Preferred stablecoin as TOKEN/NETWORK (e.g. USDC/base), or `none`.
        #[arg(long, value_name = "TOKEN/NETWORK")]
        settlement: Option<String>,
        /// Account-level extended public key for EVM deposit addresses (m/44'/60'/0'/0; payd
        /// derives child i per payment and never holds a private key), or `none`.
        #[arg(long, value_name = "XPUB")]
        xpub_evm: Option<String>,
        /// Account-level extended public key for Tron deposit addresses (m/44'/195'/0'/0;
        /// addresses in base58 T… form), or `none`.
        #[arg(long, value_name = "XPUB")]
        xpub_tron: Option<String>,
        /// Complete a payment short of its amount due by at most this percentage (0 to 10,
        /// two decimals; 0 turns it off), flagged underpaid.
        #[arg(long, value_name = "PERCENT")]
        underpayment_tolerance: Option<String>,
        /// The assets offered at checkout, as TOKEN/NETWORK pairs separated by commas (e.g.
        /// USDC/base,USDT/tron), or `all` (the default: every asset this payd offers).
        #[arg(long, value_name = "TOKEN/NETWORK,…")]
        assets: Option<String>,
        /// The merchant's contact email, or `none`.
        #[arg(long, value_name = "EMAIL")]
        email: Option<String>,
        /// The merchant's site (an http(s) URL), or `none`.
        #[arg(long, value_name = "URL")]
        site_url: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Reactivate a suspended merchant.
    Activate(MerchantRef),
}

#[derive(Debug, Args)]
struct MerchantRef {
    /// Merchant id (mer_…).
    id: String,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModeArg {
    Test,
    Live,
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Create an API key; its secret and signing secret are printed once.
    Create {
        /// The merchant the key acts for.
        #[arg(long, conflicts_with = "account", required_unless_present = "account")]
        merchant: Option<String>,
        /// An account: the key spans its merchants, and requests name one.
        #[arg(long)]
        account: Option<String>,
        #[arg(long, value_enum)]
        mode: ModeArg,
        /// A scope (repeatable): payments:create, payments:read, webhooks:manage, products:manage.
        /// Default: all of them.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Revoke an API key at once.
    Revoke {
        /// Key id (key_…).
        id: String,
        #[arg(long)]
        json: bool,
    },
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(matches!(cli.command, Command::Serve { .. }));
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(serving: bool) {
    use tracing_subscriber::EnvFilter;
    // Commands other than serve stay quiet so their output can be piped.
    let default = if serving { "info" } else { "warn" };
    let filter = EnvFilter::try_from_env("PAYD_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    // Colour only for a person at a terminal: escape codes in a file, a pipe or a log
    // collector are noise. NO_COLOR (any non-empty value) turns it off there too.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut overrides =
        Overrides { config_file: cli.config, database_url: cli.database_url, ..Overrides::default() };
    if let Command::Serve { listen, public_url } = &cli.command {
        overrides.listen.clone_from(listen);
        overrides.public_url.clone_from(public_url);
    }
    if let Command::Config(ConfigCommand::Check { json }) = cli.command {
        return crate::config::check::run(&overrides, json).await;
    }
    let config = Config::load(&overrides)?;
    match cli.command {
        Command::Serve { .. } => serve(config).await,
        Command::Migrate => {
            let store = connect_cli(&config).await?;
            store.migrate().await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Merchant(cmd) => merchant(config, cmd).await,
        Command::Key(cmd) => key(config, cmd).await,
        Command::Devnet(cmd) => {
            let store = connect_cli(&config).await?;
            store.migrate().await?;
            crate::cli::devnet::run(&store, cmd).await.map_err(|e| in_database(&config, e))
        }
        Command::Webhook(cmd) => crate::cli::webhook::run(config, cmd).await,
        Command::User(cmd) => crate::cli::user::run(config, cmd).await,
        Command::Config(_) => Ok(()),
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    let base = app.state().config.public_url.clone();
    tracing::info!(port = app.port(), public_url = %base, "payd listening");
    println!("payd is listening on port {} (checkout links: {base})", app.port());
    if let Some(demo) = app.demo() {
        println!("{}", crate::bootstrap::banner(demo, &base));
    }
    app.run(shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

fn print(json_out: bool, value: serde_json::Value, human: String) {
    if json_out {
        println!("{value}");
    } else {
        println!("{human}");
    }
}

fn merchant_json(m: &payd_core::merchant::Merchant) -> serde_json::Value {
    json!({
        "id": m.id.to_string(),
        "account_id": m.account_id.to_string(),
        "name": m.name,
        "email": m.email,
        "site_url": m.site_url,
        "logo_url": m.logo_url,
        "status": m.status.as_str(),
        "settlement": m.settlement_asset.as_ref().map(|(t, n)| format!("{t}/{n}")),
    })
}

/// An engine refusal in the CLI's words: fields and settings are named by their flags, and a
/// missing merchant by the database it was looked for in.
fn merchant_error(config: &Config, e: MerchantError) -> anyhow::Error {
    let flag = |name: &str| format!("--{}", name.replace('_', "-"));
    match e {
        MerchantError::NotFound(id) => not_found(config, format_args!("merchant {id}")),
        MerchantError::Field(f) => {
            let name = flag(&f.field);
            anyhow::anyhow!("{}", f.renamed(name))
        }
        MerchantError::Invalid { setting, reason } => anyhow::anyhow!("{}: {reason}", flag(setting.name())),
        MerchantError::Store(e) => e.into(),
    }
}

/// Connects for a command other than `serve`. A SQLite file that does not exist yet is
/// created, and the operator is told where: a relative path in another working directory
/// silently means another, empty database.
pub async fn connect_cli(config: &Config) -> anyhow::Result<payd_store::Store> {
    let fresh = config.sqlite_path().is_some_and(|p| !p.exists());
    let store = connect(config).await?;
    if fresh {
        eprintln!("note: created a new, empty database at {}", config.database_location());
    }
    Ok(store)
}

/// "Not found" errors name the database looked in.
pub fn not_found(config: &Config, what: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("no {what} in the database at {}", config.database_location())
}

/// Adds the database to a "no payment …" style error from a shared helper.
fn in_database(config: &Config, e: anyhow::Error) -> anyhow::Error {
    if e.to_string().starts_with("no ") {
        anyhow::anyhow!("{e:#} in the database at {}", config.database_location())
    } else {
        e
    }
}

async fn merchant(config: Config, cmd: MerchantCommand) -> anyhow::Result<()> {
    let store = connect_cli(&config).await?;
    store.migrate().await?;
    let now = payd_store::now();
    let refused = |e| merchant_error(&config, e);
    match cmd {
        MerchantCommand::Create { name, email, site_url, logo_url, account, json: json_out } => {
            let account_id = account
                .map(|a| a.parse::<AccountId>().map_err(|_| anyhow::anyhow!("--account: not an account id")))
                .transpose()?;
            let input = NewMerchant { name, email, site_url, logo_url, account_id };
            let m = merchants::create(&store, input, now).await.map_err(|e| match e {
                MerchantError::Store(e) => anyhow::Error::from(e).context("creating merchant"),
                e => refused(e),
            })?;
            print(
                json_out,
                merchant_json(&m),
                format!("created merchant {} (account {})", m.id, m.account_id),
            );
        }
        MerchantCommand::Configure {
            id,
            min_amount,
            settlement,
            xpub_evm,
            xpub_tron,
            underpayment_tolerance,
            assets,
            email,
            site_url,
            json: json_out,
        } => {
            let id: MerchantId = id.parse().map_err(|_| anyhow::anyhow!("`{id}` is not a merchant id"))?;
            let input =
                SettingsIn { min_amount, settlement, xpub_evm, xpub_tron, underpayment_tolerance, assets };
            let networks = &config.networks;
            let mut s = merchants::configure(&store, networks, &Actor::Cli, &id, input, None, now)
                .await
                .map_err(refused)?;
            if email.is_some() || site_url.is_some() {
                // A flag left out keeps its value; `none` clears it.
                let value = |given: Option<String>, kept: &Option<String>| match given {
                    Some(v) if v.trim() == "none" => String::new(),
                    Some(v) => v,
                    None => kept.clone().unwrap_or_default(),
                };
                let email = value(email, &s.merchant.email);
                let site_url = value(site_url, &s.merchant.site_url);
                s.merchant = merchants::set_profile(&store, &Actor::Cli, &s.merchant, &email, &site_url, now)
                    .await
                    .map_err(refused)?;
            }
            let mut out = merchant_json(&s.merchant);
            out["min_amount_usd"] = json!(s.min_amount_usd.map(|d| d.to_string()));
            out["xpub_evm"] = json!(s.xpub_evm);
            out["xpub_tron"] = json!(s.xpub_tron);
            out["underpayment_tolerance_percent"] = json!(s.underpayment_tolerance_percent().to_string());
            // `null`: every asset this payd offers.
            out["assets"] = json!((!s.assets.is_empty()).then(|| s
                .assets
                .iter()
                .map(|(t, n)| format!("{t}/{n}"))
                .collect::<Vec<_>>()));
            print(json_out, out, format!("merchant {} configured", s.merchant.id));
        }
        MerchantCommand::Suspend(r) => set_status(&config, &store, r, MerchantStatus::Suspended).await?,
        MerchantCommand::Activate(r) => set_status(&config, &store, r, MerchantStatus::Active).await?,
    }
    Ok(())
}

async fn set_status(
    config: &Config,
    store: &payd_store::Store,
    r: MerchantRef,
    status: MerchantStatus,
) -> anyhow::Result<()> {
    let id: MerchantId = r.id.parse().map_err(|_| anyhow::anyhow!("`{}` is not a merchant id", r.id))?;
    let m = merchants::set_status(store, &id, status, payd_store::now())
        .await
        .map_err(|e| merchant_error(config, e))?;
    print(r.json, merchant_json(&m), format!("merchant {} is {}", m.id, m.status.as_str()));
    Ok(())
}

async fn key(config: Config, cmd: KeyCommand) -> anyhow::Result<()> {
    let store = connect_cli(&config).await?;
    store.migrate().await?;
    match cmd {
        KeyCommand::Create { merchant, account, mode, scopes, json: json_out } => {
            let owner = match (merchant, account) {
                (Some(m), _) => KeyOwner::Merchant(
                    m.parse().map_err(|_| anyhow::anyhow!("--merchant: `{m}` is not a merchant id"))?,
                ),
                (None, Some(a)) => KeyOwner::Account(
                    a.parse().map_err(|_| anyhow::anyhow!("--account: `{a}` is not an account id"))?,
                ),
                (None, None) => anyhow::bail!("give --merchant or --account"),
            };
            let scopes = scopes
                .iter()
                .map(|s| Scope::parse(s).ok_or_else(|| anyhow::anyhow!("unknown scope `{s}`")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let mode = match mode {
                ModeArg::Test => Mode::Test,
                ModeArg::Live => Mode::Live,
            };
            match &owner {
                KeyOwner::Merchant(id) if store.get_merchant(id).await?.is_none() => {
                    return Err(not_found(&config, format_args!("merchant {id}")));
                }
                KeyOwner::Account(id) if store.merchants_of_account(id).await?.is_empty() => {
                    return Err(not_found(&config, format_args!("account {id} with merchants")));
                }
                _ => {}
            }
            let master = load_master_key(&config, true)?;
            let issued = issue_key(&store, &master, owner, mode, scopes).await?;
            let k = &issued.key;
            print(
                json_out,
                json!({
                    "id": k.id.to_string(),
                    "key": issued.secret.expose(),
                    "signing_secret": issued.signing_secret.expose(),
                    "mode": k.mode.as_str(),
                    "merchant_id": k.merchant_id.as_ref().map(ToString::to_string),
                    "account_id": k.account_id.to_string(),
                    "scopes": k.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                }),
                format!(
                    "created {} key {}\n  key             {}\n  signing secret  {}\n(both are shown only now)",
                    k.mode,
                    k.id,
                    issued.secret.expose(),
                    issued.signing_secret.expose()
                ),
            );
        }
        KeyCommand::Revoke { id, json: json_out } => {
            let key_id: ApiKeyId = id.parse().map_err(|_| anyhow::anyhow!("`{id}` is not a key id"))?;
            if store.get_api_key(&key_id).await?.is_none() {
                return Err(not_found(&config, format_args!("key {key_id}")));
            }
            let revoked = store.revoke_api_key(&key_id, payd_store::now()).await?;
            print(
                json_out,
                json!({ "id": key_id.to_string(), "revoked": true, "already_revoked": !revoked }),
                if revoked { format!("revoked {key_id}") } else { format!("{key_id} was already revoked") },
            );
        }
    }
    Ok(())
}

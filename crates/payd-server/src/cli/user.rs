//! `payd user …`: dashboard users. The password is never a flag (flags show in `ps` and
//! shell history): it comes from `PAYD_USER_PASSWORD` or stdin, and is never printed or
//! logged.

use std::io::{IsTerminal, Read};

use clap::{Subcommand, ValueEnum};
use payd_core::ids::AccountId;
use payd_core::secret::Secret;
use payd_core::user::Role;
use serde_json::json;

use crate::config::Config;
use crate::engine::users::{self, Actor, NewUserIn, UserError};

/// The environment variable a script passes the password in.
pub const PASSWORD_ENV: &str = "PAYD_USER_PASSWORD";

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Every account, every change.
    Operator,
    /// Every change within one account.
    Admin,
    /// Reads one account.
    Viewer,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a dashboard user. The password is read from PAYD_USER_PASSWORD, else from
    /// stdin (its first line), never from a flag.
    Create {
        /// Login email.
        #[arg(long)]
        email: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The account (acct_…) an admin or viewer belongs to; operators have none.
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

fn read_password() -> anyhow::Result<Secret> {
    if let Some(p) = std::env::var_os(PASSWORD_ENV) {
        return p.into_string().map(Secret::new).map_err(|_| anyhow::anyhow!("{PASSWORD_ENV} is not UTF-8"));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        // Reading from a terminal would echo the password as it is typed.
        anyhow::bail!(
            "give the password on stdin (e.g. `read -rs PW && printf '%s' \"$PW\" | payd user create …`) \
             or in {PASSWORD_ENV}"
        );
    }
    let mut text = String::new();
    stdin.lock().take(4096).read_to_string(&mut text)?;
    let line = text.lines().next().unwrap_or_default().to_owned();
    Ok(Secret::new(line))
}

/// Runs a `payd user` command.
pub async fn run(config: Config, cmd: UserCommand) -> anyhow::Result<()> {
    let store = super::connect_cli(&config).await?;
    store.migrate().await?;
    match cmd {
        UserCommand::Create { email, role, account, json: json_out } => {
            let account = account
                .map(|a| {
                    a.parse::<AccountId>()
                        .map_err(|_| anyhow::anyhow!("--account: `{a}` is not an account id"))
                })
                .transpose()?;
            let role = match role {
                RoleArg::Operator => Role::Operator,
                RoleArg::Admin => Role::Admin,
                RoleArg::Viewer => Role::Viewer,
            };
            let password = read_password()?;
            let input = NewUserIn { email, role, account, password };
            let user = users::create_user(&store, input, &Actor::Cli, payd_store::now()).await.map_err(
                |e| match e {
                    UserError::Field(f) => anyhow::anyhow!("{}", f.renamed("--email")),
                    UserError::NoAccount(a) => super::not_found(&config, format_args!("account {a}")),
                    UserError::Store(e) => anyhow::Error::from(e).context("creating user"),
                    e => anyhow::anyhow!("{e}"),
                },
            )?;
            super::print(
                json_out,
                json!({
                    "id": user.id.to_string(),
                    "email": user.email,
                    "role": user.role.as_str(),
                    "account_id": user.account_id.as_ref().map(ToString::to_string),
                }),
                format!(
                    "created {} {} ({}); log in at {}/dashboard",
                    user.role.as_str(),
                    user.email,
                    user.id,
                    config.public_url
                ),
            );
        }
    }
    Ok(())
}

//! Merchants and their settings: creating one (its free-text fields checked), suspending and
//! reactivating it, and changing the settings payments follow — the smallest payment, the
//! preferred settlement asset, the EVM and Tron xpubs live addresses derive from, the underpayment
//! tolerance with its cap, the assets offered at checkout — and its profile (contact email,
//! site URL). The CLI and the dashboard call these; every value is checked before any is
//! written, so a refused change changes nothing.
//!
//! The settlement asset and the assets offered hold together: while a merchant offers a
//! chosen list, its settlement asset must be on it (a payment quoted in it would otherwise be
//! refused at create), so saving either one that breaks this is refused, naming what to do.

use chrono::{DateTime, Utc};
use payd_core::ids::MerchantId;
use payd_core::merchant::{Merchant, MerchantStatus, NewMerchant};
use payd_core::money::{Currency, Money};
use payd_store::{Store, StoreError};
use rust_decimal::Decimal;

use crate::config::networks::EvmNetwork;
use crate::engine::asset::{allows, instance_assets};
use crate::engine::fields::{self, FieldError, Problem, MAX_TEXT};
use crate::engine::users::{audit, Actor};

/// A merchant setting, named as the engine knows it (a surface renames it: `--min-amount`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// The smallest payment, in USD.
    MinAmount,
    /// The preferred stablecoin and network.
    Settlement,
    /// The account-level EVM xpub.
    XpubEvm,
    /// The account-level Tron xpub.
    XpubTron,
    /// The underpayment tolerance, in percent.
    UnderpaymentTolerance,
    /// The (token, network) pairs offered at checkout.
    Assets,
}

impl Setting {
    /// `min_amount`, `settlement`, `xpub_evm`, `xpub_tron`, `underpayment_tolerance`.
    pub fn name(self) -> &'static str {
        match self {
            Setting::MinAmount => "min_amount",
            Setting::Settlement => "settlement",
            Setting::XpubEvm => "xpub_evm",
            Setting::XpubTron => "xpub_tron",
            Setting::UnderpaymentTolerance => "underpayment_tolerance",
            Setting::Assets => "assets",
        }
    }
}

/// Why a merchant operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum MerchantError {
    /// No such merchant.
    #[error("no merchant {0}")]
    NotFound(MerchantId),
    /// A free-text field is refused.
    #[error(transparent)]
    Field(#[from] FieldError),
    /// A setting's value is refused; `reason` says why, in words for the operator.
    #[error("{}: {reason}", .setting.name())]
    Invalid {
        /// Which setting.
        setting: Setting,
        /// Why.
        reason: String,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(setting: Setting, reason: impl std::fmt::Display) -> MerchantError {
    MerchantError::Invalid { setting, reason: reason.to_string() }
}

/// Creates a merchant (and its account, unless it joins one), its fields as given checked
/// first: a name that is not blank, an email address, http(s) URLs.
pub async fn create(
    store: &Store,
    input: NewMerchant,
    now: DateTime<Utc>,
) -> Result<Merchant, MerchantError> {
    if input.name.trim().is_empty() {
        return Err(FieldError { field: "name".to_owned(), problem: Problem::Empty }.into());
    }
    let new = NewMerchant {
        name: fields::text("name", Some(input.name), MAX_TEXT)?.unwrap_or_default(),
        email: fields::email("email", input.email)?,
        site_url: fields::url("site_url", input.site_url)?,
        logo_url: fields::url("logo_url", input.logo_url)?,
        account_id: input.account_id,
    };
    Ok(store.create_merchant(&new, now).await?)
}

/// Suspends (its keys get 403) or reactivates a merchant.
pub async fn set_status(
    store: &Store,
    id: &MerchantId,
    status: MerchantStatus,
    now: DateTime<Utc>,
) -> Result<Merchant, MerchantError> {
    match store.set_merchant_status(id, status, now).await {
        Err(StoreError::NotFound(_)) => Err(MerchantError::NotFound(id.clone())),
        other => Ok(other?),
    }
}

/// Settings to change, each as the operator writes it; `None` leaves a setting as it is and
/// the word `none` clears it (the tolerance is cleared with `0`).
#[derive(Debug, Clone, Default)]
pub struct SettingsIn {
    /// USD, e.g. `5` or `2.50`.
    pub min_amount: Option<String>,
    /// `TOKEN/NETWORK`, e.g. `USDC/base`.
    pub settlement: Option<String>,
    /// An account-level xpub (`m/44'/60'/0'/0`).
    pub xpub_evm: Option<String>,
    /// An account-level xpub (`m/44'/195'/0'/0`).
    pub xpub_tron: Option<String>,
    /// Percent, 0 to 10 with two decimals at most.
    pub underpayment_tolerance: Option<String>,
    /// The assets offered at checkout, `TOKEN/NETWORK` separated by commas, or `all`.
    pub assets: Option<String>,
}

/// A merchant with the settings payments follow.
#[derive(Debug, Clone)]
pub struct MerchantSettings {
    /// The merchant (its settlement asset included).
    pub merchant: Merchant,
    /// The smallest payment, in USD.
    pub min_amount_usd: Option<Decimal>,
    /// The EVM xpub.
    pub xpub_evm: Option<String>,
    /// The Tron xpub.
    pub xpub_tron: Option<String>,
    /// Basis points.
    pub underpayment_tolerance_bp: u32,
    /// The `(token, network)` pairs offered at checkout; empty: every asset the instance offers.
    pub assets: Vec<(String, String)>,
}

impl MerchantSettings {
    /// The tolerance in percent, as the operator writes it (`0.75`).
    pub fn underpayment_tolerance_percent(&self) -> Decimal {
        Decimal::new(i64::from(self.underpayment_tolerance_bp), 2).normalize()
    }
}

/// `none` → clear; anything else → the value to check.
fn cleared(text: &str) -> Option<&str> {
    (text.trim() != "none").then_some(text)
}

/// The smallest payment: a USD amount.
pub fn parse_min_amount(text: &str) -> Result<Option<Decimal>, MerchantError> {
    cleared(text)
        .map(|t| Money::parse(t, Currency::USD).map(|m| m.amount).map_err(|e| invalid(Setting::MinAmount, e)))
        .transpose()
}

/// The settlement asset: a token payd supports on a network it knows, as (symbol, network id).
pub fn parse_settlement(text: &str) -> Result<Option<(String, String)>, MerchantError> {
    let Some(text) = cleared(text) else { return Ok(None) };
    let (token, network) = text
        .split_once('/')
        .ok_or_else(|| invalid(Setting::Settlement, "write TOKEN/NETWORK, e.g. USDC/base"))?;
    let net = payd_core::registry::resolve_network(network)
        .ok_or_else(|| invalid(Setting::Settlement, format_args!("unknown network `{network}`")))?;
    let tok = payd_core::registry::token(&token.to_ascii_uppercase(), net.id).ok_or_else(|| {
        invalid(Setting::Settlement, format_args!("{token} is not supported on {}", net.id))
    })?;
    Ok(Some((tok.symbol.to_owned(), net.id.to_owned())))
}

/// The EVM xpub: it must parse and derive (once now, so a key that cannot derive fails here,
/// not at a payment).
pub fn parse_xpub_evm(text: &str) -> Result<Option<String>, MerchantError> {
    parse_xpub(text, Setting::XpubEvm, payd_chain::address::AddressFormat::Evm)
}

/// The Tron xpub (`m/44'/195'/0'/0`), checked as the EVM one.
pub fn parse_xpub_tron(text: &str) -> Result<Option<String>, MerchantError> {
    parse_xpub(text, Setting::XpubTron, payd_chain::address::AddressFormat::Tron)
}

fn parse_xpub(
    text: &str,
    setting: Setting,
    format: payd_chain::address::AddressFormat,
) -> Result<Option<String>, MerchantError> {
    let text = text.trim();
    let Some(text) = cleared(text) else { return Ok(None) };
    let key: payd_chain::address::AccountKey = text.parse().map_err(|e| invalid(setting, e))?;
    key.address(0, format).map_err(|e| invalid(setting, e))?;
    Ok(Some(text.to_owned()))
}

/// The underpayment tolerance in percent, as basis points (capped at 10 %).
pub fn parse_tolerance(text: &str) -> Result<u32, MerchantError> {
    payd_core::payment::tolerance_basis_points(text).map_err(|e| invalid(Setting::UnderpaymentTolerance, e))
}

/// The assets offered at checkout, from the `TOKEN/NETWORK` pairs ticked (or listed): each
/// must be one the instance offers ([`instance_assets`]), spelled as the registry and
/// payd.toml spell it once stored. None is refused (a checkout offering nothing could not be
/// paid); every one of them is stored as the empty list, "all", so networks configured later
/// are offered too.
pub fn parse_assets(networks: &[EvmNetwork], items: &[&str]) -> Result<Vec<(String, String)>, MerchantError> {
    let offered = instance_assets(networks);
    let mut chosen: Vec<(String, String)> = Vec::new();
    for item in items.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
        let found = item.split_once('/').and_then(|(token, network)| {
            offered.iter().find(|(p, _)| {
                p.token.eq_ignore_ascii_case(token.trim()) && p.network.eq_ignore_ascii_case(network.trim())
            })
        });
        let Some((p, _)) = found else {
            return Err(invalid(
                Setting::Assets,
                format_args!("`{item}` is not a TOKEN/NETWORK pair this payd offers (e.g. USDC/base)"),
            ));
        };
        let pair = (p.token.clone(), p.network.clone());
        if !chosen.contains(&pair) {
            chosen.push(pair);
        }
    }
    if chosen.is_empty() {
        return Err(invalid(Setting::Assets, "enable at least one asset, or customers could not pay"));
    }
    if offered.iter().all(|(p, _)| chosen.iter().any(|(t, n)| *t == p.token && *n == p.network)) {
        return Ok(Vec::new());
    }
    chosen.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
    Ok(chosen)
}

/// [`parse_assets`] from the CLI's comma-separated list; `all` offers every asset again.
pub fn parse_asset_list(networks: &[EvmNetwork], text: &str) -> Result<Vec<(String, String)>, MerchantError> {
    if text.trim().eq_ignore_ascii_case("all") {
        return Ok(Vec::new());
    }
    parse_assets(networks, &text.split(',').collect::<Vec<_>>())
}

/// The settlement asset must be among the assets offered (see the module's note); `which`
/// is the setting being changed, so the refusal names it.
fn settlement_offered(
    settlement: Option<&(String, String)>,
    assets: &[(String, String)],
    which: Setting,
) -> Result<(), MerchantError> {
    match settlement {
        Some((token, network)) if !allows(assets, token, network) => Err(invalid(
            which,
            match which {
                Setting::Assets => format!(
                    "the settlement asset {token}/{network} must stay enabled; change or clear the settlement asset first"
                ),
                _ => format!("{token}/{network} is not among the assets offered at checkout; enable it first"),
            },
        )),
        _ => Ok(()),
    }
}

/// The audit line's detail for a list of assets.
fn describe_assets(assets: &[(String, String)]) -> String {
    if assets.is_empty() {
        return "all assets".to_owned();
    }
    assets.iter().map(|(t, n)| format!("{t}/{n}")).collect::<Vec<_>>().join(", ")
}

/// Replaces the assets `merchant` offers at checkout with the ones ticked, writing the audit
/// line `merchant.assets` (naming them) in the same transaction. Payments that already have
/// an asset keep it; only new payments and new choices follow the list.
pub async fn set_assets(
    store: &Store,
    networks: &[EvmNetwork],
    actor: &Actor<'_>,
    merchant: &Merchant,
    items: &[&str],
    now: DateTime<Utc>,
) -> Result<Vec<(String, String)>, MerchantError> {
    let assets = parse_assets(networks, items)?;
    // Read again: the settlement asset may have changed since the caller's copy.
    let current = store
        .get_merchant(&merchant.id)
        .await?
        .ok_or_else(|| MerchantError::NotFound(merchant.id.clone()))?;
    settlement_offered(current.settlement_asset.as_ref(), &assets, Setting::Assets)?;
    let mut line =
        audit(actor, "merchant.assets", merchant.id.to_string(), Some(merchant.account_id.clone()), now);
    line.detail = describe_assets(&assets);
    if !store.set_merchant_assets(&merchant.id, &assets, &line, now).await? {
        return Err(MerchantError::NotFound(merchant.id.clone()));
    }
    Ok(assets)
}

/// Sets a merchant's profile: its contact email and site URL (blank clears one), checked by
/// the rules every surface shares (an email address of at most 255 characters; an absolute
/// http(s) URL of at most 2048), with the audit line `merchant.profile` (naming what changed)
/// in the same transaction.
pub async fn set_profile(
    store: &Store,
    actor: &Actor<'_>,
    merchant: &Merchant,
    email: &str,
    site_url: &str,
    now: DateTime<Utc>,
) -> Result<Merchant, MerchantError> {
    let given = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_owned());
    let email = fields::email("email", given(email))?;
    let site_url = fields::url("site_url", given(site_url))?;
    let changed: Vec<&str> =
        [("email", email != merchant.email), ("site_url", site_url != merchant.site_url)]
            .into_iter()
            .filter_map(|(name, differs)| differs.then_some(name))
            .collect();
    let mut line =
        audit(actor, "merchant.profile", merchant.id.to_string(), Some(merchant.account_id.clone()), now);
    line.detail = if changed.is_empty() { "nothing changed".to_owned() } else { changed.join(", ") };
    if !store.set_merchant_profile(&merchant.id, email.as_deref(), site_url.as_deref(), &line, now).await? {
        return Err(MerchantError::NotFound(merchant.id.clone()));
    }
    store.get_merchant(&merchant.id).await?.ok_or_else(|| MerchantError::NotFound(merchant.id.clone()))
}

/// Checks every given setting, then writes them with the audit line `merchant.configure`
/// in one transaction (a refused value writes nothing, a written change always has its
/// line); the merchant's settings afterwards. The line names `changed` when the caller knows
/// what differs (the dashboard compares its form), else every setting given (the CLI's flags).
pub async fn configure(
    store: &Store,
    networks: &[EvmNetwork],
    actor: &Actor<'_>,
    id: &MerchantId,
    input: SettingsIn,
    changed: Option<&[&str]>,
    now: DateTime<Utc>,
) -> Result<MerchantSettings, MerchantError> {
    let Some(merchant) = store.get_merchant(id).await? else {
        return Err(MerchantError::NotFound(id.clone()));
    };
    let min_amount = input.min_amount.as_deref().map(parse_min_amount).transpose()?;
    let settlement = input.settlement.as_deref().map(parse_settlement).transpose()?;
    let xpub_evm = input.xpub_evm.as_deref().map(parse_xpub_evm).transpose()?;
    let xpub_tron = input.xpub_tron.as_deref().map(parse_xpub_tron).transpose()?;
    let tolerance = input.underpayment_tolerance.as_deref().map(parse_tolerance).transpose()?;
    let assets = input.assets.as_deref().map(|t| parse_asset_list(networks, t)).transpose()?;
    let final_assets = match &assets {
        Some(a) => a.clone(),
        None => store.merchant_assets(id).await?,
    };
    let final_settlement = settlement.clone().unwrap_or(merchant.settlement_asset.clone());
    let which = if assets.is_some() && settlement.is_none() { Setting::Assets } else { Setting::Settlement };
    settlement_offered(final_settlement.as_ref(), &final_assets, which)?;

    let given: Vec<&str> = [
        (Setting::MinAmount, min_amount.is_some()),
        (Setting::Settlement, settlement.is_some()),
        (Setting::UnderpaymentTolerance, tolerance.is_some()),
        (Setting::XpubEvm, xpub_evm.is_some()),
        (Setting::XpubTron, xpub_tron.is_some()),
        (Setting::Assets, assets.is_some()),
    ]
    .into_iter()
    .filter_map(|(s, set)| set.then_some(s.name()))
    .collect();
    let names = changed.unwrap_or(&given);
    let mut line = audit(actor, "merchant.configure", id.to_string(), Some(merchant.account_id.clone()), now);
    line.detail = if names.is_empty() { "nothing changed".to_owned() } else { names.join(", ") };
    let family = |f: payd_core::registry::Family| f.as_str().to_owned();
    let mut xpubs = Vec::new();
    if let Some(v) = xpub_evm {
        xpubs.push((family(payd_core::registry::Family::Evm), v));
    }
    if let Some(v) = xpub_tron {
        xpubs.push((family(payd_core::registry::Family::Tron), v));
    }
    let change = payd_store::settings::MerchantConfig {
        min_amount_usd: min_amount.map(|v| v.map(|d| d.to_string())),
        settlement,
        underpayment_tolerance_bp: tolerance,
        xpubs,
        assets,
    };
    if !store.configure_merchant(id, &change, &line, now).await? {
        return Err(MerchantError::NotFound(id.clone()));
    }
    settings(store, id).await
}

/// A merchant's settings.
pub async fn settings(store: &Store, id: &MerchantId) -> Result<MerchantSettings, MerchantError> {
    let merchant = store.get_merchant(id).await?.ok_or_else(|| MerchantError::NotFound(id.clone()))?;
    Ok(MerchantSettings {
        merchant,
        min_amount_usd: store.merchant_min_amount(id).await?,
        xpub_evm: store.merchant_xpub(id, payd_core::registry::Family::Evm).await?,
        xpub_tron: store.merchant_xpub(id, payd_core::registry::Family::Tron).await?,
        underpayment_tolerance_bp: store.merchant_underpayment_tolerance(id).await?.unwrap_or(0),
        assets: store.merchant_assets(id).await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked_and_none_clears_them() {
        assert_eq!(parse_min_amount("none").ok(), Some(None));
        assert_eq!(parse_min_amount("2.50").ok(), Some(Some(Decimal::new(250, 2))));
        assert!(parse_min_amount("abc").is_err());
        assert_eq!(parse_settlement("usdc/base").ok(), Some(Some(("USDC".to_owned(), "base".to_owned()))));
        let e = parse_settlement("USDC").err().map(|e| e.to_string());
        assert_eq!(e.as_deref(), Some("settlement: write TOKEN/NETWORK, e.g. USDC/base"));
        assert!(parse_settlement("USDC/nowhere").is_err());
        assert!(parse_xpub_evm("xpub-nonsense").is_err());
        assert_eq!(parse_xpub_evm(" none ").ok(), Some(None));
        let e = parse_xpub_tron("xpub-nonsense").err().map(|e| e.to_string());
        assert_eq!(e.as_deref(), Some("xpub_tron: not a valid extended public key (xpub)"));
        assert!(parse_xpub_tron(payd_chain::address::DEVNET_XPUB).is_ok_and(|x| x.is_some()));
        assert_eq!(parse_tolerance("0.75").ok(), Some(75));
        assert!(parse_tolerance("11").is_err());
    }

    #[test]
    fn assets_are_the_instances_pairs_and_all_of_them_is_stored_as_all() {
        // No network configured: the networks devnet stands in for (test mode).
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter().map(|(t, n)| ((*t).to_owned(), (*n).to_owned())).collect()
        };
        let got = parse_asset_list(&[], " usdt/TRON, USDC/base,USDC/base").ok();
        assert_eq!(got, Some(pairs(&[("USDC", "base"), ("USDT", "tron")])));
        assert_eq!(parse_asset_list(&[], "ALL").ok(), Some(Vec::new()));
        let e = parse_asset_list(&[], "USDC/solana").err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("assets: `USDC/solana` is not a TOKEN/NETWORK pair this payd offers (e.g. USDC/base)")
        );
        assert!(parse_asset_list(&[], "DOGE/base").is_err());
        assert!(parse_asset_list(&[], "USDC/devnet").is_err());
        let e = parse_assets(&[], &[]).err().map(|e| e.to_string());
        assert_eq!(e.as_deref(), Some("assets: enable at least one asset, or customers could not pay"));
        let every: Vec<String> =
            instance_assets(&[]).iter().map(|(p, _)| format!("{}/{}", p.token, p.network)).collect();
        let every: Vec<&str> = every.iter().map(String::as_str).collect();
        assert_eq!(parse_assets(&[], &every).ok(), Some(Vec::new()));
        assert!(parse_assets(&[], &every[1..]).is_ok_and(|l| l.len() == every.len() - 1));
    }

    #[test]
    fn the_settlement_asset_must_be_offered() {
        let usdc_base = ("USDC".to_owned(), "base".to_owned());
        let only_tron = vec![("USDT".to_owned(), "tron".to_owned())];
        assert!(settlement_offered(Some(&usdc_base), &[], Setting::Assets).is_ok());
        assert!(settlement_offered(None, &only_tron, Setting::Assets).is_ok());
        let e =
            settlement_offered(Some(&usdc_base), &only_tron, Setting::Assets).err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("assets: the settlement asset USDC/base must stay enabled; change or clear the settlement asset first")
        );
        let e = settlement_offered(Some(&usdc_base), &only_tron, Setting::Settlement)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("settlement: USDC/base is not among the assets offered at checkout; enable it first")
        );
    }
}

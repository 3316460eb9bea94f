//! What the checkout page shows for a payment, decided from what the engine returns: the
//! stage (waiting, seen, partially paid, paid, paid late, expired, cancelled), the exact
//! amounts as text (from base units, never through a float), the deposit address grouped for
//! reading, and the wallet URI its QR code holds. The templates only lay this out.

use chrono::{DateTime, Utc};
use payd_core::apikey::Mode;
use payd_core::payment::{Payment, PaymentStatus};
use payd_core::registry::{self, Family};
use payd_core::token::format_base_units_trimmed;

use crate::config::networks::EvmNetwork;
use crate::engine::asset::Payable;
use crate::engine::checkout::{Checkout, Progress};

/// Where the payment stands, as the customer needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// Created without a token: nothing to pay to yet.
    NoAsset,
    /// Nothing received yet.
    Waiting,
    /// Part received (`received`), `left` still to send.
    Partial {
        /// Received so far, as text.
        received: String,
        /// Still to send, as text.
        left: String,
    },
    /// Everything seen, waiting for confirmations.
    Seen {
        /// Confirmations of the shallowest transfer, when known.
        progress: Option<Progress>,
    },
    /// Paid (in full, or within the merchant's underpayment tolerance); `extra` is what was
    /// sent beyond the amount due.
    Paid {
        /// What was received, as text (the receipt shows this, not the amount due).
        received: String,
        /// Overpaid by, as text.
        extra: Option<String>,
    },
    /// Money arrived after expiry.
    PaidLate {
        /// Received in all, as text.
        received: String,
    },
    /// Expired; `received` is what arrived in time, if anything.
    Expired {
        /// Received, as text.
        received: Option<String>,
    },
    /// Cancelled.
    Cancelled,
}

impl Stage {
    /// The stage's name in the live-status stream and the embedding `postMessage`.
    pub fn key(&self) -> &'static str {
        match self {
            Stage::NoAsset => "no_asset",
            Stage::Waiting => "waiting",
            Stage::Partial { .. } => "partially_paid",
            Stage::Seen { .. } => "confirming",
            Stage::Paid { .. } => "paid",
            Stage::PaidLate { .. } => "paid_late",
            Stage::Expired { .. } => "expired",
            Stage::Cancelled => "cancelled",
        }
    }

    /// Whether the page can still change by itself (money may still arrive or confirm).
    pub fn is_live(&self) -> bool {
        matches!(self, Stage::NoAsset | Stage::Waiting | Stage::Partial { .. } | Stage::Seen { .. })
    }
}

/// What to send, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayView {
    /// The token's ticker.
    pub token: String,
    /// The network's display name.
    pub network: String,
    /// The amount to send now (the whole amount, or the remainder), as text.
    pub amount: String,
    /// The deposit address, in full.
    pub address: String,
    /// The address in groups of four characters, for reading aloud and comparing.
    pub address_groups: Vec<String>,
    /// A URI wallets parse (EIP-681 on EVM networks); `None` where no such URI exists.
    pub uri: Option<String>,
    /// What the QR code holds: the URI, or the bare address.
    pub qr: String,
    /// The EVM transfer a browser wallet can send, where there is one.
    pub wallet: Option<WalletTx>,
}

/// An ERC-20 transfer for a browser wallet (EIP-1193).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletTx {
    /// The chain id, in hex (`0x2105`), as `wallet_switchEthereumChain` takes it.
    pub chain_id: String,
    /// The token contract.
    pub contract: String,
    /// The recipient.
    pub to: String,
    /// The amount in base units, in hex.
    pub amount: String,
}

/// One line item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// What.
    pub description: String,
    /// How many.
    pub quantity: u32,
    /// Its amount with the currency.
    pub amount: String,
}

/// A token on a network the customer may choose to pay in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// Ticker.
    pub token: String,
    /// Network id (the form's value).
    pub network: String,
    /// Network name for people.
    pub network_name: String,
    /// The payment's current asset.
    pub current: bool,
}

impl Choice {
    /// The form value naming it (`USDC:base`).
    pub fn value(&self) -> String {
        format!("{}:{}", self.token, self.network)
    }
}

/// The page, decided.
#[derive(Debug, Clone)]
pub struct View {
    /// A test-mode payment (banner, simulate buttons).
    pub test_mode: bool,
    /// The merchant's name.
    pub merchant: String,
    /// The merchant's logo: the one uploaded to payd (its path), else an http(s) URL.
    pub logo: Option<String>,
    /// The stylesheet of the merchant's accent colour, when it chose one.
    pub accent_css: Option<String>,
    /// What is paid for.
    pub description: Option<String>,
    /// The merchant's reference for the order (order id, invoice number).
    pub reference: Option<String>,
    /// Line items.
    pub items: Vec<Item>,
    /// The price with its currency (`49.99 EUR`).
    pub price: String,
    /// The exchange rate applied: (from, rate, to).
    pub rate: Option<(String, String, String)>,
    /// The token amount of the whole payment (`54.12 USDC`), once the asset is fixed.
    pub token_total: Option<String>,
    /// Where the payment stands.
    pub stage: Stage,
    /// What to send now, while something is to be sent.
    pub pay: Option<PayView>,
    /// When the payment expires.
    pub expires_at: DateTime<Utc>,
    /// Seconds until then (never negative).
    pub seconds_left: i64,
    /// The customer may cancel (pending, nothing received).
    pub can_cancel: bool,
    /// What the customer may choose to pay in (or switch to): while the payment is pending,
    /// unexpired and has received nothing; empty otherwise.
    pub choices: Vec<Choice>,
    /// The merchant's page after a successful payment.
    pub success_url: Option<String>,
    /// Where "cancel" leads.
    pub cancel_url: Option<String>,
    /// The way back to the shop.
    pub back_url: Option<String>,
    /// When it was paid.
    pub completed_at: Option<DateTime<Utc>>,
    /// The token's network, for the receipt.
    pub network: Option<String>,
    /// The payment's version the page shows (the live stream sends only what is newer).
    pub version: i64,
}

/// Only http(s) URLs are followed or shown from the page (a merchant URL is checked on
/// create, but the page takes no chance with `javascript:`).
fn web_url(url: Option<&String>) -> Option<String> {
    url.filter(|u| u.starts_with("https://") || u.starts_with("http://")).cloned()
}

/// The address in groups of four (`0x` kept with the first group).
pub fn group(address: &str) -> Vec<String> {
    let (head, rest) = match address.strip_prefix("0x") {
        Some(rest) => ("0x", rest),
        None => ("", address),
    };
    let chars: Vec<char> = rest.chars().collect();
    let mut groups: Vec<String> = chars.chunks(4).map(|c| c.iter().collect()).collect();
    if let Some(first) = groups.first_mut() {
        first.insert_str(0, head);
    }
    groups
}

/// The chain id and token contract of an asset: a configured network first (its contracts
/// are what the watcher reads), then the built-in registry.
fn evm_target(networks: &[EvmNetwork], token: &str, network: &str) -> Option<(u64, String)> {
    if let Some(net) = crate::config::networks::find(networks, network) {
        let tok = net.token(token)?;
        return Some((net.chain_id, tok.contract.to_string()));
    }
    let net = registry::network(network)?;
    let chain_id = net.chain_id?;
    let contract = registry::token(token, net.id)?.contract?;
    (net.family == Family::Evm).then(|| (chain_id, contract.to_owned()))
}

/// The network's family (a configured network is of its own family).
fn family(networks: &[EvmNetwork], network: &str) -> Option<Family> {
    crate::config::networks::find(networks, network)
        .map(|n| n.family)
        .or_else(|| registry::network(network).map(|n| n.family))
}

/// The network's display name.
fn network_name(network: &str) -> String {
    registry::network(network).map_or_else(|| network.to_owned(), |n| n.name.to_owned())
}

/// What to send: `amount` base units of the payment's token to its address.
fn pay_view(networks: &[EvmNetwork], p: &Payment, amount: u128) -> Option<PayView> {
    let asset = p.asset.as_ref()?;
    let address = asset.address.clone()?;
    let text = format_base_units_trimmed(amount, asset.decimals);
    let evm = match family(networks, &asset.network) {
        Some(Family::Evm) => evm_target(networks, &asset.token, &asset.network),
        _ => None,
    };
    // EIP-681, as wallets parse it: the chain id always (MetaMask iOS ignored a missing
    // one), the amount as plain integer digits of base units (never a decimal or exponent).
    let uri = evm.as_ref().map(|(chain, contract)| {
        format!("ethereum:{contract}@{chain}/transfer?address={address}&uint256={amount}")
    });
    let wallet = evm.map(|(chain, contract)| WalletTx {
        chain_id: format!("{chain:#x}"),
        contract,
        to: address.clone(),
        amount: format!("{amount:#x}"),
    });
    Some(PayView {
        token: asset.token.clone(),
        network: network_name(&asset.network),
        amount: text,
        // Tron and the rest: no URI their wallets' scanners accept, so the bare address.
        qr: uri.clone().unwrap_or_else(|| address.clone()),
        address_groups: group(&address),
        address,
        uri,
        wallet,
    })
}

impl View {
    /// Decides the page for a payment at `now`.
    pub fn build(
        checkout: &Checkout,
        progress: Option<Progress>,
        payable: &[Payable],
        networks: &[EvmNetwork],
        now: DateTime<Utc>,
    ) -> View {
        let p = &checkout.payment;
        let m = &checkout.merchant;
        let fmt = |units: u128| {
            p.asset.as_ref().map_or_else(String::new, |a| format_base_units_trimmed(units, a.decimals))
        };
        let total = p.funds.total();
        let due = p.amount_due();
        let (stage, to_send) = match (p.status, due) {
            (PaymentStatus::Cancelled, _) => (Stage::Cancelled, None),
            (PaymentStatus::Expired, _) if p.paid_late => (Stage::PaidLate { received: fmt(total) }, None),
            (PaymentStatus::Expired, _) => {
                (Stage::Expired { received: (total > 0).then(|| fmt(total)) }, None)
            }
            (PaymentStatus::Completed, Some(due)) => {
                (Stage::Paid { received: fmt(total), extra: (total > due).then(|| fmt(total - due)) }, None)
            }
            (PaymentStatus::Completed, None) => (Stage::Paid { received: fmt(total), extra: None }, None),
            (PaymentStatus::Pending | PaymentStatus::Processing, None) => (Stage::NoAsset, None),
            (PaymentStatus::Pending | PaymentStatus::Processing, Some(due)) => match due.checked_sub(total) {
                Some(0) | None => (Stage::Seen { progress }, None),
                Some(left) if total == 0 => (Stage::Waiting, Some(left)),
                Some(left) => (Stage::Partial { received: fmt(total), left: fmt(left) }, Some(left)),
            },
        };
        let reference = [&p.external_id, &p.invoice, &p.reference].into_iter().flatten().next().cloned();
        let currency = p.price.currency.code();
        View {
            test_mode: p.mode == Mode::Test,
            merchant: checkout.brand.display_name.clone().unwrap_or_else(|| m.name.clone()),
            logo: match &checkout.brand.logo {
                Some(l) => Some(crate::engine::brand::logo_path(&l.digest, &l.content_type)),
                None => web_url(m.logo_url.as_ref()),
            },
            accent_css: checkout.brand.accent.as_deref().map(crate::engine::brand::accent_path),
            description: p.description.clone(),
            reference,
            items: p
                .line_items
                .iter()
                .map(|i| Item {
                    description: i.description.clone(),
                    quantity: i.quantity,
                    amount: format!("{} {currency}", i.amount),
                })
                .collect(),
            price: format!("{} {currency}", p.price.amount_string()),
            rate: p
                .fx
                .as_ref()
                .map(|fx| (currency.to_owned(), fx.rate.normalize().to_string(), fx.quote_currency.clone())),
            token_total: p.asset.as_ref().map(|a| format!("{} {}", fmt(a.amount_due), a.token)),
            pay: to_send.and_then(|left| pay_view(networks, p, left)),
            stage,
            expires_at: p.expires_at,
            seconds_left: (p.expires_at - now).num_seconds().max(0),
            can_cancel: p.status == PaymentStatus::Pending && total == 0,
            choices: if can_choose(p, now) {
                payable
                    .iter()
                    .map(|c| Choice {
                        token: c.token.clone(),
                        network: c.network.clone(),
                        network_name: c.network_name.clone(),
                        current: p
                            .asset
                            .as_ref()
                            .is_some_and(|a| a.token == c.token && a.network == c.network),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            success_url: web_url(p.urls.success.as_ref()),
            cancel_url: cancel_url(p),
            back_url: web_url(
                p.urls
                    .back
                    .as_ref()
                    .or(p.urls.cancel.as_ref())
                    .or(p.urls.failure.as_ref())
                    .or(m.site_url.as_ref()),
            ),
            completed_at: p.completed_at,
            network: p.asset.as_ref().map(|a| network_name(&a.network)),
            version: p.version,
        }
    }

    /// The origin of the cancel URL (the cancel form's redirect goes there, so the page's
    /// `form-action` must allow it).
    pub fn cancel_origin(&self) -> Option<String> {
        self.cancel_url.as_deref().and_then(origin)
    }

    /// The origin of the logo (the page's `img-src` allows it and nothing else outside payd).
    pub fn logo_origin(&self) -> Option<String> {
        self.logo.as_deref().and_then(origin)
    }
}

/// Where "cancel" leads: the merchant's cancel page, else its way back to the shop.
pub fn cancel_url(p: &Payment) -> Option<String> {
    web_url(p.urls.cancel.as_ref().or(p.urls.back.as_ref()))
}

/// Whether the customer may choose (or switch) the asset now: the state machine's own rule
/// (`Payment::asset_choosable`), so the page never offers a choice the engine would refuse.
pub fn can_choose(p: &Payment, now: DateTime<Utc>) -> bool {
    p.asset_choosable(now).is_ok()
}

pub use crate::web::origin;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_grouped_by_four_and_keep_every_character() {
        let a = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
        let g = group(a);
        assert_eq!(g.first().map(String::as_str), Some("0x5aAe"));
        assert_eq!(g.concat(), a);
        assert_eq!(g.len(), 10);
        assert_eq!(
            group("TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW").concat(),
            "TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW"
        );
    }

    #[test]
    fn evm_targets_come_from_configuration_then_the_registry() {
        assert_eq!(
            evm_target(&[], "USDC", "base"),
            Some((8453, "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913".to_owned()))
        );
        // Tron has a chain id in the registry but no EIP-681.
        assert_eq!(evm_target(&[], "USDT", "tron"), None);
        assert_eq!(evm_target(&[], "USDC", "devnet"), None);
    }

    #[test]
    fn origins_are_scheme_host_and_port() {
        assert_eq!(origin("https://shop.example/cancel?x=1").as_deref(), Some("https://shop.example"));
        assert_eq!(origin("http://127.0.0.1:8080/a").as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(origin("javascript:alert(1)"), None);
    }
}

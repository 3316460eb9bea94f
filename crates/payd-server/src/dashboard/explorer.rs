//! Explorer links on the dashboard's transfers and addresses: the configured network's
//! templates, else payd's default for a well-known network, else the text alone (devnet).
//! Links open a third-party site: `rel="noopener noreferrer"`, so it gets no handle on the
//! page and no address of it.

use maud::{html, Markup};

use crate::config::explorer::{default_for, fill, Explorer, ADDRESS, HASH};
use crate::state::AppState;

/// The explorer of one network.
#[derive(Debug, Clone, Default)]
pub struct Links(Explorer);

impl Links {
    /// The links of `network` under this instance's configuration.
    pub fn of(state: &AppState, network: &str) -> Links {
        match state.config.networks.iter().find(|n| n.name == network) {
            Some(n) => Links(n.explorer.clone()),
            None => Links(default_for(network)),
        }
    }

    fn link(template: Option<&String>, placeholder: &str, value: &str) -> Markup {
        match template.and_then(|t| fill(t, placeholder, value)) {
            Some(href) => html! { a href=(href) rel="noopener noreferrer" target="_blank" { (value) } },
            None => html! { (value) },
        }
    }

    /// A transaction's explorer page, if the network has an explorer.
    pub fn tx_href(&self, hash: &str) -> Option<String> {
        self.0.tx.as_ref().and_then(|t| fill(t, HASH, hash))
    }

    /// A transaction hash, linked when the network has an explorer.
    pub fn tx(&self, hash: &str) -> Markup {
        Self::link(self.0.tx.as_ref(), HASH, hash)
    }

    /// An address, linked when the network has an explorer.
    pub fn address(&self, address: &str) -> Markup {
        Self::link(self.0.address.as_ref(), ADDRESS, address)
    }
}

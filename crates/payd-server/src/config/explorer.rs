//! Block-explorer links per network (`explorer_tx`, `explorer_address` in a `[[networks]]`
//! entry): URL templates with `{hash}` or `{address}`, checked at load (https only, exactly
//! one placeholder, nothing else in braces), and payd's defaults for the well-known networks.
//! devnet has none: its chain lives in payd's database.

/// A network's explorer templates (either may be missing: no link).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Explorer {
    /// A transaction's page, with `{hash}`.
    pub tx: Option<String>,
    /// An address' page, with `{address}`.
    pub address: Option<String>,
}

/// The placeholder of a transaction template.
pub const HASH: &str = "{hash}";
/// The placeholder of an address template.
pub const ADDRESS: &str = "{address}";

#[rustfmt::skip]
const DEFAULTS: &[(&str, &str, &str)] = &[
    ("ethereum", "https://etherscan.io/tx/{hash}", "https://etherscan.io/address/{address}"),
    ("base", "https://basescan.org/tx/{hash}", "https://basescan.org/address/{address}"),
    ("polygon", "https://polygonscan.com/tx/{hash}", "https://polygonscan.com/address/{address}"),
    ("arbitrum", "https://arbiscan.io/tx/{hash}", "https://arbiscan.io/address/{address}"),
    ("optimism", "https://optimistic.etherscan.io/tx/{hash}", "https://optimistic.etherscan.io/address/{address}"),
    ("bsc", "https://bscscan.com/tx/{hash}", "https://bscscan.com/address/{address}"),
    ("avalanche", "https://snowtrace.io/tx/{hash}", "https://snowtrace.io/address/{address}"),
    ("tron", "https://tronscan.org/#/transaction/{hash}", "https://tronscan.org/#/address/{address}"),
    ("solana", "https://solscan.io/tx/{hash}", "https://solscan.io/account/{address}"),
];

/// payd's explorer for a well-known network (none for devnet or an unknown name).
pub fn default_for(network: &str) -> Explorer {
    DEFAULTS.iter().find(|(n, _, _)| *n == network).map_or_else(Explorer::default, |(_, tx, address)| {
        Explorer { tx: Some((*tx).to_owned()), address: Some((*address).to_owned()) }
    })
}

/// Checks a template: `https://`, a host, `placeholder` exactly once and no other brace.
pub fn check(template: &str, placeholder: &str) -> Result<String, String> {
    let t = template.trim();
    if t.matches(placeholder).count() != 1 {
        return Err(format!("must hold {placeholder} exactly once"));
    }
    let filled = t.replace(placeholder, "0");
    if filled.contains(['{', '}']) {
        return Err(format!("may hold no placeholder but {placeholder}"));
    }
    match url::Url::parse(&filled) {
        Ok(u) if u.scheme() == "https" && u.host_str().is_some_and(|h| !h.is_empty()) => Ok(t.to_owned()),
        Ok(_) => Err("must be an https:// URL".to_owned()),
        Err(e) => Err(format!("is not a URL: {e}")),
    }
}

/// `template` with `value` in its placeholder, when `value` is a hash or an address (letters
/// and digits only; anything else is no link rather than a link somewhere unexpected).
pub fn fill(template: &str, placeholder: &str, value: &str) -> Option<String> {
    if value.is_empty() || value.len() > 128 || !value.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some(template.replacen(placeholder, value, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_need_https_and_one_placeholder() {
        assert!(check("https://scan.example/tx/{hash}", HASH).is_ok());
        assert!(check("http://scan.example/tx/{hash}", HASH).is_err());
        assert!(check("https://scan.example/tx/", HASH).is_err());
        assert!(check("https://scan.example/{hash}/{hash}", HASH).is_err());
        assert!(check("https://scan.example/{address}?h={hash}", HASH).is_err());
        assert!(check("javascript:{hash}", HASH).is_err());
        assert_eq!(default_for("devnet"), Explorer::default());
        for (n, tx, address) in DEFAULTS {
            assert!(check(tx, HASH).is_ok() && check(address, ADDRESS).is_ok(), "{n}");
        }
        assert_eq!(
            fill("https://x.example/tx/{hash}", HASH, "0xab").as_deref(),
            Some("https://x.example/tx/0xab")
        );
        assert_eq!(fill("https://x.example/tx/{hash}", HASH, "a/b"), None);
    }
}

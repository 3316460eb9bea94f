//! Checkout branding: the rules for what a merchant may show on its checkout page — a display
//! name (the free-text rules every surface shares), an accent colour (`#rrggbb`, refused
//! unless white or payd's dark text on it reaches WCAG AA's 4.5:1) and a logo (PNG, JPEG or
//! WebP by its magic bytes, never by its name or declared type; at most 64 KiB; no SVG, which
//! can carry script). Saving writes the audit line in the same transaction.

use chrono::{DateTime, Utc};
use payd_core::merchant::Merchant;
use payd_core::user::User;
use payd_store::manage::{BrandChange, Branding, LogoChange};
use payd_store::{Store, StoreError};
use sha2::{Digest, Sha256};

use super::fields;
use super::users::{audit, Actor};

/// The largest logo accepted.
pub const MAX_LOGO_BYTES: usize = 64 * 1024;
/// The longest display name.
pub const MAX_DISPLAY_NAME: usize = 80;
/// WCAG 2 AA's contrast for normal text.
pub const AA_CONTRAST: f64 = 4.5;
/// The checkout's dark text colour (checkout.css's `color`).
pub const DARK_TEXT: [u8; 3] = [0x11, 0x18, 0x27];

/// Why branding was refused; each says which field and what to do.
#[derive(Debug, thiserror::Error)]
pub enum BrandError {
    /// The display name breaks the free-text rules.
    #[error("display name: {0}")]
    Name(String),
    /// Not a colour in `#rrggbb` form.
    #[error("accent colour: `{0}` is not a colour; write it as #rrggbb, e.g. #1d4ed8")]
    Colour(String),
    /// Neither white nor dark text is readable on it.
    #[error(
        "accent colour {hex}: white text on it has a contrast of {white:.2}:1 and dark text \
         {dark:.2}:1, both under WCAG AA's 4.5:1; choose a darker or a lighter shade"
    )]
    Contrast {
        /// The colour.
        hex: String,
        /// White text's contrast on it.
        white: f64,
        /// Dark text's contrast on it.
        dark: f64,
    },
    /// The logo is larger than [`MAX_LOGO_BYTES`].
    #[error("logo: {0} bytes is more than the 64 KiB (65536 bytes) allowed")]
    LogoTooLarge(usize),
    /// The logo is not a PNG, JPEG or WebP image.
    #[error("logo: not a PNG, JPEG or WebP image")]
    LogoNotImage,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The text colour on an accent: whichever of white and dark reads better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnAccent {
    /// `#ffffff`.
    White,
    /// [`DARK_TEXT`].
    Dark,
}

impl OnAccent {
    /// As CSS.
    pub fn css(self) -> &'static str {
        match self {
            OnAccent::White => "#ffffff",
            OnAccent::Dark => "#111827",
        }
    }
}

// Floats are kept away from money (the workspace denies float arithmetic); WCAG's contrast is
// defined in real numbers over colour channels, compared once against 4.5, and touches no amount.
#[allow(clippy::float_arithmetic)]
fn channel(c: u8) -> f64 {
    let c = f64::from(c) / 255.0;
    if c <= 0.040_45 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// WCAG 2's relative luminance.
#[allow(clippy::float_arithmetic)]
pub fn luminance(rgb: [u8; 3]) -> f64 {
    0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2])
}

/// WCAG 2's contrast ratio of two colours (1 to 21).
#[allow(clippy::float_arithmetic)]
pub fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// Parses `#rrggbb` (or `rrggbb`, any case) into its channels.
fn rgb(text: &str) -> Option<[u8; 3]> {
    let hex = text.strip_prefix('#').unwrap_or(text);
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let at = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
    Some([at(0)?, at(2)?, at(4)?])
}

/// An accent colour that passed the contrast check: `#rrggbb` in lower case, and the text
/// colour to put on it.
pub fn check_accent(text: &str) -> Result<(String, OnAccent), BrandError> {
    let text = text.trim();
    let c = rgb(text).ok_or_else(|| BrandError::Colour(text.chars().take(20).collect()))?;
    let hex = format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]);
    let white = contrast(c, [0xff, 0xff, 0xff]);
    let dark = contrast(c, DARK_TEXT);
    if white >= AA_CONTRAST && white >= dark {
        Ok((hex, OnAccent::White))
    } else if dark >= AA_CONTRAST {
        Ok((hex, OnAccent::Dark))
    } else {
        Err(BrandError::Contrast { hex, white, dark })
    }
}

/// The type of an image by its first bytes: PNG, JPEG or WebP, else `None`.
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP".as_slice())
    {
        Some("image/webp")
    } else {
        None
    }
}

/// The file name extension of a logo type, for its URL.
pub fn extension(content_type: &str) -> &'static str {
    match content_type {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        _ => "webp",
    }
}

/// A logo's URL on payd: its SHA-256 names it, so it may be cached for a year.
pub fn logo_path(digest: &str, content_type: &str) -> String {
    format!("/assets/brand/{digest}.{}", extension(content_type))
}

/// The stylesheet's URL for an accent: the colour names it (the file is derived from it
/// alone), so it may be cached for a year.
pub fn accent_path(hex: &str) -> String {
    format!("/assets/brand/accent-{}.css", hex.trim_start_matches('#'))
}

/// The stylesheet of an accent colour (`None` unless it passes [`check_accent`]): the
/// checkout's primary buttons and its header rule in that colour, served as a file so the
/// page's CSP needs no inline style.
pub fn accent_css(text: &str) -> Option<String> {
    let (hex, on) = check_accent(text).ok()?;
    let on = on.css();
    Some(format!(
        "/* payd checkout accent {hex} */\n\
         header.merchant{{border-bottom:4px solid {hex};padding-bottom:.5rem}}\n\
         button:not(.copy):not(.secondary):not(.link):not(.choice),.button:not(.secondary)\
         {{background:{hex};border-color:{hex};color:{on}}}\n"
    ))
}

/// A logo as uploaded: the change to store, checked.
pub fn check_logo(bytes: Vec<u8>) -> Result<LogoChange, BrandError> {
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(BrandError::LogoTooLarge(bytes.len()));
    }
    let content_type = sniff_image(&bytes).ok_or(BrandError::LogoNotImage)?;
    let digest = hex::encode(Sha256::digest(&bytes));
    Ok(LogoChange::Set { bytes, content_type: content_type.to_owned(), digest })
}

/// Branding as a form gives it: text as typed (blank clears), and the logo's change.
#[derive(Debug)]
pub struct BrandIn {
    /// Display name.
    pub display_name: String,
    /// Accent colour.
    pub accent: String,
    /// The logo.
    pub logo: LogoChange,
}

/// A merchant's branding (nothing saved: all empty).
pub async fn of(store: &Store, merchant: &Merchant) -> Result<Branding, StoreError> {
    Ok(store.merchant_branding(&merchant.id).await?.unwrap_or_default())
}

/// Checks every value, then saves them with the audit line `merchant.branding` (naming what
/// was set) in one transaction.
pub async fn configure(
    store: &Store,
    user: &User,
    merchant: &Merchant,
    input: BrandIn,
    now: DateTime<Utc>,
) -> Result<Branding, BrandError> {
    let name = input.display_name.trim();
    let display_name =
        fields::text("display_name", (!name.is_empty()).then(|| name.to_owned()), MAX_DISPLAY_NAME)
            .map_err(|e| BrandError::Name(e.to_string()))?;
    let accent = match input.accent.trim() {
        "" => None,
        text => Some(check_accent(text)?.0),
    };
    let change = BrandChange { display_name, accent, logo: input.logo };
    let mut line = audit(
        &Actor::User(user),
        "merchant.branding",
        merchant.id.to_string(),
        Some(merchant.account_id.clone()),
        now,
    );
    let logo = match &change.logo {
        LogoChange::Keep => "logo kept",
        LogoChange::Remove => "logo removed",
        LogoChange::Set { .. } => "new logo",
    };
    line.detail = format!(
        "name {}, accent {}, {logo}",
        if change.display_name.is_some() { "set" } else { "cleared" },
        change.accent.as_deref().unwrap_or("cleared")
    );
    store.set_merchant_branding(&merchant.id, &change, &line, now).await?;
    Ok(of(store, merchant).await?)
}

#[cfg(test)]
#[allow(clippy::float_arithmetic, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn contrast_matches_wcag_examples() {
        assert!((contrast([0, 0, 0], [0xff, 0xff, 0xff]) - 21.0).abs() < 1e-9);
        assert!((contrast([0x77, 0x77, 0x77], [0xff, 0xff, 0xff]) - 4.48).abs() < 0.01);
    }

    #[test]
    fn accents_are_refused_where_no_text_reads() {
        assert_eq!(check_accent("#1D4ED8").unwrap(), ("#1d4ed8".to_owned(), OnAccent::White));
        assert_eq!(check_accent("fbbf24").unwrap(), ("#fbbf24".to_owned(), OnAccent::Dark));
        assert!(matches!(check_accent("#777777"), Err(BrandError::Contrast { .. })));
        for bad in ["blue", "#12345", "#1234567", "#gggggg", "", "#ééé"] {
            assert!(matches!(check_accent(bad), Err(BrandError::Colour(_))), "{bad}");
        }
    }

    #[test]
    fn logos_are_known_by_their_bytes() {
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff_image(&[0xff, 0xd8, 0xff, 0xe0]), Some("image/jpeg"));
        assert_eq!(sniff_image(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_image(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), None);
        assert_eq!(sniff_image(b"GIF89a"), None);
        assert!(matches!(check_logo(vec![0; MAX_LOGO_BYTES + 1]), Err(BrandError::LogoTooLarge(_))));
    }
}

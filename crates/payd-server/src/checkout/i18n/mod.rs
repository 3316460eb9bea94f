//! The checkout page's languages: every text of the page in one file per language (`en.rs`,
//! `es.rs`, …, each one [`Texts`], so a missing text is a compile error), and the choice of
//! language: `?lang=` first, then the browser's `Accept-Language`, then English.

mod en;
mod es;
mod pt;
mod tr;
mod zh;

/// A language the page speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// Spanish.
    Es,
    /// Portuguese.
    Pt,
    /// Turkish.
    Tr,
    /// Chinese (simplified).
    Zh,
}

impl Lang {
    /// Every language, in the order the page lists them.
    pub const ALL: [Lang; 5] = [Lang::En, Lang::Es, Lang::Pt, Lang::Tr, Lang::Zh];

    /// The BCP 47 tag (`lang` attribute, `?lang=` value).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
            Lang::Pt => "pt",
            Lang::Tr => "tr",
            Lang::Zh => "zh",
        }
    }

    /// The texts in this language.
    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::En => &en::TEXTS,
            Lang::Es => &es::TEXTS,
            Lang::Pt => &pt::TEXTS,
            Lang::Tr => &tr::TEXTS,
            Lang::Zh => &zh::TEXTS,
        }
    }

    /// The language a tag names by its primary subtag (`pt-BR` → Portuguese), any case.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        Lang::ALL.into_iter().find(|l| l.tag().eq_ignore_ascii_case(primary))
    }

    /// The page's language: `?lang=` when it names one payd speaks, else the first language of
    /// `Accept-Language` (by its q-values) that payd speaks, else English.
    pub fn choose(query: Option<&str>, accept_language: Option<&str>) -> Lang {
        if let Some(l) = query.and_then(Lang::from_tag) {
            return l;
        }
        let mut best: Option<(u32, Lang)> = None;
        for part in accept_language.unwrap_or_default().split(',').take(32) {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or_default();
            // q in thousandths, so no float is needed: "q=0.8" → 800.
            let q = pieces.find_map(|p| p.trim().strip_prefix("q=")).map_or(Some(1000), parse_q).unwrap_or(0);
            if let Some(lang) = Lang::from_tag(tag) {
                if q > 0 && best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, lang));
                }
            }
        }
        best.map_or(Lang::En, |(_, l)| l)
    }
}

/// An HTTP quality value (`1`, `0.8`, `0.125`) in thousandths; `None` when malformed.
fn parse_q(text: &str) -> Option<u32> {
    let (int, frac) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u32 = match int {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    let thousandths: u32 = if frac.is_empty() { 0 } else { format!("{frac:0<3}").parse().ok()? };
    Some((whole + thousandths).min(1000))
}

/// Fills `{0}`, `{1}`, … in a text.
pub fn fill(text: &str, args: &[&str]) -> String {
    let mut out = text.to_owned();
    for (i, a) in args.iter().enumerate() {
        out = out.replace(&format!("{{{i}}}"), a);
    }
    out
}

/// Every text of the checkout page. `{0}`, `{1}`, … are filled by [`fill`].
#[derive(Debug)]
pub struct Texts {
    /// The language's own name (the language menu).
    pub name: &'static str,
    /// The page title: "Pay {merchant}".
    pub title: &'static str,
    /// The banner on a test-mode payment.
    pub test_banner: &'static str,
    /// Heading of the order summary.
    pub order: &'static str,
    /// "Quantity {n}" in a line item.
    pub quantity: &'static str,
    /// The price label.
    pub total: &'static str,
    /// The exchange rate applied: "1 {from} = {rate} {to}".
    pub rate: &'static str,
    /// Label of the token amount to send.
    pub amount: &'static str,
    /// Label of the address: "{token} address on {network}".
    pub address: &'static str,
    /// Copy button.
    pub copy: &'static str,
    /// Copy button once copied.
    pub copied: &'static str,
    /// Accessible name of the amount's copy button.
    pub copy_amount: &'static str,
    /// Accessible name of the address's copy button.
    pub copy_address: &'static str,
    /// Accessible name of the QR code: what it holds.
    pub qr_uri: &'static str,
    /// Accessible name of a QR code that holds only the address.
    pub qr_address: &'static str,
    /// The deep link to a wallet app.
    pub open_wallet: &'static str,
    /// The browser-wallet button.
    pub browser_wallet: &'static str,
    /// Warning under the address: "Send only {token} on {network}…".
    pub only_this: &'static str,
    /// A QR holding only the address: enter the amount by hand.
    pub enter_amount: &'static str,
    /// "Time left" before expiry.
    pub time_left: &'static str,
    /// The time left when a day or more remains: "{days} d {hours} h".
    pub days_hours: &'static str,
    /// Waiting for money.
    pub waiting: &'static str,
    /// Money seen: "{n} of {m} confirmations".
    pub seen: &'static str,
    /// Money seen, fully, waiting for its confirmations.
    pub seen_body: &'static str,
    /// Partially paid heading.
    pub partial: &'static str,
    /// "Received {x} {token}. Send {y} {token} more to complete the payment."
    pub partial_body: &'static str,
    /// Paid heading.
    pub paid: &'static str,
    /// "{amount} {token} received on {network}."
    pub paid_body: &'static str,
    /// Overpaid: "You sent {x} {token} more than due…"
    pub overpaid: &'static str,
    /// Returning to the shop shortly.
    pub redirecting: &'static str,
    /// Link to the merchant's success page.
    pub continue_to_shop: &'static str,
    /// Money arrived after expiry, heading.
    pub paid_late: &'static str,
    /// "Received {x} {token} after the payment expired…"
    pub paid_late_body: &'static str,
    /// Expired heading.
    pub expired: &'static str,
    /// Expired with nothing received.
    pub expired_body: &'static str,
    /// "Received {x} {token} before it expired…"
    pub expired_partial: &'static str,
    /// Cancelled heading.
    pub cancelled: &'static str,
    /// Cancelled body.
    pub cancelled_body: &'static str,
    /// Back to the shop.
    pub back_to_shop: &'static str,
    /// Cancel button.
    pub cancel: &'static str,
    /// Simulate the full amount.
    pub simulate_full: &'static str,
    /// Simulate part of it.
    pub simulate_part: &'static str,
    /// No asset chosen yet, and none to choose from.
    pub no_asset: &'static str,
    /// Heading of the token/network choice.
    pub choose: &'static str,
    /// Opens the choice again, to switch.
    pub switch: &'static str,
    /// Language menu label.
    pub language: &'static str,
    /// 404 heading.
    pub not_found: &'static str,
    /// 404 body.
    pub not_found_body: &'static str,
    /// Heading of the page for a refused form or a failure.
    pub refused_title: &'static str,
    /// A refused form (forged, stale or not allowed).
    pub refused: &'static str,
    /// Heading of the page for a client over the checkout's rate limit.
    pub too_many_title: &'static str,
    /// Body of that page.
    pub too_many: &'static str,
    /// Link back to the payment page.
    pub back_to_payment: &'static str,
    /// Receipt heading.
    pub receipt: &'static str,
    /// Receipt: paid at.
    pub paid_at: &'static str,
    /// Receipt: order reference.
    pub reference: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_wins_then_accept_language_by_quality_then_english() {
        assert_eq!(Lang::choose(Some("es"), Some("tr")), Lang::Es);
        assert_eq!(Lang::choose(Some("xx"), Some("tr-TR,en;q=0.5")), Lang::Tr);
        assert_eq!(Lang::choose(None, Some("de-DE, pt-BR;q=0.9, zh;q=0.95")), Lang::Zh);
        assert_eq!(Lang::choose(None, Some("de, fr;q=0.8")), Lang::En);
        assert_eq!(Lang::choose(None, Some("es;q=0, pt;q=0.1")), Lang::Pt);
        assert_eq!(Lang::choose(None, Some("es;q=abc")), Lang::En);
        assert_eq!(Lang::choose(None, None), Lang::En);
    }

    #[test]
    fn every_language_fills_the_same_placeholders() {
        let count = |t: &str| (0..4).filter(|i| t.contains(&format!("{{{i}}}"))).count();
        let en = Lang::En.texts();
        for l in Lang::ALL {
            let t = l.texts();
            for (a, b) in [
                (en.title, t.title),
                (en.rate, t.rate),
                (en.address, t.address),
                (en.only_this, t.only_this),
                (en.seen, t.seen),
                (en.partial_body, t.partial_body),
                (en.paid_body, t.paid_body),
                (en.overpaid, t.overpaid),
                (en.paid_late_body, t.paid_late_body),
                (en.expired_partial, t.expired_partial),
                (en.quantity, t.quantity),
            ] {
                assert_eq!(count(a), count(b), "{}: {b}", l.tag());
            }
        }
    }
}

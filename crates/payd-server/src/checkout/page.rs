//! The checkout page's HTML (maud templates, escaped by construction): the whole page, the
//! part the live-status stream replaces, the 404 page and the refusal page. Layout only:
//! every decision was made in [`super::view`].

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::i18n::{fill, Lang, Texts};
use super::qr;
use super::view::{PayView, Stage, View};
use crate::web::assets;

/// Seconds in a day (the countdown switches to days and hours past one).
const DAY: i64 = 86_400;

/// What the templates need besides the view: where the page lives and its form token.
#[derive(Debug, Clone)]
pub struct Ctx<'a> {
    /// The page's own path (`/checkout/{slug}`), for its forms and stream.
    pub base: &'a str,
    /// The page's language.
    pub lang: Lang,
    /// The token the page's forms carry.
    pub token: &'a str,
}

impl Ctx<'_> {
    fn path(&self, sub: &str) -> String {
        format!("{}{sub}?lang={}", self.base, self.lang.tag())
    }
}

/// Seconds before a paid page sends the customer on to the merchant's success URL.
pub const REDIRECT_SECS: u32 = 6;
/// Seconds between reloads of a page without JavaScript while its payment is open.
pub const NOSCRIPT_REFRESH_SECS: u32 = 10;

fn head(title: &str, extra: Markup) -> Markup {
    html! {
        meta charset="utf-8";
        meta name="viewport" content="width=device-width, initial-scale=1";
        meta name="robots" content="noindex, nofollow";
        title { (title) }
        link rel="icon" type="image/svg+xml" href=(assets::ICON.path());
        link rel="stylesheet" href=(assets::CSS.path());
        script src=(assets::JS.path()) defer {}
        (extra)
    }
}

/// The whole page.
pub fn page(view: &View, ctx: &Ctx<'_>) -> Markup {
    let t = ctx.lang.texts();
    // Without JavaScript the page reloads itself while the payment can change, and a paid page
    // moves on to the merchant after the pause (`noscript` in `head` is ignored by browsers
    // that run scripts, where the live stream does both).
    let refresh = match (&view.stage, &view.success_url) {
        (Stage::Paid { .. }, Some(url)) => Some(format!("{REDIRECT_SECS};url={url}")),
        (stage, _) if stage.is_live() => Some(NOSCRIPT_REFRESH_SECS.to_string()),
        _ => None,
    };
    html! {
        (DOCTYPE)
        html lang=(ctx.lang.tag()) {
            head {
                (head(&fill(t.title, &[&view.merchant]), html! {
                    @if let Some(css) = &view.accent_css { link rel="stylesheet" href=(css); }
                    @if let Some(r) = &refresh { noscript { meta http-equiv="refresh" content=(r); } }
                }))
            }
            body data-events=[view.stage.is_live().then(|| format!("{}&v={}", ctx.path("/events"), view.version))] data-stage=(view.stage.key()) {
                main #page { (content(view, ctx)) }
                footer.langs {
                    nav aria-label=(t.language) {
                        ul {
                            @for l in Lang::ALL {
                                li {
                                    a href={ "?lang=" (l.tag()) } hreflang=(l.tag()) lang=(l.tag())
                                        aria-current=[(l == ctx.lang).then_some("page")] { (l.texts().name) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The part of the page the live-status stream replaces.
pub fn content(view: &View, ctx: &Ctx<'_>) -> Markup {
    let t = ctx.lang.texts();
    html! {
        @if view.test_mode { p.banner role="note" { (t.test_banner) } }
        header.merchant {
            @if let Some(logo) = &view.logo { img.logo src=(logo) alt="" width="48" height="48"; }
            h1 { (fill(t.title, &[&view.merchant])) }
        }
        (order(view, t))
        section #status .{ "status " (view.stage.key()) } aria-live="polite" { (status(view, t)) }
        @if matches!(view.stage, Stage::NoAsset) && !view.choices.is_empty() {
            (chooser(view, ctx, t))
        }
        @if let Some(pay) = &view.pay { (pay_block(pay, t)) }
        @if view.pay.is_some() && view.choices.len() > 1 {
            details.switch {
                summary { (t.switch) }
                (chooser(view, ctx, t))
            }
        }
        @if view.stage.is_live() && !matches!(view.stage, Stage::Seen { .. }) {
            p.countdown {
                (t.time_left) ": "
                time #countdown datetime=(view.expires_at.to_rfc3339()) data-expires=(view.expires_at.timestamp())
                    data-days=(t.days_hours) {
                    (clock(view.seconds_left, t))
                }
            }
        }
        @if view.test_mode && view.pay.is_some() {
            form.simulate method="post" action=(ctx.path("/simulate")) {
                input type="hidden" name="token" value=(ctx.token);
                button.secondary type="submit" name="how" value="full" { (t.simulate_full) }
                button.secondary type="submit" name="how" value="part" { (t.simulate_part) }
            }
        }
        @if view.can_cancel {
            form.cancel method="post" action=(ctx.path("/cancel")) {
                input type="hidden" name="token" value=(ctx.token);
                button.link type="submit" { (t.cancel) }
            }
        }
    }
}

/// One button per token and network; the current one is marked and disabled.
fn chooser(view: &View, ctx: &Ctx<'_>, t: &Texts) -> Markup {
    html! {
        form.choose method="post" action=(ctx.path("/choose")) aria-label=(t.choose) {
            input type="hidden" name="token" value=(ctx.token);
            ul.choices {
                @for c in &view.choices {
                    li {
                        button.choice type="submit" name="asset" value=(c.value()) disabled[c.current] aria-pressed=[c.current.then_some("true")] {
                            strong { (c.token) } " " span { (c.network_name) }
                        }
                    }
                }
            }
        }
    }
}

fn order(view: &View, t: &Texts) -> Markup {
    html! {
        section.order aria-label=(t.order) {
            @if let Some(d) = &view.description { p.desc { (d) } }
            @if !view.items.is_empty() {
                ul.items {
                    @for i in &view.items {
                        li { span { (i.description) @if i.quantity > 1 { " " (fill(t.quantity, &[&i.quantity.to_string()])) } } span.num { (i.amount) } }
                    }
                }
            }
            dl.total {
                dt { (t.total) }
                dd { span.num #price { (view.price) }
                    @if let Some(tok) = &view.token_total { " · " span.num #token-total { (tok) } }
                }
                @if let Some(r) = &view.reference { dt { (t.reference) } dd { (r) } }
            }
            @if let Some((from, rate, to)) = &view.rate { p.rate { (fill(t.rate, &[from, rate, to])) } }
        }
    }
}

fn status(view: &View, t: &Texts) -> Markup {
    let token = view
        .pay
        .as_ref()
        .map(|p| p.token.clone())
        .or_else(|| view.token_total.as_deref().and_then(|s| s.rsplit(' ').next()).map(str::to_owned));
    let token = token.unwrap_or_default();
    let back = |label: &str| {
        html! { @if let Some(u) = &view.back_url { p { a.button href=(u) { (label) } } } }
    };
    html! {
        @match &view.stage {
            Stage::NoAsset => {
                @if view.choices.is_empty() { h2 { (t.no_asset) } } @else { h2 { (t.choose) } }
            }
            Stage::Waiting => { h2 { (t.waiting) } }
            Stage::Partial { received, left } => {
                h2 { (t.partial) }
                p { (fill(t.partial_body, &[received, left, &token])) }
            }
            Stage::Seen { progress } => {
                h2 { @match progress {
                    Some(p) => { (fill(t.seen, &[&p.confirmations.to_string(), &p.needed.to_string()])) }
                    None => { (t.waiting) }
                } }
                p { (t.seen_body) }
            }
            Stage::Paid { received, extra } => {
                h2 { (t.paid) }
                p { (fill(t.paid_body, &[received, &token, view.network.as_deref().unwrap_or_default()])) }
                @if let Some(extra) = extra { p.warn { (fill(t.overpaid, &[extra, &token])) } }
                dl.receipt aria-label=(t.receipt) {
                    @if let Some(at) = view.completed_at { dt { (t.paid_at) } dd { time datetime=(at.to_rfc3339()) { (at.format("%Y-%m-%d %H:%M UTC")) } } }
                }
                @if let Some(url) = &view.success_url {
                    p #redirect data-url=(url) data-after=(REDIRECT_SECS) { (t.redirecting) }
                    p { a.button href=(url) { (t.continue_to_shop) } }
                }
            }
            Stage::PaidLate { received } => {
                h2 { (t.paid_late) }
                p { (fill(t.paid_late_body, &[received, &token])) }
                (back(t.back_to_shop))
            }
            Stage::Expired { received } => {
                h2 { (t.expired) }
                @match received {
                    Some(r) => { p { (fill(t.expired_partial, &[r, &token])) } }
                    None => { p { (t.expired_body) } }
                }
                (back(t.back_to_shop))
            }
            Stage::Cancelled => {
                h2 { (t.cancelled) }
                p { (t.cancelled_body) }
                (back(t.back_to_shop))
            }
        }
        @if matches!(view.stage, Stage::Paid { .. }) && view.success_url.is_none() { (back(t.back_to_shop)) }
    }
}

fn pay_block(pay: &PayView, t: &Texts) -> Markup {
    let qr_label = if pay.uri.is_some() { t.qr_uri } else { t.qr_address };
    html! {
        section.pay aria-label=(t.amount) {
            div.field {
                span.label #amount-label { (t.amount) }
                div.row {
                    strong.value.num #amount aria-describedby="amount-label" { (pay.amount) " " (pay.token) }
                    button.copy type="button" data-copy=(pay.amount) data-copied=(t.copied) aria-label=(t.copy_amount) { (t.copy) }
                }
            }
            div.field {
                span.label #address-label { (fill(t.address, &[&pay.token, &pay.network])) }
                div.row {
                    code.address #address data-address=(pay.address) aria-describedby="address-label" {
                        @for g in &pay.address_groups { span { (g) } }
                    }
                    button.copy type="button" data-copy=(pay.address) data-copied=(t.copied) aria-label=(t.copy_address) { (t.copy) }
                }
            }
            p.warn { (fill(t.only_this, &[&pay.token, &pay.network])) }
            @if let Some(svg) = qr::svg(&pay.qr, qr_label) {
                div.qr-box #qr data-payload=(pay.qr) { (PreEscaped(svg)) }
            }
            @match &pay.uri {
                Some(uri) => {
                    p.actions {
                        a.button #wallet-link href=(uri) { (t.open_wallet) }
                        @if let Some(w) = &pay.wallet {
                            button.button #browser-wallet type="button" hidden
                                data-chain=(w.chain_id) data-contract=(w.contract) data-to=(w.to) data-amount=(w.amount) { (t.browser_wallet) }
                        }
                    }
                }
                None => { p.note { (t.enter_amount) } }
            }
        }
    }
}

/// The time left: days and hours while a day or more remains (a 30-day Paygentic payment
/// would otherwise read "719:59:57", and seconds mean nothing at that range), then `h:mm:ss`,
/// then `m:ss`. `checkout.js`'s `tick` keeps the same rule.
pub fn clock(seconds: i64, t: &Texts) -> String {
    let s = seconds.max(0);
    if s >= DAY {
        return fill(t.days_hours, &[&(s / DAY).to_string(), &((s % DAY) / 3600).to_string()]);
    }
    let (h, m, s) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// A plain page with a heading, a text and an optional link (the 404 and refusal pages).
pub fn notice(lang: Lang, heading: &str, text: &str, link: Option<(&str, &str)>) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head { (head(heading, html! {})) }
            body {
                main #page {
                    h1 { (heading) }
                    p { (text) }
                    @if let Some((href, label)) = link { p { a.button href=(href) { (label) } } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_shows_hours_only_when_there_are_some_and_days_past_a_day() {
        let t = Lang::En.texts();
        assert_eq!(clock(0, t), "0:00");
        assert_eq!(clock(59, t), "0:59");
        assert_eq!(clock(3599, t), "59:59");
        assert_eq!(clock(3600 + 61, t), "1:01:01");
        assert_eq!(clock(DAY - 1, t), "23:59:59");
        assert_eq!(clock(DAY, t), "1 d 0 h");
        assert_eq!(clock(30 * DAY - 3, t), "29 d 23 h");
        assert_eq!(clock(2 * DAY + 5 * 3600, Lang::Zh.texts()), "2 天 5 小时");
        assert_eq!(clock(-5, t), "0:00");
    }
}

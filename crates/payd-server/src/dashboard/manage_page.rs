//! The webhook endpoint page's HTML (maud): the endpoint, its edit form, enable/disable,
//! rotation with an overlap, "Send test event", and its delivery log with every attempt and
//! a redeliver button. Layout only: the handlers in `manage.rs` read what to show.

use chrono::{DateTime, Utc};
use maud::{html, Markup};
use payd_core::event::EventKind;
use payd_core::merchant::Merchant;
use payd_core::webhook::{WebhookEndpoint, WebhookFormat};

use super::page::Frame;
use crate::engine::manage::LogPage;

/// The overlaps a rotation offers: (seconds, label). Short labels: the select sits in a
/// narrow grid column, and "none" under "Old secret keeps signing for" says it stops at once.
pub const OVERLAPS: [(u64, &str); 4] =
    [(0, "none"), (3_600, "1 hour"), (86_400, "24 hours"), (604_800, "7 days")];

fn time(t: DateTime<Utc>) -> Markup {
    html! { time datetime=(t.to_rfc3339()) { (t.format("%Y-%m-%d %H:%M:%S")) } }
}

/// What the endpoint page shows besides the endpoint.
#[derive(Debug)]
pub struct EndpointView<'a> {
    /// The endpoint's merchant.
    pub merchant: &'a Merchant,
    /// A page of its delivery log.
    pub log: &'a LogPage,
    /// Whether that page is an older one (a link back to the newest is shown).
    pub paged: bool,
    /// What the last change did (or why it was refused).
    pub message: Option<&'a str>,
    /// Whether the user may change things.
    pub can_change: bool,
}

/// One endpoint's page.
pub fn endpoint(frame: &Frame<'_>, e: &WebhookEndpoint, v: &EndpointView<'_>) -> Markup {
    let EndpointView { merchant, log, paged, message, can_change } = *v;
    let base = format!("/dashboard/webhooks/{}", e.id);
    let post = |verb: &str| format!("{base}/{verb}");
    html! {
        p { a href={ "/dashboard/webhooks?mode=" (e.mode.as_str()) } { "← Webhook endpoints" } }
        h1 { "Webhook endpoint " span.mono { (e.id) } }
        @if let Some(m) = message { p.banner role="status" { (m) } }
        section.card aria-labelledby="hook-title" {
            h2 #hook-title { "Endpoint" }
            dl.facts {
                dt { "Merchant" } dd { (merchant.name) " " span.mono { "(" (merchant.id) ")" } }
                dt { "Mode" } dd { (e.mode.as_str()) }
                dt { "URL" } dd.mono { (e.url) }
                dt { "Format" } dd { (e.format.as_str()) }
                dt { "Events" } dd {
                    @if e.events.is_empty() { "all" }
                    @for k in &e.events { span.tag { (k.as_str()) } " " }
                }
                @if let Some(d) = &e.description { dt { "Description" } dd { (d) } }
                dt { "State" } dd {
                    @if e.enabled { "enabled" } @else {
                        "disabled" @if let Some(r) = &e.disabled_reason { " (" (r) ")" }
                    }
                    @if let Some(t) = e.failing_since { "; failing since " (time(t)) }
                }
                @if let (Some(_), Some(until)) = (&e.previous_secret_sealed, e.previous_secret_expires_at) {
                    dt { "Previous secret" } dd { "also signs until " (time(until)) }
                }
            }
            @if can_change {
                div.actions {
                    form method="post" action=(post("state")) {
                        input type="hidden" name="csrf" value=(frame.csrf);
                        @if e.enabled {
                            input type="hidden" name="enabled" value="false";
                            button.secondary type="submit" { "Disable" }
                        } @else {
                            input type="hidden" name="enabled" value="true";
                            button.secondary type="submit" { "Enable" }
                        }
                    }
                    form method="post" action=(post("test")) {
                        input type="hidden" name="csrf" value=(frame.csrf);
                        button type="submit" disabled[!e.enabled] { "Send test event" }
                    }
                }
            }
        }
        @if can_change {
            section.card aria-labelledby="edit-title" {
                h2 #edit-title { "Edit" }
                form.filters method="post" action=(post("edit")) {
                    input type="hidden" name="csrf" value=(frame.csrf);
                    div.wide {
                        label for="edit-url" { "URL" }
                        input #edit-url type="url" name="url" required value=(e.url);
                    }
                    div {
                        label for="edit-format" { "Format" }
                        select #edit-format name="format" {
                            @for f in WebhookFormat::ALL {
                                option value=(f.as_str()) selected[f == e.format] { (f.as_str()) }
                            }
                        }
                    }
                    div {
                        label for="edit-description" { "Description" }
                        input #edit-description name="description" value=(e.description.as_deref().unwrap_or(""));
                    }
                    fieldset.wide {
                        legend { "Events (none checked: all)" }
                        div.actions {
                            @for k in EventKind::ALL {
                                label.check {
                                    input type="checkbox" name="event" value=(k.as_str()) checked[e.events.contains(&k)];
                                    (k.as_str())
                                }
                            }
                        }
                    }
                    div.actions.wide { button type="submit" { "Save endpoint" } }
                }
            }
            section.card aria-labelledby="rotate-title" {
                h2 #rotate-title { "Rotate the signing secret" }
                p.note {
                    "During the overlap the old secret keeps signing beside the new one (payd's and "
                    "Paygentic's formats carry both signatures; the others sign with the new one), "
                    "so your receiver can switch without dropping a delivery."
                }
                form.filters method="post" action=(post("rotate")) {
                    input type="hidden" name="csrf" value=(frame.csrf);
                    div {
                        label for="rotate-overlap" { "Old secret keeps signing for" }
                        select #rotate-overlap name="overlap" {
                            @for (secs, label) in OVERLAPS { option value=(secs) { (label) } }
                        }
                    }
                    div.actions { button.secondary type="submit" { "Rotate secret" } }
                }
            }
        }
        section.card aria-labelledby="log-title" {
            h2 #log-title { "Delivery log" }
            @if log.deliveries.is_empty() { p { "Nothing was sent to this endpoint yet." } }
            @for dv in &log.deliveries {
                div.card {
                    p {
                        span.mono { (dv.delivery.event_name) }
                        @if dv.delivery.kind == EventKind::Test { " " span.tag.flag { "test" } }
                        " · " (time(dv.delivery.created_at)) " · "
                        span.tag { (dv.delivery.status.as_str()) } " · " (dv.attempts.len()) " attempt(s)"
                        br;
                        span.note { "Delivery " span.mono { (dv.delivery.id) } ", event " span.mono { (dv.delivery.event_id) } }
                    }
                    @if !dv.attempts.is_empty() {
                        div.scroll tabindex="0" role="region" aria-label={ "Attempts of " (dv.delivery.id) } { table {
                            thead { tr { th scope="col" { "Sent" } th scope="col" { "Answer" } th scope="col" { "Time" } th scope="col" { "Error" } } }
                            tbody { @for a in &dv.attempts { tr {
                                td.num { (time(a.at)) }
                                td.num { (a.status_code.map(|c| c.to_string()).unwrap_or_else(|| "none".into())) }
                                td.num { (a.latency_ms) " ms" }
                                td { (a.error.as_deref().unwrap_or("")) }
                            } } }
                        } }
                    }
                    @if can_change {
                        form method="post" action={ (base) "/deliveries/" (dv.delivery.id) "/redeliver" } {
                            input type="hidden" name="csrf" value=(frame.csrf);
                            button.secondary type="submit" aria-label={ "Redeliver " (dv.delivery.id) } { "Redeliver" }
                        }
                    }
                }
            }
            div.pager {
                @if paged { a href=(base) { "Newest" } }
                @if let Some(older) = &log.older { a href={ (base) "?before=" (older) } { "Older deliveries" } }
            }
        }
    }
}

/// A merchant's checkout settings page: its branding form (display name, accent colour,
/// logo upload) and what the checkout shows now.
pub fn checkout_settings(
    frame: &Frame<'_>,
    merchant: &Merchant,
    brand: &payd_store::manage::Branding,
    message: Option<&str>,
    can_change: bool,
) -> Markup {
    use crate::engine::brand;
    let action = format!("/dashboard/settings/{}/brand", merchant.id);
    html! {
        p { a href={ "/dashboard/settings?merchant=" (merchant.id) } { "← Settings" } }
        h1 { "Checkout branding" }
        section.card aria-labelledby="brand-title" {
            h2 #brand-title { (merchant.name) " " span.mono { "(" (merchant.id) ")" } }
            @if let Some(m) = message { p.banner role="status" { (m) } }
            dl.facts {
                dt { "Name on the checkout" } dd { (brand.display_name.as_deref().unwrap_or(&merchant.name)) }
                dt { "Accent colour" } dd.mono { (brand.accent.as_deref().unwrap_or("none (payd's blue)")) }
                dt { "Logo" } dd {
                    @if let Some(l) = &brand.logo {
                        img.logo src=(brand::logo_path(&l.digest, &l.content_type)) alt="The current logo" width="48" height="48";
                    } @else { "none" }
                }
            }
            @if can_change {
                // `.labels-top`: the fields' hints differ in height, so they line up by their labels.
                form.filters.labels-top method="post" action=(action) enctype="multipart/form-data" {
                    input type="hidden" name="csrf" value=(frame.csrf);
                    div {
                        label for="display_name" { "Display name" }
                        input #display_name name="display_name" maxlength="80"
                            value=(brand.display_name.as_deref().unwrap_or("")) aria-describedby="display_name-hint";
                        small.note #display_name-hint { "blank: the merchant's name" }
                    }
                    div {
                        label for="accent" { "Accent colour" }
                        input #accent name="accent" value=(brand.accent.as_deref().unwrap_or(""))
                            placeholder="#1d4ed8" aria-describedby="accent-hint";
                        small.note #accent-hint { "#rrggbb; white or dark text on it must reach a 4.5:1 contrast; blank: none" }
                    }
                    div.wide {
                        label for="logo" { "Logo" }
                        input #logo type="file" name="logo" accept="image/png,image/jpeg,image/webp" aria-describedby="logo-hint";
                        small.note #logo-hint { "PNG, JPEG or WebP, at most 64 KiB; none chosen: the current one stays" }
                    }
                    @if brand.logo.is_some() {
                        label.check.wide { input type="checkbox" name="remove_logo" value="1"; "Remove the logo" }
                    }
                    div.actions.wide { button type="submit" { "Save branding" } }
                }
            }
        }
    }
}

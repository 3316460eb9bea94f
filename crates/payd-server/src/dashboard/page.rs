//! The dashboard's HTML (maud templates, escaped by construction): the layout with its
//! always-visible test/live switch, the login page, the payment list with its filters, one
//! payment, and the notice page. Layout only: what to show was read in the handlers.

use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};
use payd_core::apikey::{ApiKey, Mode, Scope};
use payd_core::event::EventKind;
use payd_core::merchant::Merchant;
use payd_core::payment::{Payment, PaymentStatus};
use payd_core::token::format_base_units_trimmed;
use payd_core::user::User;
use payd_core::webhook::{WebhookEndpoint, WebhookFormat};
use payd_store::users::AuditEntry;

use super::query::ListQuery;
use crate::engine::dashboard::{Detail, Preview};
use crate::keys::IssuedKey;
use crate::web::assets;

/// What the layout needs: who is logged in, the mode shown, the session's form token.
#[derive(Debug)]
pub struct Frame<'a> {
    /// The user.
    pub user: &'a User,
    /// Test or live.
    pub mode: Mode,
    /// The token every form of this session carries.
    pub csrf: &'a str,
    /// The current path with its query, minus `mode` (the switch links keep the rest).
    pub here: String,
}

fn head(title: &str) -> Markup {
    html! {
        meta charset="utf-8";
        meta name="viewport" content="width=device-width, initial-scale=1";
        meta name="robots" content="noindex, nofollow";
        title { (title) " · payd" }
        link rel="icon" type="image/svg+xml" href=(assets::ICON.path());
        link rel="stylesheet" href=(assets::DASHBOARD_CSS.path());
    }
}

fn with_mode(here: &str, mode: Mode) -> String {
    let sep = if here.contains('?') { '&' } else { '?' };
    format!("{here}{sep}mode={}", mode.as_str())
}

/// A page of a logged-in user.
pub fn layout(title: &str, frame: &Frame<'_>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { (head(title)) }
            body {
                header.top {
                    a.brand href={ "/dashboard/payments?mode=" (frame.mode.as_str()) } { "payd" }
                    nav aria-label="Sections" {
                        a href={ "/dashboard/payments?mode=" (frame.mode.as_str()) } { "Payments" }
                        " · "
                        a href={ "/dashboard/keys?mode=" (frame.mode.as_str()) } { "API keys" }
                        " · "
                        a href={ "/dashboard/webhooks?mode=" (frame.mode.as_str()) } { "Webhooks" }
                        " · "
                        a href="/dashboard/audit" { "Audit log" }
                        " · "
                        a href="/dashboard/settings" { "Settings" }
                        " · "
                        a href="/dashboard/users" { "Users" }
                        " · "
                        a href="/dashboard/account" { "Account" }
                        " · "
                        a href={ "/dashboard/money?mode=" (frame.mode.as_str()) } { "Money" }
                        @if matches!(frame.user.role, payd_core::user::Role::Operator) { " · " a href="/dashboard/health" { "Health" } }
                    }
                    nav aria-label="Mode" {
                        span.modes {
                            @for m in [Mode::Test, Mode::Live] {
                                a href=(with_mode(&frame.here, m)) aria-current=[(m == frame.mode).then_some("page")] {
                                    @if m == Mode::Test { "Test" } @else { "Live" }
                                }
                            }
                        }
                    }
                    span { (frame.user.email) " (" (frame.user.role.as_str()) ")" }
                    form method="post" action="/dashboard/logout" {
                        input type="hidden" name="csrf" value=(frame.csrf);
                        button type="submit" { "Log out" }
                    }
                    form method="post" action="/dashboard/logout-everywhere" {
                        input type="hidden" name="csrf" value=(frame.csrf);
                        button type="submit" { "Log out everywhere" }
                    }
                }
                main {
                    @if frame.mode == Mode::Test { p.banner role="note" { "Test mode: test payments on devnet, no real money." } }
                    (body)
                }
            }
        }
    }
}

/// The login page (`error`: why the last attempt was refused).
pub fn login(csrf: &str, email: &str, error: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { (head("Log in")) }
            body {
                main.login {
                    div.card {
                        h1 { "Log in to payd" }
                        @if let Some(e) = error { p.error role="alert" { (e) } }
                        form method="post" action="/dashboard/login" {
                            input type="hidden" name="csrf" value=(csrf);
                            div.field {
                                label for="email" { "Email" }
                                input #email type="email" name="email" value=(email) autocomplete="username" required;
                            }
                            div.field {
                                label for="password" { "Password" }
                                input #password type="password" name="password" autocomplete="current-password" required;
                            }
                            button type="submit" { "Log in" }
                        }
                    }
                }
            }
        }
    }
}

/// A page that only says something (a refusal, a missing page).
pub fn notice(title: &str, text: &str, back: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { (head(title)) }
            body {
                main.login {
                    div.card {
                        h1 { (title) }
                        p { (text) }
                        @if let Some(b) = back { p { a href=(b) { "Back" } } }
                    }
                }
            }
        }
    }
}

fn time(t: DateTime<Utc>) -> Markup {
    html! { time datetime=(t.to_rfc3339()) { (t.format("%Y-%m-%d %H:%M:%S")) } }
}

fn status_tags(p: &Payment) -> Markup {
    html! {
        span.tag.(p.status.as_str()) { (p.status.as_str()) }
        @for (on, name) in [(p.underpaid, "underpaid"), (p.overpaid, "overpaid"), (p.paid_late, "paid late")] {
            @if on { " " span.tag.flag { (name) } }
        }
    }
}

/// `12.5 USDC` for a token amount in base units.
pub fn token_amount(p: &Payment, units: u128) -> String {
    match &p.asset {
        Some(a) => format!("{} {}", format_base_units_trimmed(units, a.decimals), a.token),
        None => "–".to_owned(),
    }
}

fn price(p: &Payment) -> String {
    format!("{} {}", p.price.amount, p.price.currency)
}

/// The payment list with its filters.
pub fn list(frame: &Frame<'_>, q: &ListQuery, page: &[Payment], total: i64, networks: &[String]) -> Markup {
    let first = u64::from(q.offset()) + 1;
    let last = u64::from(q.offset()) + page.len() as u64;
    html! {
        h1 { "Payments" }
        section.card aria-labelledby="filters-title" {
            h2 #filters-title { "Find and filter" }
            form.filters method="get" action="/dashboard/payments" {
                input type="hidden" name="mode" value=(frame.mode.as_str());
                div.wide {
                    label for="q" { "Search" }
                    input #q type="search" name="q" value=(q.q.as_deref().unwrap_or_default())
                        placeholder="payment id (any API), reference, order id, invoice, email, address, tx hash";
                }
                div {
                    label for="status" { "Status" }
                    select #status name="status" {
                        option value="" { "any" }
                        @for s in PaymentStatus::ALL {
                            option value=(s.as_str()) selected[q.status == Some(s)] { (s.as_str()) }
                        }
                    }
                }
                div {
                    label for="network" { "Network" }
                    select #network name="network" {
                        option value="" { "any" }
                        @for n in networks {
                            option value=(n) selected[q.network.as_deref() == Some(n.as_str())] { (n) }
                        }
                    }
                }
                div {
                    label for="token" { "Token" }
                    input #token name="token" value=(q.token.as_deref().unwrap_or_default()) placeholder="USDC";
                }
                div {
                    label for="from" { "Created from" }
                    input #from type="date" name="from" value=(q.from.map(|d| d.to_string()).unwrap_or_default());
                }
                div {
                    label for="to" { "Created to (inclusive)" }
                    input #to type="date" name="to" value=(q.to.map(|d| d.to_string()).unwrap_or_default());
                }
                fieldset.wide {
                    legend { "Flags" }
                    div.actions {
                        label.check { input type="checkbox" name="underpaid" value="1" checked[q.underpaid]; "underpaid" }
                        label.check { input type="checkbox" name="overpaid" value="1" checked[q.overpaid]; "overpaid" }
                        label.check { input type="checkbox" name="paid_late" value="1" checked[q.paid_late]; "paid late" }
                    }
                }
                div.actions.wide {
                    button type="submit" { "Apply" }
                    a.button.secondary href={ "/dashboard/payments?mode=" (frame.mode.as_str()) } { "Clear" }
                    a.button.secondary href=(q.to_link("/dashboard/payments.csv", Some(frame.mode), None)) download { "Export CSV" }
                }
            }
        }
        section.card aria-labelledby="results-title" {
            h2 #results-title {
                @if total == 0 { "No payments match" } @else { "Payments " (first) "–" (last) " of " (total) }
            }
            @if !page.is_empty() {
                // Focusable, so a keyboard can scroll a table wider than a phone.
                div.scroll tabindex="0" role="region" aria-label="Payments table" {
                    table {
                        thead { tr {
                            th scope="col" { "Created (UTC)" }
                            th scope="col" { "Payment" }
                            th scope="col" { "Status" }
                            th scope="col" { "Price" }
                            th scope="col" { "Due" }
                            th scope="col" { "Received" }
                            th scope="col" { "Network" }
                            th scope="col" { "Reference" }
                            th scope="col" { "Customer" }
                        } }
                        tbody {
                            @for p in page {
                                tr {
                                    td.num { (time(p.created_at)) }
                                    td.mono { a href={ "/dashboard/payments/" (p.id) } { (p.id) } }
                                    td { (status_tags(p)) }
                                    td.num { (price(p)) }
                                    td.num { (p.asset.as_ref().map(|a| token_amount(p, a.amount_due)).unwrap_or_else(|| "–".into())) }
                                    td.num { (token_amount(p, p.funds.confirmed.saturating_add(p.funds.pending))) }
                                    td { (p.asset.as_ref().map(|a| a.network.as_str()).unwrap_or("–")) }
                                    td { (p.reference.as_deref().or(p.external_id.as_deref()).or(p.invoice.as_deref()).unwrap_or("")) }
                                    td { (p.customer.email.as_deref().unwrap_or("")) }
                                }
                            }
                        }
                    }
                }
            }
            nav.pager aria-label="Pages" {
                @if q.page > 1 {
                    a href=(q.to_link("/dashboard/payments", Some(frame.mode), Some(q.page - 1))) rel="prev" { "← Newer" }
                } @else { span {} }
                @if (last as i64) < total {
                    a href=(q.to_link("/dashboard/payments", Some(frame.mode), Some(q.page + 1))) rel="next" { "Older →" }
                }
            }
        }
    }
}

/// One payment.
pub fn detail(
    frame: &Frame<'_>,
    d: &Detail,
    can_change: bool,
    cancellable: bool,
    explorer: &super::explorer::Links,
) -> Markup {
    let p = &d.payment;
    html! {
        p { a href={ "/dashboard/payments?mode=" (p.mode.as_str()) } { "← Payments" } }
        h1 { "Payment " span.mono { (p.id) } }
        section.card aria-labelledby="summary-title" {
            h2 #summary-title { "Summary" }
            dl.facts {
                dt { "Status" } dd #live-status { (status_tags(p)) }
                dt { "Merchant" } dd { (d.merchant.name) " " span.mono { "(" (d.merchant.id) ")" } }
                dt { "Mode" } dd { (p.mode.as_str()) }
                dt { "Created via" } dd { (p.dialect.as_str()) }
                dt { "Price" } dd.num { (price(p)) }
                @if let Some(a) = &p.asset {
                    dt { "Token / network" } dd { (a.token) " on " (a.network) }
                    dt { "Amount due" } dd.num { (token_amount(p, a.amount_due)) }
                    dt { "Received, confirmed" } dd.num #live-confirmed { (token_amount(p, p.funds.confirmed)) }
                    dt { "Received, confirming" } dd.num #live-pending { (token_amount(p, p.funds.pending)) }
                    dt { "Confirmations needed" } dd.num { (a.confirmations) }
                    @if let Some(addr) = &a.address { dt { "Deposit address" } dd.mono { (explorer.address(addr)) } }
                }
                @if let Some(r) = &p.reference { dt { "Reference" } dd { (r) } }
                @if let Some(r) = &p.external_id { dt { "Order id" } dd { (r) } }
                @if let Some(r) = &p.invoice { dt { "Invoice" } dd { (r) } }
                @if let Some(e) = &p.customer.email { dt { "Customer email" } dd { (e) } }
                dt { "Created" } dd { (time(p.created_at)) }
                dt { "Expires" } dd { (time(p.expires_at)) }
                @if let Some(t) = p.completed_at { dt { "Completed" } dd { (time(t)) } }
                dt { "Checkout page" } dd { a href={ "/checkout/" (p.slug) } { "/checkout/" (p.slug) } }
            }
            @if can_change && cancellable {
                form.actions method="post" action={ "/dashboard/payments/" (p.id) "/cancel" } {
                    input type="hidden" name="csrf" value=(frame.csrf);
                    button.danger type="submit" { "Cancel payment" }
                }
            }
        }
        section.card aria-labelledby="timeline-title" {
            h2 #timeline-title { "Timeline" }
            ol {
                @for e in &d.events {
                    li { (time(e.created_at)) " — " span.mono { (e.kind.as_str()) } }
                }
            }
        }
        section.card aria-labelledby="transfers-title" {
            h2 #transfers-title { "Transfers" }
            div #live-transfers {
            @if d.transfers.is_empty() { p { "No transfer seen yet." } } @else {
                div.scroll tabindex="0" role="region" aria-label="Transfers table" { table {
                    thead { tr {
                        th scope="col" { "Transaction" }
                        th scope="col" { "Amount" }
                        th scope="col" { "Block" }
                        th scope="col" { "Confirmations" }
                        th scope="col" { "State" }
                    } }
                    tbody {
                        @for t in &d.transfers {
                            tr {
                                td.mono { (explorer.tx(&t.transfer.transfer.tx_hash)) }
                                td.num { (token_amount(p, t.transfer.transfer.amount)) }
                                td.num { (t.transfer.transfer.block.number) }
                                td.num { (t.confirmations) }
                                td { (t.transfer.status.as_str()) }
                            }
                        }
                    }
                } }
            }
            }
        }
        section.card aria-labelledby="webhooks-title" {
            h2 #webhooks-title { "Webhook deliveries" }
            @if d.deliveries.is_empty() { p { "No webhook endpoint received this payment's events." } } @else {
                @for dv in &d.deliveries {
                    div.card {
                        p {
                            span.mono { (dv.delivery.event_name) } " to " span.mono { (dv.delivery.endpoint_id) } ": "
                            span.tag { (dv.delivery.status.as_str()) } " · " (dv.attempts.len()) " attempt(s)"
                        }
                        @if !dv.attempts.is_empty() {
                            div.scroll tabindex="0" role="region" aria-label="Attempts table" { table {
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
                            form method="post" action={ "/dashboard/payments/" (p.id) "/deliveries/" (dv.delivery.id) "/redeliver" } {
                                input type="hidden" name="csrf" value=(frame.csrf);
                                button.secondary type="submit" { "Redeliver" }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The API keys page.
pub fn keys(frame: &Frame<'_>, keys: &[ApiKey], merchants: &[Merchant], can_change: bool) -> Markup {
    let mut accounts: Vec<&payd_core::ids::AccountId> = merchants.iter().map(|m| &m.account_id).collect();
    accounts.sort();
    accounts.dedup();
    let name = |id: &payd_core::ids::MerchantId| {
        merchants.iter().find(|m| &m.id == id).map_or_else(|| id.to_string(), |m| m.name.clone())
    };
    html! {
        h1 { "API keys" }
        section.card aria-labelledby="keys-title" {
            h2 #keys-title { (keys.len()) " " (frame.mode.as_str()) " key(s)" }
            @if !keys.is_empty() {
                div.scroll tabindex="0" role="region" aria-label="Keys table" { table {
                    thead { tr {
                        th scope="col" { "Key" }
                        th scope="col" { "Starts with" }
                        th scope="col" { "For" }
                        th scope="col" { "Scopes" }
                        th scope="col" { "Created" }
                        th scope="col" { "Last used" }
                        th scope="col" { "State" }
                    } }
                    tbody { @for k in keys { tr {
                        td.mono { (k.id) }
                        td.mono { (k.prefix) "…" }
                        td { @match &k.merchant_id {
                            Some(m) => { (name(m)) },
                            None => { "every merchant of " span.mono { (k.account_id) } },
                        } }
                        td { @for s in &k.scopes { span.tag { (s.as_str()) } " " } }
                        td.num { (time(k.created_at)) }
                        td.num { @match k.last_used_at { Some(t) => (time(t)), None => "never" } }
                        td {
                            @if let Some(t) = k.revoked_at { "revoked " (time(t)) }
                            @else if can_change {
                                form method="post" action={ "/dashboard/keys/" (k.id) "/revoke" } {
                                    input type="hidden" name="csrf" value=(frame.csrf);
                                    button.danger type="submit" aria-label={ "Revoke " (k.id) } { "Revoke" }
                                }
                            } @else { "active" }
                        }
                    } } }
                } }
            }
        }
        @if can_change {
            section.card aria-labelledby="new-key-title" {
                h2 #new-key-title { "New key" }
                form.filters method="post" action="/dashboard/keys" {
                    input type="hidden" name="csrf" value=(frame.csrf);
                    div {
                        label for="owner" { "For" }
                        select #owner name="owner" {
                            @for m in merchants { option value=(m.id) { (m.name) " (" (m.id) ")" } }
                            @for a in &accounts { option value=(a) { "every merchant of " (a) } }
                        }
                    }
                    div {
                        label for="key-mode" { "Mode" }
                        select #key-mode name="mode" {
                            @for m in [Mode::Test, Mode::Live] {
                                option value=(m.as_str()) selected[m == frame.mode] { (m.as_str()) }
                            }
                        }
                    }
                    fieldset.wide {
                        legend { "Scopes" }
                        div.actions {
                            @for sc in Scope::ALL {
                                label.check { input type="checkbox" name="scope" value=(sc.as_str()) checked; (sc.as_str()) }
                            }
                        }
                    }
                    div.actions.wide { button type="submit" { "Create key" } }
                }
            }
        }
    }
}

/// The answer to creating a key: its secrets, shown this once.
pub fn key_created(frame: &Frame<'_>, issued: &IssuedKey) -> Markup {
    let k = &issued.key;
    html! {
        h1 { "New API key" }
        section.card aria-labelledby="secret-title" {
            h2 #secret-title { "Copy these now" }
            p.banner role="note" { "payd shows the key and its signing secret only now: it keeps the key hashed and the signing secret encrypted." }
            dl.facts {
                dt { "Key id" } dd.mono { (k.id) }
                dt { "Mode" } dd { (k.mode.as_str()) }
                dt { "Key" } dd.mono #key-secret { (issued.secret.expose()) }
                dt { "Signing secret" } dd.mono #signing-secret { (issued.signing_secret.expose()) }
                dt { "Scopes" } dd { @for s in &k.scopes { span.tag { (s.as_str()) } " " } }
            }
            p { a href={ "/dashboard/keys?mode=" (frame.mode.as_str()) } { "Back to the keys" } }
        }
    }
}

/// The audit log page (`everyone`: the lines of every account, for an operator).
pub fn audit(lines: &[AuditEntry], everyone: bool) -> Markup {
    html! {
        h1 { "Audit log" }
        section.card aria-labelledby="audit-title" {
            h2 #audit-title {
                @if everyone { "Every account: " } @else { "Your account: " }
                "the newest " (lines.len()) " line(s)"
            }
            @if !lines.is_empty() {
                div.scroll tabindex="0" role="region" aria-label="Audit log table" { table {
                    thead { tr {
                        th scope="col" { "When (UTC)" }
                        th scope="col" { "Who" }
                        th scope="col" { "What" }
                        th scope="col" { "Target" }
                        th scope="col" { "Detail" }
                        @if everyone { th scope="col" { "Account" } }
                    } }
                    tbody { @for l in lines { tr {
                        td.num { (time(l.at)) }
                        td { (l.actor) }
                        td.mono { (l.action) }
                        td.mono { (l.target) }
                        td { (l.detail) }
                        @if everyone { td.mono { (l.account_id.as_ref().map(ToString::to_string).unwrap_or_default()) } }
                    } } }
                } }
            }
        }
    }
}

/// The webhook endpoints page.
pub fn endpoints(
    frame: &Frame<'_>,
    endpoints: &[WebhookEndpoint],
    merchants: &[Merchant],
    can_change: bool,
) -> Markup {
    let name = |id: &payd_core::ids::MerchantId| {
        merchants.iter().find(|m| &m.id == id).map_or_else(|| id.to_string(), |m| m.name.clone())
    };
    let action = |e: &WebhookEndpoint, verb: &str, label: &str, class: &str| {
        html! {
            form method="post" action={ "/dashboard/webhooks/" (e.id) "/" (verb) } {
                input type="hidden" name="csrf" value=(frame.csrf);
                button.(class) type="submit" aria-label={ (label) " " (e.id) } { (label) }
            }
        }
    };
    html! {
        h1 { "Webhook endpoints" }
        section.card aria-labelledby="hooks-title" {
            h2 #hooks-title { (endpoints.len()) " " (frame.mode.as_str()) " endpoint(s)" }
            @for e in endpoints {
                div.card {
                    dl.facts {
                        // Its page has the edit form, the rotation with an overlap, the test event and the log.
                        dt { "Endpoint" } dd.mono { a href={ "/dashboard/webhooks/" (e.id) } { (e.id) } }
                        dt { "Merchant" } dd { (name(&e.merchant_id)) }
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
                    }
                    @if can_change {
                        div.actions {
                            @if e.enabled { (action(e, "disable", "Disable", "secondary")) }
                            @else { (action(e, "enable", "Enable", "secondary")) }
                            (action(e, "rotate", "Rotate secret", "secondary"))
                            (action(e, "delete", "Delete", "danger"))
                        }
                    }
                }
            }
        }
        @if can_change && !merchants.is_empty() {
            section.card aria-labelledby="new-hook-title" {
                h2 #new-hook-title { "New endpoint" }
                form.filters method="post" action="/dashboard/webhooks" {
                    input type="hidden" name="csrf" value=(frame.csrf);
                    input type="hidden" name="mode" value=(frame.mode.as_str());
                    div.wide {
                        label for="hook-url" { "URL" }
                        input #hook-url type="url" name="url" required placeholder="https://shop.example/payd-webhooks";
                    }
                    div {
                        label for="hook-merchant" { "Merchant" }
                        select #hook-merchant name="merchant" {
                            @for m in merchants { option value=(m.id) { (m.name) } }
                        }
                    }
                    div {
                        label for="hook-format" { "Format" }
                        select #hook-format name="format" {
                            @for f in WebhookFormat::ALL { option value=(f.as_str()) { (f.as_str()) } }
                        }
                    }
                    div {
                        label for="hook-description" { "Description" }
                        input #hook-description name="description";
                    }
                    fieldset.wide {
                        legend { "Events (none checked: all)" }
                        div.actions {
                            @for k in EventKind::ALL {
                                label.check { input type="checkbox" name="event" value=(k.as_str()); (k.as_str()) }
                            }
                        }
                    }
                    div.actions.wide { button type="submit" { "Register endpoint" } }
                }
            }
        }
    }
}

/// An endpoint's signing secret, shown this once (on creation or rotation).
pub fn endpoint_secret(frame: &Frame<'_>, e: &WebhookEndpoint, secret: &str, title: &str) -> Markup {
    html! {
        h1 { (title) }
        section.card aria-labelledby="hook-secret-title" {
            h2 #hook-secret-title { "Copy the signing secret now" }
            p.banner role="note" { "payd shows this secret only now: it keeps it encrypted." }
            dl.facts {
                dt { "Endpoint" } dd.mono { (e.id) }
                dt { "URL" } dd.mono { (e.url) }
                dt { "Signing secret" } dd.mono #hook-secret { (secret) }
            }
            p { a href={ "/dashboard/webhooks?mode=" (frame.mode.as_str()) } { "Back to the endpoints" } }
        }
    }
}

/// The settings form's values, as text (blank: not set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsForm {
    /// Smallest payment, USD.
    pub min_amount: String,
    /// `TOKEN/NETWORK`.
    pub settlement: String,
    /// Percent.
    pub tolerance: String,
    /// EVM xpub.
    pub xpub_evm: String,
    /// Tron xpub.
    pub xpub_tron: String,
}

/// The settings page of one merchant, with the xpub preview when there is one; `extra` (the
/// assets and profile forms) follows the main form.
#[allow(clippy::too_many_arguments)]
pub fn settings(
    frame: &Frame<'_>,
    merchants: &[Merchant],
    current: &Merchant,
    form: &SettingsForm,
    preview: Option<&Preview>,
    message: Option<&str>,
    can_change: bool,
    extra: Markup,
) -> Markup {
    let field = |id: &str, label: &str, value: &str, hint: &str, wide: bool| {
        html! {
            div class=[wide.then_some("wide")] {
                label for=(id) { (label) }
                input id=(id) name=(id) value=(value) disabled[!can_change] aria-describedby={ (id) "-hint" };
                small.note id={ (id) "-hint" } { (hint) }
            }
        }
    };
    html! {
        h1 { "Settings" }
        @if merchants.len() > 1 {
            nav.card aria-label="Merchants" {
                @for m in merchants {
                    a href={ "/dashboard/settings?merchant=" (m.id) } aria-current=[(m.id == current.id).then_some("page")] { (m.name) }
                    " "
                }
            }
        }
        section.card aria-labelledby="settings-title" {
            h2 #settings-title { (current.name) " " span.mono { "(" (current.id) ")" } }
            p { a href={ "/dashboard/settings/" (current.id) "/checkout" } { "Checkout branding: name, accent colour, logo" } }
            @if let Some(m) = message { p.banner role="status" { (m) } }
            @if let Some(p) = preview {
                @for (name, list) in [("EVM", &p.evm), ("Tron", &p.tron)] {
                    @if !list.is_empty() {
                        h3 { "First " (name) " addresses of this key" }
                        ol start="0" { @for a in list { li.mono { (a) } } }
                    }
                }
            }
            form.filters method="post" action={ "/dashboard/settings/" (current.id) } {
                input type="hidden" name="csrf" value=(frame.csrf);
                (field("min_amount", "Smallest payment (USD)", &form.min_amount, "blank: no minimum", false))
                (field("settlement", "Settlement asset", &form.settlement, "TOKEN/NETWORK, e.g. USDC/base; blank: none", false))
                (field("tolerance", "Underpayment tolerance (%)", &form.tolerance, "0 to 10", false))
                (field("xpub_evm", "EVM extended public key", &form.xpub_evm, "m/44'/60'/0'/0; blank: none", true))
                (field("xpub_tron", "Tron extended public key", &form.xpub_tron, "m/44'/195'/0'/0; blank: none", true))
                @if can_change {
                    @if preview.is_some() {
                        label.check.wide { input type="checkbox" name="checked" value="1"; "I found these addresses in my wallet" }
                    }
                    div.actions.wide {
                        button.secondary type="submit" name="step" value="preview" { "Preview addresses" }
                        button type="submit" name="step" value="save" { "Save" }
                    }
                }
            }
        }
        (extra)
    }
}

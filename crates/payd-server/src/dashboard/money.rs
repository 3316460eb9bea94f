//! The money received page (`/dashboard/money`): per network and token, what the payments
//! within the user's reach received and how much of it is confirmed, in the mode shown; and,
//! for the operator only, the transfers payd saw to its addresses but credited to no payment,
//! each with why, a page at a time. Amounts are the store's exact sums in the token's
//! smallest unit, shown in whole units with all their decimals.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use payd_core::apikey::Mode;
use payd_core::chain::StoredTransfer;
use payd_core::token::format_base_units;
use payd_store::views::{ReceivedTotal, UnattributedPage};

use super::auth::page_session;
use super::page::{self, Frame};
use super::query::ListQuery;
use super::{html, internal, notice};
use crate::engine::users::merchants_in_reach;
use crate::engine::views;
use crate::state::AppState;

/// Unattributed transfers a page shows.
const PAGE: u32 = 50;

/// A token's decimals: payd's registry, else the configured network's token.
pub fn decimals(state: &AppState, network: &str, token: &str) -> Option<u8> {
    payd_core::registry::token(token, network).map(|t| t.decimals).or_else(|| {
        let net = state.config.networks.iter().find(|n| n.name == network)?;
        net.token(token).map(|t| t.decimals)
    })
}

/// `units` in whole tokens with every decimal (`1.500000 USDC`), or in base units when the
/// token is not known here.
fn amount(state: &AppState, network: &str, token: &str, units: u128) -> String {
    match decimals(state, network, token) {
        Some(d) => format!("{} {token}", format_base_units(units, d)),
        None => format!("{units} base units of {token}"),
    }
}

/// `GET /dashboard/money`: the totals, and the unattributed transfers for an operator.
pub async fn show(State(state): State<AppState>, RawQuery(raw): RawQuery, headers: HeaderMap) -> Response {
    let authed = match page_session(&state, &headers).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let q = match ListQuery::parse(raw.as_deref()) {
        Ok(q) => q,
        Err(e) => return notice(StatusCode::BAD_REQUEST, "Bad query", &e),
    };
    let mode = q.mode();
    let merchants = match merchants_in_reach(&state.store, authed.user()).await {
        Ok(m) => m,
        Err(e) => return internal(&e),
    };
    let totals = match views::received(&state.store, &merchants, mode).await {
        Ok(t) => t,
        Err(e) => return internal(&e),
    };
    let offset = (q.page - 1).saturating_mul(PAGE);
    let unattributed = match views::unattributed(&state.store, authed.user(), mode, PAGE, offset).await {
        Ok(u) => u,
        Err(e) => return internal(&e),
    };
    let fr = Frame { user: authed.user(), mode, csrf: &authed.csrf, here: "/dashboard/money".into() };
    let body = body(&state, mode, &totals, unattributed.as_ref(), q.page);
    html(StatusCode::OK, page::layout("Money received", &fr, body))
}

fn transfer_row(state: &AppState, t: &StoredTransfer) -> Markup {
    let x = &t.transfer;
    let explorer = super::explorer::Links::of(state, &x.network);
    html! {
        tr {
            td.num { (x.block_time.format("%Y-%m-%d %H:%M:%S")) }
            td { (x.network) }
            td.num { (amount(state, &x.network, &x.token, x.amount)) }
            td.mono { (explorer.address(&x.to)) }
            td.mono { (explorer.address(&x.from)) }
            td.mono { (explorer.tx(&x.tx_hash)) }
            td.num { (x.block.number) }
            td { (t.status.as_str()) }
            td { (x.note.as_deref().unwrap_or("no reason recorded")) }
        }
    }
}

fn body(
    state: &AppState,
    mode: Mode,
    totals: &[ReceivedTotal],
    unattributed: Option<&UnattributedPage>,
    page_no: u32,
) -> Markup {
    html! {
        h1 { "Money received" }
        section.card aria-labelledby="received-title" {
            h2 #received-title { "Per network and token (" (mode.as_str()) ")" }
            p { "Received: every transfer to a payment within your reach that a reorganisation did not undo. "
                "Confirmed: of which the transfers at their payment's confirmation depth." }
            @if totals.is_empty() { p { "Nothing received in " (mode.as_str()) " mode." } } @else {
                div.scroll tabindex="0" role="region" aria-label="Money received table" { table #received {
                    thead { tr {
                        th scope="col" { "Network" } th scope="col" { "Token" } th scope="col" { "Transfers" }
                        th scope="col" { "Received" } th scope="col" { "Confirmed" }
                    } }
                    tbody { @for t in totals {
                        tr data-network=(t.network) data-token=(t.token) data-received=(t.received) data-confirmed=(t.confirmed) {
                            td { (t.network) } td { (t.token) } td.num { (t.transfers) }
                            td.num { (amount(state, &t.network, &t.token, t.received)) }
                            td.num { (amount(state, &t.network, &t.token, t.confirmed)) }
                        }
                    } }
                } }
            }
        }
        @if let Some(u) = unattributed {
            section.card aria-labelledby="unattributed-title" {
                h2 #unattributed-title { "Unattributed transfers (" (mode.as_str()) ")" }
                p { (u.total) " transfer(s) payd saw to an address it watches or derived but credited to no payment. "
                    "Only the operator sees them: they belong to no account." }
                @if !u.transfers.is_empty() {
                    div.scroll tabindex="0" role="region" aria-label="Unattributed transfers table" { table #unattributed {
                        thead { tr {
                            th scope="col" { "Block time (UTC)" } th scope="col" { "Network" } th scope="col" { "Amount" }
                            th scope="col" { "To" } th scope="col" { "From" } th scope="col" { "Transaction" }
                            th scope="col" { "Block" } th scope="col" { "State" } th scope="col" { "Why not attributed" }
                        } }
                        tbody { @for t in &u.transfers { (transfer_row(state, t)) } }
                    } }
                }
                nav.pager aria-label="Pages" {
                    @if page_no > 1 {
                        a href={ "/dashboard/money?mode=" (mode.as_str()) "&page=" (page_no - 1) } rel="prev" { "← Newer" }
                    } @else { span {} }
                    @if u64::from(page_no) * u64::from(PAGE) < u.total {
                        a href={ "/dashboard/money?mode=" (mode.as_str()) "&page=" (page_no + 1) } rel="next" { "Older →" }
                    }
                }
            }
        }
    }
}

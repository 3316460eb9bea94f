//! The instance health page (`/dashboard/health`, operators only; anyone else gets the 404
//! page): per network the watcher's cursor, the chain head and the lag (in blocks and in
//! seconds) as this node's watcher last measured them (the readings `/metrics` exports),
//! who holds the watcher lease and the last error; the webhook queue's depth and the
//! endpoints that fail; the database backend.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use maud::{html, Markup};
use payd_core::apikey::Mode;
use payd_core::user::Reach;
use payd_store::views::{ChainPosition, FailingEndpoint};
use payd_store::Backend;

use super::auth::page_session;
use super::page::{self, Frame};
use super::{html, internal, not_found};
use crate::state::AppState;

/// Failing endpoints listed at most.
const FAILING_SHOWN: u32 = 100;

/// One network's row.
#[derive(Debug)]
struct NetworkHealth {
    position: ChainPosition,
    head: Option<u64>,
    lag_blocks: Option<i64>,
    lag_seconds: Option<i64>,
    last_error: Option<(DateTime<Utc>, String)>,
}

/// `GET /dashboard/health`.
pub async fn show(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let authed = match page_session(&state, &headers).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    if !matches!(authed.user().reach(), Reach::Everything) {
        return not_found();
    }
    let now = payd_store::now();
    let mut positions = match state.store.chain_positions().await {
        Ok(p) => p,
        Err(e) => return internal(&e),
    };
    // A configured network whose watcher has not written yet still gets its row.
    let mut names: Vec<String> = state.config.networks.iter().map(|n| n.name.clone()).collect();
    names.push(payd_chain::devnet::NETWORK.to_owned());
    for name in names {
        if !positions.iter().any(|p| p.network == name) {
            positions.push(ChainPosition {
                network: name,
                cursor: None,
                cursor_updated_at: None,
                lease: None,
            });
        }
    }
    positions.sort_by(|a, b| a.network.cmp(&b.network));
    let networks: Vec<NetworkHealth> = positions
        .into_iter()
        .map(|position| {
            let (lag_blocks, measured_seconds) = state.metrics.watcher_lag(&position.network);
            let cursor = position.cursor.as_ref().map(|c| c.0);
            let head = match (cursor, lag_blocks) {
                (Some(c), Some(l)) => u64::try_from(l).ok().and_then(|l| c.checked_add(l)),
                _ => None,
            };
            // Not measured by this node (another holds the lease): the cursor block's age.
            let lag_seconds = measured_seconds.or_else(|| {
                position.cursor.as_ref().and_then(|c| c.1).map(|t| (now - t).num_seconds().max(0))
            });
            let last_error = state.metrics.watcher_error(&position.network);
            NetworkHealth { position, head, lag_blocks, lag_seconds, last_error }
        })
        .collect();
    let queue = match state.store.webhook_queue_depth().await {
        Ok(q) => q,
        Err(e) => return internal(&e),
    };
    let failing = match state.store.failing_endpoints(FAILING_SHOWN).await {
        Ok(f) => f,
        Err(e) => return internal(&e),
    };
    let fr =
        Frame { user: authed.user(), mode: Mode::Live, csrf: &authed.csrf, here: "/dashboard/health".into() };
    let body = body(&networks, queue, &failing, state.store.backend(), now);
    html(StatusCode::OK, page::layout("Instance health", &fr, body))
}

fn time(t: DateTime<Utc>) -> Markup {
    html! { time datetime=(t.to_rfc3339()) { (t.format("%Y-%m-%d %H:%M:%S")) } }
}

fn or_dash<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| v.to_string())
}

fn body(
    networks: &[NetworkHealth],
    queue: u64,
    failing: &[FailingEndpoint],
    backend: Backend,
    now: DateTime<Utc>,
) -> Markup {
    html! {
        h1 { "Instance health" }
        section.card aria-labelledby="chains-title" {
            h2 #chains-title { "Chain watchers" }
            p { "Head and lag are this node's last measurement (the same readings as " code { "/metrics" } "); "
                "on a node that does not hold a network's lease, the lag in seconds is the age of the cursor's block." }
            div.scroll tabindex="0" role="region" aria-label="Chain watchers table" { table #chains {
                thead { tr {
                    th scope="col" { "Network" } th scope="col" { "Cursor" } th scope="col" { "Head" }
                    th scope="col" { "Lag (blocks)" } th scope="col" { "Lag (seconds)" }
                    th scope="col" { "Cursor moved" } th scope="col" { "Lease holder" } th scope="col" { "Last error" }
                } }
                tbody { @for n in networks {
                    tr data-network=(n.position.network) data-cursor=(or_dash(n.position.cursor.as_ref().map(|c| c.0)))
                        data-lag-blocks=(or_dash(n.lag_blocks)) data-lag-seconds=(or_dash(n.lag_seconds)) {
                        td { (n.position.network) }
                        td.num { (or_dash(n.position.cursor.as_ref().map(|c| c.0))) }
                        td.num { (or_dash(n.head)) }
                        td.num { (or_dash(n.lag_blocks)) }
                        td.num { (or_dash(n.lag_seconds)) }
                        td.num { @if let Some(t) = n.position.cursor_updated_at { (time(t)) } @else { "never" } }
                        td { @match &n.position.lease {
                            Some((holder, until)) if *until > now => { span.mono { (holder) } " until " (time(*until)) }
                            Some((holder, until)) => { span.mono { (holder) } " (expired " (time(*until)) ")" }
                            None => { "none (a single node needs none)" }
                        } }
                        td { @if let Some((at, e)) = &n.last_error { (time(*at)) ": " (e) } @else { "none on this node" } }
                    }
                } }
            } }
        }
        section.card aria-labelledby="webhooks-health-title" {
            h2 #webhooks-health-title { "Webhooks" }
            p #webhook-queue data-depth=(queue) { "Deliveries waiting to be sent: " strong { (queue) } }
            @if failing.is_empty() { p { "No endpoint is failing." } } @else {
                div.scroll tabindex="0" role="region" aria-label="Failing endpoints table" { table #failing {
                    thead { tr {
                        th scope="col" { "Endpoint" } th scope="col" { "Merchant" } th scope="col" { "Mode" }
                        th scope="col" { "URL" } th scope="col" { "Failing since" } th scope="col" { "State" }
                    } }
                    tbody { @for e in failing { tr {
                        td.mono { (e.id) } td.mono { (e.merchant_id) } td { (e.mode) } td.mono { (e.url) }
                        td.num { @if let Some(t) = e.failing_since { (time(t)) } @else { "–" } }
                        td { @if e.enabled { "enabled, retrying" } @else { "disabled: " (e.disabled_reason.as_deref().unwrap_or("")) } }
                    } } }
                } }
            }
        }
        section.card aria-labelledby="database-title" {
            h2 #database-title { "Database" }
            p #database { "Backend: " strong { @match backend { Backend::Sqlite => "SQLite", Backend::Postgres => "PostgreSQL" } } }
        }
    }
}

//! The payments-per-day chart under the payment list: an SVG drawn on the server (no script),
//! payments counted and their USD volume per UTC day for the list's filter, with a title, a
//! description and the numbers in a table for those who do not see it. Heights are scaled
//! with integers and decimals: the amounts shown are the store's exact sums.

use maud::{html, Markup};
use payd_store::views::DayTotal;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::engine::views::Window;

/// The drawing's width and each plot's height, in SVG units.
const WIDTH: u64 = 720;
const PLOT: u64 = 110;
/// Room left of the plots for the axis' labels, and below each for the days.
const LEFT: u64 = 64;
const GAP: u64 = 34;

/// `v`'s height in a plot whose top is `max` (0 for nothing, at least 1 for anything).
fn height(v: Decimal, max: Decimal) -> u64 {
    if v <= Decimal::ZERO || max <= Decimal::ZERO {
        return 0;
    }
    (v * Decimal::from(PLOT) / max).round().to_u64().unwrap_or(PLOT).clamp(1, PLOT)
}

fn plot(
    days: &[DayTotal],
    top: u64,
    label: &str,
    max_label: &str,
    fill: &str,
    value: impl Fn(&DayTotal) -> Decimal,
) -> Markup {
    let max = days.iter().map(&value).max().unwrap_or(Decimal::ZERO);
    let n = days.len().max(1) as u64;
    let step = (WIDTH - LEFT) / n;
    let bar = step.saturating_sub(step / 4).max(1);
    let base = top + PLOT;
    html! {
        text x="0" y=(top + 10) font-size="11" fill="#374151" { (label) }
        text x="0" y=(top + 24) font-size="11" fill="#374151" { "max " (max_label) }
        line x1=(LEFT) y1=(base) x2=(WIDTH) y2=(base) stroke="#9ca3af" stroke-width="1" {}
        @for (i, d) in days.iter().enumerate() {
            @let h = height(value(d), max);
            rect x=(LEFT + i as u64 * step) y=(base - h) width=(bar) height=(h) fill=(fill)
                data-day=(d.day) data-payments=(d.payments) data-usd=(d.usd) {
                title { (d.day) ": " (d.payments) " payment(s), " (d.usd) " USD" }
            }
        }
    }
}

/// The chart for the list's query and filter (the filter's dates, or the last 30 days).
pub async fn for_list(
    store: &payd_store::Store,
    q: &super::query::ListQuery,
    filter: &payd_store::users::DashboardFilter,
) -> Result<Markup, payd_store::StoreError> {
    let window = Window::of(q.from, q.to, payd_store::now().date_naive());
    let days = crate::engine::views::per_day(store, filter, window).await?;
    Ok(section(&days, window))
}

/// The chart's section: the drawing, a one-line summary and the table of its numbers.
pub fn section(days: &[DayTotal], window: Window) -> Markup {
    let payments: u64 = days.iter().map(|d| d.payments).sum();
    let usd: Decimal = days.iter().map(|d| d.usd).sum();
    let unpriced: u64 = days.iter().map(|d| d.unpriced).sum();
    let max_count = days.iter().map(|d| d.payments).max().unwrap_or(0);
    let max_usd = days.iter().map(|d| d.usd).max().unwrap_or(Decimal::ZERO);
    let total_height = 2 * (PLOT + GAP);
    let summary =
        format!("{payments} payment(s) worth {usd} USD from {} to {} (UTC days).", window.first, window.last);
    html! {
        section.card aria-labelledby="chart-title" {
            h2 #chart-title { "Payments per day" }
            p #chart-summary { (summary)
                @if unpriced > 0 { " " (unpriced) " payment(s) have no USD value and count in the payments only." }
                @if window.clamped { " The chart shows at most a year: the filter's last 366 days." }
            }
            div.scroll {
                svg #payments-chart xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (WIDTH) " " (total_height) }
                    width="100%" role="img" aria-labelledby="chart-svg-title chart-svg-desc" {
                    title #chart-svg-title { "Payments and USD volume per day" }
                    desc #chart-svg-desc { (summary) " Top: payments per day. Bottom: USD volume per day." }
                    (plot(days, 0, "Payments", &max_count.to_string(), "#2563eb", |d| Decimal::from(d.payments)))
                    (plot(days, PLOT + GAP, "Volume (USD)", &max_usd.to_string(), "#059669", |d| d.usd))
                    text x=(LEFT) y=(total_height - 4) font-size="11" fill="#374151" { (window.first) }
                    text x=(WIDTH) y=(total_height - 4) font-size="11" fill="#374151" text-anchor="end" { (window.last) }
                }
            }
            details {
                summary { "The numbers, per day" }
                div.scroll tabindex="0" role="region" aria-label="Payments per day table" {
                    table #chart-table {
                        thead { tr { th scope="col" { "Day (UTC)" } th scope="col" { "Payments" } th scope="col" { "Volume (USD)" } } }
                        tbody {
                            @for d in days.iter().filter(|d| d.payments > 0) {
                                tr data-day=(d.day) data-payments=(d.payments) data-usd=(d.usd) {
                                    td.num { (d.day) } td.num { (d.payments) } td.num { (d.usd) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heights_scale_to_the_largest_day() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(height(d("10.00"), d("10.00")), PLOT);
        assert_eq!(height(d("5.00"), d("10.00")), PLOT / 2);
        assert_eq!(height(d("0.01"), d("1000000")), 1);
        assert_eq!(height(Decimal::ZERO, d("10")), 0);
    }
}

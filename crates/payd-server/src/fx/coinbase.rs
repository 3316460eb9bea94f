//! Coinbase's public spot prices: `GET /v2/prices/{FROM}-{TO}/spot` (no key), answering
//! `{"data": {"amount": "1.0846", "base": "EUR", "currency": "USD"}}` — `amount` units of
//! `currency` per one `base`, as a decimal string.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use payd_core::money::Currency;
use rust_decimal::Decimal;
use serde_json::Value;

use super::{parse_rate, Quote, Table};

/// Coinbase's API base.
pub const DEFAULT_URL: &str = "https://api.coinbase.com";

/// The spot-price URL for a pair under the API base `base`.
pub fn spot_url(base: &str, from: Currency, to: Currency) -> String {
    format!("{}/v2/prices/{}-{}/spot", base.trim_end_matches('/'), from.code(), to.code())
}

/// Parses a spot answer for `from`→`to`, fetched at `now` (the answer carries no time).
pub fn parse(body: &[u8], from: Currency, to: Currency, now: DateTime<Utc>) -> Result<Table, String> {
    let v: Value = serde_json::from_slice(body).map_err(|_| "not JSON".to_owned())?;
    let data = &v["data"];
    if data["base"].as_str() != Some(from.code()) || data["currency"].as_str() != Some(to.code()) {
        return Err("no spot price for the pair asked".to_owned());
    }
    // Numbers keep their text (serde_json's arbitrary_precision): read exactly either way.
    let text = match &data["amount"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err("no data.amount".to_owned()),
    };
    let amount = parse_rate(&text).ok_or("data.amount is not a positive decimal")?;
    let units = HashMap::from([(from, amount), (to, Decimal::ONE)]);
    Ok(Table { quote: Quote::InBase, units, as_of: now })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(code: &str) -> Currency {
        Currency::from_code(code).unwrap_or(Currency::USD)
    }

    #[test]
    fn a_spot_answer_reads_exactly() {
        let body = br#"{"data":{"amount":"1.08460000000000000001","base":"EUR","currency":"USD"}}"#;
        let t = parse(body, c("EUR"), c("USD"), Utc::now()).map_err(|e| e.to_string());
        let rate = t.ok().and_then(|t| t.rate(c("EUR"), c("USD"), "coinbase")).and_then(Result::ok);
        assert_eq!(rate.map(|r| r.rate.to_string()), Some("1.08460000000000000001".into()));
        assert_eq!(
            spot_url("https://api.coinbase.com/", c("EUR"), c("USD")),
            "https://api.coinbase.com/v2/prices/EUR-USD/spot"
        );
    }

    #[test]
    fn other_pairs_and_errors_are_refused() {
        for body in [
            r#"{"data":{"amount":"1.08","base":"GBP","currency":"USD"}}"#,
            r#"{"errors":[{"id":"not_found","message":"Invalid currency"}]}"#,
            r#"{"data":{"amount":"0","base":"EUR","currency":"USD"}}"#,
            r#"{"data":{"amount":1.08e400,"base":"EUR","currency":"USD"}}"#,
            "<html>",
        ] {
            assert!(parse(body.as_bytes(), c("EUR"), c("USD"), Utc::now()).is_err(), "{body}");
        }
    }
}

//! A generic JSON rate endpoint: a URL template with `{from}` and `{to}` answering
//! `{"rates": {"<TO>": <rate>}}` (a number or a decimal string), as many self-hosted and paid
//! rate services do.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use payd_core::money::Currency;
use rust_decimal::Decimal;
use serde_json::Value;

use super::{parse_rate, Quote, Table};

/// Parses an answer for `from`→`to`, fetched at `now`.
pub fn parse(body: &[u8], from: Currency, to: Currency, now: DateTime<Utc>) -> Result<Table, String> {
    // Numbers keep their text (arbitrary_precision): the rate is read exactly.
    let v: Value = serde_json::from_slice(body).map_err(|_| "not JSON".to_owned())?;
    let text = match &v["rates"][to.code()] {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return Err(format!("no rates.{}", to.code())),
    };
    let rate = parse_rate(&text).ok_or_else(|| format!("rates.{} is not a positive decimal", to.code()))?;
    let units = HashMap::from([(from, rate), (to, Decimal::ONE)]);
    Ok(Table { quote: Quote::InBase, units, as_of: now })
}

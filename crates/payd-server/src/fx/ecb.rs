//! The European Central Bank's euro foreign exchange reference rates: the public
//! `eurofxref-daily.xml`, a `gesmes:Envelope` whose `Cube time='YYYY-MM-DD'` holds one
//! `Cube currency='USD' rate='1.0705'` per currency, each the units of that currency per EUR.
//! One fetch prices every pair; pairs without EUR are cross rates through it, kept exact.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use payd_core::money::Currency;
use quick_xml::events::Event;
use quick_xml::XmlVersion;
use rust_decimal::Decimal;

use super::{parse_rate, Quote, Table};

/// Where the ECB publishes the day's rates.
pub const DEFAULT_URL: &str = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml";

/// Parses the document. Its rates hold as of their reference day's publication (around 16:00
/// CET; taken as 14:00 UTC, the earliest that can be, so an age is never understated). A
/// document with several days (the ECB's 90-day history) gives its newest. Errors describe
/// the document's shape, never its content.
pub fn parse(body: &[u8], now: DateTime<Utc>) -> Result<Table, String> {
    let text = std::str::from_utf8(body).map_err(|_| "not UTF-8".to_owned())?;
    let eur = Currency::from_code("EUR").ok_or("EUR unknown")?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut days: BTreeMap<NaiveDate, HashMap<Currency, Decimal>> = BTreeMap::new();
    let mut day: Option<NaiveDate> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|_| format!("malformed XML near byte {}", reader.error_position()))?;
        let cube = match &event {
            Event::Start(e) | Event::Empty(e) if e.local_name().into_inner() == "Cube" => e,
            Event::Eof => break,
            _ => continue,
        };
        let (mut time, mut currency, mut rate) = (None, None, None);
        for attr in cube.attributes() {
            let attr = attr.map_err(|_| "malformed Cube attribute".to_owned())?;
            let value = attr
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|_| "malformed Cube attribute".to_owned())?
                .into_owned();
            match attr.key.local_name().into_inner() {
                "time" => time = Some(value),
                "currency" => currency = Some(value),
                "rate" => rate = Some(value),
                _ => {}
            }
        }
        if let Some(time) = time {
            let date = NaiveDate::parse_from_str(&time, "%Y-%m-%d")
                .map_err(|_| "a Cube time is not a date".to_owned())?;
            days.entry(date).or_default();
            day = Some(date);
        }
        if let (Some(code), Some(rate)) = (currency, rate) {
            let date = day.ok_or("a rate outside a dated Cube")?;
            let rate = parse_rate(rate.trim()).ok_or("a rate is not a positive decimal")?;
            // Currencies payd does not know are left out; the rest must be listed once a day.
            if let Some(c) = Currency::from_code(&code) {
                if days.entry(date).or_default().insert(c, rate).is_some() {
                    return Err("a currency is listed twice in one day".to_owned());
                }
            }
        }
    }
    let (date, mut units) = days.pop_last().ok_or("no dated Cube")?;
    if units.is_empty() {
        return Err("no rates in the newest day".to_owned());
    }
    units.insert(eur, Decimal::ONE);
    let as_of = date.and_hms_opt(14, 0, 0).ok_or("bad date")?.and_utc();
    if as_of > now + chrono::Duration::days(1) {
        return Err("dated in the future".to_owned());
    }
    Ok(Table { quote: Quote::PerBase, units, as_of })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
	<gesmes:subject>Reference rates</gesmes:subject>
	<gesmes:Sender>
		<gesmes:name>European Central Bank</gesmes:name>
	</gesmes:Sender>
	<Cube>
		<Cube time='2024-06-28'>
			<Cube currency='USD' rate='1.0705'/>
			<Cube currency='JPY' rate='171.94'/>
			<Cube currency='GBP' rate='0.84638'/>
			<Cube currency='XXQ' rate='2'/>
		</Cube>
	</Cube>
</gesmes:Envelope>"#;

    fn c(code: &str) -> Currency {
        Currency::from_code(code).unwrap_or(Currency::USD)
    }

    fn now() -> DateTime<Utc> {
        "2024-06-29T08:00:00Z".parse().unwrap_or_default()
    }

    #[test]
    fn the_daily_document_reads_exactly_with_its_date() {
        let t = parse(DOC.as_bytes(), now()).map_err(|e| e.to_string());
        let t = t.as_ref();
        assert_eq!(t.map(|t| t.units.get(&c("USD")).map(ToString::to_string)), Ok(Some("1.0705".into())));
        assert_eq!(t.map(|t| t.units.get(&c("EUR")).copied()), Ok(Some(Decimal::ONE)));
        assert_eq!(t.map(|t| t.units.len()), Ok(4), "unknown codes are left out");
        assert_eq!(t.map(|t| t.as_of.to_rfc3339()), Ok("2024-06-28T14:00:00+00:00".into()));
        let rate = t.ok().and_then(|t| t.rate(c("EUR"), c("USD"), "ecb")).and_then(Result::ok);
        assert_eq!(rate.map(|r| (r.rate.to_string(), r.cross)), Some(("1.0705".into(), None)));
        let cross = t.ok().and_then(|t| t.rate(c("GBP"), c("USD"), "ecb")).and_then(Result::ok);
        assert_eq!(cross.and_then(|r| r.cross), Some((Decimal::new(10705, 4), Decimal::new(84638, 5))));
    }

    #[test]
    fn the_newest_day_of_a_history_wins() {
        let hist = DOC.replace(
            "<Cube time='2024-06-28'>",
            "<Cube time='2024-06-28'><Cube currency='CHF' rate='0.9634'/></Cube><Cube time='2024-06-27'>",
        );
        let t = parse(hist.as_bytes(), now()).map_err(|e| e.to_string());
        assert_eq!(
            t.map(|t| (t.units.len(), t.as_of.date_naive().to_string())),
            Ok((2, "2024-06-28".into()))
        );
    }

    #[test]
    fn documents_of_another_shape_are_refused_without_echoing_them() {
        for (bad, why) in [
            ("<html>secret-key-123</html>", "no dated Cube"),
            ("<Cube time='2024-06-28'><Cube currency='USD' rate='-1'/></Cube>", "a rate is not a positive decimal"),
            ("<Cube time='28/06/2024'/>", "a Cube time is not a date"),
            ("<Cube currency='USD' rate='1.07'/>", "a rate outside a dated Cube"),
            ("<Cube time='2024-06-28'><Cube currency='USD' rate='1'/><Cube currency='USD' rate='2'/></Cube>", "a currency is listed twice in one day"),
            ("<Cube time='2024-07-05'><Cube currency='USD' rate='1'/></Cube>", "dated in the future"),
            ("<Cube time='2024-06-28'><Cube currency='USD' rate='1'", "malformed XML near byte 27"),
        ] {
            let e = parse(bad.as_bytes(), now()).err().unwrap_or_default();
            assert!(e.starts_with(why.split(" near").next().unwrap_or(why)), "{bad}: {e}");
            assert!(!e.contains("secret"), "{e}");
        }
    }
}

//! ISO-8601 durations as Paygentic's `expiresIn` uses them (`PT1H`, `P1D`, `P7D`, `P1W`,
//! `P1DT12H`). Years and months are refused: their length depends on the calendar.

/// The duration in seconds, or `None` when `text` is not a day/week/time duration.
pub fn parse_seconds(text: &str) -> Option<u64> {
    let rest = text.strip_prefix('P')?;
    if rest.is_empty() {
        return None;
    }
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (rest, None),
    };
    let mut total: u64 = 0;
    let mut add = |part: &str, units: &[(char, u64)]| -> Option<()> {
        let mut num = String::new();
        let mut last_unit = 0;
        for c in part.chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let idx = units.iter().position(|(u, _)| *u == c)?;
            // Units in order, each once, each with a number.
            if idx < last_unit || num.is_empty() || num.len() > 9 {
                return None;
            }
            last_unit = idx + 1;
            let n: u64 = num.parse().ok()?;
            total = total.checked_add(n.checked_mul(units[idx].1)?)?;
            num.clear();
        }
        num.is_empty().then_some(())
    };
    add(date, &[('W', 7 * 86_400), ('D', 86_400)])?;
    if let Some(t) = time {
        add(t, &[('H', 3_600), ('M', 60), ('S', 1)])?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::parse_seconds;

    #[test]
    fn day_week_and_time_durations_parse() {
        assert_eq!(parse_seconds("PT1H"), Some(3600));
        assert_eq!(parse_seconds("P1D"), Some(86_400));
        assert_eq!(parse_seconds("P30D"), Some(30 * 86_400));
        assert_eq!(parse_seconds("P1W"), Some(7 * 86_400));
        assert_eq!(parse_seconds("P1DT12H30M"), Some(86_400 + 12 * 3600 + 1800));
    }

    #[test]
    fn malformed_and_calendar_durations_are_refused() {
        for bad in [
            "",
            "P",
            "PT",
            "1D",
            "P1M",
            "P1Y",
            "PD",
            "P1H",
            "PT1D",
            "P1D1W",
            "P-1D",
            "P1.5D",
            "P1DT",
            "P9999999999D",
        ] {
            assert_eq!(parse_seconds(bad), None, "{bad}");
        }
    }
}

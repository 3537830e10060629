//! Numbers for people: `5.6B`, `560.0K`, `1,234`, `$1,234.56`, `1.2 s`.

use std::time::Duration;

/// Thousands separators: `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Short counts: below 1,000 as is, then `K`, `M`, `B`, `T` with one decimal. A value that
/// rounds up to the next unit moves to it (999,950 is `1.0M`, not `1000.0K`).
pub fn compact(n: u64) -> String {
    if n < 1000 {
        return n.to_string();
    }
    const UNITS: [&str; 4] = ["K", "M", "B", "T"];
    let mut value = n as f64;
    for (i, unit) in UNITS.iter().enumerate() {
        value /= 1000.0;
        let rounded = (value * 10.0).round() / 10.0;
        if rounded < 1000.0 || i == UNITS.len() - 1 {
            return format!("{rounded:.1}{unit}");
        }
    }
    unreachable!("the last unit always returns")
}

/// Dollars with cents and thousands separators; negative amounts get a leading minus.
pub fn usd(amount: f64) -> String {
    if !amount.is_finite() {
        return format!("${amount}");
    }
    let cents = (amount.abs() * 100.0).round() as u64;
    let sign = if amount < 0.0 && cents > 0 { "-" } else { "" };
    format!("{sign}${}.{:02}", thousands(cents / 100), cents % 100)
}

/// USD stored as nanodollars (Decimal(18, 9)), rounded to the cent exactly (half away from
/// zero), without a detour through floating point.
pub fn nano_usd(nanos: i64) -> String {
    const NANOS_PER_CENT: u64 = 10_000_000;
    let cents = (nanos.unsigned_abs() + NANOS_PER_CENT / 2) / NANOS_PER_CENT;
    let sign = if nanos < 0 && cents > 0 { "-" } else { "" };
    format!("{sign}${}.{:02}", thousands(cents / 100), cents % 100)
}

/// A share as a percentage with one decimal: `0.8123` → `81.2%`.
pub fn percent(share: f64) -> String {
    if !share.is_finite() {
        return "-".to_owned();
    }
    format!("{:.1}%", share * 100.0)
}

/// A count with its noun: `1 row`, `2 rows`, `1,234 rows`.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// Whole minutes as hours and minutes: `45 min`, `3 h 05 min`, `2 d 4 h`.
pub fn minutes(total: u64) -> String {
    let (days, hours, mins) = (total / 1440, total / 60 % 24, total % 60);
    if days > 0 {
        format!("{days} d {hours} h")
    } else if hours > 0 {
        format!("{hours} h {mins:02} min")
    } else {
        format!("{mins} min")
    }
}

/// How long ago something happened, coarsely: `just now`, `12 min ago`, `3 h 05 min ago`,
/// `4 d 2 h ago`.
pub fn ago(elapsed: chrono::TimeDelta) -> String {
    let mins = elapsed.num_minutes();
    if mins < 1 {
        "just now".to_owned()
    } else {
        format!("{} ago", minutes(mins as u64))
    }
}

/// `850 ms`, `1.2 s`, `3 min 05 s`.
pub fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    let tenths = (ms + 50) / 100;
    if ms < 1000 {
        format!("{ms} ms")
    } else if tenths < 600 {
        format!("{}.{} s", tenths / 10, tenths % 10)
    } else {
        let secs = (ms + 500) / 1000;
        format!("{} min {:02} s", secs / 60, secs % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_at_the_edges() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn compact_at_the_edges() {
        assert_eq!(compact(0), "0");
        assert_eq!(compact(999), "999");
        assert_eq!(compact(1000), "1.0K");
        assert_eq!(compact(560_000), "560.0K");
        assert_eq!(compact(999_949), "999.9K");
        assert_eq!(compact(999_950), "1.0M");
        assert_eq!(compact(999_949_999), "999.9M");
        assert_eq!(compact(999_950_000), "1.0B");
        assert_eq!(compact(1_000_000_000), "1.0B");
        assert_eq!(compact(5_600_000_000), "5.6B");
        assert_eq!(compact(999_950_000_000), "1.0T");
        assert_eq!(compact(u64::MAX), "18446744.1T");
    }

    #[test]
    fn dollars_negative_and_fractional() {
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(0.004), "$0.00");
        assert_eq!(usd(0.005), "$0.01");
        assert_eq!(usd(999.0), "$999.00");
        assert_eq!(usd(1000.0), "$1,000.00");
        assert_eq!(usd(1234.5), "$1,234.50");
        assert_eq!(usd(1_234_567_890.125), "$1,234,567,890.13");
        assert_eq!(usd(-12.345), "-$12.35");
        assert_eq!(usd(-0.001), "$0.00");
        assert_eq!(usd(-1234.56), "-$1,234.56");
        assert_eq!(usd(f64::NAN), "$NaN");
    }

    #[test]
    fn nanodollars_round_exactly_to_the_cent() {
        assert_eq!(nano_usd(0), "$0.00");
        assert_eq!(nano_usd(7_960_278_400), "$7.96");
        // 0.995 is not exact as a float; as nanodollars it is, and rounds up.
        assert_eq!(nano_usd(995_000_000), "$1.00");
        assert_eq!(nano_usd(4_999_999), "$0.00");
        assert_eq!(nano_usd(5_000_000), "$0.01");
        assert_eq!(nano_usd(999_949_999_999), "$999.95");
        assert_eq!(nano_usd(1_234_560_000_000), "$1,234.56");
        assert_eq!(nano_usd(-12_345_000_000), "-$12.35");
        assert_eq!(nano_usd(-1), "$0.00");
        assert_eq!(nano_usd(999_999_999_999_999_999), "$1,000,000,000.00");
        assert_eq!(nano_usd(i64::MIN), "-$9,223,372,036.85");
    }

    #[test]
    fn shares_counts_and_spans() {
        assert_eq!(percent(0.0), "0.0%");
        assert_eq!(percent(0.8123), "81.2%");
        assert_eq!(percent(1.0), "100.0%");
        assert_eq!(percent(f64::NAN), "-");
        assert_eq!(count(0, "row", "rows"), "0 rows");
        assert_eq!(count(1, "row", "rows"), "1 row");
        assert_eq!(count(1234, "day", "days"), "1,234 days");
        assert_eq!(minutes(0), "0 min");
        assert_eq!(minutes(59), "59 min");
        assert_eq!(minutes(60), "1 h 00 min");
        assert_eq!(minutes(215), "3 h 35 min");
        assert_eq!(minutes(1440 * 4 + 125), "4 d 2 h");
        assert_eq!(ago(chrono::TimeDelta::seconds(59)), "just now");
        assert_eq!(ago(chrono::TimeDelta::seconds(-5)), "just now");
        assert_eq!(ago(chrono::TimeDelta::minutes(65)), "1 h 05 min ago");
    }

    #[test]
    fn durations() {
        assert_eq!(duration(Duration::ZERO), "0 ms");
        assert_eq!(duration(Duration::from_millis(850)), "850 ms");
        assert_eq!(duration(Duration::from_millis(999)), "999 ms");
        assert_eq!(duration(Duration::from_millis(1000)), "1.0 s");
        assert_eq!(duration(Duration::from_millis(1234)), "1.2 s");
        assert_eq!(duration(Duration::from_millis(59_940)), "59.9 s");
        assert_eq!(duration(Duration::from_millis(59_960)), "1 min 00 s");
        assert_eq!(duration(Duration::from_secs(185)), "3 min 05 s");
    }
}

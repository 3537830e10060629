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
    let cents = (amount.abs() * 100.0).round() as u64;
    let sign = if amount < 0.0 && cents > 0 { "-" } else { "" };
    format!("{sign}${}.{:02}", thousands(cents / 100), cents % 100)
}

/// USD stored as nanodollars (Decimal(18, 9)).
pub fn nano_usd(nanos: i64) -> String {
    usd(nanos as f64 / 1e9)
}

/// `850 ms`, `1.2 s`, `3 min 05 s`.
pub fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        let secs = d.as_secs();
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
        assert_eq!(compact(5_600_000_000), "5.6B");
        assert_eq!(compact(u64::MAX), "18446744.1T");
    }

    #[test]
    fn dollars_negative_and_fractional() {
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(0.004), "$0.00");
        assert_eq!(usd(0.005), "$0.01");
        assert_eq!(usd(1234.5), "$1,234.50");
        assert_eq!(usd(-12.345), "-$12.35");
        assert_eq!(usd(-0.001), "$0.00");
        assert_eq!(nano_usd(7_960_278_400), "$7.96");
    }

    #[test]
    fn durations() {
        assert_eq!(duration(Duration::from_millis(850)), "850 ms");
        assert_eq!(duration(Duration::from_millis(1234)), "1.2 s");
        assert_eq!(duration(Duration::from_secs(185)), "3 min 05 s");
    }
}

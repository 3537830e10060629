//! The time zone the dashboard, `--html` and `query` count days in: `--timezone ZONE`,
//! CCUSAGE_IMPORT_TIMEZONE, or the page's `tz` parameter. An IANA name (America/Los_Angeles),
//! checked here against chrono-tz's copy of the IANA database before it reaches ClickHouse,
//! so a typo is one line (with the nearest name) instead of the server's exception. The
//! statements get the name as a bound value, never as SQL text.
//!
//! The default is UTC: the stored days are UTC days, and figures a fleet compares should not
//! depend on where the person reading them sits.

use std::str::FromStr;

use chrono_tz::Tz;

/// The zone the stored days are in, and the default.
pub const UTC: &str = "UTC";

/// Longest zone name accepted (the longest IANA name has 32 characters).
const MAX_NAME: usize = 64;

/// An IANA zone name, or why it is not one (with the nearest known name, if one is close).
pub fn parse(value: &str) -> Result<Tz, String> {
    if value.is_empty() {
        return Err("is empty: give an IANA name such as America/Los_Angeles or UTC".to_owned());
    }
    if value.len() > MAX_NAME || value.chars().any(char::is_control) {
        // Named, so the line says what was refused, but cut short: the value may be huge.
        let shown: String = value.chars().take(MAX_NAME).collect();
        let more = if shown.len() < value.len() { "…" } else { "" };
        return Err(format!("{shown:?}{more} is not a time zone name"));
    }
    Tz::from_str(value).map_err(|_| {
        let hint = crate::suggest::nearest(value, chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()))
            .map(|near| format!("did you mean {near}? "))
            .unwrap_or_default();
        format!(
            "{value:?} is not a time zone: {hint}give an IANA name such as America/Los_Angeles, \
             Europe/Berlin, Asia/Kolkata or UTC"
        )
    })
}

/// The name bound into the statements: the zone's, or UTC for none.
pub fn name(zone: Option<Tz>) -> &'static str {
    zone.map_or(UTC, |z| z.name())
}

/// Whether days in `zone` are the stored UTC days (UTC and its aliases: Etc/UTC, Zulu, …),
/// so the statements over the stored days answer as they are.
pub fn is_utc(zone: Option<Tz>) -> bool {
    // By name, not by today's offset: Europe/London is at +0 in winter only, Africa/Abidjan
    // had an offset before 1912.
    zone.is_none_or(|zone| {
        matches!(
            zone.name(),
            "UTC"
                | "Etc/UTC"
                | "Etc/UCT"
                | "UCT"
                | "Etc/Universal"
                | "Universal"
                | "Etc/Zulu"
                | "Zulu"
                | "Etc/GMT"
                | "GMT"
                | "Etc/GMT+0"
                | "Etc/GMT-0"
                | "Etc/GMT0"
                | "GMT0"
                | "GMT+0"
                | "GMT-0"
                | "Etc/Greenwich"
                | "Greenwich"
        )
    })
}

/// Today in `zone`, as a day.
pub fn today(zone: Option<Tz>) -> chrono::NaiveDate {
    let now = chrono::Utc::now();
    match zone {
        Some(zone) => now.with_timezone(&zone).date_naive(),
        None => now.date_naive(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_names_are_taken_and_a_typo_gets_the_nearest() {
        assert_eq!(
            parse("America/Los_Angeles").unwrap().name(),
            "America/Los_Angeles"
        );
        assert_eq!(parse("Asia/Kolkata").unwrap().name(), "Asia/Kolkata");
        let typo = parse("America/Los_Angles").unwrap_err();
        assert!(typo.contains("did you mean America/Los_Angeles?"), "{typo}");
        let stranger = parse("Mars/Olympus").unwrap_err();
        assert!(stranger.contains("is not a time zone") && !stranger.contains("did you mean"));
        assert!(parse("UTC'); DROP TABLE x; --").is_err());
        assert!(parse(&"A".repeat(100)).is_err());
        assert!(parse("Europe/Berlin\n").is_err());
    }

    #[test]
    fn an_empty_a_huge_or_a_control_character_name_is_named_in_the_refusal() {
        let empty = parse("").unwrap_err();
        assert!(
            empty.starts_with("is empty") && !empty.contains("did you mean"),
            "{empty}"
        );
        let huge = parse(&"A".repeat(100_000)).unwrap_err();
        assert!(
            huge.starts_with(&format!("{:?}…", "A".repeat(MAX_NAME))),
            "{huge}"
        );
        assert!(huge.len() < 200, "{huge}");
        let nul = parse("Europe/Berlin\0").unwrap_err();
        assert_eq!(nul, r#""Europe/Berlin\0" is not a time zone name"#);
    }

    #[test]
    fn only_zones_always_at_utc_count_as_the_stored_days() {
        assert!(is_utc(None));
        assert!(is_utc(Some(parse("UTC").unwrap())));
        assert!(is_utc(Some(parse("Etc/UTC").unwrap())));
        assert!(!is_utc(Some(parse("Europe/London").unwrap())));
        assert!(!is_utc(Some(parse("Africa/Abidjan").unwrap())));
        assert!(!is_utc(Some(parse("America/Los_Angeles").unwrap())));
        assert_eq!(name(None), "UTC");
    }
}

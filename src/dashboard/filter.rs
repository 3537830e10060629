//! The dashboard's filter: the URL's query parameters `since`, `until` (days in the zone, both
//! included), `machine`, `agent` and `tz` (the zone days are counted in, an IANA name), checked
//! before anything reaches ClickHouse. A bad value
//! names its parameter, so the page and a script can say which one to fix.

use std::fmt;

use chrono::NaiveDate;
use chrono_tz::Tz;

/// The first and last day a filter without bounds covers (ClickHouse's `Date` range).
pub const FIRST_DAY: &str = "1970-01-01";
pub const LAST_DAY: &str = "2105-12-31";

/// Longest machine or agent name accepted; longer ones are a mistake, not a name.
const MAX_NAME: usize = 256;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    pub machine: Option<String>,
    pub agent: Option<String>,
    /// The zone days are counted in; `None`: the dashboard's `--timezone` (UTC by default).
    pub zone: Option<Tz>,
}

/// A parameter the dashboard cannot use, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadParameter {
    pub parameter: String,
    pub reason: String,
}

impl fmt::Display for BadParameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad parameter {}: {}", self.parameter, self.reason)
    }
}

impl std::error::Error for BadParameter {}

fn bad(parameter: &str, reason: impl Into<String>) -> BadParameter {
    BadParameter {
        parameter: parameter.to_owned(),
        reason: reason.into(),
    }
}

impl Filter {
    /// Reads a filter from decoded query pairs. `extra` names parameters the caller handles
    /// itself (`token`, `format`); any other unknown name is refused rather than ignored, so a
    /// typo such as `mashine=` never silently shows the whole fleet.
    pub fn from_pairs(pairs: &[(String, String)], extra: &[&str]) -> Result<Filter, BadParameter> {
        let mut filter = Filter::default();
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in pairs {
            if extra.contains(&name.as_str()) {
                continue;
            }
            if seen.contains(&name.as_str()) {
                return Err(bad(name, "given more than once"));
            }
            seen.push(name);
            // An empty value means "not set": a form's "every machine" sends machine=.
            if value.is_empty() {
                continue;
            }
            match name.as_str() {
                "since" => filter.since = Some(day("since", value)?),
                "until" => filter.until = Some(day("until", value)?),
                "machine" => filter.machine = Some(text("machine", value)?),
                "agent" => filter.agent = Some(agent(value)?),
                "tz" => filter.zone = Some(zone("tz", value)?),
                other => {
                    return Err(bad(
                        other,
                        "unknown; the dashboard takes since, until, machine, agent and tz",
                    ))
                }
            }
        }
        filter.check("since", "until")?;
        Ok(filter)
    }

    /// The same checks for the command line's `--since`, `--until`, `--machine`, `--agent`.
    pub fn from_flags(
        since: Option<&str>,
        until: Option<&str>,
        machine: Option<&str>,
        agent_name: Option<&str>,
    ) -> Result<Filter, BadParameter> {
        let filter = Filter {
            since: since.map(|v| day("--since", v)).transpose()?,
            until: until.map(|v| day("--until", v)).transpose()?,
            machine: machine.map(|v| text("--machine", v)).transpose()?,
            agent: agent_name.map(agent).transpose()?,
            zone: None,
        };
        filter.check("--since", "--until")?;
        Ok(filter)
    }

    /// The range's days in order; the error names them as the person wrote them (URL
    /// parameters or flags).
    fn check(&self, since_name: &str, until_name: &str) -> Result<(), BadParameter> {
        if let (Some(since), Some(until)) = (self.since, self.until) {
            if since > until {
                return Err(bad(
                    until_name,
                    format!("{until} is before {since_name} ({since}); both days are included"),
                ));
            }
        }
        Ok(())
    }

    /// The value bound for a marker of sql/dashboard.sql: the bounds as days, names as
    /// given, "" for "every".
    pub fn since_value(&self) -> String {
        self.since.map_or(FIRST_DAY.to_owned(), |d| d.to_string())
    }

    pub fn until_value(&self) -> String {
        self.until.map_or(LAST_DAY.to_owned(), |d| d.to_string())
    }

    pub fn machine_value(&self) -> &str {
        self.machine.as_deref().unwrap_or_default()
    }

    pub fn agent_value(&self) -> &str {
        self.agent.as_deref().unwrap_or_default()
    }

    /// The zone's IANA name, bound for `{tz}`.
    pub fn zone_value(&self) -> &'static str {
        crate::zone::name(self.zone)
    }
}

/// A zone name (`tz`, `--timezone`), checked by [`crate::zone::parse`].
pub fn zone(parameter: &str, value: &str) -> Result<Tz, BadParameter> {
    crate::zone::parse(value).map_err(|reason| bad(parameter, reason))
}

fn day(parameter: &str, value: &str) -> Result<NaiveDate, BadParameter> {
    let parsed = NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        // chrono also takes "2026-1-5"; the URL format is exactly YYYY-MM-DD.
        .filter(|_| value.len() == 10);
    let date =
        parsed.ok_or_else(|| bad(parameter, format!("{value:?} is not a day YYYY-MM-DD")))?;
    let (first, last) = (
        NaiveDate::parse_from_str(FIRST_DAY, "%Y-%m-%d").expect("a valid day"),
        NaiveDate::parse_from_str(LAST_DAY, "%Y-%m-%d").expect("a valid day"),
    );
    if date < first || date > last {
        return Err(bad(
            parameter,
            format!("{value} is outside the days ClickHouse stores ({FIRST_DAY} to {LAST_DAY})"),
        ));
    }
    Ok(date)
}

fn text(parameter: &str, value: &str) -> Result<String, BadParameter> {
    if value.chars().count() > MAX_NAME {
        return Err(bad(parameter, format!("longer than {MAX_NAME} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(bad(parameter, "holds a control character"));
    }
    Ok(value.to_owned())
}

/// Agents are ccusage's names (claude, codex, opencode, amp, all): lowercase words.
fn agent(value: &str) -> Result<String, BadParameter> {
    let ok = value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !ok {
        return Err(bad(
            "agent",
            format!("{value:?} is not an agent name (claude, codex, opencode, …)"),
        ));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn parse(list: &[(&str, &str)]) -> Result<Filter, BadParameter> {
        Filter::from_pairs(&pairs(list), &["token"])
    }

    #[test]
    fn a_full_filter_is_read_and_bound_as_given() {
        let f = parse(&[
            ("since", "2026-11-01"),
            ("until", "2026-11-30"),
            ("machine", "o'neil's laptop"),
            ("agent", "codex"),
            ("token", "ignored"),
        ])
        .unwrap();
        assert_eq!(f.since_value(), "2026-11-01");
        assert_eq!(f.until_value(), "2026-11-30");
        assert_eq!(f.machine_value(), "o'neil's laptop");
        assert_eq!(f.agent_value(), "codex");
        assert_eq!(f.zone_value(), "UTC");
        let la = parse(&[("tz", "America/Los_Angeles")]).unwrap();
        assert_eq!(la.zone_value(), "America/Los_Angeles");
    }

    #[test]
    fn no_filter_covers_every_day_machine_and_agent() {
        let f = parse(&[("machine", ""), ("agent", "")]).unwrap();
        assert_eq!(f, Filter::default());
        assert_eq!(f.since_value(), FIRST_DAY);
        assert_eq!(f.until_value(), LAST_DAY);
        assert_eq!(f.machine_value(), "");
    }

    #[test]
    fn bad_values_name_their_parameter() {
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: &[Case<'_>] = &[
            (&[("since", "2026-13-01")], "since", "not a day"),
            (&[("since", "2026-1-5")], "since", "not a day"),
            (&[("until", "yesterday")], "until", "not a day"),
            (&[("since", "1969-12-31")], "since", "outside"),
            (
                &[("since", "2026-11-02"), ("until", "2026-11-01")],
                "until",
                "before since",
            ),
            (&[("agent", "Codex; DROP")], "agent", "not an agent name"),
            (&[("machine", "a\nb")], "machine", "control character"),
            (&[("mashine", "laptop")], "mashine", "unknown"),
            (
                &[("tz", "America/Los_Angles")],
                "tz",
                "did you mean America/Los_Angeles?",
            ),
            (&[("tz", "PST8PDT'")], "tz", "is not a time zone"),
            (
                &[("machine", "a"), ("machine", "b")],
                "machine",
                "more than once",
            ),
        ];
        for (list, parameter, reason) in cases {
            let error = parse(list).unwrap_err();
            assert_eq!(error.parameter, *parameter, "{list:?}");
            assert!(error.reason.contains(reason), "{list:?}: {error}");
            assert!(error
                .to_string()
                .starts_with(&format!("bad parameter {parameter}: ")));
        }
        let long = "x".repeat(300);
        assert_eq!(
            parse(&[("machine", &long)]).unwrap_err().parameter,
            "machine"
        );
    }

    #[test]
    fn flags_are_checked_the_same_way() {
        let f = Filter::from_flags(Some("2026-11-01"), None, Some("laptop"), None).unwrap();
        assert_eq!(f.machine.as_deref(), Some("laptop"));
        let error = Filter::from_flags(Some("11/01/2026"), None, None, None).unwrap_err();
        assert_eq!(error.parameter, "--since");
        let error =
            Filter::from_flags(Some("2026-11-02"), Some("2026-11-01"), None, None).unwrap_err();
        assert_eq!(
            error.to_string(),
            "bad parameter --until: 2026-11-01 is before --since (2026-11-02); both days are included"
        );
    }
}

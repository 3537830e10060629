//! Serde models of what `ccusage … --json` prints.
//!
//! The models are strict about types (a token count must be a non-negative integer that fits
//! u64) and lenient about everything ccusage has changed between versions: unknown fields are
//! ignored, key order does not matter, and fields that only some versions print are optional.
//! Which fields a report *requires* is decided in `rows.rs`, where the error can name them.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Deserialize;

/// One row of the classic daily, session and `daily --instances` reports. The key
/// fields differ per report, so all of them are optional here.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageRow {
    pub date: Option<String>,
    pub session_id: Option<String>,
    pub project_path: Option<String>,
    pub first_activity: Option<String>,
    pub last_activity: Option<String>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_tokens: u64,
    pub cache_read_tokens: u64,
    pub total_cost: f64,
    #[serde(default)]
    pub models_used: Vec<String>,
    #[serde(default)]
    pub model_breakdowns: Vec<ModelBreakdown>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelBreakdown {
    pub model_name: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_tokens: u64,
    pub cache_read_tokens: u64,
    pub cost: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DailyReport {
    pub daily: Vec<UsageRow>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SessionReport {
    pub sessions: Vec<UsageRow>,
}

/// `daily --instances`: rows grouped by encoded project directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawProjectsReport")]
pub struct ProjectsReport {
    pub projects: BTreeMap<String, Vec<UsageRow>>,
}

#[derive(Deserialize)]
struct RawProjectsReport {
    #[serde(default, deserialize_with = "some_unique_keys")]
    projects: Option<BTreeMap<String, Vec<UsageRow>>>,
    daily: Option<Vec<serde::de::IgnoredAny>>,
}

impl TryFrom<RawProjectsReport> for ProjectsReport {
    type Error = &'static str;

    fn try_from(raw: RawProjectsReport) -> Result<Self, Self::Error> {
        match (raw.projects, raw.daily) {
            (Some(projects), _) => Ok(ProjectsReport { projects }),
            // With no usage at all, ccusage 20 answers `--instances` in the plain daily shape.
            (None, Some(daily)) if daily.is_empty() => Ok(ProjectsReport {
                projects: BTreeMap::new(),
            }),
            (None, Some(_)) => {
                Err("ccusage printed daily rows without `projects`: it ignored --instances")
            }
            (None, None) => Err("missing field `projects`"),
        }
    }
}

fn some_unique_keys<'de, D, V>(deserializer: D) -> Result<Option<BTreeMap<String, V>>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    unique_keys(deserializer).map(Some)
}

/// A map that refuses a repeated key: serde's own maps keep the last copy, which would
/// silently drop the usage of the first.
fn unique_keys<'de, D, V>(deserializer: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct Unique<V>(std::marker::PhantomData<V>);
    impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Unique<V> {
        type Value = BTreeMap<String, V>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                if out.contains_key(&key) {
                    return Err(serde::de::Error::custom(format_args!(
                        "duplicate key {key:?}"
                    )));
                }
                let value = map.next_value()?;
                out.insert(key, value);
            }
            Ok(out)
        }
    }
    deserializer.deserialize_map(Unique(std::marker::PhantomData))
}

#[derive(Debug, Clone, Deserialize)]
pub struct BlocksReport {
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Block {
    pub id: String,
    pub start_time: String,
    pub end_time: String,
    pub actual_end_time: Option<String>,
    #[serde(default)]
    pub is_active: bool,
    #[serde(default)]
    pub is_gap: bool,
    #[serde(default)]
    pub entries: u64,
    pub token_counts: BlockTokens,
    #[serde(rename = "costUSD")]
    pub cost_usd: f64,
    #[serde(default)]
    pub models: Vec<String>,
    pub burn_rate: Option<BurnRate>,
    pub projection: Option<Projection>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockTokens {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BurnRate {
    #[serde(default)]
    pub cost_per_hour: f64,
    #[serde(default)]
    pub tokens_per_minute: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Projection {
    #[serde(default)]
    pub remaining_minutes: f64,
    #[serde(default)]
    pub total_cost: f64,
    #[serde(default)]
    pub total_tokens: f64,
}

/// Parses one report. ccusage prints a bare `[]` instead of the report object when there is
/// no usage at all; that is "no rows", not an error, and comes back as `None`.
pub fn parse_report<T: DeserializeOwned>(stdout: &[u8]) -> Result<Option<T>, serde_json::Error> {
    let first = stdout.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        let items: Vec<serde::de::IgnoredAny> = serde_json::from_slice(stdout)?;
        if items.is_empty() {
            return Ok(None);
        }
        return Err(serde::de::Error::custom(
            "expected a report object or an empty [], found a non-empty array",
        ));
    }
    serde_json::from_slice(stdout).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_array_means_no_rows() {
        assert!(parse_report::<DailyReport>(b" []\n").unwrap().is_none());
    }

    #[test]
    fn non_empty_array_is_an_error() {
        assert!(parse_report::<DailyReport>(b"[1]").is_err());
    }

    #[test]
    fn negative_or_huge_token_counts_are_rejected() {
        let row = |n: &str| {
            format!(
                r#"{{"daily":[{{"date":"2026-01-01","inputTokens":{n},"outputTokens":0,
                "cacheCreationTokens":0,"cacheReadTokens":0,"totalCost":0}}]}}"#
            )
        };
        assert!(parse_report::<DailyReport>(row("-1").as_bytes()).is_err());
        assert!(parse_report::<DailyReport>(row("18446744073709551616").as_bytes()).is_err());
        assert!(parse_report::<DailyReport>(row("18446744073709551615").as_bytes()).is_ok());
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let text = r#"{"daily":[],"daily":[]}"#;
        assert!(parse_report::<DailyReport>(text.as_bytes()).is_err());
    }

    #[test]
    fn a_repeated_project_is_rejected() {
        let text = r#"{"projects":{"-home-a":[],"-home-a":[]}}"#;
        let error = parse_report::<ProjectsReport>(text.as_bytes()).unwrap_err();
        assert!(
            error.to_string().contains("duplicate key \"-home-a\""),
            "{error}"
        );
    }

    #[test]
    fn an_empty_instances_report_in_the_daily_shape_means_no_rows() {
        let empty = br#"{"daily": [], "totals": {"inputTokens": 0, "totalCost": -0.0}}"#;
        let report = parse_report::<ProjectsReport>(empty).unwrap().unwrap();
        assert!(report.projects.is_empty());
        let ignored = br#"{"daily": [{"date": "2026-11-20"}], "totals": {}}"#;
        let error = parse_report::<ProjectsReport>(ignored)
            .unwrap_err()
            .to_string();
        assert!(error.contains("ignored --instances"), "{error}");
        let neither = parse_report::<ProjectsReport>(br#"{"totals": {}}"#).unwrap_err();
        assert!(
            neither.to_string().contains("missing field `projects`"),
            "{neither}"
        );
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let text = r#"{"daily":[],"totals":{},"somethingNew":[1,2]}"#;
        assert!(parse_report::<DailyReport>(text.as_bytes())
            .unwrap()
            .is_some());
    }
}

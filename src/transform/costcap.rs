//! Rows whose cost no machine can spend (above `rows::MAX_USD`, which the stored
//! `Decimal(18, 9)` cannot hold either): a corrupt log line with 9·10¹⁵ tokens makes ccusage
//! print one for its day, session and block. Those rows are taken out of the report's JSON
//! before it is mapped again, so they alone are refused and the rest is imported. Pure.

use std::collections::BTreeSet;

use anyhow::{Context as _, Result};
use serde_json::Value;

use super::rows::MAX_USD;

/// Fields ccusage prints a cost in.
const COST_FIELDS: [&str; 3] = ["totalCost", "costUSD", "cost"];
/// Fields that name a row's day (the first ten characters of a timestamp).
const DAY_FIELDS: [&str; 5] = ["date", "period", "month", "lastActivity", "startTime"];

/// The report without the rows (array elements) holding a cost above the cap, as JSON text,
/// and the days of the rows taken out. `totals` objects stay: nothing maps them.
pub fn refuse_rows(stdout: &[u8]) -> Result<(Vec<u8>, Vec<String>)> {
    let mut report: Value = serde_json::from_slice(stdout).context("output is not JSON")?;
    let mut days = BTreeSet::new();
    prune(&mut report, &mut days);
    let text = serde_json::to_vec(&report).context("cannot write the report again")?;
    Ok((text, days.into_iter().collect()))
}

fn prune(value: &mut Value, days: &mut BTreeSet<String>) {
    match value {
        Value::Array(items) => {
            items.retain(|item| {
                let refused = over_cap(item);
                if refused {
                    days.insert(day_of(item));
                }
                !refused
            });
            items.iter_mut().for_each(|item| prune(item, days));
        }
        Value::Object(fields) => fields.values_mut().for_each(|v| prune(v, days)),
        _ => {}
    }
}

/// Whether a cost above the cap is anywhere inside `value`.
fn over_cap(value: &Value) -> bool {
    match value {
        Value::Object(fields) => fields.iter().any(|(name, v)| {
            let costly = COST_FIELDS.contains(&name.as_str())
                && v.as_f64().is_some_and(|cost| cost > MAX_USD);
            costly || over_cap(v)
        }),
        Value::Array(items) => items.iter().any(over_cap),
        _ => false,
    }
}

fn day_of(row: &Value) -> String {
    DAY_FIELDS
        .iter()
        .find_map(|field| row.get(*field).and_then(Value::as_str))
        .map(|text| text.chars().take(10).collect())
        .unwrap_or_else(|| "a row without a date".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rows_above_the_cap_are_taken_out_and_their_days_named() {
        let report = br#"{"daily":[
            {"date":"2026-11-01","totalCost":1.5,"modelBreakdowns":[{"cost":1.5}]},
            {"date":"2026-11-02","totalCost":2.7e10,"modelBreakdowns":[{"cost":2.7e10}]}],
          "totals":{"totalCost":2.7e10}}"#;
        let (kept, days) = refuse_rows(report).unwrap();
        let kept: Value = serde_json::from_slice(&kept).unwrap();
        assert_eq!(kept["daily"].as_array().unwrap().len(), 1);
        assert_eq!(kept["daily"][0]["date"], "2026-11-01");
        assert_eq!(days, ["2026-11-02"]);
        let sessions = br#"{"sessions":[{"lastActivity":"2026-11-03T10:00:00Z","totalCost":1e12},
            {"lastActivity":"2026-11-04","totalCost":999999999}]}"#;
        let (kept, days) = refuse_rows(sessions).unwrap();
        assert_eq!(days, ["2026-11-03"]);
        let kept: Value = serde_json::from_slice(&kept).unwrap();
        assert_eq!(kept["sessions"].as_array().unwrap().len(), 1);
        let projects = br#"{"projects":{"-a":[{"date":"2026-11-05","totalCost":5e9}]}}"#;
        let (_, days) = refuse_rows(projects).unwrap();
        assert_eq!(days, ["2026-11-05"]);
    }
}

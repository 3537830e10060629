//! The dashboard's data: the named statements of `sql/dashboard.sql`, bound to a [`Filter`]
//! and read through the [`Sink`]. This and `src/sink` are the only places that read
//! ClickHouse; the browser only ever names a panel.

use std::sync::OnceLock;

use anyhow::{Context as _, Result};
use serde_json::{json, Map, Value};
use tokio::sync::Mutex;

use super::filter::Filter;
use crate::csv;
use crate::sink::{ClickHouse, Sink};
use crate::sqlfile;

/// A filter value a marker of sql/dashboard.sql stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    Since,
    Until,
    Machine,
    Agent,
    Zone,
}

const MARKERS: [(&str, Param); 5] = [
    ("{since}", Param::Since),
    ("{until}", Param::Until),
    ("{machine}", Param::Machine),
    ("{agent}", Param::Agent),
    ("{tz}", Param::Zone),
];

/// One statement, its markers turned into `?` and the values to bind there, in order.
#[derive(Debug, Clone)]
pub struct Statement {
    pub name: &'static str,
    pub description: String,
    pub sql: String,
    pub params: Vec<Param>,
}

/// Panels whose statement has a variant for one agent (`NAME_agent`), used when the filter
/// names an agent: the Claude-only reports cannot answer for Codex.
const AGENT_VARIANT: &str = "_agent";

/// Panels whose statement has a variant counting days in a zone other than UTC
/// (`NAME_zone`), from the stored hours: the plain statement reads the stored UTC days.
const ZONE_VARIANT: &str = "_zone";

fn is_variant(name: &str) -> bool {
    name.ends_with(AGENT_VARIANT) || name.ends_with(ZONE_VARIANT)
}

/// Every statement of sql/dashboard.sql, compiled once.
pub fn statements() -> &'static [Statement] {
    static PARSED: OnceLock<Vec<Statement>> = OnceLock::new();
    PARSED.get_or_init(|| {
        sqlfile::parse_named(sqlfile::DASHBOARD)
            .into_iter()
            .map(|named| {
                let (sql, params) = compile(&named.sql);
                Statement {
                    name: named.name,
                    description: named.description,
                    sql,
                    params,
                }
            })
            .collect()
    })
}

/// The panels the page and the API may ask for: every statement but the variants.
pub fn panels() -> impl Iterator<Item = &'static str> {
    statements()
        .iter()
        .map(|s| s.name)
        .filter(|name| !is_variant(name))
}

/// The panels an agent filter narrows (their statement, or its `_agent` variant, reads
/// `{agent}`); the others read Claude Code's own reports whatever the agent, and the page says
/// so. Derived from the statements, so a panel that learns the filter leaves this list by itself.
pub fn agent_panels() -> Vec<&'static str> {
    let agent = Filter {
        agent: Some("claude".to_owned()),
        ..Filter::default()
    };
    panels()
        .filter(|name| {
            statement_for(name, &agent).is_some_and(|s| s.params.contains(&Param::Agent))
        })
        .collect()
}

/// Replaces each marker with a bind mark `?`, left to right, and lists what to bind.
pub fn compile(sql: &str) -> (String, Vec<Param>) {
    let mut out = String::with_capacity(sql.len());
    let mut params = Vec::new();
    let mut rest = sql;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        match MARKERS.iter().find(|(marker, _)| tail.starts_with(marker)) {
            Some((marker, param)) => {
                out.push('?');
                params.push(*param);
                rest = &tail[marker.len()..];
            }
            None => {
                out.push('{');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    (out, params)
}

/// The statement answering `panel` under `filter`, or `None` for an unknown panel. An agent
/// variant wins over a zone variant: the all-agent report has days only (UTC days), no hours.
pub fn statement_for(panel: &str, filter: &Filter) -> Option<&'static Statement> {
    if is_variant(panel) {
        return None;
    }
    let find = |name: &str| statements().iter().find(|s| s.name == name);
    let base = find(panel)?;
    if filter.agent.is_some() {
        if let Some(variant) = find(&format!("{panel}{AGENT_VARIANT}")) {
            return Some(variant);
        }
    }
    if !crate::zone::is_utc(filter.zone) {
        if let Some(variant) = find(&format!("{panel}{ZONE_VARIANT}")) {
            return Some(variant);
        }
    }
    Some(base)
}

/// Reads the database for the dashboard. The connection is made on first use and kept;
/// every request gets the whole retry budget, so a dashboard running for days still retries.
pub struct Data {
    clickhouse: ClickHouse,
    sink: Mutex<Option<Sink>>,
}

impl Data {
    pub fn new(clickhouse: ClickHouse) -> Data {
        Data {
            clickhouse,
            sink: Mutex::new(None),
        }
    }

    /// A connection with a fresh retry budget, connecting when there is none yet.
    async fn sink(&self) -> Result<Sink> {
        let mut slot = self.sink.lock().await;
        if let Some(sink) = slot.as_ref() {
            return Ok(sink.renewed());
        }
        let mut sink = Sink::connect(&self.clickhouse).await?;
        sink.use_database();
        let renewed = sink.renewed();
        *slot = Some(sink);
        Ok(renewed)
    }

    /// One panel's rows as `{"columns": [...], "types": [...], "rows": [[...], ...]}`.
    pub async fn panel(&self, statement: &Statement, filter: &Filter) -> Result<Value> {
        let sink = self.sink().await?;
        let what = format!("read the dashboard panel {}", statement.name);
        let bytes = sink
            .request(&what, || {
                // No settings are sent: a user with readonly=1, the natural user for a
                // dashboard, may not change any. 64-bit integers come quoted; see reshape.
                let mut query = sink.client().query(&statement.sql);
                for param in &statement.params {
                    query = match param {
                        Param::Since => query.bind(filter.since_value()),
                        Param::Until => query.bind(filter.until_value()),
                        Param::Machine => query.bind(filter.machine_value()),
                        Param::Agent => query.bind(filter.agent_value()),
                        Param::Zone => query.bind(filter.zone_value()),
                    };
                }
                async move { query.fetch_bytes("JSONCompact")?.collect().await }
            })
            .await
            .with_context(|| format!("the dashboard panel {} failed", statement.name))?;
        reshape(&bytes).with_context(|| {
            format!(
                "cannot read ClickHouse's answer for the panel {}",
                statement.name
            )
        })
    }

    /// Every panel under one filter, for the static report: `{"panels": {name: rows}}`.
    pub async fn all(&self, filter: &Filter) -> Result<Map<String, Value>> {
        let mut panels = Map::new();
        for name in panels_list() {
            let statement = statement_for(name, filter).expect("a listed panel");
            panels.insert(name.to_owned(), self.panel(statement, filter).await?);
        }
        Ok(panels)
    }
}

fn panels_list() -> Vec<&'static str> {
    panels().collect()
}

/// ClickHouse's JSONCompact (`meta`, `data`) as the page's shape, with 64-bit integers (which
/// ClickHouse quotes by default) as JSON numbers.
pub fn reshape(bytes: &[u8]) -> Result<Value> {
    let answer: Value = serde_json::from_slice(bytes)?;
    let meta = answer["meta"].as_array().context("no meta")?;
    let columns: Vec<&Value> = meta.iter().map(|m| &m["name"]).collect();
    let types: Vec<&str> = meta
        .iter()
        .map(|m| m["type"].as_str().unwrap_or_default())
        .collect();
    let mut rows = answer.get("data").cloned().unwrap_or(json!([]));
    for row in rows.as_array_mut().into_iter().flatten() {
        for (value, column_type) in row.as_array_mut().into_iter().flatten().zip(&types) {
            if is_64_bit_integer(column_type) {
                unquote_integer(value);
            }
        }
    }
    Ok(json!({ "columns": columns, "types": types, "rows": rows }))
}

fn is_64_bit_integer(column_type: &str) -> bool {
    let inner = column_type
        .strip_prefix("Nullable(")
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(column_type);
    matches!(inner, "UInt64" | "Int64")
}

fn unquote_integer(value: &mut Value) {
    let Value::String(text) = value else { return };
    if let Ok(n) = text.parse::<u64>() {
        *value = json!(n);
    } else if let Ok(n) = text.parse::<i64>() {
        *value = json!(n);
    }
}

/// A panel as CSV with a header line (see [`crate::csv`]: text cells a spreadsheet would
/// evaluate get a leading `'`; numeric columns stay as they are).
pub fn to_csv(panel: &Value) -> String {
    let columns = panel["columns"].as_array().cloned().unwrap_or_default();
    let text: Vec<bool> = panel["types"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| !csv::is_numeric(t.as_str().unwrap_or_default()))
        .collect();
    let mut out = csv::record(
        columns
            .iter()
            .map(|c| csv::field(c.as_str().unwrap_or_default(), true)),
    );
    for row in panel["rows"].as_array().into_iter().flatten() {
        let fields = row
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, v)| {
                let text = text.get(i).copied().unwrap_or(true);
                match v {
                    Value::String(s) => csv::field(s, text),
                    Value::Null => String::new(),
                    other => csv::field(&other.to_string(), text),
                }
            });
        out.push_str(&csv::record(fields));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_become_bind_marks_in_order() {
        let (sql, params) =
            compile("WHERE d >= {since} AND ({machine} = '' OR m = {machine}) AND x = '{y}'");
        assert_eq!(sql, "WHERE d >= ? AND (? = '' OR m = ?) AND x = '{y}'");
        assert_eq!(params, [Param::Since, Param::Machine, Param::Machine]);
    }

    #[test]
    fn every_statement_binds_only_markers_and_every_marker_is_known() {
        for s in statements() {
            assert_eq!(
                crate::sqlfile::placeholders(&s.sql),
                s.params.len(),
                "{}: a bare ? in the SQL",
                s.name
            );
            assert!(!s.sql.contains("{since") && !s.sql.contains("{machine"));
            let original = sqlfile::parse_named(sqlfile::DASHBOARD)
                .into_iter()
                .find(|n| n.name == s.name)
                .unwrap();
            assert!(
                !original.sql.contains('?'),
                "{}: write markers, not ?",
                s.name
            );
        }
    }

    #[test]
    fn agent_variants_answer_when_an_agent_is_picked() {
        let any = Filter::default();
        let codex = Filter {
            agent: Some("codex".into()),
            ..Filter::default()
        };
        assert_eq!(statement_for("headline", &any).unwrap().name, "headline");
        assert_eq!(
            statement_for("headline", &codex).unwrap().name,
            "headline_agent"
        );
        assert_eq!(statement_for("days", &codex).unwrap().name, "days_agent");
        assert_eq!(statement_for("models", &codex).unwrap().name, "models");
        assert!(statement_for("headline_agent", &any).is_none());
        assert!(statement_for("headline_zone", &any).is_none());
        assert!(statement_for("nope", &any).is_none());
        assert!(panels().all(|p| !is_variant(p)));
        let la = Filter {
            zone: Some(crate::zone::parse("America/Los_Angeles").unwrap()),
            ..Filter::default()
        };
        let utc = Filter {
            zone: Some(crate::zone::parse("Etc/UTC").unwrap()),
            ..Filter::default()
        };
        assert_eq!(statement_for("days", &la).unwrap().name, "days_zone");
        assert_eq!(statement_for("days", &utc).unwrap().name, "days");
        assert_eq!(statement_for("models", &la).unwrap().name, "models");
        let la_codex = Filter {
            agent: Some("codex".into()),
            ..la.clone()
        };
        assert_eq!(statement_for("days", &la_codex).unwrap().name, "days_agent");
        // Variants have the columns of the panel they stand in for.
        for s in statements().iter().filter(|s| is_variant(s.name)) {
            let base_name = s
                .name
                .trim_end_matches(AGENT_VARIANT)
                .trim_end_matches(ZONE_VARIANT);
            let base = statement_for(base_name, &any).unwrap();
            // The aliases of the outer SELECT: before the outer FROM, indented once or twice
            // (a subquery in the list is indented deeper).
            let select = |sql: &str| -> Vec<String> {
                sql.lines()
                    .take_while(|l| !l.starts_with("FROM"))
                    .filter(|l| (4..=8).contains(&(l.len() - l.trim_start().len())))
                    .filter_map(|l| {
                        let column = l.trim().trim_end_matches(',');
                        match column.rsplit_once(" AS ") {
                            Some((_, alias)) => Some(alias.to_owned()),
                            // A column by its own name (`date,`).
                            None => column
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || c == '_')
                                .then(|| column.to_owned())
                                .filter(|c| !c.is_empty()),
                        }
                    })
                    .collect()
            };
            assert_eq!(select(&s.sql), select(&base.sql), "{}", s.name);
        }
    }

    #[test]
    fn answers_are_reshaped_and_written_as_csv() {
        let answer = br#"{"meta":[{"name":"day","type":"Date"},{"name":"note","type":"String"},{"name":"n","type":"Nullable(UInt64)"}],
            "data":[["2026-11-01","a, \"b\"","3"],["2026-11-02","=cmd()",null]],"rows":2}"#;
        let panel = reshape(answer).unwrap();
        assert_eq!(panel["columns"], json!(["day", "note", "n"]));
        assert_eq!(panel["types"][2], "Nullable(UInt64)");
        assert_eq!(panel["rows"][0][2], 3);
        assert_eq!(
            to_csv(&panel),
            "day,note,n\r\n2026-11-01,\"a, \"\"b\"\"\",3\r\n2026-11-02,'=cmd(),\r\n"
        );
        assert!(reshape(b"not json").is_err());
    }
}

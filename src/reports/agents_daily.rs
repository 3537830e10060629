//! `ccusage daily --by-agent` (19+): one row per agent and UTC day.

use anyhow::ensure;
use chrono::NaiveDate;
use serde::Deserialize;

use super::prelude::*;
use crate::transform::json::ModelBreakdown;
use crate::transform::rows::{
    agent_day_key, classic_record, each, parse_date, AgentDailyRow, Figures, ParentKind, Tokens,
};

pub struct AgentsDaily;

impl Report for AgentsDaily {
    const KIND: ReportKind = ReportKind::AgentsDaily;
    const COMMAND: Command = Command {
        words: &["daily", "--by-agent"],
        // The top-level report covers every agent; 20 rejects the unknown --mode there.
        under_claude: false,
        mode_auto: false,
    };
    const SUMMARY_TABLES: &'static [&'static str] = &[rows::AgentDailyRow::TABLE];
    type Json = AgentsReport;
    type Row = rows::AgentDailyRow;

    fn printed(json: &Self::Json) -> usize {
        json.daily.len()
    }

    fn map(json: Option<&Self::Json>, ctx: &Context) -> Result<Vec<Record<Self::Row>>> {
        map_agents_daily(json, ctx)
    }

    fn rows(mapped: &mut MappedReports) -> &mut Option<Rows<Self::Row>> {
        &mut mapped.agents_daily
    }
}

/// The all-agent daily report of ccusage 19+ (`ccusage daily --by-agent`): one row per
/// day across every agent found, split per agent in `agents`.
#[derive(Debug, Clone, Deserialize)]
pub struct AgentsReport {
    pub daily: Vec<AgentPeriod>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentPeriod {
    pub period: String,
    /// Per-agent rows; missing where `--by-agent` is not honoured.
    pub agents: Option<Vec<AgentUsage>>,
    pub metadata: Option<AgentMetadata>,
    #[serde(flatten)]
    pub usage: AgentUsage,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentMetadata {
    #[serde(default)]
    pub agents: Vec<String>,
}

/// One agent's usage on one day (or, at the period level, all agents' together).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentUsage {
    pub agent: Option<String>,
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

/// Maps the all-agent report: one row per agent and day. Where ccusage did not split a day by
/// agent, the day goes to its only agent, or to `all` when it names several.
pub fn map_agents_daily(
    report: Option<&AgentsReport>,
    ctx: &Context,
) -> Result<Vec<Record<AgentDailyRow>>> {
    let periods = report.map_or(&[][..], |r| &r.daily[..]);
    let per_period = each(periods, "agent day", |period| {
        let date = parse_date(&period.period)?;
        each(&agents_of(period), "agent", |(agent, usage)| {
            map_agent_day(date, agent, usage, ctx)
        })
    })?;
    Ok(per_period.into_iter().flatten().collect())
}

fn agents_of(period: &AgentPeriod) -> Vec<(String, &AgentUsage)> {
    match &period.agents {
        Some(agents) if !agents.is_empty() => agents
            .iter()
            .map(|usage| {
                (
                    usage.agent.clone().unwrap_or_else(|| "unknown".into()),
                    usage,
                )
            })
            .collect(),
        _ => {
            let named = period.metadata.as_ref().map_or(&[][..], |m| &m.agents[..]);
            let agent = match named {
                [only] => only.clone(),
                _ => "all".to_owned(),
            };
            vec![(agent, &period.usage)]
        }
    }
}

fn map_agent_day(
    date: NaiveDate,
    agent: &str,
    usage: &AgentUsage,
    ctx: &Context,
) -> Result<Record<AgentDailyRow>> {
    ensure!(!agent.is_empty(), "empty agent name");
    let tokens = Tokens {
        input: usage.input_tokens,
        output: usage.output_tokens,
        cache_creation: usage.cache_creation_tokens,
        cache_read: usage.cache_read_tokens,
    };
    let figures = Figures::check(tokens, usage.total_cost, &usage.models_used)?;
    let row = AgentDailyRow::new(ctx, figures, agent.to_owned(), date)?;
    let key = agent_day_key(date, agent);
    classic_record(
        ctx,
        ParentKind::AgentDaily,
        key,
        row,
        &usage.model_breakdowns,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::json::parse_report;
    use crate::transform::rows::tests::{ctx, fixture, tokens_of, truth_for, truth_tokens};

    #[test]
    fn the_all_agent_report_splits_days_by_agent_and_adds_up() {
        let want = truth_tokens(&truth_for("20.0.24")["totals"]);
        for file in ["daily.json", "daily-sections-by-agent.json"] {
            let report = parse_report(&fixture("20.0.24", file)).unwrap();
            let records = map_agents_daily(report.as_ref(), &ctx()).unwrap();
            assert_eq!(records.len(), 8, "{file}");
            assert!(records.iter().all(|r| r.row.agent == "claude"), "{file}");
            assert_eq!(tokens_of(&records), want, "{file}");
            assert!(records.iter().all(|r| !r.breakdowns.is_empty()));
        }
        let mixed = br#"{"daily":[{"period":"2026-11-20","agent":"all",
            "agents":[{"agent":"claude","inputTokens":1,"outputTokens":2,"cacheCreationTokens":0,
                       "cacheReadTokens":0,"totalCost":0.1},
                      {"agent":"codex","inputTokens":3,"outputTokens":4,"cacheCreationTokens":0,
                       "cacheReadTokens":0,"totalCost":0.2}],
            "metadata":{"agents":["claude","codex"]},
            "inputTokens":4,"outputTokens":6,"cacheCreationTokens":0,"cacheReadTokens":0,
            "totalCost":0.3}]}"#;
        let report = parse_report(mixed).unwrap();
        let records = map_agents_daily(report.as_ref(), &ctx()).unwrap();
        let agents: Vec<(&str, u64)> = records
            .iter()
            .map(|r| (r.row.agent.as_str(), r.row.total_tokens))
            .collect();
        assert_eq!(agents, [("claude", 3), ("codex", 7)]);
        assert_eq!(records[1].key, "2026-11-20 codex");
    }
}

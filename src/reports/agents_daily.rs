//! `ccusage daily --by-agent` (19+): one row per agent and UTC day.

use super::prelude::*;

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
    type Json = json::AgentsReport;
    type Row = rows::AgentDailyRow;

    fn printed(json: &Self::Json) -> usize {
        json.daily.len()
    }

    fn map(json: Option<&Self::Json>, ctx: &Context) -> Result<Vec<Record<Self::Row>>> {
        rows::map_agents_daily(json, ctx)
    }

    fn rows(mapped: &mut MappedReports) -> &mut Option<Rows<Self::Row>> {
        &mut mapped.agents_daily
    }
}

//! `ccusage daily`: one row per UTC day; the run's totals and date range, and the days the
//! monthly table is summed from.

use super::prelude::*;

pub struct Daily;

impl Report for Daily {
    const KIND: ReportKind = ReportKind::Daily;
    const COMMAND: Command = Command::claude(&["daily"]);
    /// Its days, then the months summed from them.
    const SUMMARY_TABLES: &'static [&'static str] =
        &[rows::DailyRow::TABLE, rows::MonthlyRow::TABLE];
    type Json = json::DailyReport;
    type Row = rows::DailyRow;

    fn printed(json: &Self::Json) -> usize {
        json.daily.len()
    }

    fn map(json: Option<&Self::Json>, ctx: &Context) -> Result<Vec<Record<Self::Row>>> {
        rows::map_daily(json, ctx)
    }

    fn rows(mapped: &mut MappedReports) -> &mut Option<Rows<Self::Row>> {
        &mut mapped.daily
    }

    /// The run's totals and date range come from the daily report, like ccusage's own.
    fn summarise(records: &[Record<Self::Row>], run: &mut RunReport, digest: &mut DigestBuilder) {
        for record in records {
            let row = &record.row;
            run.totals.add(&row.tokens());
            run.total_cost = run.total_cost.saturating_add(row.total_cost);
            run.first_date = run.first_date.min(Some(row.date)).or(Some(row.date));
            run.last_date = run.last_date.max(Some(row.date));
        }
        digest.daily(records);
    }
}

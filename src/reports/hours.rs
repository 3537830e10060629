//! `ccusage blocks --session-length 1`: blocks one hour long, the calendar hours with usage.

use super::prelude::*;

/// ccusage's blocks one hour long: the hours the 5-hour blocks are derived from.
pub struct Hours;

impl Report for Hours {
    const KIND: ReportKind = ReportKind::Hours;
    /// Blocks one hour long are the calendar hours with usage: under `claude` from 19 (the
    /// hours of Claude only, like the other reports); 18.0.11 takes the flag on `blocks`.
    const COMMAND: Command = Command::claude(&["blocks", "--session-length", "1"]);
    /// None: the hours (and the blocks derived from them) come after the tables the reports
    /// print, as the summary has always listed them.
    const SUMMARY_TABLES: &'static [&'static str] = &[];
    type Json = json::BlocksReport;
    type Row = rows::HourRow;

    fn printed(json: &Self::Json) -> usize {
        json.blocks.len()
    }

    fn map(json: Option<&Self::Json>, ctx: &Context) -> Result<Vec<Record<Self::Row>>> {
        rows::map_hours(json, ctx)
    }

    fn rows(mapped: &mut MappedReports) -> &mut Option<Rows<Self::Row>> {
        &mut mapped.hours
    }
}

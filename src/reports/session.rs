//! `ccusage session`: one row per session (per project directory up to 18).

use super::prelude::*;
use crate::transform::{privacy, unique_keys};

pub struct Session;

impl Report for Session {
    const KIND: ReportKind = ReportKind::Session;
    const COMMAND: Command = Command::claude(&["session"]);
    const SUMMARY_TABLES: &'static [&'static str] = &[rows::SessionRow::TABLE];
    type Json = json::SessionReport;
    type Row = rows::SessionRow;

    fn printed(json: &Self::Json) -> usize {
        json.sessions.len()
    }

    fn map(json: Option<&Self::Json>, ctx: &Context) -> Result<Vec<Record<Self::Row>>> {
        // Keys are checked as ccusage printed them, then put in the run's project mode.
        privacy::sessions(unique_keys(rows::map_sessions(json, ctx)?)?, ctx)
    }

    fn rows(mapped: &mut MappedReports) -> &mut Option<Rows<Self::Row>> {
        &mut mapped.session
    }

    fn summarise(records: &[Record<Self::Row>], _run: &mut RunReport, digest: &mut DigestBuilder) {
        digest.sessions(records);
    }
}

//! `ccusage daily --instances`: one row per project and UTC day.

use super::prelude::*;
use crate::transform::{privacy, unique_keys};

pub struct ProjectsDaily;

impl Report for ProjectsDaily {
    const KIND: ReportKind = ReportKind::ProjectsDaily;
    const COMMAND: Command = Command::claude(&["daily", "--instances"]);
    const SUMMARY_TABLES: &'static [&'static str] = &[rows::ProjectDailyRow::TABLE];
    type Json = json::ProjectsReport;
    type Row = rows::ProjectDailyRow;

    fn printed(json: &Self::Json) -> usize {
        json.projects.values().map(Vec::len).sum()
    }

    fn map(json: Option<&Self::Json>, ctx: &Context) -> Result<Vec<Record<Self::Row>>> {
        privacy::projects_daily(unique_keys(rows::map_projects_daily(json, ctx)?)?, ctx)
    }

    fn rows(mapped: &mut MappedReports) -> &mut Option<Rows<Self::Row>> {
        &mut mapped.projects_daily
    }

    fn summarise(records: &[Record<Self::Row>], _run: &mut RunReport, digest: &mut DigestBuilder) {
        digest.projects_daily(records);
    }
}

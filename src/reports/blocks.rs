//! `ccusage blocks`: ccusage's 5-hour billing blocks, as it printed them.

use super::prelude::*;

pub struct Blocks;

impl Report for Blocks {
    const KIND: ReportKind = ReportKind::Blocks;
    const COMMAND: Command = Command {
        // Top-level from 19 too: the blocks of every agent.
        under_claude: false,
        ..Command::claude(&["blocks"])
    };
    const SUMMARY_TABLES: &'static [&'static str] = &[rows::BlockRow::TABLE];
    type Json = json::BlocksReport;
    type Row = rows::BlockRow;

    fn printed(json: &Self::Json) -> usize {
        json.blocks.len()
    }

    fn map(json: Option<&Self::Json>, ctx: &Context) -> Result<Vec<Record<Self::Row>>> {
        rows::map_blocks(json, ctx)
    }

    fn rows(mapped: &mut MappedReports) -> &mut Option<Rows<Self::Row>> {
        &mut mapped.blocks
    }

    fn summarise(records: &[Record<Self::Row>], _run: &mut RunReport, digest: &mut DigestBuilder) {
        digest.blocks(records);
    }
}

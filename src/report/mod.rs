//! Report: what a person (or a script) sees of a run. Domain code talks to a [`Reporter`];
//! only this module knows about terminals.

pub mod digest;
#[cfg(test)]
pub mod fixture;
pub mod format;
pub mod history;
pub mod json;
pub mod live;
pub mod summary;

use crate::pipeline::ReportOutcome;
use crate::sink::WriteStats;
use crate::source::ReportKind;

pub use live::Live;

/// Hooks the pipeline calls as it goes. All methods default to doing nothing, which is what
/// `--json`, `--quiet`, plain output (cron logs) and tests want.
pub trait Reporter: Send + Sync {
    fn connect_started(&self, _url: &str, _database: &str) {}
    /// The server's version, or why connecting (or applying the schema) failed.
    fn connect_finished(&self, _result: Result<&str, &str>) {}
    fn report_started(&self, _kind: ReportKind) {}
    fn report_finished(&self, _kind: ReportKind, _outcome: &ReportOutcome) {}
    fn write_started(&self, _table: &str) {}
    fn write_finished(&self, _table: &str, _stats: Option<&WriteStats>) {}
}

/// A reporter that shows nothing.
pub struct Silent;

impl Reporter for Silent {}

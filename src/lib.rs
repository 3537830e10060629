//! ccusage-import: ccusage reports → rows → ClickHouse → summary.
//!
//! The library holds the whole importer and exposes only what its users need: the binary
//! (`src/main.rs`) calls [`app::main`], the fuzz target (`fuzz/`) maps JSON with
//! [`transform`], and the integration tests read the SQL files with [`sqlfile`]. The rest stays
//! private, so the compiler still reports code nothing uses.

pub mod app;
mod cli;
mod cli_machine;
mod config;
mod csv;
mod dashboard;
mod doctor;
mod envfile;
mod exit;
#[cfg(test)]
mod fleet_rules;
mod init;
mod lock;
mod log;
mod machine;
mod pipeline;
mod projects;
mod query;
mod report;
mod run;
mod schedule;
mod schema;
mod settings;
mod sink;
mod smallfile;
mod source;
pub mod sqlfile;
mod suggest;
pub mod transform;

//! ccusage-import: ccusage reports → rows → ClickHouse → summary.
//!
//! The library holds the whole importer; `src/main.rs` only calls [`app::main`]. The fuzz
//! target (`fuzz/`) maps JSON with [`transform`], and the integration tests read the SQL
//! files the way [`sqlfile`] does.

pub mod app;
pub mod cli;
pub mod config;
pub mod envfile;
pub mod exit;
pub mod lock;
pub mod log;
pub mod pipeline;
pub mod query;
pub mod report;
pub mod settings;
pub mod sink;
pub mod source;
pub mod sqlfile;
pub mod transform;

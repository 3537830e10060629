//! ccusage-import: ccusage reports → rows → ClickHouse → summary.
//!
//! The library holds the whole importer and exposes only what its users need: the binary
//! (`src/main.rs`) calls [`app::main`], the fuzz target (`fuzz/`) maps JSON with
//! [`transform`] and [`fuzzing`], and the integration tests read the SQL files with [`sqlfile`]. The rest stays
//! private, so the compiler still reports code nothing uses.

pub mod app;
mod budget;
mod claude_logs;
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
mod output;
mod pipeline;
mod projects;
mod query;
mod reports;
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
mod zone;

/// The JSON models and mappings that live in a report's own file (`reports/`), for the fuzz
/// target.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::reports::agents_daily::{map_agents_daily, AgentsReport};
}

/// docs/architecture.md's module table names every file and folder of `src/`: the layout is
/// documented where a reader looks for it, and a new module cannot slip past it.
#[cfg(test)]
#[test]
fn the_architecture_doc_names_every_module() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/architecture.md")).unwrap();
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(root.join("src")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let shown = if entry.path().is_dir() {
            format!("`src/{name}/`")
        } else {
            format!("`src/{name}`")
        };
        if !doc.contains(&shown) {
            missing.push(shown);
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "docs/architecture.md does not name {missing:?}"
    );
}

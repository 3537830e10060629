//! `ccusage-import query`: runs a named query of `sql/queries.sql`.

use crate::cli::QueryArgs;
use crate::config::Config;
use crate::exit::{Exit, Failure};

pub async fn run(_config: &Config, _args: &QueryArgs) -> Result<Exit, Failure> {
    Err(Failure {
        exit: Exit::Usage,
        error: anyhow::anyhow!("named queries are not available yet"),
    })
}

//! placeholder
use crate::config::{Config, EnvFile};
use crate::exit::{Exit, Failure};
use std::path::Path;

pub async fn run(_: &Config, _: Option<&Path>, _: &EnvFile) -> Result<Exit, Failure> {
    Ok(Exit::Ok)
}

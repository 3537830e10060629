//! placeholder
use crate::config::Config;
use crate::envfile::EnvFile;
use crate::exit::{Exit, Failure};
use std::path::Path;

pub async fn run(_: &Config, _: Option<&Path>, _: &EnvFile) -> Result<Exit, Failure> {
    Ok(Exit::Ok)
}

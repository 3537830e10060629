//! placeholder
use crate::cli_machine::InitArgs;
use crate::config::{Config, EnvFile};
use crate::exit::{Exit, Failure};
use crate::settings::Setting;

pub async fn run(_: &InitArgs, _: &Config, _: &[Setting], _: &EnvFile) -> Result<Exit, Failure> {
    Ok(Exit::Ok)
}

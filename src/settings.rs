//! `ccusage-import config`: every setting as a run would use it, and where it came from.
//!
//! Scripts ask here instead of reading `.env` themselves, so they cannot drift from the
//! binary: `--get NAME` prints one value, `--source NAME` where it came from, `--json` all.
//! The password is only ever shown as `***`.

use anyhow::anyhow;
use clap::ValueEnum;
use serde_json::{json, Map, Value};

use crate::cli::{Cli, ConfigArgs};
use crate::config::{self, Config, Provenance, Source};
use crate::envfile::EnvFile;
use crate::exit::{Exit, Failure};

/// One setting: its environment variable's name, the value in use and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub name: String,
    /// `None` when unset and the importer decides at run time (see `note`).
    pub value: Option<String>,
    pub source: Source,
    /// What the default means, shown beside a default value.
    pub note: &'static str,
    /// Overridden by another setting (CH_HOST, CH_PORT and CH_SECURE when CH_URL is set).
    pub unused: bool,
}

/// What `ccusage-import config` prints: every variable of the clap definition in the order of
/// `--help` (so none can be missed), then those read outside clap. Most are shown as clap
/// parsed them; those below are shown as the run resolves them, with what their default means.
pub fn resolve(cli: &Cli, config: &Config, file: &EnvFile, from: &Provenance) -> Vec<Setting> {
    let mut resolved = resolved(cli, config, file, from);
    let mut settings: Vec<Setting> = variables()
        .into_iter()
        .map(|(name, arg)| {
            match resolved.iter().position(|s| s.name == name) {
                Some(i) => resolved.remove(i),
                // A top-level argument as clap parsed it; a subcommand's as given.
                None => Setting {
                    value: match &arg {
                        Some(arg) => from.raw(arg),
                        None => from.variable(&name),
                    },
                    source: from.source(arg.as_deref(), &name),
                    name,
                    note: "",
                    unused: false,
                },
            }
        })
        .collect();
    // Those read outside clap (the variables of `cli::OTHER_VARIABLES`).
    settings.append(&mut resolved);
    settings
}

/// Each `env = …` of the clap definition in order, with its argument's id when it belongs to
/// the top-level command (whose matches `config` has).
fn variables() -> Vec<(String, Option<String>)> {
    fn walk(command: &clap::Command, top: bool, out: &mut Vec<(String, Option<String>)>) {
        for arg in command.get_arguments() {
            let Some(name) = arg.get_env().and_then(|e| e.to_str()) else {
                continue;
            };
            if !out.iter().any(|(n, _)| n == name) {
                let id = top.then(|| arg.get_id().as_str().to_owned());
                out.push((name.to_owned(), id));
            }
        }
        for sub in command.get_subcommands() {
            walk(sub, false, out);
        }
    }
    let mut out = Vec::new();
    walk(&<Cli as clap::CommandFactory>::command(), true, &mut out);
    out
}

/// The settings whose value the run resolves beyond what clap parsed.
fn resolved(cli: &Cli, config: &Config, file: &EnvFile, from: &Provenance) -> Vec<Setting> {
    let ch = &config.clickhouse;
    let url_given = cli.ch_url.as_deref().is_some_and(|u| !u.trim().is_empty());
    let setting = |name: &str, arg, value: Option<String>, note| Setting {
        name: name.to_owned(),
        value,
        source: from.source(arg, name),
        note,
        unused: false,
    };
    let unused_with_url = |s: Setting| Setting {
        unused: url_given,
        ..s
    };
    // An empty value means "not set" for these two: the default is in use.
    let defaulted_when_empty = |mut s: Setting, given: bool| {
        if !given {
            s.source = Source::Default;
        }
        s
    };
    let port = config::port(cli.ch_port, cli.ch_secure);
    vec![
        setting(
            "CCUSAGE_IMPORT_ENV_FILE",
            Some("env_file"),
            file.path.as_ref().map(|p| p.display().to_string()),
            "none found: ./.env, else ~/.config/ccusage-import/.env",
        ),
        defaulted_when_empty(
            setting(
                "MACHINE_NAME",
                Some("machine_name"),
                Some(config.machine_name.clone()),
                "the hostname, lowercased",
            ),
            cli.machine_name.as_deref().is_some_and(|n| !n.is_empty()),
        ),
        defaulted_when_empty(
            setting(
                "CH_URL",
                Some("ch_url"),
                Some(ch.url.clone()),
                "from CH_HOST, CH_PORT and CH_SECURE",
            ),
            url_given,
        ),
        unused_with_url(setting(
            "CH_HOST",
            Some("ch_host"),
            Some(cli.ch_host.clone()),
            "",
        )),
        unused_with_url(setting(
            "CH_PORT",
            Some("ch_port"),
            Some(port.to_string()),
            "",
        )),
        unused_with_url(setting(
            "CH_SECURE",
            Some("ch_secure"),
            Some(cli.ch_secure.to_string()),
            "",
        )),
        setting("CH_USER", Some("ch_user"), Some(ch.user.clone()), ""),
        setting(
            "CH_PASSWORD",
            Some("ch_password"),
            (!ch.password.expose().is_empty()).then(|| "***".to_owned()),
            "no password",
        ),
        setting(
            "CH_DATABASE",
            Some("ch_database"),
            Some(ch.database.clone()),
            "",
        ),
        setting(
            "CH_TIMEOUT",
            Some("ch_timeout"),
            Some(ch.timeout.as_secs().to_string()),
            "",
        ),
        setting(
            "CH_MAX_RESPONSE",
            Some("ch_max_response"),
            Some(ch.max_response.to_string()),
            "",
        ),
        setting(
            "CH_MAX_RETRIES",
            Some("max_retries"),
            Some(ch.retry.max_retries.to_string()),
            "",
        ),
        setting(
            "CH_RETRY_DELAY",
            Some("retry_delay"),
            Some(ch.retry.base_delay.as_millis().to_string()),
            "",
        ),
        setting(
            "CCUSAGE_BIN",
            Some("ccusage_bin"),
            config.ccusage_bin.as_ref().map(|p| p.display().to_string()),
            "ccusage on PATH, else npx",
        ),
        setting(
            "CCUSAGE_TIMEOUT",
            Some("timeout"),
            Some(config.limits.timeout.as_secs().to_string()),
            "",
        ),
        setting(
            "CCUSAGE_MAX_OUTPUT",
            Some("max_output"),
            Some(config.limits.max_output.to_string()),
            "",
        ),
        setting(
            "CCUSAGE_JOBS",
            Some("jobs"),
            config.jobs.map(|n| n.to_string()),
            "by ccusage version and memory",
        ),
        setting(
            "CCUSAGE_IMPORT_LOCK",
            Some("lock_file"),
            config.lock_file.as_ref().map(|p| p.display().to_string()),
            if config.lock_file.is_some() {
                ""
            } else {
                "none without HOME or XDG_STATE_HOME: an import needs --lock-file then"
            },
        ),
        setting(
            "CCUSAGE_IMPORT_COLOR",
            Some("color"),
            cli.color
                .to_possible_value()
                .map(|v| v.get_name().to_owned()),
            "",
        ),
        setting(
            "CCUSAGE_IMPORT_VERBOSE",
            Some("verbose"),
            Some(config.verbose.to_string()),
            "",
        ),
        setting(
            "CCUSAGE_IMPORT_PROJECTS",
            Some("projects"),
            Some(config.projects.mode.as_str().to_owned()),
            "",
        ),
        setting(
            "CCUSAGE_IMPORT_PROJECT_KEY_FILE",
            Some("project_key_file"),
            Some(config.projects.key_file.display().to_string()),
            "",
        ),
        setting(
            "CCUSAGE_IMPORT_PROJECT_ALIAS",
            Some("project_alias"),
            config
                .projects
                .alias_file
                .as_ref()
                .map(|p| p.display().to_string()),
            "no aliases",
        ),
        setting(
            "CCUSAGE_IMPORT_BUDGET_FILE",
            Some("budget_file"),
            config.budget_file.as_ref().map(|p| p.display().to_string()),
            "read when it exists",
        ),
        // A subcommand's (dashboard, query): unset means UTC days, as the stored ones are.
        setting(
            crate::cli::TIMEZONE_VARIABLE,
            None,
            from.variable(crate::cli::TIMEZONE_VARIABLE),
            "UTC",
        ),
        setting(
            crate::cli::DASHBOARD_TOKEN_VARIABLE,
            None,
            config.dashboard_token.as_ref().map(|_| "***".to_owned()),
            "none: --token-file, or only loopback",
        ),
        // Not read by the importer, but passed on to ccusage with the rest of the environment
        // (the settings file's included): it says where the Claude logs are.
        setting(
            "CLAUDE_CONFIG_DIR",
            None,
            from.variable("CLAUDE_CONFIG_DIR"),
            "ccusage's default",
        ),
    ]
}

/// Prints what `args` asks for.
pub fn run(args: &ConfigArgs, settings: &[Setting], file: &EnvFile) -> Result<Exit, Failure> {
    let text = if let Some(name) = &args.get {
        format!("{}\n", find(settings, name)?.value.as_deref().unwrap_or(""))
    } else if let Some(name) = &args.source {
        format!("{}\n", find(settings, name)?.source.as_str())
    } else if args.json {
        format!("{}\n", to_json(settings))
    } else {
        render(settings, file)
    };
    crate::log::stdout(&text).map_err(|error| Failure {
        exit: Exit::Other,
        error,
    })?;
    Ok(Exit::Ok)
}

fn find<'a>(settings: &'a [Setting], name: &str) -> Result<&'a Setting, Failure> {
    settings
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| Failure {
            exit: Exit::Usage,
            error: anyhow!(
                "there is no setting named {name:?}: `ccusage-import config` lists all {}",
                settings.len()
            ),
        })
}

/// `{"CH_PORT": {"value": "8123", "source": "file"}, …}`: values are strings, `null` when
/// unset (the settings file read is `CCUSAGE_IMPORT_ENV_FILE`).
pub fn to_json(settings: &[Setting]) -> String {
    let mut map = Map::new();
    for s in settings {
        map.insert(
            s.name.clone(),
            json!({ "value": s.value, "source": s.source.as_str() }),
        );
    }
    serde_json::to_string_pretty(&Value::Object(map)).expect("a JSON value serializes")
}

/// An aligned table: name, value (`-` when unset), where it came from.
pub fn render(settings: &[Setting], file: &EnvFile) -> String {
    let file_name = match &file.path {
        Some(path) => format!("file {}", path.display()),
        None => "file".to_owned(),
    };
    let rows: Vec<(&str, String, String)> = settings
        .iter()
        .map(|s| {
            let mut from = match s.source {
                Source::File => file_name.clone(),
                Source::Default if !s.note.is_empty() => format!("default: {}", s.note),
                other => other.as_str().to_owned(),
            };
            if s.unused {
                from.push_str(" (unused: CH_URL is set)");
            }
            (
                s.name.as_str(),
                s.value.clone().unwrap_or_else(|| "-".into()),
                from,
            )
        })
        .collect();
    let name_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let value_width = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
    let mut out = String::from(
        "Settings as a run would use them; a flag beats the environment, which beats the\n\
         settings file, which beats the default.\n",
    );
    out.push_str(&match (&file.path, crate::envfile::user_file()) {
        (Some(path), _) => format!("Settings file: {}\n\n", path.display()),
        (None, Some(user)) => format!(
            "Settings file: none (neither ./.env nor {} exists)\n\n",
            user.display()
        ),
        (None, None) => "Settings file: none (no ./.env)\n\n".to_owned(),
    });
    for (name, value, from) in rows {
        out.push_str(&format!(
            "  {name:<name_width$}  {value:<value_width$}  {from}\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches};

    /// Each variable of the clap definition is listed once, in its order, and nothing else but
    /// those read outside clap: a setting resolved by hand under a misspelt name would show here.
    #[test]
    fn every_variable_of_the_clap_definition_is_listed_once() {
        let matches = Cli::command()
            .try_get_matches_from(["ccusage-import", "--machine-name", "m", "config"])
            .unwrap();
        let cli = Cli::from_arg_matches(&matches).unwrap();
        let file = EnvFile::default();
        let config = Config::from_cli(cli.clone(), || None).unwrap();
        let from = Provenance::new(matches, &file);
        let names: Vec<String> = resolve(&cli, &config, &file, &from)
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, config::setting_variables());
        for name in ["CH_CLUSTER", "CH_DEADLINE", "CCUSAGE_IMPORT_PLAN_PRICE"] {
            assert!(names.iter().any(|n| n == name), "{name}");
        }
    }
}

//! `ccusage-import config`: every setting as a run would use it, and where it came from.
//!
//! Scripts ask here instead of reading `.env` themselves, so they cannot drift from the
//! binary: `--get NAME` prints one value, `--source NAME` where it came from, `--json` all.
//! The password is only ever shown as `***`.

use anyhow::anyhow;
use clap::ValueEnum;
use serde_json::{json, Map, Value};

use crate::cli::{Cli, ConfigArgs};
use crate::config::{self, Config, EnvFile, Provenance, Source};
use crate::exit::{Exit, Failure};

/// One setting: its environment variable's name, the value in use and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    /// `None` when unset and the importer decides at run time (see `note`).
    pub value: Option<String>,
    pub source: Source,
    /// What the default means, shown beside a default value.
    pub note: &'static str,
    /// Overridden by another setting (CH_HOST, CH_PORT and CH_SECURE when CH_URL is set).
    pub unused: bool,
}

/// What `ccusage-import config` prints, in the order of `--help`.
pub fn resolve(cli: &Cli, config: &Config, file: &EnvFile, from: &Provenance) -> Vec<Setting> {
    let ch = &config.clickhouse;
    let url_given = cli.ch_url.as_deref().is_some_and(|u| !u.trim().is_empty());
    let setting = |name, arg, value: Option<String>, note| Setting {
        name,
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
            "./.env when it exists",
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
        // Not read by the importer, but passed on to ccusage with the rest of the environment
        // (the settings file included): it says where the Claude logs are.
        setting(
            "CLAUDE_CONFIG_DIR",
            None,
            from.passed_on("CLAUDE_CONFIG_DIR"),
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
            s.name.to_owned(),
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
            (s.name, s.value.clone().unwrap_or_else(|| "-".into()), from)
        })
        .collect();
    let name_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let value_width = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
    let mut out = String::from(
        "Settings as a run would use them; a flag beats the environment, which beats the\n\
         settings file, which beats the default.\n\n",
    );
    for (name, value, from) in rows {
        out.push_str(&format!(
            "  {name:<name_width$}  {value:<value_width$}  {from}\n"
        ));
    }
    out
}

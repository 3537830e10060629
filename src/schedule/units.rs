//! The job as each scheduler is told it: a crontab line, a systemd service and timer, a
//! launchd property list; and the paths read back from what was installed. Pure text: the
//! installing is in `mod.rs`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use super::timing::{Times, Timing};

/// What the job runs and where its output goes; every path absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub bin: PathBuf,
    pub env_file: PathBuf,
    /// The job's PATH: where ccusage, node and npx are now, then the system's directories.
    pub path: String,
    pub log: PathBuf,
    /// The log is moved to `<log>.1` before a run once it is larger (cron only).
    pub log_max_bytes: u64,
}

/// The comment that ends our crontab line, so that it is found again among the user's own.
pub const MARKER: &str = "# ccusage-import (managed by ccusage-import schedule)";
/// The markers of earlier versions, whose lines are ours too (replaced on install).
const OLD_MARKERS: &[&str] = &["# ccusage-import (managed by setup_cronjob.sh)"];
/// Vixie-derived crons (Debian's among them) silently cut commands at 1000 characters.
const MAX_CRON_LINE: usize = 999;

/// The systemd units' and the launchd agent's name.
pub const UNIT: &str = "ccusage-import";
pub const LAUNCHD_LABEL: &str = "io.github.ccusage-import";

/// Whether a crontab line is the job's (this version's or an earlier one's).
pub fn is_ours(line: &str) -> bool {
    let line = line.trim_end();
    std::iter::once(MARKER)
        .chain(OLD_MARKERS.iter().copied())
        .any(|marker| line.ends_with(marker))
}

/// Refuses a path the crontab line cannot hold: it goes inside single quotes, and cron turns
/// `%` into a newline.
pub fn check_path(what: &str, path: &Path) -> Result<String> {
    let Some(text) = path.to_str() else {
        bail!("{what} is not valid UTF-8: {}", path.display());
    };
    if text.contains(['\'', '%', '\n', '\r']) {
        bail!("{what} must not contain a single quote, % or a newline: {text}");
    }
    Ok(text.to_owned())
}

/// The crontab line: PATH, the log moved aside past its cap, then the date and the import's
/// output appended to the log, so cron itself has nothing to mail.
pub fn cron_line(job: &Job, timing: &Timing) -> Result<String> {
    let bin = check_path("the importer's path", &job.bin)?;
    let env = check_path("the settings file's path", &job.env_file)?;
    let log = check_path("the log's path", &job.log)?;
    let path = check_path("the job's PATH", Path::new(&job.path))?;
    let max = job.log_max_bytes;
    let command = format!(
        "export PATH='{path}'; L='{log}'; if [ -f \"$L\" ] && [ \"$(wc -c <\"$L\")\" -gt {max} ]; \
         then mv -f \"$L\" \"$L.1\"; fi; {{ date -u; '{bin}' --quiet --env-file '{env}' || \
         echo \"ccusage-import failed with exit code $?\"; }} >>\"$L\" 2>&1"
    );
    let line = format!("{} {command} {MARKER}", timing.cron);
    if line.len() > MAX_CRON_LINE {
        bail!(
            "the crontab line would be {} bytes long; cron cuts lines at 1000: use shorter paths \
             (--bin, --env-file, --log)",
            line.len()
        );
    }
    Ok(line)
}

/// The paths of an installed crontab line of ours (any version's).
pub fn parse_cron_line(line: &str) -> Installed {
    let between = |start: &str| -> Option<PathBuf> {
        let rest = &line[line.find(start)? + start.len()..];
        Some(PathBuf::from(&rest[..rest.find('\'')?]))
    };
    Installed {
        bin: between("{ date -u; '"),
        env_file: between("--env-file '"),
        log: between("L='"),
    }
}

/// What an installed job names, as far as it could be read back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Installed {
    pub bin: Option<PathBuf>,
    pub env_file: Option<PathBuf>,
    pub log: Option<PathBuf>,
}

/// systemd's quoting of one `ExecStart=` word (`$` would start a variable, `%` a specifier).
fn sd_quote(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('$', "$$")
        .replace('%', "%%");
    format!("\"{escaped}\"")
}

fn sd_unquote(word: &str) -> String {
    word.trim()
        .trim_matches('"')
        .replace("%%", "%")
        .replace("$$", "$")
        .replace("\\\"", "\"")
        .replace("\\\\", "\\")
}

/// The systemd user service: one import, its output appended to the log (`append:` needs
/// systemd 240, from 2018).
pub fn service_unit(job: &Job) -> String {
    let log = job.log.display().to_string().replace('%', "%%");
    format!(
        "# Managed by `ccusage-import schedule` (`ccusage-import schedule uninstall` removes it).\n\
         [Unit]\n\
         Description=Import Claude Code usage into ClickHouse (ccusage-import)\n\
         Wants=network-online.target\n\
         After=network-online.target\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         Environment={}\n\
         ExecStart={} --quiet --env-file {}\n\
         StandardOutput=append:{log}\n\
         StandardError=append:{log}\n",
        sd_quote(&format!("PATH={}", job.path)).replace("$$", "$"),
        sd_quote(&job.bin.display().to_string()),
        sd_quote(&job.env_file.display().to_string()),
    )
}

/// The paths of an installed service unit of ours.
pub fn parse_service_unit(text: &str) -> Installed {
    let mut installed = Installed::default();
    for line in text.lines() {
        if let Some(exec) = line.strip_prefix("ExecStart=") {
            if let Some((bin, rest)) = exec.split_once(" --quiet --env-file ") {
                installed.bin = Some(PathBuf::from(sd_unquote(bin)));
                installed.env_file = Some(PathBuf::from(sd_unquote(rest)));
            }
        } else if let Some(log) = line.strip_prefix("StandardOutput=append:") {
            installed.log = Some(PathBuf::from(log.replace("%%", "%")));
        }
    }
    installed
}

/// The systemd user timer; `Persistent` runs a missed hour once the machine is back.
pub fn timer_unit(times: &Times) -> String {
    format!(
        "# Managed by `ccusage-import schedule` (`ccusage-import schedule uninstall` removes it).\n\
         [Unit]\n\
         Description=Run ccusage-import on a schedule\n\
         \n\
         [Timer]\n\
         OnCalendar={}\n\
         Persistent=true\n\
         \n\
         [Install]\n\
         WantedBy=timers.target\n",
        times.calendar()
    )
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn unxml(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// The launchd agent (`~/Library/LaunchAgents/<label>.plist`): the same import at the same
/// times, its output appended to the log. One `<string>` per line, so it reads back simply.
pub fn plist(job: &Job, times: &Times) -> String {
    let mut intervals = String::new();
    for hour in times
        .hours
        .clone()
        .map_or(vec![None], |h| h.into_iter().map(Some).collect())
    {
        for minute in &times.minutes {
            intervals.push_str("    <dict>\n");
            if let Some(hour) = hour {
                intervals.push_str(&format!(
                    "      <key>Hour</key>\n      <integer>{hour}</integer>\n"
                ));
            }
            intervals.push_str(&format!(
                "      <key>Minute</key>\n      <integer>{minute}</integer>\n    </dict>\n"
            ));
        }
    }
    let log = xml(&job.log.display().to_string());
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \
         \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <!-- Managed by `ccusage-import schedule` (`ccusage-import schedule uninstall` removes it). -->\n\
         <plist version=\"1.0\">\n\
         <dict>\n\
         \x20 <key>Label</key>\n\
         \x20 <string>{LAUNCHD_LABEL}</string>\n\
         \x20 <key>ProgramArguments</key>\n\
         \x20 <array>\n\
         \x20   <string>{}</string>\n\
         \x20   <string>--quiet</string>\n\
         \x20   <string>--env-file</string>\n\
         \x20   <string>{}</string>\n\
         \x20 </array>\n\
         \x20 <key>EnvironmentVariables</key>\n\
         \x20 <dict>\n\
         \x20   <key>PATH</key>\n\
         \x20   <string>{}</string>\n\
         \x20 </dict>\n\
         \x20 <key>StartCalendarInterval</key>\n\
         \x20 <array>\n\
         {intervals}\
         \x20 </array>\n\
         \x20 <key>StandardOutPath</key>\n\
         \x20 <string>{log}</string>\n\
         \x20 <key>StandardErrorPath</key>\n\
         \x20 <string>{log}</string>\n\
         \x20 <key>RunAtLoad</key>\n\
         \x20 <false/>\n\
         </dict>\n\
         </plist>\n",
        xml(&job.bin.display().to_string()),
        xml(&job.env_file.display().to_string()),
        xml(&job.path),
    )
}

/// The paths of an installed plist of ours.
pub fn parse_plist(text: &str) -> Installed {
    let strings: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            Some(unxml(
                l.strip_prefix("<string>")?.strip_suffix("</string>")?,
            ))
        })
        .collect();
    let after = |value: &str| {
        let at = strings.iter().position(|s| s == value)?;
        strings.get(at + 1).map(PathBuf::from)
    };
    Installed {
        // Label, the binary, --quiet, --env-file, the file, PATH, the log twice.
        bin: strings.get(1).map(PathBuf::from),
        env_file: after("--env-file"),
        log: strings
            .get(strings.len().wrapping_sub(1))
            .map(PathBuf::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::timing::timing;

    fn job() -> Job {
        Job {
            bin: "/opt/my tools/ccusage-import".into(),
            env_file: "/home/a/.config/ccusage-import/.env".into(),
            path: "/home/a/.npm/bin:/usr/local/bin:/usr/bin:/bin".into(),
            log: "/home/a/.local/state/ccusage-import/cron.log".into(),
            log_max_bytes: 1 << 20,
        }
    }

    #[test]
    fn the_cron_line_runs_the_import_quietly_and_reads_back() {
        let t = timing(None, Some("7 * * * *"), "m").unwrap();
        let line = cron_line(&job(), &t).unwrap();
        assert!(line.starts_with("7 * * * * export PATH='/home/a/.npm/bin:"));
        assert!(line.contains(
            "'/opt/my tools/ccusage-import' --quiet --env-file \
             '/home/a/.config/ccusage-import/.env'"
        ));
        assert!(line.contains("-gt 1048576 ]"));
        assert!(is_ours(&line) && is_ours(&format!("{line}  ")));
        assert!(!is_ours("0 3 * * * backup # ccusage-import"));
        assert!(is_ours(
            "0 * * * * x # ccusage-import (managed by setup_cronjob.sh)"
        ));
        let back = parse_cron_line(&line);
        assert_eq!(back.bin, Some(job().bin));
        assert_eq!(back.env_file, Some(job().env_file));
        assert_eq!(back.log, Some(job().log));
    }

    #[test]
    fn paths_cron_cannot_hold_are_refused() {
        let t = timing(None, None, "m").unwrap();
        let mut j = job();
        j.log = "/tmp/100%.log".into();
        assert!(cron_line(&j, &t).is_err());
        j.log = "/tmp/o'neil.log".into();
        assert!(cron_line(&j, &t).is_err());
        j.log = format!("/{}", "x".repeat(900)).into();
        assert!(cron_line(&j, &t).unwrap_err().to_string().contains("1000"));
    }

    #[test]
    fn the_systemd_units_name_the_import_its_log_and_its_times() {
        let mut j = job();
        j.bin = "/opt/$weird \"dir\"/100%/ccusage-import".into();
        let service = service_unit(&j);
        assert!(service.contains("Type=oneshot\n"));
        assert!(service.contains(
            "ExecStart=\"/opt/$$weird \\\"dir\\\"/100%%/ccusage-import\" --quiet --env-file \
             \"/home/a/.config/ccusage-import/.env\"\n"
        ));
        assert!(service
            .contains("StandardOutput=append:/home/a/.local/state/ccusage-import/cron.log\n"));
        assert!(service.contains("Environment=\"PATH=/home/a/.npm/bin:/usr/local/bin:"));
        let back = parse_service_unit(&service);
        assert_eq!(back.bin, Some(j.bin.clone()));
        assert_eq!(back.env_file, Some(j.env_file.clone()));
        assert_eq!(back.log, Some(j.log.clone()));
        let times = timing(Some(30), None, "m").unwrap().times.unwrap();
        let timer = timer_unit(&times);
        let o = super::super::timing::cksum(b"m") % 30;
        assert!(timer.contains(&format!("OnCalendar=*-*-* *:{o},{}:00\n", o + 30)));
        assert!(timer.contains("Persistent=true\n") && timer.contains("WantedBy=timers.target"));
    }

    #[test]
    fn the_launchd_plist_runs_the_import_at_the_same_times() {
        let mut j = job();
        j.env_file = "/Users/a & b/.config/ccusage-import/.env".into();
        let times = timing(None, Some("5 */12 * * *"), "m")
            .unwrap()
            .times
            .unwrap();
        let plist = plist(&j, &times);
        assert!(plist.contains(&format!("<string>{LAUNCHD_LABEL}</string>")));
        assert!(plist.contains(
            "<string>/opt/my tools/ccusage-import</string>\n    <string>--quiet</string>\n    \
             <string>--env-file</string>\n    <string>/Users/a &amp; b/.config/"
        ));
        assert_eq!(plist.matches("<key>Minute</key>").count(), 2);
        assert!(plist.contains("<key>Hour</key>\n      <integer>12</integer>"));
        assert_eq!(
            plist
                .matches("<string>/home/a/.local/state/ccusage-import/cron.log</string>")
                .count(),
            2
        );
        assert_eq!(
            plist.matches("<dict>").count(),
            plist.matches("</dict>").count()
        );
        let back = parse_plist(&plist);
        assert_eq!(back.bin, Some(j.bin.clone()));
        assert_eq!(back.env_file, Some(j.env_file.clone()));
        assert_eq!(back.log, Some(j.log.clone()));
    }
}

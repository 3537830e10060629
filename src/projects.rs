//! What `--projects` needs from the machine: the key file (created mode 600 when missing),
//! the alias file and the disk that tells readable names apart. The naming itself is pure, in
//! `transform::projects`.

use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{ensure, Context as _, Result};

use crate::transform::projects::{parse_aliases, Mode, Projects};

/// `--projects` and what it needs; the key is read (or created) only by an import that
/// hashes, in `crate::projects`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSettings {
    pub mode: Mode,
    pub key_file: PathBuf,
    pub alias_file: Option<PathBuf>,
    /// `$HOME`, for readable names.
    pub home: Option<String>,
    /// `CLAUDE_CONFIG_DIR` as ccusage gets it (the settings file's, else the environment's):
    /// where the transcripts whose `cwd` names each project are.
    pub claude_config_dir: Option<String>,
    pub rekey: bool,
}

/// Bytes of randomness in a new key.
const KEY_BYTES: usize = 32;
/// Bound for the alias file: a line per project, thousands of them.
const ALIAS_LIMIT: u64 = 1024 * 1024;
/// The shortest key accepted from a file a person wrote.
const MIN_KEY_CHARS: usize = 16;

/// Where the key lives unless `CCUSAGE_IMPORT_PROJECT_KEY_FILE` says otherwise.
pub fn default_key_path() -> PathBuf {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))
        .unwrap_or_else(std::env::temp_dir);
    config.join("ccusage-import").join("project.key")
}

/// The run's [`Projects`]: plain needs no key; hash and hidden read it, and create it when it
/// is missing only if `create` (the machine has stored no rows under a key: a new key for
/// rows stored under a lost one would count them all twice).
pub fn load(settings: &ProjectSettings, create: Create) -> Result<Projects> {
    let key = match settings.mode {
        Mode::Plain => Vec::new(),
        Mode::Hash | Mode::Hidden => {
            if let Create::No {
                machine,
                fingerprint,
            } = &create
            {
                let fingerprint = match fingerprint.get(..8) {
                    Some(start) => format!(" (fingerprint {start}…)"),
                    None => String::new(),
                };
                ensure!(
                    settings.key_file.exists(),
                    "the project key file {} is missing, but machine {machine} stored its \
                     projects under a key{fingerprint}: a new key would store \
                     the same sessions and project days again under new hashes and count them \
                     twice; nothing was written. Restore that key file (from a backup, or from \
                     another machine of the fleet that shares it)",
                    settings.key_file.display()
                );
            }
            read_or_create_key(&settings.key_file)?
        }
    };
    let aliases = match &settings.alias_file {
        Some(path) => {
            let text = crate::smallfile::read(path, ALIAS_LIMIT).with_context(|| {
                format!(
                    "cannot read the project alias file {} (--project-alias)",
                    path.display()
                )
            })?;
            parse_aliases(&text).with_context(|| {
                format!(
                    "the project alias file {} is not `hash = name` lines",
                    path.display()
                )
            })?
        }
        None => Default::default(),
    };
    let is_dir = Arc::new(|path: &Path| path.is_dir());
    let home = settings.home.as_deref().map(Path::new);
    let (dirs, _) = crate::claude_logs::dirs(settings.claude_config_dir.as_deref(), home);
    let logged_cwd = Arc::new(move |encoded: &str| crate::claude_logs::logged_cwd(&dirs, encoded));
    Ok(
        Projects::new(settings.mode, key, aliases, settings.home.clone(), is_dir)
            .with_logged_cwd(logged_cwd),
    )
}

/// Whether [`load`] may create a missing key file.
pub enum Create {
    Yes,
    /// The machine's rows are stored under the key of this fingerprint (its first hex digits
    /// are shown).
    No {
        machine: String,
        fingerprint: String,
    },
}

fn read_or_create_key(path: &Path) -> Result<Vec<u8>> {
    let advice = "set CCUSAGE_IMPORT_PROJECT_KEY_FILE to a file this user may read";
    if !path.exists() {
        create_key(path).with_context(|| {
            format!(
                "cannot create the project key file {}; {advice}",
                path.display()
            )
        })?;
    }
    let text = crate::smallfile::read(path, crate::smallfile::SECRET_LIMIT).map_err(|e| {
        anyhow::anyhow!(
            "cannot read the project key file {}: {e:#}; {advice}",
            path.display()
        )
    })?;
    let key = text.trim();
    ensure!(
        key.chars().count() >= MIN_KEY_CHARS,
        "the project key file {} holds fewer than {MIN_KEY_CHARS} characters: remove it and \
         a new key is created (machines that should group projects alike need the same file)",
        path.display()
    );
    Ok(key.as_bytes().to_vec())
}

/// A new random key, as hex, readable by its owner only.
fn create_key(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        // The directory holds the key (and often the settings file with the password): the
        // owner's alone when it is made here; an existing one is left as the user set it.
        use std::os::unix::fs::DirBuilderExt as _;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let mut random = [0u8; KEY_BYTES];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut random))
        .context("cannot read /dev/urandom")?;
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    // The umask cannot widen 600, but a file system may ignore the mode: set it again.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    writeln!(file, "{hex}")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_key_is_created_600_and_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/project.key");
        let first = read_or_create_key(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(first.len(), 2 * KEY_BYTES);
        assert_eq!(read_or_create_key(&path).unwrap(), first);
        std::fs::write(&path, "short\n").unwrap();
        assert!(read_or_create_key(&path).is_err());
    }
}
